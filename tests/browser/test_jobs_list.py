"""Browser tests of the JobsList, header and banner against a real FakeAI server."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from fakeai_dash import ids
from fakeai_dash.components.jobs_list import NOT_LOADED_TEXT
from tests.support.waiting import observe
from tests.support.browser_support import (
    LOAD_TICKS,
    ROWS,
    grid_statuses,
    pending_callbacks,
    prop,
    row_selector,
    ticks,
    turn_off_polling,
    visible_row_ids,
    wait_rows,
    wait_until,
)
from tests.support.outage_proxy import OutageProxy

pytestmark = pytest.mark.browser

TICK = 1.0  # the refresh interval these tests run the app with, unless they say otherwise
# What the "Active" status filter means: every status of a job still in flight.
IN_FLIGHT = {"validating_files", "queued", "running", "paused", "pending"}


def settle_on_api(dash_duo, fakeai, interval: float = TICK) -> dict[str, dict]:
    """Freeze the list on one state of the API and return that state ({id: job}).

    Jobs move on in FakeAI while a test reads the page, so the expectation must be the state
    the grid shows. With polling off, refresh until the grid holds exactly the statuses the
    API reports both just before and just after the grid was read.
    """
    turn_off_polling(dash_duo, interval)

    def same_as_api():
        before = {job["id"]: job for job in fakeai.jobs()}
        shown = grid_statuses(dash_duo)
        after = {job["id"]: job for job in fakeai.jobs()}
        statuses = {job_id: job["status"] for job_id, job in after.items()}
        if shown == statuses and {job_id: job["status"] for job_id, job in before.items()} == statuses:
            return after
        if pending_callbacks(dash_duo) == 0:
            dash_duo.find_element(f"#{ids.Header.REFRESH}").click()
        return None

    return wait_until(same_as_api, ticks(LOAD_TICKS, interval),
                      "the grid never showed the statuses the API reported", poll=interval / 2)


def filtered_ids(dash_duo) -> set[str]:
    return set(grid_statuses(dash_duo, filtered=True) or {})


def wait_filtered(dash_duo, expected: set[str], message: str, interval: float = TICK) -> None:
    """Wait until the grid's filters let exactly ``expected`` through (every row, not only the
    DOM's screenful), then check the DOM shows nothing else."""
    wait_until(lambda: filtered_ids(dash_duo) == expected, ticks(5, interval),
               f"{message}: expected {sorted(expected)}")
    wait_rows(dash_duo, lambda seen: bool(seen) and seen <= expected, ticks(5, interval), message)


def test_jobs001_lists_jobs_with_status_badges(fakeai, start_dash):
    running = fakeai.create_job(suffix="badge-run")
    cancelled = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(cancelled["id"])
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(cancelled["id"]), timeout=ticks(LOAD_TICKS, TICK))
    jobs = settle_on_api(dash_duo, fakeai)

    # Every rendered row's badge shows the status the API reports for that job.
    rows = dash_duo.driver.execute_script(f"""
        return [...document.querySelectorAll({ROWS!r})].map(r => {{
            const badge = r.querySelector('.status-badge');
            return [r.getAttribute('row-id'), badge.className, badge.textContent];
        }})""")
    assert {running["id"], cancelled["id"]} <= {row_id for row_id, _, _ in rows}
    for row_id, badge_class, badge_text in rows:
        status = jobs[row_id]["status"]
        assert badge_class.split() == ["status-badge", f"status-{status}"], row_id
        assert badge_text == status.replace("_", " "), row_id
    assert jobs[cancelled["id"]]["status"] == "cancelled"
    row = dash_duo.find_element(row_selector(running["id"]))
    assert "meta-llama/Llama-3.1-8B-Instruct" in row.text
    assert running["id"] in row.text

    # Header stats count what the server holds.
    statuses = [job["status"] for job in jobs.values()]
    expected_stats = {"total": len(statuses), "active": sum(s in IN_FLIGHT for s in statuses),
                      "succeeded": statuses.count("succeeded"),
                      "failed": statuses.count("failed") + statuses.count("cancelled")}
    for kind, count in expected_stats.items():
        dash_duo.wait_for_text_to_equal(f"#stat-{kind} .stat-value", str(count), timeout=ticks(5, TICK))
    assert dash_duo.get_logs() == []


