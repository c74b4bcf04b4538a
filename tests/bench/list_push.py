"""Benchmark: a job created through the API, until its row is in an open list (issue #22 item 7).

    python -m tests.bench.list_push [--jobs 20] [--busy] [--page job|list] [--app-dir DIR]

Starts the scale simulator (50 jobs and a running 5,000-step job advancing two steps a second, no
API latency: the time is the dashboard's own) and the app with the Procfile's gunicorn command and
its default settings (refresh interval 3 s), opens a page in headless Chromium — by default the
running job's page, where the list sits beside a live chart (the case of test_push_browser001),
or the list alone — waits until it is live (push), then creates ``--jobs`` jobs through the API
(POST /v1/fine_tuning/jobs), one at a time 1–2 s apart. A new row is timed on the page's own clock:
a MutationObserver notes when each row id first enters the grid's DOM, so WebDriver's polling
adds nothing; the page's EventSource notes when each "list" change arrives, which splits the time
into the server's part (the fast lane finding the job, the picture, the stream) and the page's
(the list's fetch, its render, the grid). ``--busy`` keeps one core busy (a spinning process of its own) while measuring.
Prints a Markdown table. A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import time

import requests

from tests.load.capture import _driver
from tests.load.replay import percentile
from tests.load.stack import Gunicorn, Simulator, wait_for

ROW_WATCH = """
(() => {
  window.__rowSeen = {};
  const look = () => {
    for (const row of document.querySelectorAll("#jobs-grid .ag-center-cols-container .ag-row[row-id]")) {
      const id = row.getAttribute("row-id");
      if (!(id in window.__rowSeen)) { window.__rowSeen[id] = Date.now(); }
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true});
  // When each pushed "list" change reached the page (the bridge's own EventSource, wrapped).
  window.__listChanges = [];
  const Native = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new Native(url, options);
    source.addEventListener("change", (message) => {
      if (JSON.parse(message.data).member === "list") { window.__listChanges.push(Date.now()); }
    });
    return source;
  };
  window.EventSource.prototype = Native.prototype;
})();
"""
TRAINING_FILE = "file-sim-train-0001"  # the simulator's own (tests/support/scale_sim.py TRAINING_FILES)
NEVER_S = 30.0  # a row not shown within this long counts as never shown


def spin() -> subprocess.Popen:
    """One core kept busy, as the flaky test's machine was (stopped by the caller, by its pid)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def create_and_time(sim_url: str, driver, count: int) -> tuple[list[float], list[float], int]:
    """Per job: seconds from its creation until its row was drawn, and until the page heard the list change."""
    http = requests.Session()
    found, heard, missed = [], [], 0
    for _ in range(count):
        time.sleep(random.uniform(1.0, 2.0))  # jobs one at a time, not a burst
        born = time.time()
        response = http.post(f"{sim_url}/v1/fine_tuning/jobs", timeout=10,
                             json={"model": "gpt-4o-mini-2024-07-18", "training_file": TRAINING_FILE})
        response.raise_for_status()
        job_id = response.json()["id"]
        try:
            seen = wait_for(lambda: driver.execute_script("return window.__rowSeen[arguments[0]] || null;", job_id),
                            NEVER_S, f"the row of {job_id}")
        except RuntimeError:
            missed += 1
            continue
        found.append(seen / 1000.0 - born)
        changes = driver.execute_script("return window.__listChanges;")
        heard.append(min((t / 1000.0 for t in changes if t / 1000.0 >= born), default=math.nan) - born)
    return found, heard, missed


def measure(args) -> dict:
    sim = Simulator(["--jobs", "50", "--big", "5000:live", "--rate", "2"]).start()
    app = driver = busy = None
    try:
        app = Gunicorn(sim.url, 2, app_dir=args.app_dir).start()
        driver = _driver()
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ROW_WATCH})
        path = f"/jobs/{sim.info['big_job_ids'][0]}" if args.page == "job" else "/"
        driver.get(app.url + path)
        wait_for(lambda: driver.execute_script("return window.fakeaiPush && window.fakeaiPush.stats().state;")
                 == "live", 60, "the page live")
        wait_for(lambda: driver.execute_script("return Object.keys(window.__rowSeen).length;"), 60, "the list drawn")
        if args.busy:
            busy = spin()
        time.sleep(5.0)  # settled: the first load's callbacks are behind us
        found, heard, missed = create_and_time(sim.url, driver, args.jobs)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait(timeout=10)
        if driver is not None:
            driver.quit()
        for part in (app, sim):
            if part is not None:
                part.stop()
    return {"found": found, "heard": heard, "missed": missed}


def seconds(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.list_push", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20, help="jobs created, one at a time")
    parser.add_argument("--busy", action="store_true", help="keep one core busy while measuring")
    parser.add_argument("--page", choices=("job", "list"), default="job",
                        help="the running job's page (the list beside a live chart) or the list alone")
    parser.add_argument("--app-dir", default=None)
    args = parser.parse_args(argv)
    result = measure(args)
    found = result["found"]
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    page = "a running job's page (list beside a live chart)" if args.page == "job" else "the list"
    print(f"A job created through the API until its row is in the open list ({page}), {args.jobs} jobs 1–2 s "
          f"apart, {source}, gunicorn WEB_CONCURRENCY=2, default settings, no API latency"
          f"{', one core kept busy' if args.busy else ''}\n")
    heard = [x for x in result["heard"] if not math.isnan(x)]
    drawn_after = [row - push for row, push in zip(found, result["heard"]) if not math.isnan(push)]
    print("| jobs | p50 s | p95 s | max s | never shown (30 s) | push heard p50 / p95 s | then drawn p50 / p95 s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(found) + result['missed']} | {seconds(percentile(found, 50))} | {seconds(percentile(found, 95))} | "
          f"{seconds(max(found, default=math.nan))} | {result['missed']} | "
          f"{seconds(percentile(heard, 50))} / {seconds(percentile(heard, 95))} | "
          f"{seconds(percentile(drawn_after, 50))} / {seconds(percentile(drawn_after, 95))} |")
    print("\nEach (s): " + ", ".join(f"{x:.2f}" for x in found), flush=True)
    print("Push heard (s): " + ", ".join(f"{x:.2f}" for x in result["heard"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
