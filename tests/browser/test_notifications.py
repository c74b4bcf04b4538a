"""Browser notifications against a real FakeAI server: with permission granted, a job created
while the list is open is announced exactly once when it succeeds — one notification for two
open tabs, none again after a reload. Notifications are observed through the real Notification
constructor, wrapped by a script added before any page script runs.

dash_duo's Chrome is started with --disable-notifications (dash.testing adds it), which removes
the Notification API altogether; these tests start their own Chromium, with the same options
as every browser test plus notifications allowed, and serve the app as serve_app does."""

from __future__ import annotations

import pytest

import json
import os
import re
import time
from types import SimpleNamespace

from selenium import webdriver
from werkzeug import Response

from fakeai_dash import ids
from tests.browser.test_alerts_browser import openai_api  # noqa: F401 - the OpenAI-shaped API fixture
from tests.support.browser_support import LOAD_TICKS, grid_statuses, row_selector, ticks, wait_until
from tests.conftest import AppServer, pytest_setup_options

pytestmark = pytest.mark.browser

TICK = 1.0
FAKEAI_JOB_TICKS = 90  # FakeAI runs a job in about 35 s; queued behind other tests' jobs, longer
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")  # set it to keep screenshots for a human

# Records every notification the page creates (after the real constructor accepted it) in
# localStorage, which the page's tabs share and a reload keeps.
RECORDER = """
(() => {
  const Real = window.Notification;
  if (!Real) { return; }
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      const calls = JSON.parse(localStorage.getItem("test-notifications") || "[]");
      calls.push({title: title, body: (options || {}).body, tag: (options || {}).tag});
      localStorage.setItem("test-notifications", JSON.stringify(calls));
    }
  }
  window.Notification = Recorded;
})();
"""


def notifications(browser):
    return browser.driver.execute_script("return JSON.parse(localStorage.getItem('test-notifications') || '[]')")


def checked_status(browser, job_id):
    """The status this tab last compared for ``job_id`` (set after each announce pass)."""
    return browser.driver.execute_script(
        "return window.fakeaiAlerts && window.fakeaiAlerts.checked ? window.fakeaiAlerts.checked[arguments[0]] : null",
        job_id)


def record_notifications(browser):
    """The recorder runs in every document this tab loads from now on (CDP works per tab)."""
    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})


@pytest.fixture
def notifying_browser(make_app):
    """``serve(api_base)``: the app served on an OS-picked port, open in a Chromium that allows
    notifications; returns an object with ``driver`` (what tests/support/browser_support.py reads)."""
    options = pytest_setup_options()
    options.add_experimental_option("prefs", {"profile.default_content_setting_values.notifications": 1})
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})  # as dash_duo: errors only
    driver = webdriver.Chrome(options=options)
    servers = []

    def serve(api_base, **overrides):
        server = AppServer(make_app(api_base, **overrides))
        servers.append(server)
        browser = SimpleNamespace(driver=driver, url=server.url)
        record_notifications(browser)
        driver.get(server.url)
        return browser

    yield serve
    driver.quit()
    for server in servers:
        server.close()


def text_of(browser, element_id):
    return browser.driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.textContent : null;", element_id)


def console_errors(browser):
    return browser.driver.get_log("browser")


def test_notify001_one_notification_per_success_across_tabs_and_reloads(private_fakeai, notifying_browser):
    browser = notifying_browser(private_fakeai.url, refresh_interval=TICK)
    driver = browser.driver
    wait_until(lambda: text_of(browser, ids.Notify.ENABLE) == "Notify me", ticks(LOAD_TICKS, TICK),
               "the notify button")
    assert driver.execute_script("return Notification.permission") == "granted"
    driver.find_element("id", ids.Notify.ENABLE).click()  # the opt-in (a user gesture)
    wait_until(lambda: text_of(browser, ids.Notify.ENABLE) == "Notifications on", ticks(5, TICK),
               "the button to say notifications are on")

    job_id = private_fakeai.create_job()["id"]
    wait_until(lambda: checked_status(browser, job_id) in ("validating_files", "queued", "running"),
               ticks(10, TICK), "the list to show the new job before it finishes")
    # A second tab of the same browser, open while the job runs.
    first_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    record_notifications(browser)
    driver.get(browser.url)
    second_tab = driver.current_window_handle
    wait_until(lambda: checked_status(browser, job_id) is not None, ticks(LOAD_TICKS, TICK),
               "the second tab to see the job")

    for tab in (second_tab, first_tab):
        driver.switch_to.window(tab)
        wait_until(lambda: checked_status(browser, job_id) == "succeeded", ticks(FAKEAI_JOB_TICKS, TICK),
                   "this tab to have seen the job succeed")
    sent = notifications(browser)
    assert [(n["title"], n["tag"]) for n in sent] == [
        ("Fine-tuning job succeeded", f"fakeai-dash:{job_id}:succeeded")]
    assert job_id in sent[0]["body"]
    assert driver.find_elements("css selector", f"#{ids.Notify.TOASTS} .notify-toast") == []  # granted: no toast
    assert console_errors(browser) == []

    driver.refresh()
    wait_until(lambda: (grid_statuses(browser) or {}).get(job_id) == "succeeded", ticks(LOAD_TICKS, TICK),
               "the reloaded list")
    wait_until(lambda: checked_status(browser, job_id) == "succeeded", ticks(5, TICK),
               "the reloaded tab to have compared the list")
    assert len(notifications(browser)) == 1
    assert console_errors(browser) == []
    driver.switch_to.window(second_tab)
    assert console_errors(browser) == []


