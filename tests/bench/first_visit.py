"""Benchmark: the first visit on a slow link, measured in headless Chromium.

    python -m tests.bench.first_visit [--url http://host:port] [--runs 7]
    python -m tests.bench.first_visit --sim-jobs 3000 --latency 0.15 [--runs 7] [--requests]

Without --url it starts the dashboard from this checkout (or --app-dir) and stops it
afterwards: as `make run` does (`fakeai-dash` with its seeded embedded FakeAI, 4 jobs), or,
with --sim-jobs, as deployed (the Procfile's gunicorn, two workers) against the scale simulator
(tests/support/scale_sim.py) holding that many jobs and answering each API call after --latency
seconds; a throw-away visit first waits until the list shows every job (a deployed app has its
picture before its visitors come). Chrome's network emulation gives the link of issue #7
(20 Mbit/s, 40 ms round trip). For a cold visit (empty browser cache) and a repeat visit it
reports, as a Markdown table, the median and range of the runs, and the load average:

- bytes received until the jobs list shows its first row, and until the network goes idle;
- the requests sent until idle (data: URLs, decoded in the page, are not requests);
- the time from navigation start to the first row;
- whether plotly.js was downloaded at all (the list page has no chart);
- with --requests, every request of the first cold visit: when it was sent and finished (ms
  since navigation start), its bytes and its URL, to see which request waited on which.

A benchmark, not a test: it prints figures for docs/performance.md and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from fakeai_dash.embedded import free_port
from tests.load.stack import ROOT, Gunicorn, Simulator

LINK = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}
ROW_SELECTOR = "#jobs-grid .ag-center-cols-container .ag-row"
IDLE_QUIET_S = 1.0

# Installed before any page script runs: note when the first list row enters the DOM, in the
# page's own clock (ms since navigation start).
_WATCH_FIRST_ROW = """
(() => {
  const seen = () => document.querySelector(%s);
  const mark = () => { if (window.__firstRowAt === undefined && seen()) { window.__firstRowAt = performance.now(); } };
  new MutationObserver(mark).observe(document, {childList: true, subtree: true});
})();
""" % json.dumps(ROW_SELECTOR)


@dataclass
class Request:
    sent_ms: float  # since navigation start
    finished_ms: float | None
    bytes: int
    url: str


@dataclass
class Visit:
    first_row_ms: float
    bytes_to_row: int
    bytes_to_idle: int
    requests: int
    plotly: bool
    timeline: list[Request]


def _driver() -> webdriver.Chrome:
    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,1000", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", LINK)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH_FIRST_ROW})
    return driver


def _network_events(driver) -> list[dict]:
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append(message)
    return events


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def visit(driver, url: str, timeout: float = 60.0) -> Visit:
    """One navigation to ``url``; counts what travelled until the first row and until idle."""
    driver.get("about:blank")
    _network_events(driver)  # drop what came before this visit
    driver.get(url)
    first_row = _wait_for(lambda: driver.execute_script("return window.__firstRowAt"), timeout, "the first list row")
    time_origin = driver.execute_script("return performance.timeOrigin")  # epoch ms
    events: list[dict] = []
    in_flight: set[str] = set()
    quiet_since = time.monotonic()
    deadline = time.monotonic() + timeout
    # The network is idle when no request has been open for IDLE_QUIET_S: a polling page
    # keeps ticking, so idle means "nothing left of the page load", not "silence forever".
    while time.monotonic() < deadline:
        new = _network_events(driver)
        for event in new:
            request_id = event["params"].get("requestId")
            if event["method"] == "Network.requestWillBeSent":
                # The push stream stays open by design (docs/push.md): not part of the page load.
                if "/_push" not in event["params"]["request"]["url"]:
                    in_flight.add(request_id)
            elif event["method"] in ("Network.loadingFinished", "Network.loadingFailed"):
                in_flight.discard(request_id)
        events.extend(new)
        if new or in_flight:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= IDLE_QUIET_S:
            break
        time.sleep(0.05)
    # CDP stamps events on a monotonic clock; requestWillBeSent also carries the wall time,
    # which maps the page's first-row moment onto that clock.
    # data: URLs (Bootstrap's and AG Grid's inline SVG icons) are decoded in the page: never sent.
    sent = [e["params"] for e in events if e["method"] == "Network.requestWillBeSent"
            and not e["params"]["request"]["url"].startswith("data:")]
    offset = statistics.median(p["wallTime"] - p["timestamp"] for p in sent)
    row_at = (time_origin + first_row) / 1000 - offset
    urls = {p["requestId"]: p["request"]["url"] for p in sent}
    finished = [e["params"] for e in events if e["method"] == "Network.loadingFinished"]
    navigation = time_origin / 1000 - offset  # navigation start on CDP's clock
    done = {p["requestId"]: p for p in finished}
    timeline = [Request(sent_ms=(p["timestamp"] - navigation) * 1000,
                        finished_ms=(done[p["requestId"]]["timestamp"] - navigation) * 1000 if p["requestId"] in done else None,
                        bytes=int(done[p["requestId"]]["encodedDataLength"]) if p["requestId"] in done else 0,
                        url=p["request"]["url"]) for p in sent]
    return Visit(
        first_row_ms=first_row,
        bytes_to_row=int(sum(p["encodedDataLength"] for p in finished if p["timestamp"] <= row_at)),
        bytes_to_idle=int(sum(p["encodedDataLength"] for p in finished)),
        requests=len(sent),
        plotly=any("plotly" in url.rsplit("/", 1)[-1] for url in urls.values()),
        timeline=timeline,
    )


def measure(url: str, runs: int) -> dict[str, list[Visit]]:
    results: dict[str, list[Visit]] = {"cold": [], "repeat": []}
    for _ in range(runs):
        driver = _driver()
        try:
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            results["cold"].append(visit(driver, url))
            results["repeat"].append(visit(driver, url))
        finally:
            driver.quit()
    return results


def _spread(values: list[float], unit: str, scale: float = 1.0, digits: int = 2) -> str:
    """The median and, for several runs, the range: "1.23 s (1.10–1.40)"."""
    values = [v / scale for v in values]
    median = f"{statistics.median(values):.{digits}f}{' ' + unit if unit else ''}"
    return median if len(values) < 2 else f"{median} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table(results: dict[str, list[Visit]]) -> str:
    lines = ["| visit | bytes until the list shows | time to first list row | bytes until idle | requests | plotly.js fetched |",
             "|---|---:|---:|---:|---:|---|"]
    for name, visits in results.items():
        label = {"cold": "first visit (empty cache)", "repeat": "repeat visit (warm cache)"}[name]
        lines.append(
            f"| {label} | {_spread([v.bytes_to_row for v in visits], 'MB', 1e6)}"
            f" | {_spread([v.first_row_ms for v in visits], 's', 1000)}"
            f" | {_spread([v.bytes_to_idle for v in visits], 'MB', 1e6)}"
            f" | {_spread([v.requests for v in visits], '', digits=0)}"
            f" | {'yes' if any(v.plotly for v in visits) else 'no'} |")
    return "\n".join(lines)


def timeline_table(visit: Visit) -> str:
    lines = [f"First row at {visit.first_row_ms:.0f} ms.\n", "| sent ms | finished ms | bytes | request |", "|---:|---:|---:|---|"]
    for request in sorted(visit.timeline, key=lambda r: r.sent_ms):
        finished = f"{request.finished_ms:.0f}" if request.finished_ms is not None else "open"
        lines.append(f"| {request.sent_ms:.0f} | {finished} | {request.bytes} | {request.url.split('//', 1)[-1].split('/', 1)[-1][:110]} |")
    return "\n".join(lines)


def load_average() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def _start_dashboard(workdir: str, app_dir: str | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    # `fakeai-dash` is `python -m fakeai_dash`; run from this checkout (or another: a baseline
    # commit), whatever checkout the environment's editable install points at.
    env["PYTHONPATH"] = str(Path(app_dir or ROOT).resolve())
    command = [sys.executable, "-m", "fakeai_dash"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=workdir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"

    def healthy():
        if process.poll() is not None:
            raise RuntimeError(f"fakeai-dash exited with {process.returncode}")
        try:
            return True if requests.get(url + "healthz", timeout=1).ok else None
        except requests.RequestException:
            return None

    _wait_for(healthy, 90, "the dashboard")
    return process, url


def _wait_for_whole_list(url: str, jobs: int, timeout: float = 180.0) -> None:
    """A throw-away visit (full speed) until the list's count says ``jobs``: the app's picture
    holds the whole list, as a deployed app's does before a new visitor comes."""
    driver = _driver()
    try:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**LINK, "latency": 0, "downloadThroughput": -1,
                                                                    "uploadThroughput": -1})
        driver.get(url)
        wanted = f"({jobs:,})"
        _wait_for(lambda: True if driver.execute_script(
            "const c = document.getElementById('jobs-count'); return c && c.textContent;") == wanted else None,
            timeout, f"the list to show {jobs} jobs")
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.first_visit", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="measure a running dashboard instead of starting one")
    parser.add_argument("--runs", type=int, default=7, help="visits of each kind; the median and range are reported")
    parser.add_argument("--app-dir", help="start the dashboard from this checkout (a baseline commit)")
    parser.add_argument("--sim-jobs", type=int, default=0,
                        help="serve the app with gunicorn against the scale simulator holding this many jobs")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per API answer of the scale simulator")
    parser.add_argument("--requests", action="store_true", help="also list every request of the first cold visit")
    args = parser.parse_args(argv)
    process = sim = app = None
    before = load_average()
    with tempfile.TemporaryDirectory() as workdir:  # no stray .env is read
        try:
            url = args.url
            if url is None and args.sim_jobs:
                sim = Simulator(["--jobs", str(args.sim_jobs), "--latency", str(args.latency)]).start()
                app = Gunicorn(sim.url, 2, app_dir=args.app_dir,
                               extra_env={"FAKEAI_DASH_DATA_DIR": tempfile.mkdtemp(prefix="first-visit-")}).start()
                url = app.url + "/"
                _wait_for_whole_list(url, args.sim_jobs)
            elif url is None:
                process, url = _start_dashboard(workdir, args.app_dir)
            results = measure(url, args.runs)
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
            for started in (app, sim):
                if started is not None:
                    started.stop()
    link = f"{LINK['downloadThroughput'] * 8 / 1e6:g} Mbit/s, {LINK['latency']} ms RTT"
    served = (f"gunicorn (2 workers), scale simulator with {args.sim_jobs:,} jobs and {args.latency * 1000:.0f} ms "
              f"per API answer" if args.sim_jobs else "the dashboard as given" if args.url else "`make run`'s app")
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    print(f"First visit on a {link} link (Chrome network emulation), {served}, {source}; median (range) of "
          f"{args.runs}; load average (1/5/15 min) {before} before, {load_average()} after:\n")
    print(table(results))
    if args.requests:
        print("\nRequests of the first cold visit:\n")
        print(timeline_table(results["cold"][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
