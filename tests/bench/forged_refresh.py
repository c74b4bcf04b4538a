"""Benchmark: what forged "Refresh" requests cost the API, with 10,000 jobs.

    python -m tests.bench.forged_refresh [--app-dir DIR] [--requests 1,20]

Serves the app (the Procfile's gunicorn command, from --app-dir for a baseline checkout)
against the scale simulator with 10,000 jobs, lets one browser-like tick load the list, then
POSTs the jobs-list callback as if the header's Refresh button had been clicked — no browser,
no click, just the request an attacker can send — and counts the API requests that follow
within a few seconds. Prints Markdown. A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import requests

from tests.load.stack import Gunicorn, Simulator

SETTLE_S = 5.0


def refresh_body(app_url: str, clicks: int) -> dict:
    deps = requests.get(f"{app_url}/_dash-dependencies", timeout=30).json()
    spec = next(d for d in deps if d["output"].startswith("..jobs-store.data"))
    outputs = [dict(zip(("id", "property"), part.split("."), strict=True))
               for part in spec["output"].strip(".").split("...")]
    inputs = [{**item, "value": clicks if item["property"] == "n_clicks" else 1} for item in spec["inputs"]]
    refresh = next(item for item in spec["inputs"] if item["property"] == "n_clicks")
    return {"output": spec["output"], "outputs": outputs, "inputs": inputs,
            "changedPropIds": [f"{refresh['id']}.n_clicks"], "state": [{**s, "value": None} for s in spec["state"]]}


def tick(app_url: str, session: requests.Session) -> None:
    body = refresh_body(app_url, 0)
    body["changedPropIds"] = ["refresh-interval.n_intervals"]
    session.post(f"{app_url}/_dash-update-component", json=body, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-dir", default=None)
    parser.add_argument("--requests", default="1,20")
    args = parser.parse_args()
    sim = Simulator(["--jobs", "10000"]).start()
    app = None
    rows = []
    try:
        app = Gunicorn(sim.url, 2, app_dir=args.app_dir).start()
        session = requests.Session()
        tick(app.url, session)  # a viewer: the list is wanted and loads
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sim.stats()["by_kind"]["jobs_list"] < 100:
            time.sleep(0.2)
        time.sleep(SETTLE_S)
        for count in (int(n) for n in args.requests.split(",")):
            sim.control("reset-stats")
            for click in range(1, count + 1):
                session.post(f"{app.url}/_dash-update-component", json=refresh_body(app.url, click), timeout=300)
            time.sleep(SETTLE_S)
            stats = sim.stats()
            rows.append((count, stats["by_kind"]["jobs_list"], stats["total"]))
    finally:
        for part in (app, sim):
            if part is not None:
                part.stop()
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    print(f"Forged Refresh requests, 10,000 jobs, {source}; API requests counted until {SETTLE_S:g} s after the last\n")
    print("| forged requests | jobs-list pages requested | all API requests |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