def test_notify002_without_notifications_a_toast_says_it_and_opens_the_job(httpserver, start_dash):
    # dash_duo's Chrome has no Notification API at all (--disable-notifications): the toast's case.
    now = int(time.time())
    job = {"object": "fine_tuning.job", "id": "ftjob-toast", "model": "gpt-4o-mini-2024-07-18", "created_at": now,
           "finished_at": None, "fine_tuned_model": None, "status": "running", "training_file": "file-train",
           "trained_tokens": None, "error": None, "result_files": [], "suffix": "toasty"}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            body = {"object": "list", "data": [job], "has_more": False}
        elif path == "/fine_tuning/jobs/ftjob-toast":
            body = job
        elif path.startswith("/fine_tuning/jobs/ftjob-toast/") or path == "/files":
            body = {"object": "list", "data": [], "has_more": False}
        else:
            return Response(json.dumps({"error": {"message": "Unknown route"}}), status=404,
                            content_type="application/json")
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    dash_duo = start_dash(httpserver.url_for("/").rstrip("/"), "/", refresh_interval=TICK)
    dash_duo.wait_for_text_to_equal(f"#{ids.Notify.ENABLE}", "Notify me", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.find_element(f"#{ids.Notify.ENABLE}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.Notify.ENABLE}", "In-page alerts on", timeout=ticks(5, TICK))
    wait_until(lambda: checked_status(dash_duo, "ftjob-toast") == "running", ticks(10, TICK),
               "the list to show the running job")
    job.update(status="failed", finished_at=int(time.time()))
    toast = dash_duo.wait_for_element(f"#{ids.Notify.TOASTS} .notify-toast", timeout=ticks(10, TICK))
    assert toast.text.startswith("Fine-tuning job failed") and "toasty · ftjob-toast" in toast.text
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        dash_duo.driver.save_screenshot(f"{SHOTS}/notify-toast.png")
    toast.click()
    wait_until(lambda: dash_duo.driver.current_url.endswith("/jobs/ftjob-toast"), ticks(5, TICK),
               "the toast to open the job")
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", "ftjob-toast", timeout=ticks(10, TICK))
    assert dash_duo.find_elements(f"#{ids.Notify.TOASTS} .notify-toast") == []
    assert dash_duo.get_logs() == []


def test_notify003_a_new_training_alert_is_announced_once(openai_api, start_dash):
    # No background rounds: the NaN job's alert appears only once it is opened, after the opt-in.
    dash_duo = start_dash(openai_api, "/", refresh_interval=TICK, alert_active_jobs=0)
    dash_duo.wait_for_text_to_equal(f"#{ids.Notify.ENABLE}", "Notify me", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.find_element(f"#{ids.Notify.ENABLE}").click()
    wait_until(lambda: checked_status(dash_duo, "ftjob-nan") == "running", ticks(10, TICK),
               "the list to be compared once")
    assert dash_duo.find_elements(f"#{ids.Notify.TOASTS} .notify-toast") == []
    dash_duo.find_element(row_selector("ftjob-nan")).click()
    toast = dash_duo.wait_for_element(f"#{ids.Notify.TOASTS} .notify-toast.notify-alert", timeout=ticks(10, TICK))
    assert toast.text.startswith("Training alert: Loss is not a number")
    assert "The train loss became NaN or infinite at step 31" in toast.text and "ftjob-nan" in toast.text
    dash_duo.driver.refresh()  # announced: not again
    wait_until(lambda: checked_status(dash_duo, "ftjob-nan") == "running", ticks(LOAD_TICKS, TICK),
               "the reloaded page to compare the list and its alerts")
    dash_duo.wait_for_element(row_selector("ftjob-nan") + " .alert-badge", timeout=ticks(10, TICK))
    assert dash_duo.find_elements(f"#{ids.Notify.TOASTS} .notify-toast") == []
    assert dash_duo.get_logs() == []
