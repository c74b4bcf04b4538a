"""Every page arrives with the jobs list drawn (server/first_list.py), and the page drawn
that way still lives: rows follow the API, filters and navigation work, with the scripts and
styles merged into bundles (server/bundles.py).

Real parts: a FakeAI server, the app served with its sync loop, headless Chromium."""

from __future__ import annotations

from selenium.webdriver.support.ui import Select

import pytest

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, grid_statuses, prop, row_selector, ticks, wait_until

pytestmark = pytest.mark.browser
TICK = 1.0
CALLBACKS = "*_dash-update-component*"


def test_firstlist001_the_list_is_drawn_with_every_callback_request_blocked(fakeai, start_dash):
    kept = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    gone = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(gone["id"])
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    # The first visit makes the sync loop follow the list: then the picture holds it.
    wait_until(lambda: (grid_statuses(dash_duo) or {}).get(gone["id"]) == "cancelled",
               ticks(LOAD_TICKS, TICK), "the list never showed the cancelled job")

    # No callback can answer now: whatever the page shows came with its layout.
    dash_duo.driver.execute_cdp_cmd("Network.enable", {})
    dash_duo.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [CALLBACKS]})
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(row_selector(kept["id"]), timeout=ticks(LOAD_TICKS, TICK))
    statuses = grid_statuses(dash_duo)
    assert statuses[gone["id"]] == "cancelled"
    # The header's counts and the model filter's choices are drawn from the same rows.
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", str(len(statuses)), timeout=ticks(5, TICK))
    models = {option["value"] for option in prop(dash_duo, ids.Header.MODEL_FILTER, "options")}
    assert {"mistralai/Mistral-7B-Instruct-v0.3", "Qwen/Qwen2.5-7B-Instruct"} <= models
    assert dash_duo.find_element(f"#{ids.JobsList.LOADING}").is_displayed() is False
    # The console has only the blocked callbacks' failures to say.
    blocked = ("ERR_BLOCKED_BY_CLIENT", "Callback failed: the server did not respond")
    for entry in dash_duo.get_logs():
        assert any(words in entry["message"] for words in blocked), entry

    dash_duo.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(row_selector(kept["id"]), timeout=ticks(LOAD_TICKS, TICK))
    assert dash_duo.get_logs() == []


def test_firstlist002_a_list_drawn_with_the_page_follows_filters_and_navigates(fakeai, start_dash):
    first = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{first['id']}", refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(first["id"]), timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.driver.refresh()  # now drawn with the page, the job's row selected in it
    dash_duo.wait_for_element(row_selector(first["id"]) + ".ag-row-selected", timeout=ticks(LOAD_TICKS, TICK))

    # Live: a job created through the API reaches the open list, and a cancelled one turns so.
    second = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="first-list")
    dash_duo.wait_for_element(row_selector(second["id"]), timeout=ticks(10, TICK))
    fakeai.cancel_job(second["id"])
    wait_until(lambda: (grid_statuses(dash_duo) or {}).get(second["id"]) == "cancelled",
               ticks(10, TICK), "the cancelled job's row never turned cancelled")

    # Filters: "cancelled" keeps the cancelled job and drops the other.
    Select(dash_duo.find_element(f"#{ids.Header.STATUS_FILTER}")).select_by_value("cancelled")
    wait_until(lambda: (shown := grid_statuses(dash_duo, filtered=True)) is not None
               and second["id"] in shown and first["id"] not in shown, ticks(5, TICK), "the status filter")
    Select(dash_duo.find_element(f"#{ids.Header.STATUS_FILTER}")).select_by_value("all")

    # Navigation: a click on a row opens that job.
    dash_duo.find_element(row_selector(second["id"]) + " .job-cell").click()
    wait_until(lambda: dash_duo.driver.current_url.endswith(f"/jobs/{second['id']}"), ticks(10, TICK))
    dash_duo.wait_for_contains_text("#job-details", second["id"], timeout=ticks(10, TICK))
    dash_duo.wait_for_element(row_selector(second["id"]) + ".ag-row-selected", timeout=ticks(10, TICK))
    assert dash_duo.get_logs() == []


def test_firstlist003_the_layout_and_callbacks_travel_once_with_the_page(fakeai, start_dash):
    job = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=ticks(LOAD_TICKS, TICK))
    # Sent by the page's preload links (initiator "link"), and once: the renderer's own requests
    # were answered from them (an unmatched preload would show a second, "fetch" entry).
    sent = dash_duo.driver.execute_script("""
        return performance.getEntriesByType("resource")
            .filter((entry) => /\\/_dash-(layout|dependencies)$/.test(entry.name))
            .map((entry) => [entry.name.split("/").pop(), entry.initiatorType]);""")
    assert sorted(sent) == [["_dash-dependencies", "link"], ["_dash-layout", "link"]]
    assert dash_duo.get_logs() == []
