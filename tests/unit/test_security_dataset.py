"""The dataset check stays bounded on hostile files: each cap (line length, objects per line,
problems per line and per file) is shown holding at 5 MB, memory measured with tracemalloc
(deterministic; wall time is left to the benchmark, python -m tests.bench.hostile_upload)."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from fakeai_dash import dataset
from fakeai_dash.dataset import validate_jsonl
from tests.bench import hostile_upload as hostile

MB = 1024 * 1024
SIZE = 5 * MB


def checked(content: bytes):
    """The report of ``content`` and the check's tracemalloc peak in MB (the file itself excluded)."""
    tracemalloc.start()
    try:
        report = validate_jsonl(content, max_bytes=len(content))
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    json.dumps(report.to_dict())  # whatever happened, the report still travels as JSON
    return report, peak


def messages(report) -> list[str]:
    return [error.message for error in report.errors]


def test_sec_ds001_the_issues_5mb_line_of_empty_messages_is_refused_unread():
    # Before the caps: +350 MiB and 4.4 s. The line is measured, never copied or parsed.
    report, peak = checked(hostile.empty_messages_one_line(SIZE))
    assert not report.valid
    assert messages(report)[0] == ("Line is 5.0 MB; lines longer than 4 MB are not checked "
                                   "(an example that long cannot be trained on)")
    assert report.errors[0].line == 1
    assert peak < 1, f"{peak:.1f} MB"


def test_sec_ds002_a_line_under_the_length_cap_with_a_million_objects_is_not_parsed():
    content = hostile.empty_messages_under_line_cap(SIZE)
    assert len(content) <= dataset.MAX_LINE_CHARS  # one line: only the object count can stop it
    report, peak = checked(content)
    assert "JSON objects and arrays; more than 50,000 are not checked" in messages(report)[0]
    # The line and its text (2 x 4 MB); parsing it would have built 1.4 million dicts (~100 MB).
    assert peak < 2 * dataset.MAX_LINE_CHARS / MB + 2, f"{peak:.1f} MB"


def test_sec_ds003_a_line_lists_at_most_five_problems_then_says_there_are_more():
    report, peak = checked(hostile.bad_messages_under_object_cap(SIZE))
    line_one = [e.message for e in report.errors if e.line == 1]
    assert len(line_one) == dataset.MAX_PROBLEMS_PER_LINE + 1
    assert line_one[-1] == "More than 5 problems on this line; the rest are not listed"
    assert report.error_count < 10 * (dataset.MAX_PROBLEMS_PER_LINE + 1)  # ~8 lines in 5 MB, 6 each
    assert peak < 20, f"{peak:.1f} MB"


def test_sec_ds004_the_file_stops_after_a_thousand_problems_and_says_where():
    report, peak = checked(hostile.one_number_per_line(SIZE))  # 2.6 million bad lines
    assert report.error_count == dataset.MAX_PROBLEMS_PER_FILE + 1
    # Whole-file messages are kept beyond the first 20 line errors: this one must be seen.
    assert messages(report)[-1] == ("Checking stopped at line 1001 after 1,000 problems; "
                                    "fix these and choose the file again")
    assert report.n_examples == 1000
    assert peak < 1, f"{peak:.1f} MB"


def test_sec_ds005_millions_of_blank_lines_cost_no_memory():
    report, peak = checked(hostile.blank_lines(SIZE))
    assert messages(report) == ["File has 0 example(s); at least 10 are required"]
    assert peak < 1, f"{peak:.1f} MB"  # a split into 2.6 million lines would be ~25 MB


def test_sec_ds006_a_hundred_thousand_valid_examples_keep_memory_flat():
    report, peak = checked(hostile.tiny_valid_examples(SIZE))
    assert report.valid and report.n_valid_examples == SIZE // 50
    assert report.estimated_tokens == report.n_valid_examples * report.example_tokens_max
    assert peak < 0.25, f"{peak:.2f} MB"  # a list of their token counts alone would be 0.8 MB


def test_sec_ds007_short_strings_at_the_line_cap_stay_under_the_bound():
    # The most Python objects per byte that pass both caps: the worst memory a line can cost.
    report, peak = checked(hostile.short_strings_at_line_cap(SIZE))
    assert not report.valid
    assert peak < 60, f"{peak:.1f} MB"


def test_sec_ds008_a_huge_value_never_travels_into_the_report():
    role = "r" * MB
    row = {"messages": [{"role": role, "content": "x"}, {"role": "assistant", "content": "y"}]}
    report, _ = checked((json.dumps(row) + "\n").encode() * 3)
    assert all(len(m) <= dataset.MAX_MESSAGE_CHARS for m in messages(report))
    assert 'got "rrrrrrrr' in messages(report)[0]
    assert len(json.dumps(report.to_dict())) < 5000


def test_sec_ds009_not_utf8_stops_the_check_at_the_bad_line():
    content = hostile.not_utf8_at_the_end(SIZE)
    report, peak = checked(content)
    [error] = report.errors
    bad_byte = content.index(b"\xff")
    assert error.line == content.count(b"\n")
    assert error.message == (f"File is not UTF-8 text (bad byte at offset {bad_byte}); "
                             "save it as UTF-8")
    assert peak < 0.25, f"{peak:.2f} MB"  # the file is read line by line, never decoded whole


@pytest.mark.parametrize("shape", sorted(hostile.SHAPES))
def test_sec_ds010_every_hostile_shape_ends_in_a_clear_refusal_under_the_bound(shape):
    report, peak = checked(hostile.SHAPES[shape](SIZE))
    assert peak < hostile.MAX_EXTRA_MB
    if shape == "tiny_valid_examples":
        assert report.valid
    else:
        assert not report.valid and report.errors and report.errors[0].message
