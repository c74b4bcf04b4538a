"""axe-core (4.14, vendored: tests/browser/vendor) on every screen, in both themes, in one app start:
the list, the filters open, the create dialog open, the details of a running, a succeeded and a
failed job, and the comparison; then a real FakeAI job's details while it runs. A running job is
also read in a usual window, where the lower panels are below the fold. Not one serious or
critical violation may remain.

Beside axe, what it does not judge as serious: the page's landmarks (header, main, nav), a
visible focus ring for keyboard focus, and the dialog keeping focus inside while it is open.
The jobs come from the scale simulator (tests/support/scale_sim.py): finished, failed and live jobs with
histories exist at once, so no screen waits for a job to run.
Set FAKEAI_DASH_SHOTS=/some/dir to keep a screenshot of each screen in each theme.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from fakeai_dash import ids
from tests.support.axe_support import axe_violations, describe
from tests.support.browser_support import LOAD_TICKS, pending_callbacks, row_selector, ticks, wait_until
from tests.support.scale_sim import ScaleSimulator
from tests.support.theme_support import emulate_color_scheme, page_theme, switch_theme

pytestmark = pytest.mark.browser

# A half-second refresh: the details of a finished job (its curve from the result file) arrive a
# tick or two after it is opened, and this test opens six. Page loads get as many seconds as the
# other browser tests give them (LOAD_TICKS at one-second ticks).
TICK = 0.5
PAGE_LOAD = ticks(2 * LOAD_TICKS, TICK)
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")
DIALOG = ".create-job-dialog"
# More than the dialog's tab stops, so the walk passes its end; backwards, the dialog itself
# has focus when it opens, so a few presses pass its start.
TAB_PRESSES = {False: 30, True: 3}


def shot(dash_duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dash_duo.driver.save_screenshot(str(Path(SHOTS) / f"a11y-{name}.png"))


def settled(dash_duo) -> None:
    wait_until(lambda: pending_callbacks(dash_duo) == 0, ticks(10, TICK), "callbacks never settled")


def assert_accessible(dash_duo, screen: str, theme: str) -> None:
    """No serious or critical axe violation on the page as it is, which is in ``theme``."""
    settled(dash_duo)
    assert page_theme(dash_duo) == theme, f"{screen}: the page is not in the {theme} theme"
    shot(dash_duo, f"{screen}-{theme}")
    found = axe_violations(dash_duo.driver)
    assert not found, f"axe on {screen} ({theme}):\n{describe(found)}"


def plotted(dash_duo, graph_id: str) -> bool:
    return bool(dash_duo.driver.execute_script(
        "const p = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
        "return !!(p && p.data && p.data.length);", graph_id))


def landmarks(dash_duo) -> dict:
    """How many header and main landmarks the page has, and the names of its nav landmarks (the
    jobs list, the language switch): several navs are fine when each has its own name."""
    return dash_duo.driver.execute_script(
        "const count = tag => document.querySelectorAll(tag).length;"
        "return {header: count('header'), main: count('main'),"
        "        nav: [...document.querySelectorAll('nav')].map(n => n.getAttribute('aria-label')).sort()};")


def focus_ring(dash_duo) -> dict:
    """Press Tab once and read the newly focused element's outline."""
    ActionChains(dash_duo.driver).send_keys(Keys.TAB).perform()
    return dash_duo.driver.execute_script(
        "const el = document.activeElement, style = getComputedStyle(el);"
        "return {tag: el.tagName, id: el.id, style: style.outlineStyle, width: parseFloat(style.outlineWidth)};")


def focus_outside_dialog(dash_duo) -> str | None:
    """The focused element when it is one of the page's behind the open dialog, else None."""
    return dash_duo.driver.execute_script(
        "const el = document.activeElement;"
        "return el.closest(arguments[0]) || el === document.body ? null : el.tagName + '#' + el.id + '.' + el.className;",
        DIALOG)


def jobs_by_status(sim: ScaleSimulator) -> dict[str, str]:
    found: dict[str, str] = {}
    for job_id in sim.job_ids():
        found.setdefault(requests.get(f"{sim.url}/v1/fine_tuning/jobs/{job_id}", timeout=10).json()["status"], job_id)
    return found


