"""Memory per worker at real size: 10,000 jobs and five 100,000-step jobs (finished and live).

One process plays one gunicorn worker: its sync loop leads, syncs the list and the five jobs to
complete histories, and every job's chart is drawn (history decoded, smoothed, downsampled).
Prints a Markdown table of the worker's resident memory (VmRSS, VmHWM) at each stage.

    python -m tests.bench.memory [--jobs 10000] [--steps 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import subprocess
import sys
import tempfile
import time

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.sync import NotReady, build_source


@contextlib.contextmanager
def simulator_process(args: list[str]):
    """The scale simulator in a process of its own, so its memory is not counted as the worker's."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.scale_sim", *args], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        info = json.loads(proc.stdout.readline())
        yield url, info["big_job_ids"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mib() -> tuple[float, float]:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def wait_for(read, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = read()
        except NotReady:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    rows = []

    def stage(name: str) -> None:
        gc.collect()
        rss, peak = rss_mib()
        rows.append((name, rss, peak))

    from fakeai_dash.components.training_progress import render_progress  # noqa: F401 - imports Dash, plotly
    stage("process with the app's modules imported")
    big = [f"{args.steps}:finished", f"{args.steps}:finished", f"{args.steps}:finished:b64",
           f"{args.steps}:live:done={args.steps - 1000}", f"{args.steps}:live:done={args.steps // 2}"]
    sim_args = ["--jobs", str(args.jobs), *(arg for spec in big for arg in ("--big", spec))]
    with simulator_process(sim_args) as (url, big_job_ids), tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, api_base=url, refresh_interval=1.0, data_dir=data_dir,
                            max_jobs=args.jobs)
        source = build_source(settings, client_from_settings(settings))
        source.engine.start()
        started = time.monotonic()
        wait_for(lambda: source.jobs_snapshot()["complete"], 300)
        stage(f"{args.jobs:,} jobs listed and kept (list synced in {time.monotonic() - started:.1f} s)")
        started = time.monotonic()
        for job_id in big_job_ids:
            wait_for(lambda job_id=job_id: source.job_detail(job_id)["history"]["loaded"] >= 1.0, 600)
        stage(f"five {args.steps:,}-step histories complete in the store ({time.monotonic() - started:.0f} s)")
        from fakeai_dash.figures import accuracy_figure, loss_figure  # built per chart tick

        for job_id in big_job_ids:
            history = source.metric_history(job_id)
            assert len(history) >= args.steps // 2
            loss_figure(history, smoothing=0.6)
            accuracy_figure(history, smoothing=0.6)
        stage("five histories decoded and drawn (the per-worker history cache holds them)")
        source.close()
    print(f"| stage | RSS (MiB) | peak RSS (MiB) |\n|---|---|---|")
    for name, rss, peak in rows:
        print(f"| {name} | {rss:.0f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
