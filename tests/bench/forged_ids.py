"""Benchmark: what made-up job ids cost the API (issue #17, finding 4).

    python -m tests.bench.forged_ids [--app-dir DIR] [--forged 300] [--seconds 30]

Serves the app (the Procfile's gunicorn command, two workers, a 1 s sync round; from --app-dir
for a baseline checkout) against the scale simulator, then POSTs the job-details fetch a page
sends, once for each of ``--forged`` random ``ftjob-<uuid>`` ids, four at a time, as one reader's
script would — no browser, just the requests anyone signed in can send. It counts the API's
``GET /fine_tuning/jobs/<id>`` for those ids, from the first forged request until ``--seconds``
after the last (the sync rounds in between included). Prints Markdown. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from fakeai_dash import ids
from tests.integration.test_auth_gate import callback_body
from tests.load.stack import Gunicorn, Simulator

REFRESH_S = 1.0


def detail_body(deps: list[dict], job_id: str) -> dict:
    return callback_body(deps, ids.JobDetails.SELECTED, {ids.JobDetails.SELECTED: job_id}, "data",
                         output=f"{ids.JobDetails.STORE}.data")


def measure(app_dir: str | None, forged: int, seconds: float) -> dict:
    sim = Simulator(["--jobs", "100", "--running-jobs", "5"]).start()
    app = None
    try:
        app = Gunicorn(sim.url, 2, {"FAKEAI_DASH_REFRESH_INTERVAL": str(REFRESH_S)}, app_dir=app_dir).start()
        deps = requests.get(f"{app.url}/_dash-dependencies", timeout=30).json()
        made_up = {f"ftjob-{uuid.uuid4()}" for _ in range(forged)}
        sim.control("reset-stats")
        session = requests.Session()
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda job_id: session.post(f"{app.url}/_dash-update-component", timeout=300,
                                                      json=detail_body(deps, job_id)), made_up))
        sent_s = time.monotonic() - started
        time.sleep(seconds)  # the sync rounds that follow (a benchmark measures over wall time)
        stats = sim.stats()
        lookups = {job_id: kinds.get("job_retrieve", 0) for job_id, kinds in stats["by_job"].items()
                   if job_id in made_up}
        return {"sent_s": sent_s, "lookups": sum(lookups.values()), "ids_looked_up": len(lookups),
                "total": stats["total"], "window_s": sent_s + seconds}
    finally:
        for part in (app, sim):
            if part is not None:
                part.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-dir", default=None)
    parser.add_argument("--forged", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    row = measure(args.app_dir, args.forged, args.seconds)
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    print(f"Forged job-details fetches, {source}; 2 workers, {REFRESH_S:g} s sync rounds; API requests counted "
          f"from the first forged fetch until {args.seconds:g} s after the last\n")
    print("| forged ids | sent in | ids looked up | GET /fine_tuning/jobs/<forged id> | all API requests | window |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.forged} | {row['sent_s']:.1f} s | {row['ids_looked_up']} | {row['lookups']} | {row['total']} "
          f"| {row['window_s']:.0f} s |")


if __name__ == "__main__":
    main()