def visit_list_filters_and_dialog(dash_duo, theme: str, walk_dialog: bool) -> None:
    dash_duo.wait_for_element("#jobs-grid .ag-center-cols-container .ag-row", timeout=PAGE_LOAD)
    found = landmarks(dash_duo)
    assert found["header"] == 1 and found["main"] == 1, found
    assert "Fine-tuning jobs" in found["nav"] and len(set(found["nav"])) == len(found["nav"]) and all(found["nav"]), found
    assert_accessible(dash_duo, "list", theme)

    dash_duo.find_element(f"#{ids.Header.MODEL_FILTER}").click()
    dash_duo.wait_for_element(".job-filters .dash-dropdown-option", timeout=ticks(5, TICK))
    assert_accessible(dash_duo, "filters-open", theme)
    dash_duo.find_element(f"#{ids.Header.MODEL_FILTER}").click()
    dash_duo.wait_for_no_elements(".job-filters .dash-dropdown-option", timeout=ticks(5, TICK))

    # Keyboard focus shows (Tab from the search box lands on the status filter).
    dash_duo.find_element(f"#{ids.Header.SEARCH}").click()
    ring = focus_ring(dash_duo)
    assert ring["style"] != "none" and ring["width"] >= 2, ring

    dash_duo.find_element(f"#{ids.Header.CREATE}").click()
    dash_duo.wait_for_element(f"{DIALOG}.show #{ids.CreateJob.SUBMIT}", timeout=ticks(5, TICK))
    # axe reads colours as painted: wait out the dialog's fade-in.
    wait_until(lambda: dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).opacity === '1'", f"{DIALOG}.show"),
        ticks(3, TICK), "the dialog never finished fading in")
    assert_accessible(dash_duo, "create-dialog", theme)
    # Focus stays in the open dialog, however far one tabs (forwards past its end, and back).
    # react-bootstrap pulls focus back on the next tick when it lands behind the dialog, so each
    # key press gets a moment before the check (keys typed faster than that would outrun it).
    # The trap does not depend on the theme: walked once.
    for backwards in ((False, True) if walk_dialog else ()):
        for _ in range(TAB_PRESSES[backwards]):
            press = ActionChains(dash_duo.driver)
            (press.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT) if backwards
             else press.send_keys(Keys.TAB)).perform()
            wait_until(lambda: focus_outside_dialog(dash_duo) is None, ticks(1, TICK),
                       f"focus stayed behind the open dialog: {focus_outside_dialog(dash_duo)}", poll=0.02)
    dash_duo.find_element(f"#{ids.CreateJob.CANCEL}").click()
    dash_duo.wait_for_no_elements(".modal-backdrop", timeout=ticks(5, TICK))

    # The keyboard shortcuts' overlay, opened by its header button.
    dash_duo.find_element(f"#{ids.ShortcutsHelp.BUTTON}").click()
    overlay = ".modal.show"  # dbc.Modal puts its id on the dialog box inside
    dash_duo.wait_for_element(f"{overlay} #{ids.ShortcutsHelp.MODAL} #{ids.ShortcutsHelp.TABLE}", timeout=ticks(5, TICK))
    wait_until(lambda: dash_duo.driver.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).opacity === '1'", overlay),
        ticks(3, TICK), "the shortcuts overlay never finished fading in")
    assert_accessible(dash_duo, "shortcuts-help", theme)
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()
    dash_duo.wait_for_no_elements(".modal-backdrop", timeout=ticks(5, TICK))


def open_job(dash_duo, job_id: str) -> None:
    """Select a job in the list (no page load), and wait until its details have drawn."""
    dash_duo.find_element(f"{row_selector(job_id)} .ag-cell").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job_id, timeout=PAGE_LOAD)
    wait_until(lambda: plotted(dash_duo, ids.TrainingProgress.LOSS), PAGE_LOAD,
               f"{job_id}'s loss chart never drew")