def test_jobs002_search_and_status_filter(fakeai, start_dash):
    target = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    other = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
    fakeai.cancel_job(other["id"])
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(other["id"]), timeout=ticks(LOAD_TICKS, TICK))
    jobs = settle_on_api(dash_duo, fakeai)

    # The search matches id, model, suffix and fine-tuned model, ignoring case.
    searchable = {job_id: " ".join(filter(None, (job["id"], job["model"], job.get("suffix"),
                                                 job.get("fine_tuned_model")))).lower()
                  for job_id, job in jobs.items()}

    def matching(text: str) -> set[str]:
        return {job_id for job_id, words in searchable.items() if text.lower() in words}

    # Search by a fragment of the job id: only that job stays.
    fragment = target["id"][-10:]
    assert matching(fragment) == {target["id"]}
    dash_duo.find_element("#job-search").send_keys(fragment)
    wait_filtered(dash_duo, {target["id"]}, "search by id")
    # Search by model name keeps every job whose searchable text has it, and no other.
    dash_duo.clear_input("#job-search")
    dash_duo.find_element("#job-search").send_keys("Qwen2.5")
    qwen = matching("Qwen2.5")
    assert other["id"] in qwen and target["id"] not in qwen
    wait_filtered(dash_duo, qwen, "search by model")

    dash_duo.clear_input("#job-search")
    wait_until(lambda: filtered_ids(dash_duo) == set(jobs), ticks(5, TICK), "search cleared")
    # A single status keeps exactly the jobs the API reports in it.
    Select(dash_duo.find_element("#status-filter")).select_by_value("cancelled")
    cancelled = {job_id for job_id, job in jobs.items() if job["status"] == "cancelled"}
    assert other["id"] in cancelled
    wait_filtered(dash_duo, cancelled, "status filter")
    # The "active" group keeps exactly the jobs still in flight: the new one, not the cancelled one.
    Select(dash_duo.find_element("#status-filter")).select_by_value("active")
    active = {job_id for job_id, job in jobs.items() if job["status"] in IN_FLIGHT}
    assert target["id"] in active and other["id"] not in active
    wait_filtered(dash_duo, active, "active filter")
    assert target["id"] in visible_row_ids(dash_duo)  # the newest job heads the list
    assert dash_duo.get_logs() == []


def row_and_ticks(dash_duo, job_id: str) -> tuple[bool, int]:
    """Whether the job's row is in the DOM, and the Interval's tick count, read at one moment."""
    present, ticks_now = dash_duo.driver.execute_script("""
        const [selector, intervalId] = arguments;
        const state = window.store.getState();
        let node = state.layout;
        for (const key of state.paths.strs[intervalId]) { node = node[key]; }
        return [document.querySelector(selector) !== null, node.props.n_intervals];
    """, row_selector(job_id), ids.Page.INTERVAL)
    return present, ticks_now


def test_jobs003_job_created_through_api_appears_within_two_ticks(fakeai, start_dash):
    interval = 2.0
    loaded = fakeai.create_job()  # the list has loaded once this shows (the server may hold no other job)
    dash_duo = start_dash(fakeai.url, refresh_interval=interval)
    dash_duo.wait_for_element(row_selector(loaded["id"]), timeout=ticks(LOAD_TICKS, interval))
    before = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
    job = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="two-ticks")
    # Counted in the browser's own ticks, not seconds: a slow machine slows the page's clock too.

    def tick_of_arrival():
        present, ticks_now = row_and_ticks(dash_duo, job["id"])
        return (ticks_now,) if present else None  # a tuple: tick 0 (a live page's Interval is off) counts

    (seen_at,) = wait_until(tick_of_arrival, ticks(6, interval), "the new job never appeared")
    assert seen_at - before <= 2, f"appeared after {seen_at - before} ticks"
    assert dash_duo.get_logs() == []


def test_jobs004_url_selects_job_and_click_updates_url(fakeai, start_dash):
    first = fakeai.create_job()
    second = fakeai.create_job(model="mistralai/Mistral-7B-Instruct-v0.3")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{first['id']}", refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(first["id"]) + ".ag-row-selected", timeout=ticks(LOAD_TICKS, TICK))
    dash_duo.wait_for_contains_text("#job-details", first["id"], timeout=ticks(10, TICK))

    dash_duo.find_element(row_selector(second["id"]) + " .job-cell").click()
    wait_until(lambda: dash_duo.driver.current_url.endswith(f"/jobs/{second['id']}"), ticks(10, TICK))
    dash_duo.wait_for_element(row_selector(second["id"]) + ".ag-row-selected", timeout=ticks(10, TICK))
    dash_duo.wait_for_contains_text("#job-details", second["id"], timeout=ticks(10, TICK))
    assert dash_duo.get_logs() == []


def test_jobs005_auto_refresh_switch_stops_polling(fakeai, start_dash):
    loaded = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(loaded["id"]), timeout=ticks(LOAD_TICKS, TICK))
    # Only once the server has turned the Interval off (and no tick's fetch is still running)
    # does a job created now prove anything.
    stopped_at = turn_off_polling(dash_duo, TICK)
    assert not dash_duo.driver.find_element(By.ID, ids.Header.AUTO_REFRESH).is_selected()
    job = fakeai.create_job(suffix="no-poll")
    # With polling off, over three ticks' time no tick fires and the new job does not show up…
    observe(ticks(3, TICK))
    assert row_and_ticks(dash_duo, job["id"]) == (False, stopped_at)
    # …and the Refresh button still fetches on demand.
    dash_duo.find_element(f"#{ids.Header.REFRESH}").click()
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=ticks(5, TICK))
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == stopped_at
    assert dash_duo.get_logs() == []


