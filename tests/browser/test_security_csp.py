"""The Content-Security-Policy in a real browser: every screen runs under it with no violation
(list, filters open, the create dialog with a checked upload, a running job's details with its
charts and events grid, the comparison), and the policy does block what it should.

Violations are caught twice: Chromium's console (dash_duo.get_logs) and a ``securitypolicyviolation``
listener installed before any page script runs (DevTools' addScriptToEvaluateOnNewDocument,
which the page's CSP does not govern), kept in sessionStorage so reloads do not lose them.
Set FAKEAI_DASH_SHOTS=/some/dir to keep a screenshot of each screen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, row_selector, ticks
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")
MODEL = "meta-llama/Llama-3.1-8B-Instruct"

LISTENER = """
(() => {
  const KEY = "__csp_violations";
  document.addEventListener("securitypolicyviolation", (e) => {
    const seen = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    seen.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
               source: e.sourceFile, line: e.lineNumber, page: location.pathname});
    sessionStorage.setItem(KEY, JSON.stringify(seen));
  }, true);
})();
"""


def watch_violations(dash_duo) -> None:
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTENER})


def violations(dash_duo) -> list[dict]:
    return json.loads(dash_duo.driver.execute_script("return sessionStorage.getItem('__csp_violations') || '[]'"))


def shot(dash_duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dash_duo.driver.save_screenshot(str(Path(SHOTS) / f"csp-{name}.png"))


def plotted_points(dash_duo, graph_id: str) -> int:
    return dash_duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "const plot = el && el.querySelector('.js-plotly-plot');"
        "return plot && plot.data ? plot.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0;", graph_id)


def event_count(dash_duo) -> int:
    return dash_duo.driver.execute_script("""
        let grid = null;
        try { grid = window.dash_ag_grid.getApi('events-log-grid'); } catch (notReady) { return 0; }
        return grid ? grid.getDisplayedRowCount() : 0;
    """)


def test_csp001_every_screen_runs_under_the_policy_without_a_violation(fakeai, dash_duo, start_dash, tmp_path):
    running = fakeai.create_job(suffix="csp-running")
    other = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="csp-other")
    dataset = tmp_path / "csp.jsonl"
    dataset.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": f"{i}?"},
                                                          {"role": "assistant", "content": str(i)}]})
                                 for i in range(12)) + "\n", encoding="utf-8")
    watch_violations(dash_duo)  # before the first page: the listener must see its first scripts
    start_dash(fakeai.url, refresh_interval=TICK)

    # The list (AG Grid, clientside callbacks).
    dash_duo.wait_for_element(row_selector(running["id"]), timeout=ticks(LOAD_TICKS, TICK))
    shot(dash_duo, "01-list")
    # Filters open: the model menu lists the models of the loaded jobs.
    dash_duo.find_element(f"#{ids.Header.MODEL_FILTER}").click()
    dash_duo.wait_for_element(".job-filters .dash-dropdown-option", timeout=ticks(10, TICK))
    shot(dash_duo, "02-filters-open")
    dash_duo.find_element(f"#{ids.Header.MODEL_FILTER}").click()

    # The create dialog, with a file checked and uploaded.
    dash_duo.find_element(f"#{ids.Header.CREATE}").click()
    dash_duo.wait_for_element(f".create-job-dialog.show #{ids.CreateJob.SUBMIT}", timeout=ticks(10, TICK))
    dash_duo.find_element(f"#{ids.CreateJob.UPLOAD} input[type=file]").send_keys(str(dataset))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "was uploaded as", timeout=ticks(15, TICK))
    shot(dash_duo, "03-create-dialog")
    dash_duo.find_element(f"#{ids.CreateJob.CANCEL}").click()
    WebDriverWait(dash_duo.driver, ticks(15, TICK)).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".create-job-dialog.show"))

    # A running job's details: charts drawn by Plotly, the events log's grid (a tall window,
    # so that the screenshot shows every panel).
    dash_duo.driver.set_window_size(1440, 3200)
    dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{running['id']}")
    dash_duo.wait_for_text_to_equal("#detail-job-id", running["id"], timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(30, TICK))
    wait_until(lambda: plotted_points(dash_duo, ids.TrainingProgress.LOSS) > 2, ticks(30, TICK),
               "the loss chart never drew the running job")
    wait_until(lambda: event_count(dash_duo) > 2, ticks(15, TICK), "the events log stayed empty")
    shot(dash_duo, "04-details-running")

    # The comparison of two jobs.
    dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{running['id']}?compare={other['id']}")
    dash_duo.wait_for_text_to_equal("#detail-job-id", running["id"], timeout=ticks(LOAD_TICKS, TICK))
    wait_until(lambda: plotted_points(dash_duo, ids.JobComparison.GRAPH) > 2, ticks(30, TICK),
               "the comparison chart never drew")
    shot(dash_duo, "05-comparison")

    assert violations(dash_duo) == []
    assert dash_duo.get_logs() == []


def test_csp002_the_policy_blocks_an_injected_inline_script(fakeai, dash_duo, start_dash):
    # The control: the listener and the console do report a violation when there is one, and
    # the policy is enforced (the injected script does not run).
    watch_violations(dash_duo)
    start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(f"#{ids.Header.CREATE}", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.driver.execute_script("""
        const s = document.createElement("script");
        s.textContent = "window.__injected = true;";
        document.body.appendChild(s);
    """)
    wait_until(lambda: violations(dash_duo), ticks(5, TICK), "no violation was reported")
    assert dash_duo.driver.execute_script("return window.__injected === true") is False
    [seen] = violations(dash_duo)
    assert seen["directive"].startswith("script-src") and seen["blocked"] == "inline"
    console = dash_duo.get_logs()
    assert any("Content Security Policy" in entry["message"] for entry in console), console
    assert dash_duo.get_logs() == []  # read once: nothing else went wrong
