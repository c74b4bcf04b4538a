"""Reads and waits the browser tests share: conditions checked until a deadline, never sleeps.

Deadlines are counted in refresh ticks of the app under test (``ticks(n, interval)``), so a
slower refresh gets proportionally longer waits and no wait is a bare "10 seconds".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selenium.common.exceptions import ElementClickInterceptedException

from fakeai_dash import ids
from tests.support.waiting import wait_until

ROWS = "#jobs-grid .ag-center-cols-container .ag-row"
# The first page load starts Chromium's renderer, Dash and the first fetch: allow that many ticks.
LOAD_TICKS = 15


def ticks(count: float, interval: float) -> float:
    """A deadline of ``count`` refresh ticks of ``interval`` seconds."""
    return count * interval


def row_selector(job_id: str) -> str:
    return f"#jobs-grid .ag-center-cols-container .ag-row[row-id='{job_id}']"


def visible_row_ids(dash_duo) -> set[str]:
    """Ids of the rows in the DOM (the grid is virtualised: only about a screenful)."""
    # Read in one script: the grid re-renders rows under selenium's feet between calls.
    script = f"return [...document.querySelectorAll({ROWS!r})].map(r => r.getAttribute('row-id'))"
    return set(dash_duo.driver.execute_script(script))


def grid_statuses(dash_duo, *, filtered: bool = False) -> dict[str, str] | None:
    """{job id: status} of every row the grid holds (or of those its filters let through).

    Read from the grid's own API, not the DOM, so rows scrolled out of view count too.
    None while the grid is not ready.
    """
    walk = "forEachNodeAfterFilter" if filtered else "forEachNode"
    return dash_duo.driver.execute_script(f"""
        let grid = null;
        try {{ grid = window.dash_ag_grid.getApi({ids.JobsList.GRID!r}); }} catch (notReady) {{ return null; }}
        if (!grid) {{ return null; }}
        const rows = {{}};
        grid.{walk}(node => {{ if (node.data) {{ rows[node.data.id] = node.data.status; }} }});
        return rows;
    """)


def wait_rows(dash_duo, predicate: Callable[[set[str]], bool], timeout: float, message: str = "") -> set[str]:
    """The DOM's row ids, once ``predicate`` accepts them."""

    def check():
        seen = visible_row_ids(dash_duo)
        return seen if predicate(seen) else None

    return wait_until(check, timeout, message)


def prop(dash_duo, component_id: str, name: str) -> Any:
    """A component's prop as Dash's renderer holds it (what the server last set, or the user)."""
    return dash_duo.driver.execute_script("""
        const [componentId, name] = arguments;
        const state = window.store && window.store.getState();
        const path = state && state.paths && state.paths.strs[componentId];
        if (!path) { return null; }
        let node = state.layout;
        for (const key of path) { node = node[key]; }
        return node && node.props ? node.props[name] : null;
    """, component_id, name)


def pending_callbacks(dash_duo) -> int:
    """How many callbacks Dash's renderer has requested and not finished (as dash.testing counts)."""
    return dash_duo.driver.execute_script("""
        const state = window.store.getState();
        if (state.pendingCallbacks) { return state.pendingCallbacks.length; }
        const callbacks = Object.assign({}, state.callbacks);
        delete callbacks.stored;
        delete callbacks.completed;
        return [].concat(...Object.values(callbacks)).length;
    """)


def turn_off_polling(dash_duo, interval: float) -> int:
    """Switch auto-refresh off and wait until the server has turned the Interval off and no
    callback a tick started is still running; returns the tick count polling stopped at."""
    dash_duo.find_element(f"label[for='{ids.Header.AUTO_REFRESH}']").click()
    wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "disabled") is True, ticks(5, interval),
               "the server did not disable the refresh Interval")
    wait_until(lambda: pending_callbacks(dash_duo) == 0, ticks(5, interval),
               "callbacks started by the last tick did not finish")
    return prop(dash_duo, ids.Page.INTERVAL, "n_intervals")


def click(dash_duo, selector):
    """Click ``selector`` on a long page whose cards grow as they fill: centre it first, and if
    something still covers it (a tooltip, a modal fading out), click it through the DOM, which
    fires the same click event."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except ElementClickInterceptedException:
        dash_duo.driver.execute_script("arguments[0].click()", element)