def banner_text(dash_duo, contains: str, interval: float = TICK) -> str:
    """The banner's text, once it shows ``contains`` (Selenium reads invisible text as "")."""
    dash_duo.wait_for_contains_text(f"#{ids.Page.API_BANNER}", contains, timeout=ticks(10, interval))
    return dash_duo.find_element(f"#{ids.Page.API_BANNER}").text


def test_jobs006_backend_down_shows_banner_and_keeps_data(fakeai, start_dash):
    job = fakeai.create_job()
    with OutageProxy(fakeai.url) as proxy:  # stays bound: the outage never gives up the port
        dash_duo = start_dash(proxy.url, refresh_interval=TICK)
        dash_duo.wait_for_element(row_selector(job["id"]), timeout=ticks(LOAD_TICKS, TICK))
        assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#{ids.Page.API_BANNER}")
        shown = grid_statuses(dash_duo)

        proxy.down()
        banner = banner_text(dash_duo, "Cannot reach the API")
        assert f"Cannot reach the API at {proxy.url}" in banner
        assert "Showing the data from" in banner
        assert "Traceback" not in dash_duo.driver.page_source
        # The last good data stays on screen while the API is down: every row of it.
        assert set(grid_statuses(dash_duo)) == set(shown)
        assert job["id"] in visible_row_ids(dash_duo)

        proxy.up()
        fresh = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct")
        dash_duo.wait_for_element(row_selector(fresh["id"]), timeout=ticks(10, TICK))
        dash_duo.wait_for_no_elements(f"#{ids.Page.API_BANNER}", timeout=ticks(5, TICK))
        assert dash_duo.get_logs() == []


def test_jobs009_api_down_from_first_load_shows_banner_then_jobs(fakeai, start_dash):
    job = fakeai.create_job(suffix="first-load")
    with OutageProxy(fakeai.url) as proxy:
        proxy.down()  # down before the page ever loads: nothing good to show yet
        dash_duo = start_dash(proxy.url, refresh_interval=TICK)
        banner = banner_text(dash_duo, "Cannot reach the API")
        assert f"Cannot reach the API at {proxy.url}" in banner
        assert "No data could be loaded yet" in banner
        assert "Traceback" not in dash_duo.driver.page_source
        # Nothing loaded is not "no jobs": the empty state must not claim there are none.
        assert not dash_duo.find_element(f"#{ids.JobsList.EMPTY}").is_displayed()
        assert not visible_row_ids(dash_duo)
        # Nor does it spin "Loading jobs…" as if an answer were on its way.
        dash_duo.wait_for_text_to_equal(f"#{ids.JobsList.LOADING_TEXT}", NOT_LOADED_TEXT, timeout=ticks(5, TICK))
        assert not dash_duo.find_element(f"#{ids.JobsList.LOADING} .jobs-loading-spinner").is_displayed()

        proxy.up()
        dash_duo.wait_for_element(row_selector(job["id"]), timeout=ticks(10, TICK))
        dash_duo.wait_for_no_elements(f"#{ids.Page.API_BANNER}", timeout=ticks(5, TICK))
        assert "Traceback" not in dash_duo.driver.page_source
        assert dash_duo.get_logs() == []


def test_jobs007_embedded_backend_is_seeded(serve_app, settings_for):
    """What `make run` shows: no API configured → an embedded, seeded FakeAI."""
    from fakeai_dash.app import create_app
    from fakeai_dash.embedded import DEMO_JOBS, EmbeddedFakeAI

    backend = EmbeddedFakeAI().start()
    try:
        seeded = backend.seed()
        dash_duo = serve_app(create_app(settings_for(None, refresh_interval=TICK), backend=backend))
        # Exactly the seeded jobs, each on its model, the cancelled ones badged so.
        wait_rows(dash_duo, lambda seen: seen == set(seeded), ticks(LOAD_TICKS, TICK), "the seeded jobs")
        for job_id, spec in zip(seeded, DEMO_JOBS, strict=True):
            row = row_selector(job_id)
            assert dash_duo.find_element(row + " .job-cell-model span:first-child").text == spec["model"]
            badge = dash_duo.find_element(row + " .status-badge").get_attribute("class")
            assert ("status-cancelled" in badge) == spec["cancel"], (job_id, badge)
        assert dash_duo.get_logs() == []
    finally:
        backend.stop()


