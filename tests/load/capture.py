"""Capture what a real page sends on its refresh ticks: headless Chromium opens the app and a
fetch wrapper (installed before the page's own scripts) records every callback request."""

from __future__ import annotations

import shutil
import statistics
import time
from urllib.parse import urlsplit

import requests

from tests.load.replay import Request, Tick, group_ticks, parse_records, stringify_id

RECORDER = """
(() => {
  const original = window.fetch;
  window.__loadCapture = [];
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : (input && input.url) || "";
    if (!url.includes("_dash-update-component")) return original.apply(this, arguments);
    const record = {start: performance.now(), body: init && typeof init.body === "string" ? init.body : null};
    window.__loadCapture.push(record);
    return original.apply(this, arguments).then(
      (response) => { record.end = performance.now(); record.status = response.status; return response; },
      (error) => { record.end = performance.now(); record.status = -1; throw error; });
  };
})();
"""


def _driver(network_log: bool = False):
    """Headless Chromium; with ``network_log``, Chrome's performance log (every request sent) too."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,1000", "--no-first-run", "--disable-background-networking",
                 "--disable-extensions", "--disable-sync"):
        options.add_argument(flag)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = shutil.which("chromedriver")
    service = Service(driver_path) if driver_path else Service()
    return webdriver.Chrome(service=service, options=options)


def capture_ticks(page_url: str, ticks: int = 3, skip: int = 1, timeout: float = 180.0) -> tuple[list[Tick], float]:
    """Up to ``ticks`` complete refresh ticks of the page at ``page_url`` (after ``skip`` ticks of
    settling), and the seconds between ticks. A slow app may close fewer ticks in ``timeout``:
    one is enough, none is an error."""
    driver = _driver()
    found: list[Tick] = []
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
        # The refresh ticks are the polling page's (a live page's Interval is off): block the push
        # channel, as a proxy that kills long connections would (tests/load/push.py measures push).
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_push*"]})
        driver.get(page_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(found) < skip + ticks:
            time.sleep(0.5)
            found = group_ticks(parse_records(driver.execute_script("return window.__loadCapture || [];")))
    finally:
        driver.quit()
    if len(found) <= skip:
        raise RuntimeError(f"the page at {page_url} closed {len(found)} refresh ticks in {timeout:g} s; "
                           f"more than {skip} are needed")
    chosen = found[skip:skip + ticks]
    return chosen, interval_seconds(page_url, chosen[0].interval_id, found)


def interval_seconds(page_url: str, interval_id: str, found: list[Tick]) -> float:
    """The interval component's own period, from the app's layout (the browser's timing of a
    busy page is not); the median gap between captured ticks if the layout does not say."""
    parts = urlsplit(page_url)
    try:
        layout = requests.get(f"{parts.scheme}://{parts.netloc}/_dash-layout", timeout=30).json()
        period = _find_interval(layout, interval_id)
    except (requests.RequestException, ValueError):
        period = None
    if period:
        return period / 1000.0
    firsts = [tick.requests[0].start for tick in found]
    return statistics.median(b - a for a, b in zip(firsts, firsts[1:], strict=False)) / 1000.0 if len(firsts) > 1 else 3.0


def _find_interval(node, interval_id: str) -> float | None:
    stack, seen = [node], 0
    while stack and seen < 1_000_000:
        seen += 1
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props")
            if isinstance(props, dict) and props.get("id") is not None \
                    and stringify_id(props["id"]) == interval_id and isinstance(props.get("interval"), (int, float)):
                return float(props["interval"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def describe(ticks: list[Tick]) -> str:
    """One line per captured tick: its requests by output, wave by wave."""
    lines = []
    for tick in ticks:
        waves = " | ".join(", ".join(_short(r) for r in wave) for wave in tick.waves)
        lines.append(f"tick n={tick.n}: {len(tick.requests)} requests: {waves}")
    return "\n".join(lines)


def _short(request: Request) -> str:
    output = request.output.strip(".")
    return output if len(output) <= 60 else output[:57] + "..."
