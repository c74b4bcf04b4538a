"""A hostile upload against the dataset check: time and memory of validate_jsonl on 50 MB files
shaped to hurt it (the issue's "empty messages" line, lines just under each cap, a million tiny
valid examples, fifty million blank lines...).

Each shape runs in a process of its own, so one shape's memory cannot hide another's. The
check's cost is measured twice: resident memory (peak RSS while checking minus RSS before, the
file already in memory) with wall time, and tracemalloc's peak (Python allocations only,
deterministic; it slows the run, so the time comes from the first measurement). Prints a
Markdown table and exits 1 when a shape costs more than the bounds (100 MB, 5 s).

    python -m tests.bench.hostile_upload [--mb 50] [--shape NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

MB = 1024 * 1024
MAX_EXTRA_MB = 100
MAX_SECONDS = 5.0


def _fill(line: bytes, size: int) -> bytes:
    """``line`` repeated to about ``size`` bytes (at least once)."""
    return line * max(1, size // len(line))


def _one_line(head: bytes, unit: bytes, tail: bytes, size: int) -> bytes:
    """head + unit * n + tail, ``size`` bytes at most: one JSONL line."""
    return head + unit * max(0, (size - len(head) - len(tail) - 1) // len(unit)) + tail + b"\n"


def empty_messages_one_line(size: int) -> bytes:
    # The attack: +350 MiB and 4.4 s for 5 MB before the caps.
    return _one_line(b'{"messages":[', b"{},", b"{}]}", size)


def empty_messages_under_line_cap(size: int) -> bytes:
    # Lines just under the line cap: only the count of objects stops them.
    from fakeai_dash.dataset import MAX_LINE_CHARS

    return _fill(_one_line(b'{"messages":[', b"{},", b"{}]}", min(size, MAX_LINE_CHARS - 1024)), size)


def bad_messages_under_object_cap(size: int) -> bytes:
    # Parsed (under every size cap), and every message is wrong: the per-line and per-file
    # problem caps keep the report small and stop the work.
    from fakeai_dash.dataset import MAX_CONTAINERS_PER_LINE

    unit = b'{"role":"x"},'
    return _fill(_one_line(b'{"messages":[', unit, b'{"role":"x"}]}',
                           min(size, (MAX_CONTAINERS_PER_LINE - 10) * len(unit))), size)


def short_strings_at_line_cap(size: int) -> bytes:
    # The most Python objects per byte that pass both caps: a 52-byte str for every 5 bytes.
    from fakeai_dash.dataset import MAX_LINE_CHARS

    return _fill(_one_line(b'{"messages":[', b'"ab",', b'"ab"]}', min(size, MAX_LINE_CHARS - 1024)), size)


def one_number_per_line(size: int) -> bytes:
    return _fill(b"1\n", size)


def blank_lines(size: int) -> bytes:
    return _fill(b"\r\n", size)


def deep_nesting(size: int) -> bytes:
    return b"[" * size


def tiny_valid_examples(size: int) -> bytes:
    # Not an error in sight: a million examples, each checked. The slowest shape.
    return _fill(b'{"messages":[{"role":"assistant","content":"x"}]}\n', size)


def not_utf8_at_the_end(size: int) -> bytes:
    return tiny_valid_examples(size - 16) + b'{"bad":"\xff"}\n'


SHAPES: dict[str, Callable[[int], bytes]] = {
    fn.__name__: fn for fn in (empty_messages_one_line, empty_messages_under_line_cap,
                               bad_messages_under_object_cap, short_strings_at_line_cap, one_number_per_line,
                               blank_lines, deep_nesting, tiny_valid_examples, not_utf8_at_the_end)
}


def _status() -> dict[str, float]:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as refs:  # "5" resets VmHWM to the current RSS
        refs.write("5")


def measure(shape: str, size_mb: float) -> dict:
    """One shape, in this process: the check's time, extra RSS and tracemalloc peak."""
    from fakeai_dash.dataset import validate_jsonl

    content = SHAPES[shape](int(size_mb * MB))
    validate_jsonl(content[:1000])  # imports and regexes compiled before anything is counted
    _reset_peak_rss()
    before = _status()["VmRSS"]
    started = time.perf_counter()
    report = validate_jsonl(content, max_bytes=len(content))
    seconds = time.perf_counter() - started
    extra_rss = _status()["VmHWM"] - before
    tracemalloc.start()
    validate_jsonl(content, max_bytes=len(content))
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    first = report.errors[0] if report.errors else None
    message = f"{f'line {first.line}' if first.line else 'file'}: {first.message}" if first else "valid"
    return {"shape": shape, "mb": len(content) / MB, "seconds": seconds, "extra_rss_mb": extra_rss,
            "traced_peak_mb": peak, "errors": report.error_count, "message": message}


def _measure_in_child(shape: str, size_mb: float) -> dict:
    out = subprocess.run([sys.executable, "-m", "tests.bench.hostile_upload", "--child", shape, "--mb", str(size_mb)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of each hostile file")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.mb)))
        return 0
    print("| shape | file MB | seconds | extra RSS MB | tracemalloc peak MB | problems | message |")
    print("|---|---:|---:|---:|---:|---:|---|")
    over = []
    for shape in args.shape or SHAPES:
        row = _measure_in_child(shape, args.mb)
        print(f"| {shape} | {row['mb']:.1f} | {row['seconds']:.2f} | {row['extra_rss_mb']:.1f} | "
              f"{row['traced_peak_mb']:.1f} | {row['errors']:,} | {row['message'][:90]} |", flush=True)
        if row["seconds"] > MAX_SECONDS or max(row["extra_rss_mb"], row["traced_peak_mb"]) > MAX_EXTRA_MB:
            over.append(shape)
    if over:
        print(f"Over the bounds ({MAX_EXTRA_MB} MB, {MAX_SECONDS:g} s): {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