def test_jobs008_empty_state_and_unknown_status(httpserver, start_dash):
    from tests.support.jobs_factory import openai_job

    httpserver.expect_oneshot_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [], "has_more": False})
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), refresh_interval=TICK)
    dash_duo.wait_for_contains_text("#jobs-empty", "No fine-tuning jobs yet", timeout=ticks(LOAD_TICKS, TICK))

    # A status nobody documented yet is shown as it came, in a neutral badge.
    odd = {**openai_job(1), "status": "compacting_weights"}
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [odd], "has_more": False})
    dash_duo.wait_for_element(row_selector(odd["id"]), timeout=ticks(10, TICK))
    badge = dash_duo.find_element(row_selector(odd["id"]) + " .status-badge")
    assert badge.text == "compacting_weights" and "status-other" in badge.get_attribute("class")
    assert dash_duo.get_logs() == []


def row_cells(dash_duo, job_id: str) -> dict | None:
    """What the job's row draws now: its status badge, job cell and tokens, read in one script."""
    return dash_duo.driver.execute_script("""
        const row = document.querySelector(arguments[0]);
        if (!row) { return null; }
        const text = (selector) => { const el = row.querySelector(selector); return el ? el.textContent : null; };
        const badge = row.querySelector('.status-badge');
        return {status: badge ? badge.className : null, progress: text('.progress-cell .pct'),
                model: text('.job-cell-model span:first-child'), suffix: text('.job-cell-suffix'),
                output: text('.job-cell-output'), tokens: text('[col-id="trained_tokens"]')};
    """, row_selector(job_id))


def details_label(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const bar = document.querySelector(arguments[0]); return bar ? bar.textContent : '';",
        f"#{ids.TrainingProgress.BAR} .progress-bar")


def test_jobs010_an_open_list_follows_a_job_to_success_without_reload(fakeai, start_dash):
    """Every cell drawing several fields of a row redraws when any of them changes: the list left
    open shows a job's suffix, fine-tuned model and final tokens once it succeeds, and its
    progress is the details' (FakeAI sends the suffix only inside the fine-tuned model's name)."""
    loaded = fakeai.create_job()
    dash_duo = start_dash(fakeai.url, refresh_interval=TICK)
    dash_duo.wait_for_element(row_selector(loaded["id"]), timeout=ticks(LOAD_TICKS, TICK))
    # A mark on the page: still there at the end, the page was never reloaded.
    dash_duo.driver.execute_script("window.__rowsStayTrue = 1")

    job = fakeai.create_job(model="Qwen/Qwen2.5-7B-Instruct", suffix="stays-true")  # after the page opened
    dash_duo.wait_for_element(row_selector(job["id"]), timeout=ticks(10, TICK))
    first = row_cells(dash_duo, job["id"])
    assert first["model"] == "Qwen/Qwen2.5-7B-Instruct" and first["output"] is None, first

    # Its details open beside the list (a click, not a page load): while it runs, the list's
    # percent and the details' bar tell the same progress, step after step.
    dash_duo.find_element(f"{row_selector(job['id'])} .ag-cell").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job["id"], timeout=ticks(LOAD_TICKS, TICK))
    agreed: set[str] = set()

    def agreeing_or_done():
        if fakeai.job(job["id"])["status"] != "running" and agreed:
            return True
        cells, bar = row_cells(dash_duo, job["id"]), details_label(dash_duo)
        if cells and bar and not bar.startswith("~") and cells["progress"] == bar:
            agreed.add(bar)
        return len(agreed) >= 3

    wait_until(agreeing_or_done, ticks(90, TICK), "the list's progress never matched the details'",
               poll=0.2)
    assert agreed, "the list and the details never showed one percent"

    # Without a reload, the row comes to show exactly what the API says of the finished job.
    finished = wait_until(lambda: (lambda j: j if j["status"] == "succeeded" else None)(
        fakeai.job(job["id"])), ticks(90, TICK), "the FakeAI job never succeeded", poll=0.5)
    assert finished["fine_tuned_model"] and finished["trained_tokens"]
    tokens = dash_duo.driver.execute_script(
        "return window.dashAgGridFunctions.compactNumber(arguments[0])", finished["trained_tokens"])
    expected = {"status": "status-badge status-succeeded", "progress": None, "model": "Qwen/Qwen2.5-7B-Instruct",
                "suffix": "stays-true", "output": f"→ {finished['fine_tuned_model']}", "tokens": tokens}
    wait_until(lambda: row_cells(dash_duo, job["id"]) == expected, ticks(10, TICK),
               f"the row never showed the finished job: {row_cells(dash_duo, job['id'])} != {expected}")
    assert dash_duo.driver.execute_script("return window.__rowsStayTrue") == 1, "the page was reloaded"
    assert dash_duo.get_logs() == []
