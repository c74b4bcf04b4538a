"""The light/dark theme in a real browser, in one app start: a first visit follows the browser's
prefers-color-scheme, the header switch flips it and the choice outlives a reload (whatever the
browser prefers), the page is in its theme before the body exists (no flash of the other theme),
and the server-built figures and the AG Grids take the theme's colours, a switch included.
"""

from __future__ import annotations

import pytest

from fakeai_dash import ids
from fakeai_dash.theme.plotly_templates import themed
from fakeai_dash.theme import GREEN, palette
from tests.support.browser_support import LOAD_TICKS, prop, ticks, wait_until
from tests.support.scale_sim import ScaleSimulator
from tests.support.theme_support import (
    css_color,
    emulate_color_scheme,
    figure_paper,
    grid_background,
    page_theme,
    stored_theme,
    switch_theme,
)

pytestmark = pytest.mark.browser

TICK = 1.0
ROWS = "#jobs-grid .ag-center-cols-container .ag-row"

# Runs before any of the page's own scripts (DevTools), on every new document: notes the theme
# <html> carries when <body> first exists. Were the theme set later (by a script at the end of
# the body, or by a callback), the body would first paint in the index's default theme.
THEME_AT_BODY = """
new MutationObserver((_, observer) => {
  if (document.body) {
    window.__themeAtBody = document.documentElement.getAttribute("data-bs-theme");
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def theme_at_body(dash_duo) -> str | None:
    return dash_duo.driver.execute_script("return window.__themeAtBody || null")


def loss_line_color(dash_duo) -> str | None:
    return dash_duo.driver.execute_script(
        "const plot = document.querySelector('#loss-graph .js-plotly-plot');"
        "const trace = plot && plot.data && plot.data.find(t => t.name === 'train_loss');"
        "return trace ? trace.line.color : null;")


def assert_surfaces(dash_duo, theme: str, *, figures: bool) -> None:
    """The grids (and the figures) show ``theme``'s colours, waiting for a re-draw to land."""
    colors = palette(theme)
    wait_until(lambda: grid_background(dash_duo) == css_color(dash_duo, colors["surface-1"]),
               ticks(3, TICK), f"the jobs grid is not in the {theme} palette: {grid_background(dash_duo)}")
    if not figures:
        return
    wait_until(lambda: grid_background(dash_duo, "events-log-grid") == css_color(dash_duo, colors["surface-0"]),
               ticks(3, TICK), f"the events grid is not in the {theme} palette")
    for graph in (ids.TrainingProgress.LOSS, ids.TrainingProgress.ACCURACY):
        wait_until(lambda: figure_paper(dash_duo, graph) == colors["surface-1"], ticks(5, TICK),
                   f"{graph} is not drawn in the {theme} template: {figure_paper(dash_duo, graph)}")
    assert loss_line_color(dash_duo) == themed(GREEN, theme)


def test_theme001_follows_the_browser_then_the_switch_remembered_without_a_flash(dash_duo, start_dash):
    with ScaleSimulator(jobs=4, running_jobs=1) as sim:
        running = sim.job_ids()[0]
        dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": THEME_AT_BODY})
        emulate_color_scheme(dash_duo, "light")
        start_dash(sim.url, refresh_interval=TICK)
        dash_duo.wait_for_element(ROWS, timeout=ticks(LOAD_TICKS, TICK))

        # A first visit follows the browser, and remembers nothing until the user picks.
        assert (page_theme(dash_duo), theme_at_body(dash_duo), stored_theme(dash_duo)) == ("light", "light", None)
        wait_until(lambda: prop(dash_duo, ids.Theme.SWITCH, "value") is False, ticks(3, TICK),
                   "the switch does not show the light theme")
        assert_surfaces(dash_duo, "light", figures=False)
        emulate_color_scheme(dash_duo, "dark")
        dash_duo.driver.get(f"{dash_duo.server_url}/jobs/{running}")
        dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", running, timeout=ticks(LOAD_TICKS, TICK))
        assert (page_theme(dash_duo), theme_at_body(dash_duo), stored_theme(dash_duo)) == ("dark", "dark", None)
        assert prop(dash_duo, ids.Theme.SWITCH, "value") is True
        assert_surfaces(dash_duo, "dark", figures=True)

        # The switch: the page, the grids and the server's figures turn light at once.
        switch_theme(dash_duo, "light", TICK)
        assert stored_theme(dash_duo) == "light"
        assert_surfaces(dash_duo, "light", figures=True)

        # The pick outlives a reload although the browser still prefers dark, from the first paint.
        dash_duo.driver.refresh()
        dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", running, timeout=ticks(LOAD_TICKS, TICK))
        assert (page_theme(dash_duo), theme_at_body(dash_duo)) == ("light", "light")
        wait_until(lambda: prop(dash_duo, ids.Theme.SWITCH, "value") is False, ticks(3, TICK),
                   "the switch does not show the remembered light theme")
        assert_surfaces(dash_duo, "light", figures=True)

        # And back: dark is remembered as well.
        switch_theme(dash_duo, "dark", TICK)
        assert stored_theme(dash_duo) == "dark"
        assert_surfaces(dash_duo, "dark", figures=True)
        assert dash_duo.get_logs() == []
