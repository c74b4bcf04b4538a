"""ThemeSwitch: the header's light/dark switch and the store that tells the server's figures the theme.

The theme is applied in the browser before the page paints (assets/theme_boot.js sets
``data-bs-theme`` on <html> from localStorage, else from prefers-color-scheme); every CSS colour
follows that attribute. This module only mirrors it: the switch shows it, a flip applies and
remembers it, and ``ids.Theme.STORE`` carries it to the callbacks that build Plotly figures.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

LABEL = N_("Dark theme")


def layout() -> html.Div:
    return html.Div([
        dbc.Switch(id=ids.Theme.SWITCH, label=_(LABEL), value=True, className="mb-0 me-2 theme-switch"),
        dcc.Store(id=ids.Theme.STORE),
        dcc.Store(id=ids.Theme.FIGURES),
    ], className="d-flex align-items-center")


# On load: show the theme the boot script applied, and hand it to the figure callbacks.
blueprint.clientside_callback(
    """function (_id) {
        const theme = window.fakeaiTheme ? window.fakeaiTheme.get() : "dark";
        return [theme === "dark", theme];
    }""",
    Output(ids.Theme.SWITCH, "value"),
    Output(ids.Theme.STORE, "data"),
    Input(ids.Theme.SWITCH, "id"),
)

# A flip: apply and remember it. The load callback's own setting of the switch lands here too;
# it changes nothing and stores nothing, so a first visit keeps following the browser's preference.
blueprint.clientside_callback(
    """function (dark) {
        const api = window.fakeaiTheme;
        const theme = dark ? "dark" : "light";
        if (!api || dark == null || api.get() === theme) { return window.dash_clientside.no_update; }
        return api.choose(theme);
    }""",
    Output(ids.Theme.STORE, "data", allow_duplicate=True),
    Input(ids.Theme.SWITCH, "value"),
    prevent_initial_call=True,
)

# A switch reaches the figure callbacks through here: this store changes only while their graphs
# exist (they mount when a job is first shown, lazy_graphs.py), so the theme set at page load never
# triggers a callback whose graph is not there yet. They read the theme itself from ids.Theme.STORE
# (a State): a graph drawn before this store is set is drawn in the right theme all the same.
blueprint.clientside_callback(
    """function (theme, charts, comparison, drawn) {
        const mounted = (box) => Array.isArray(box) ? box.length > 0 : !!box;
        // Charts the page came with (first_view.py) are drawn in the theme they name: no redraw.
        const drawnIn = drawn && drawn.key && drawn.key.theme;
        if (!mounted(charts) || !mounted(comparison) || !theme || drawnIn === theme) {
            return window.dash_clientside.no_update;
        }
        return theme;
    }""",
    Output(ids.Theme.FIGURES, "data"),
    Input(ids.Theme.STORE, "data"),
    Input(ids.TrainingProgress.MOUNTED, "data"),
    Input(ids.JobComparison.MOUNTED, "data"),
    State(ids.TrainingProgress.DRAWN, "data"),
)
