"""Browser tests of the header's job filters (model, period, status, search) against OpenAI-shaped job lists."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.browser_support import LOAD_TICKS, ticks, wait_rows
from tests.support.jobs_factory import MODELS, openai_job, serve_job_pages

pytestmark = pytest.mark.browser

TICK = 1.0  # the app's refresh interval (seconds) in these tests; every wait is a number of ticks
# Filters apply in the browser: a change shows within a few ticks however busy the machine.
FILTER_WAIT = ticks(10, TICK)

GPT, LLAMA, QWEN = MODELS
OPTIONS = ".job-filters .dash-dropdown-option"


def recent_and_old_jobs(count: int = 12) -> list[dict]:
    """Jobs on three models; even indexes created minutes ago, odd ones days ago."""
    now = int(time.time())
    jobs = [openai_job(i, now) for i in range(count)]
    for i, job in enumerate(jobs):
        job["created_at"] = now - i * 60 if i % 2 == 0 else now - i * 86400
    return jobs


def ids_where(jobs, predicate) -> set[str]:
    return {job["id"] for job in jobs if predicate(job)}


def option_texts(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return [...document.querySelectorAll({OPTIONS!r})].map(o => o.textContent.trim())")


def open_model_menu(dash_duo) -> None:
    if dash_duo.find_element("#model-filter").get_attribute("aria-expanded") != "true":
        dash_duo.find_element("#model-filter").click()
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(lambda _d: option_texts(dash_duo), "model options shown")


def close_model_menu(dash_duo) -> None:
    dash_duo.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(
        lambda _d: dash_duo.find_element("#model-filter").get_attribute("aria-expanded") != "true")


def pick_models(dash_duo, *models: str) -> None:
    open_model_menu(dash_duo)
    for model in models:
        option = next(o for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, OPTIONS)
                      if o.text.strip().startswith(f"{model} ("))
        option.click()
    close_model_menu(dash_duo)


def query(dash_duo) -> dict[str, list[str]]:
    return parse_qs(urlparse(dash_duo.driver.current_url).query)


def wait_count(dash_duo, text: str) -> None:
    dash_duo.wait_for_text_to_equal("#jobs-count", text, timeout=FILTER_WAIT)


def test_filters001_model_period_status_search_clear_and_link(httpserver, start_dash):
    jobs = recent_and_old_jobs()
    serve_job_pages(httpserver, jobs)
    all_ids = ids_where(jobs, lambda _j: True)
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), path="/?smoothing=0.8", refresh_interval=TICK)
    dash_duo.driver.set_window_size(1440, 900)
    wait_rows(dash_duo, lambda shown: shown == all_ids, ticks(LOAD_TICKS, TICK), "all jobs listed")
    wait_count(dash_duo, "(12)")

    # Options: every base model in the list, sorted, with its job count.
    open_model_menu(dash_duo)
    assert option_texts(dash_duo) == [f"{m} ({sum(j['model'] == m for j in jobs)})" for m in sorted(MODELS)]
    close_model_menu(dash_duo)

    # Two models: only their rows; the stats still count every job.
    pick_models(dash_duo, GPT, QWEN)
    two_models = ids_where(jobs, lambda j: j["model"] in (GPT, QWEN))
    wait_rows(dash_duo, lambda shown: shown == two_models, FILTER_WAIT, "two models")
    wait_count(dash_duo, f"({len(two_models)} of 12)")
    dash_duo.wait_for_text_to_equal("#stat-total .stat-value", "12", timeout=FILTER_WAIT)
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(lambda _d: query(dash_duo).get("model") == [f"{GPT},{QWEN}"])

    # Last hour, fixed at the moment of the pick: only the recent rows of those models.
    Select(dash_duo.find_element("#period-filter")).select_by_value("1h")
    recent = ids_where(jobs, lambda j: j["model"] in (GPT, QWEN) and j["created_at"] > time.time() - 3000)
    assert recent and recent < two_models
    wait_rows(dash_duo, lambda shown: shown == recent, FILTER_WAIT, "last hour")
    dash_duo.wait_for_contains_text("#period-caption", "created since ", timeout=FILTER_WAIT)
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(lambda _d: "since" in query(dash_duo))
    since = int(query(dash_duo)["since"][0])
    assert time.time() - 3600 - 120 < since <= time.time() - 3600

    # Combined with the status filter…
    Select(dash_duo.find_element("#status-filter")).select_by_value("succeeded")
    succeeded = {i for i in recent if next(j for j in jobs if j["id"] == i)["status"] == "succeeded"}
    assert succeeded and succeeded < recent
    wait_rows(dash_duo, lambda shown: shown == succeeded, FILTER_WAIT, "status too")
    # …and with the search box.
    one = max(succeeded)
    dash_duo.find_element("#job-search").send_keys(one[-6:])
    wait_rows(dash_duo, lambda shown: shown == {one}, FILTER_WAIT, "search too")
    wait_count(dash_duo, "(1 of 12)")
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(lambda _d: query(dash_duo).get("q") == [one[-6:]])
    link = dash_duo.driver.current_url
    # The charts' own key rode along untouched through every rewrite.
    assert query(dash_duo)["smoothing"] == ["0.8"] and query(dash_duo)["status"] == ["succeeded"]

    # Clear filters: every row, every control back to its default, the other key kept.
    dash_duo.find_element("#clear-filters").click()
    wait_rows(dash_duo, lambda shown: shown == all_ids, FILTER_WAIT, "cleared")
    wait_count(dash_duo, "(12)")
    WebDriverWait(dash_duo.driver, FILTER_WAIT).until(lambda _d: query(dash_duo) == {"smoothing": ["0.8"]})
    assert dash_duo.find_element("#job-search").get_attribute("value") == ""
    assert Select(dash_duo.find_element("#status-filter")).first_selected_option.get_attribute("value") == "all"
    assert Select(dash_duo.find_element("#period-filter")).first_selected_option.get_attribute("value") == "any"
    dash_duo.wait_for_text_to_equal("#model-filter .dash-dropdown-value", "All models", timeout=FILTER_WAIT)
    dash_duo.wait_for_no_elements("#clear-filters:not(.d-none)", timeout=FILTER_WAIT)

    # The link reproduces the filtered list, with its absolute start, after a fresh load.
    dash_duo.driver.get(link)
    wait_rows(dash_duo, lambda shown: shown == {one}, ticks(LOAD_TICKS, TICK), "filters restored from the link")
    wait_count(dash_duo, "(1 of 12)")
    assert Select(dash_duo.find_element("#status-filter")).first_selected_option.get_attribute("value") == "succeeded"
    assert Select(dash_duo.find_element("#period-filter")).first_selected_option.get_attribute("value") == "custom"
    assert dash_duo.find_element("#job-search").get_attribute("value") == one[-6:]
    # textContent: the trigger clips all but the first pick behind an ellipsis.
    picked = dash_duo.driver.execute_script("return document.querySelector('#model-filter .dash-dropdown-value').textContent")
    assert GPT in picked and QWEN in picked and LLAMA not in picked
    dash_duo.wait_for_contains_text("#period-caption", "created since ", timeout=FILTER_WAIT)
    assert dash_duo.find_element("#clear-filters").is_displayed()
    assert parse_qs(urlparse(dash_duo.driver.current_url).query) == parse_qs(urlparse(link).query)
    assert dash_duo.get_logs() == []
