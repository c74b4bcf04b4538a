"""Benchmark: a job opened by its URL, until its loss chart is drawn, at 300 and 20,000 steps.

    python -m tests.bench.open_job [--app-dir DIR] [--runs 3]

Starts the scale simulator (no latency: the time is the dashboard's own) with a finished
300-step job and a finished 20,000-step job whose loss spikes at step 10,000, serves the app
with the Procfile's gunicorn command (from --app-dir, to measure a baseline checkout side by
side), opens /jobs/<id> in headless Chromium (cold cache each run) and reports, as Markdown:
the time from navigation to the first drawn loss point on the page's own clock (and when
WebDriver, polling, saw it), the first step drawn, whether the spike is on the chart, and the
most points in one trace. A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from selenium.common.exceptions import TimeoutException

from tests.load.capture import _driver
from tests.load.stack import Gunicorn, Simulator

READ_LOSS = """
const node = document.querySelector('#loss-graph .js-plotly-plot');
if (!node || !node.data || !node.data.length) { return null; }
const traces = node.data.filter(t => Array.isArray(t.x) || (t.x && t.x.length));
const xs = traces.map(t => Array.from(t.x || []));
if (!xs.some(x => x.length)) { return null; }
// The raw curve: "train_loss (raw)" under smoothing, else "train_loss" itself.
const raw = node.data.find(t => t.name === 'train_loss (raw)') || node.data.find(t => t.name === 'train_loss')
            || node.data[0];
return {first: Math.min(...xs.filter(x => x.length).map(x => x[0])), most: Math.max(...xs.map(x => x.length)),
        rawx: Array.from(raw.x || []), rawy: Array.from(raw.y || [])};
"""


# The page's own clock: every frame from the document's start, the first one showing a drawn loss
# point is noted (ms since navigation began). Reading it through WebDriver instead would add the
# poll's delay, and a WebDriver call waits while the page's main thread is busy (up to 0.5 s late).
FIRST_DRAWN_WATCH = """
(function watch() {
  const node = document.querySelector('#loss-graph .js-plotly-plot');
  if (node && node.data && node.data.some(t => t.x && t.x.length)) { window.__firstLossAt = performance.now(); return; }
  requestAnimationFrame(watch);
})();
"""


def open_once(url: str, timeout: float = 120.0, screenshot: str | None = None) -> dict:
    """One cold-cache open of ``url``; ``screenshot``: a PNG of the page when its chart is seen."""
    driver = _driver()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FIRST_DRAWN_WATCH})
        started = time.monotonic()
        driver.get(url)
        deadline = started + timeout
        while time.monotonic() < deadline:
            try:
                drawn = driver.execute_script(READ_LOSS)
            except TimeoutException:  # the page's main thread is busy (rendering): look again
                continue
            if drawn:
                seen = time.monotonic() - started
                if screenshot:  # the charts, as first drawn, in view
                    driver.execute_script("document.querySelector('#loss-graph').scrollIntoView({block: 'center'});")
                    driver.save_screenshot(screenshot)
                drawn_at = driver.execute_script("return window.__firstLossAt || null;")
                xs, ys = drawn["rawx"], drawn["rawy"]
                spike = any(9_990 <= x <= 10_010 and y > 3 * (sorted(ys)[len(ys) // 2] or 1) for x, y in zip(xs, ys))
                return {"seconds": drawn_at / 1000 if drawn_at else None, "seen": seen, "first": drawn["first"],
                        "most": drawn["most"], "spike": spike}
            time.sleep(0.05)
        return {"seconds": None, "seen": None, "first": None, "most": None, "spike": False}
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-dir", default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sim = Simulator(["--jobs", "50", "--big", "300:finished", "--big", "20000:finished:spike=10000"]).start()
    app = None
    try:
        app = Gunicorn(sim.url, 2, app_dir=args.app_dir).start()
        rows = []
        for label, job_id in zip(("300 steps", "20,000 steps (spike at 10,000)"), sim.info["big_job_ids"], strict=True):
            runs = [open_once(f"{app.url}/jobs/{job_id}") for _ in range(args.runs)]
            times = [r["seconds"] for r in runs if r["seconds"] is not None]
            seen = [r["seen"] for r in runs if r["seen"] is not None]
            last = runs[-1]
            rows.append((label, f"{statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f})" if times
                         else "not drawn in 120 s",
                         f"{statistics.median(seen):.2f} s" if seen else "–",
                         last["first"], last["most"], "yes" if last["spike"] else "no"))
    finally:
        for part in (app, sim):
            if part is not None:
                part.stop()
    source = f"app from {args.app_dir}" if args.app_dir else "this checkout"
    print(f"Opened by URL, {args.runs} cold runs each (median), {source}, gunicorn WEB_CONCURRENCY=2, no API latency\n")
    print("| job | first chart, page clock: median (range) | seen by WebDriver | first step drawn "
          "| most points in a trace | spike at 10,000 on the chart |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
