"""Keyboard shortcuts (assets/shortcuts.js) in a real browser against a real FakeAI server.

Each key must reach the control it stands for (the click a button counts in its n_clicks, the
grid's own focused cell, the search box's focus), and never while the user types or a dialog
is open. Two app starts in all: the list's keys, then the dialogs and the typing guard.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from fakeai_dash import ids
from fakeai_dash.components import shortcuts_help
from fakeai_dash.data import EXTENSION_KEY
from tests.support.browser_support import (
    LOAD_TICKS,
    prop,
    row_selector,
    ticks,
    turn_off_polling,
    visible_row_ids,
    wait_until,
)

pytestmark = pytest.mark.browser

TICK = 1.0  # the refresh interval these tests run the app with
TYPED = "jcr/?"  # every single-key shortcut that could land in a text field
OPEN_MODALS = ".modal.show > .modal-dialog"  # dbc.Modal puts its id on the dialog box


def press(dash_duo, keys: str, *modifiers: str) -> None:
    """Keys as the user types them, to whatever has the focus (the page itself at first)."""
    chain = ActionChains(dash_duo.driver)
    for modifier in modifiers:
        chain.key_down(modifier)
    chain.send_keys(keys)
    for modifier in reversed(modifiers):
        chain.key_up(modifier)
    chain.perform()


def cursor(dash_duo) -> dict | None:
    """The grid's focused cell ({rowIndex, rowId, rowIdInDom}) and the row the browser's focus is in."""
    return dash_duo.driver.execute_script("""
        let grid = null;
        try { grid = window.dash_ag_grid.getApi(arguments[0]); } catch (notReady) { return null; }
        const cell = grid.getFocusedCell();
        if (!cell) { return null; }
        const focusedRow = document.activeElement && document.activeElement.closest(".ag-row");
        return {rowIndex: cell.rowIndex, rowId: grid.getDisplayedRowAtIndex(cell.rowIndex).id,
                focusedRowId: focusedRow ? focusedRow.getAttribute("row-id") : null};
    """, ids.JobsList.GRID)


def displayed_row_id(dash_duo, index: int) -> str:
    return dash_duo.driver.execute_script(
        "return window.dash_ag_grid.getApi(arguments[0]).getDisplayedRowAtIndex(arguments[1]).id;",
        ids.JobsList.GRID, index)


def wait_cursor_at(dash_duo, index: int) -> str:
    """Wait until the grid's cursor and the browser's focus are on row ``index``; its job id."""
    expected = displayed_row_id(dash_duo, index)
    wait_until(lambda: cursor(dash_duo) == {"rowIndex": index, "rowId": expected,
                                                      "focusedRowId": expected},
               ticks(3, TICK), f"the cursor did not reach row {index} ({expected}): {cursor(dash_duo)}")
    return expected


def open_modal_ids(dash_duo) -> list[str]:
    # One script, not find_elements: that waits out the driver's implicit wait whenever none is open.
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(m => m.id);", OPEN_MODALS)


def wait_modals(dash_duo, expected: list[str], message: str) -> None:
    wait_until(lambda: open_modal_ids(dash_duo) == expected, ticks(5, TICK),
               f"{message}: open dialogs {open_modal_ids(dash_duo)}")


def clicks(dash_duo) -> dict[str, int | None]:
    """How often each button a shortcut clicks has been clicked (Dash's own count)."""
    return {name: prop(dash_duo, component, "n_clicks") for name, component in
            (("refresh", ids.Header.REFRESH), ("create", ids.Header.CREATE), ("help", ids.ShortcutsHelp.BUTTON))}


def test_keys001_list_keys_move_open_search_and_refresh(fakeai, make_app, serve_app):
    for n in range(3):
        fakeai.create_job(suffix=f"keys-{n}")
    app = make_app(fakeai.url, refresh_interval=TICK)
    dash_duo = serve_app(app)
    newest = fakeai.jobs()[0]["id"]
    dash_duo.wait_for_element(row_selector(newest), timeout=ticks(LOAD_TICKS, TICK))

    # j/k move AG Grid's own cursor (and the browser's focus) down and up, from the top.
    press(dash_duo, "j")
    wait_cursor_at(dash_duo, 0)
    press(dash_duo, "jj")
    wait_cursor_at(dash_duo, 2)
    press(dash_duo, "k")
    highlighted = wait_cursor_at(dash_duo, 1)
    # The highlighted row is marked by more than a colour: an outline around it and a bar on its left.
    marks = dash_duo.driver.execute_script("""
        const row = document.activeElement.closest(".ag-row");
        const style = getComputedStyle(row), bar = getComputedStyle(row, "::after");
        return [style.outlineStyle, style.outlineWidth, bar.width, bar.position];
    """)
    assert marks == ["solid", "2px", "6px", "absolute"]

    # Enter opens the highlighted job: the URL, the details and the list's selection follow.
    press(dash_duo, Keys.ENTER)
    wait_until(lambda: dash_duo.driver.current_url.endswith(f"/jobs/{highlighted}"), ticks(10, TICK),
               "Enter did not open the highlighted job")
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", highlighted, timeout=ticks(10, TICK))
    dash_duo.wait_for_element(row_selector(highlighted) + ".ag-row-selected", timeout=ticks(5, TICK))

    # "/" focuses the search box, and the slash is not typed into it.
    press(dash_duo, "/")
    assert dash_duo.driver.switch_to.active_element.get_attribute("id") == ids.Header.SEARCH
    assert dash_duo.find_element(f"#{ids.Header.SEARCH}").get_attribute("value") == ""
    dash_duo.driver.execute_script("document.activeElement.blur();")

    # r refreshes like the button: with polling off, only a refresh can bring a new job in.
    stopped_at = turn_off_polling(dash_duo, TICK)
    created = fakeai.create_job(suffix="keys-r")["id"]
    source = app.server.extensions[EXTENSION_KEY]
    wait_until(lambda: created in {row["id"] for row in source.jobs_snapshot()["rows"]},
               ticks(10, TICK), "the sync loop never saw the new job")
    assert created not in visible_row_ids(dash_duo)
    press(dash_duo, "r")
    wait_until(lambda: created in visible_row_ids(dash_duo), ticks(5, TICK),
               "r did not refresh: the new job never showed")
    assert prop(dash_duo, ids.Header.REFRESH, "n_clicks") == 1
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == stopped_at
    assert dash_duo.get_logs() == []


def test_keys002_dialogs_open_close_and_typing_is_not_a_shortcut(fakeai, start_dash):
    job = fakeai.create_job(suffix="keys-dialogs")
    dash_duo = start_dash(fakeai.url, path=f"/jobs/{job['id']}", refresh_interval=TICK)
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job["id"], timeout=ticks(LOAD_TICKS, TICK))

    # Typing into the search box: every character lands there and no shortcut fires.
    search = dash_duo.find_element(f"#{ids.Header.SEARCH}")
    search.send_keys(TYPED)
    assert search.get_attribute("value") == TYPED
    assert clicks(dash_duo) == {"refresh": None, "create": None, "help": None}
    assert cursor(dash_duo) is None and open_modal_ids(dash_duo) == []
    search.send_keys(Keys.CONTROL, "a")  # selenium's clear() would bypass React: the grid would stay filtered
    search.send_keys(Keys.BACKSPACE)
    assert search.get_attribute("value") == "" and clicks(dash_duo)["create"] is None
    dash_duo.driver.execute_script("document.activeElement.blur();")

    # With Ctrl or Alt held a key is the browser's, not ours.
    press(dash_duo, "c", Keys.ALT)
    press(dash_duo, "r", Keys.ALT)
    press(dash_duo, "j", Keys.CONTROL)
    assert clicks(dash_duo) == {"refresh": None, "create": None, "help": None} and cursor(dash_duo) is None

    # ? opens the overlay, which lists every shortcut; while it is open other keys do nothing; Esc closes it.
    press(dash_duo, "?")
    wait_modals(dash_duo, [ids.ShortcutsHelp.MODAL], "? did not open the shortcuts overlay")
    rows = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(r => [...r.cells].map(c => c.textContent));",
        f"#{ids.ShortcutsHelp.TABLE} tbody tr")
    assert rows == [["".join(keys), action] for keys, action in shortcuts_help.SHORTCUTS]
    press(dash_duo, "cr/j")
    assert clicks(dash_duo) == {"refresh": None, "create": None, "help": 1} and cursor(dash_duo) is None
    press(dash_duo, Keys.ESCAPE)
    wait_modals(dash_duo, [], "Esc did not close the shortcuts overlay")

    # The header's button opens the same overlay (with the mouse).
    dash_duo.find_element(f"#{ids.ShortcutsHelp.BUTTON}").click()
    wait_modals(dash_duo, [ids.ShortcutsHelp.MODAL], "the header button did not open the shortcuts overlay")
    press(dash_duo, Keys.ESCAPE)
    wait_modals(dash_duo, [], "Esc did not close the shortcuts overlay opened by the button")

    # c opens the create dialog; typing into each of its text fields stays in the field.
    press(dash_duo, "c")
    wait_modals(dash_duo, [ids.CreateJob.MODAL], "c did not open the create dialog")
    fields = [f for f in dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#{ids.CreateJob.MODAL} input[type='text']")
              if f.is_displayed()]
    assert len(fields) >= len(ids.CreateJob.FIELDS) - 1  # every field but DPO's beta (hidden)
    for field in fields:
        field.clear()
        field.send_keys(TYPED)
        assert field.get_attribute("value") == TYPED, field.get_attribute("id")
    assert clicks(dash_duo) == {"refresh": None, "create": 1, "help": 2}
    assert open_modal_ids(dash_duo) == [ids.CreateJob.MODAL]
    press(dash_duo, Keys.ESCAPE)
    wait_modals(dash_duo, [], "Esc did not close the create dialog")

    # The cancel confirmation is a dialog too: Esc closes it and cancels nothing. A job of its own,
    # created now: FakeAI's jobs finish in ~32 s, and on a busy machine the steps above can take
    # longer, when the first job would show no Cancel button any more.
    running = fakeai.create_job(suffix="keys-cancel")
    dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{running['id']}")
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", running["id"], timeout=ticks(LOAD_TICKS, TICK))
    cancel = dash_duo.wait_for_element(f"#{ids.JobDetails.CANCEL}", timeout=ticks(LOAD_TICKS, TICK))
    wait_until(cancel.is_displayed, ticks(LOAD_TICKS, TICK), "no Cancel button for a running job")
    cancel.click()
    wait_modals(dash_duo, [ids.JobDetails.CONFIRM_MODAL], "the cancel confirmation did not open")
    press(dash_duo, Keys.ESCAPE)
    wait_modals(dash_duo, [], "Esc did not close the cancel confirmation")
    assert fakeai.job(running["id"])["status"] != "cancelled"
    assert dash_duo.get_logs() == []