def visit_details(dash_duo, jobs: dict[str, str], theme: str) -> None:
    for status in ("running", "succeeded", "failed"):
        open_job(dash_duo, jobs[status])
        if status == "failed":
            dash_duo.wait_for_contains_text(f"#{ids.JobDetails.ERROR_BANNER}", "Job failed", timeout=ticks(5, TICK))
        assert_accessible(dash_duo, f"details-{status}", theme)


def visit_comparison(dash_duo, jobs: dict[str, str], theme: str) -> None:
    query = f"?compare={jobs['failed']},{jobs['cancelled']}"
    dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{jobs['succeeded']}{query}")
    wait_until(lambda: plotted(dash_duo, ids.JobComparison.GRAPH), PAGE_LOAD,
               "the comparison chart never drew")
    dash_duo.wait_for_element("#compare-table-grid", timeout=ticks(5, TICK))
    assert_accessible(dash_duo, "comparison", theme)


def visit_running_below_the_fold(dash_duo, jobs: dict[str, str], theme: str) -> None:
    """A running job's details in a usual window, its lower panels (the events grid) out of view:
    a grid below the fold must read as well as one in view (the tall window shows everything)."""
    open_job(dash_duo, jobs["running"])
    assert_accessible(dash_duo, "details-running-below-the-fold", theme)


def visit_running_fakeai_job(dash_duo, fakeai, start_dash) -> None:
    """A real FakeAI job's details while it trains (checkpoints, events and curves arrive as it
    runs), in both themes: the dark one first, as the browser prefers, then the header's switch."""
    job = fakeai.create_job(suffix="a11y-live")
    emulate_color_scheme(dash_duo, "dark")
    dash_duo.driver.set_window_size(1440, 1000)  # a usual window: the lower panels are below the fold
    start_dash(fakeai.url, path=f"/jobs/{job['id']}", refresh_interval=TICK)  # a new origin: no stored theme
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job["id"], timeout=PAGE_LOAD)
    wait_until(lambda: fakeai.job(job["id"])["status"] == "running" and plotted(dash_duo, ids.TrainingProgress.LOSS)
               and "Step" in dash_duo.find_element(f"#{ids.TrainingProgress.BAR_TEXT}").text, PAGE_LOAD,
               "the FakeAI job never showed running with its curves")
    for theme in ("dark", "light"):
        if theme == "light":
            switch_theme(dash_duo, "light", TICK)
        assert fakeai.job(job["id"])["status"] == "running", "the job finished before axe looked at it"
        assert_accessible(dash_duo, "details-running-fakeai", theme)


def test_a11y001_every_screen_in_both_themes_has_no_serious_violation(dash_duo, start_dash, fakeai):
    with ScaleSimulator(jobs=20, running_jobs=1) as sim:
        jobs = jobs_by_status(sim)
        dash_duo.driver.set_window_size(1440, 1000)
        emulate_color_scheme(dash_duo, "dark")
        start_dash(sim.url, refresh_interval=TICK)
        visit_list_filters_and_dialog(dash_duo, "dark", walk_dialog=True)
        visit_running_below_the_fold(dash_duo, jobs, "dark")
        # A tall window for the details, so that every panel (and every job row) is laid out.
        dash_duo.driver.set_window_size(1440, 3200)
        visit_details(dash_duo, jobs, "dark")
        visit_comparison(dash_duo, jobs, "dark")

        # The same screens in the light theme, picked with the header's switch, in the order
        # that needs the fewest page loads: the comparison on screen, the jobs, the bare list.
        switch_theme(dash_duo, "light", TICK)
        assert_accessible(dash_duo, "comparison", "light")
        visit_details(dash_duo, jobs, "light")
        dash_duo.driver.set_window_size(1440, 1000)
        dash_duo.driver.get(dash_duo.server_url)
        visit_list_filters_and_dialog(dash_duo, "light", walk_dialog=False)
        visit_running_below_the_fold(dash_duo, jobs, "light")
        assert dash_duo.get_logs() == []

    visit_running_fakeai_job(dash_duo, fakeai, start_dash)
    assert dash_duo.get_logs() == []
