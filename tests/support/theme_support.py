"""Browser-side reads and moves of the light/dark theme, shared by the theme and accessibility tests."""

from __future__ import annotations

from fakeai_dash import ids
from tests.support.browser_support import ticks, wait_until


def emulate_color_scheme(dash_duo, scheme: str) -> None:
    """Make the browser report ``prefers-color-scheme: <scheme>`` (DevTools; lasts for the tab)."""
    dash_duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                    {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def page_theme(dash_duo) -> str | None:
    return dash_duo.driver.execute_script("return document.documentElement.getAttribute('data-bs-theme')")


def stored_theme(dash_duo) -> str | None:
    return dash_duo.driver.execute_script("return window.localStorage.getItem('fakeai-dash-theme')")


def switch_theme(dash_duo, to: str, interval: float) -> None:
    """Flip the header switch (a click on its label, as a user does) and wait for ``to``."""
    assert page_theme(dash_duo) != to, f"the page is already {to}"
    dash_duo.find_element(f"label[for='{ids.Theme.SWITCH}']").click()
    wait_until(lambda: page_theme(dash_duo) == to, ticks(3, interval), f"the page never turned {to}")


def css_color(dash_duo, hex_color: str) -> str:
    """``hex_color`` as the browser writes computed colours ("rgb(r, g, b)")."""
    return dash_duo.driver.execute_script(
        "const probe = document.createElement('i'); probe.style.color = arguments[0];"
        "document.body.appendChild(probe); const rgb = getComputedStyle(probe).color; probe.remove(); return rgb;",
        hex_color)


def grid_background(dash_duo, grid_id: str = ids.JobsList.GRID) -> str | None:
    """The computed background of an AG Grid's body (its theme's backgroundColor)."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(`#${arguments[0]} .ag-root-wrapper`);"
        "return el ? getComputedStyle(el).backgroundColor : null;", grid_id)


def figure_paper(dash_duo, graph_id: str) -> str | None:
    """The paper colour of the figure a graph holds (from its template, as Plotly drew it)."""
    return dash_duo.driver.execute_script(
        "const plot = document.querySelector(`#${arguments[0]} .js-plotly-plot`);"
        "return plot && plot._fullLayout ? plot._fullLayout.paper_bgcolor : null;", graph_id)
