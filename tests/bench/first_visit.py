"""Benchmark: the first visit on a slow link, measured in headless Chromium.

    python -m tests.bench.first_visit [--url http://host:port] [--runs 3]

Without --url it starts the dashboard as `make run` does (`fakeai-dash` with its seeded
embedded FakeAI) on a free port and stops it afterwards. Chrome's network emulation gives
the link of issue #7 (20 Mbit/s, 40 ms round trip). For a cold visit (empty browser cache)
and a repeat visit it reports, as a Markdown table (median of the runs):

- bytes received until the jobs list shows its first row, and until the network goes idle;
- the time from navigation start to the first row;
- whether plotly.js was downloaded at all (the list page has no chart).

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
class Visit:
    first_row_ms: float
    bytes_to_row: int
    bytes_to_idle: int
    requests: int
    plotly: bool


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
    sent = [e["params"] for e in events if e["method"] == "Network.requestWillBeSent"]
    offset = statistics.median(p["wallTime"] - p["timestamp"] for p in sent)
    row_at = (time_origin + first_row) / 1000 - offset
    urls = {p["requestId"]: p["request"]["url"] for p in sent}
    finished = [e["params"] for e in events if e["method"] == "Network.loadingFinished"]
    return Visit(
        first_row_ms=first_row,
        bytes_to_row=int(sum(p["encodedDataLength"] for p in finished if p["timestamp"] <= row_at)),
        bytes_to_idle=int(sum(p["encodedDataLength"] for p in finished)),
        requests=len(sent),
        plotly=any("plotly" in url.rsplit("/", 1)[-1] for url in urls.values()),
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


def table(results: dict[str, list[Visit]]) -> str:
    lines = ["| visit | bytes until the list shows | time to first list row | bytes until idle | requests | plotly.js fetched |",
             "|---|---:|---:|---:|---:|---|"]
    for name, visits in results.items():
        label = {"cold": "first visit (empty cache)", "repeat": "repeat visit (warm cache)"}[name]
        lines.append(
            f"| {label} | {statistics.median(v.bytes_to_row for v in visits) / 1e6:.2f} MB"
            f" | {statistics.median(v.first_row_ms for v in visits) / 1000:.2f} s"
            f" | {statistics.median(v.bytes_to_idle for v in visits) / 1e6:.2f} MB"
            f" | {statistics.median(v.requests for v in visits):.0f}"
            f" | {'yes' if any(v.plotly for v in visits) else 'no'} |")
    return "\n".join(lines)


def _start_dashboard(workdir: str, app_dir: str | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    command = [str(Path(sys.executable).with_name("fakeai-dash"))]
    if app_dir:  # another checkout (a baseline commit): its own code, started the same way
        env["PYTHONPATH"] = str(Path(app_dir).resolve())
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.first_visit", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="measure a running dashboard instead of starting one")
    parser.add_argument("--runs", type=int, default=3, help="visits of each kind; the median is reported")
    parser.add_argument("--app-dir", help="start the dashboard from this checkout (a baseline commit)")
    args = parser.parse_args(argv)
    process = None
    with tempfile.TemporaryDirectory() as workdir:  # no stray .env is read
        try:
            url = args.url
            if url is None:
                process, url = _start_dashboard(workdir, args.app_dir)
            results = measure(url, args.runs)
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    link = f"{LINK['downloadThroughput'] * 8 / 1e6:g} Mbit/s, {LINK['latency']} ms RTT"
    print(f"First visit of {url} on a {link} link (Chrome network emulation), median of {args.runs}:\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
