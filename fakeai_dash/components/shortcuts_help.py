"""ShortcutsHelp: the keyboard shortcuts overlay (opened with `?`) and the header button that opens it.

The keys themselves are handled in the browser by assets/shortcuts.js, which clicks and focuses the
controls that already exist (refresh, create, search, a row of the jobs grid); this module only says
what the keys are. Every visible string sits in the literals below, so they can be translated in one place.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, html

from fakeai_dash import ids
from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash.i18n import N_, _

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

# Ids of the overlay's parts (kept here: this module owns them, as header.py owns its sign-in
# parts). assets/shortcuts.js clicks ids.ShortcutsHelp.BUTTON for `?` and reads the open modals itself.

TITLE = N_("Keyboard shortcuts")
BUTTON_HINT = N_("Keyboard shortcuts (press ?)")
# (keys, what they do): the order they are listed in. The keys are what the user presses; the
# listener in assets/shortcuts.js must handle each of them.
SHORTCUTS = (
    (("/",), N_("Search the jobs")),
    (("j",), N_("Highlight the next job in the list")),
    (("k",), N_("Highlight the previous job in the list")),
    (("Enter",), N_("Open the highlighted job")),
    (("c",), N_("Create a fine-tuning job")),
    (("r",), N_("Refresh the jobs now")),
    (("Esc",), N_("Close a dialog")),
    (("?",), N_("Show these shortcuts")),
)
KEY_HEADER = N_("Key")
ACTION_HEADER = N_("Action")
NOTE = N_("Shortcuts do nothing while you type in a field, while Ctrl, Alt or Meta is held, or while a dialog "
          "is open (except Esc).")


def button() -> html.Button:
    """The header's hint: what opens the overlay with the mouse, so the shortcuts can be found."""
    # A plain html.Button: it can carry aria-keyshortcuts, which dbc.Button cannot.
    return html.Button([html.Span("⌨", className="me-1", **{"aria-hidden": "true"}), _(TITLE),
                        html.Kbd("?", className="ms-1 shortcuts-kbd")],
                       id=ids.ShortcutsHelp.BUTTON, type="button", title=_(BUTTON_HINT), className="btn btn-outline-secondary btn-sm me-2",
                       **{"aria-keyshortcuts": "?"})


def overlay() -> dbc.Modal:
    rows = [html.Tr([html.Td([html.Kbd(key, className="shortcuts-kbd") for key in keys]), html.Td(_(action))])
            for keys, action in SHORTCUTS]
    table = html.Table([html.Thead(html.Tr([html.Th(_(KEY_HEADER), scope="col"), html.Th(_(ACTION_HEADER), scope="col")])),
                        html.Tbody(rows)], id=ids.ShortcutsHelp.TABLE, className="table table-sm shortcuts-table mb-2")
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_(TITLE), id=f"{ids.ShortcutsHelp.MODAL}-title")),
        dbc.ModalBody([table, html.P(_(NOTE), className="small text-body-secondary mb-0")]),
    ], id=ids.ShortcutsHelp.MODAL, is_open=False, centered=True, class_name="shortcuts-help", labelledby=f"{ids.ShortcutsHelp.MODAL}-title")


def layout() -> list:
    """The button (in the header) and the overlay (a modal: it renders over the page wherever it sits)."""
    return [button(), overlay()]


# Open only: the modal closes itself (Esc, the close button, a click outside) and sets is_open back.
blueprint.clientside_callback(
    """function (clicks) { return clicks ? true : window.dash_clientside.no_update; }""",
    Output(ids.ShortcutsHelp.MODAL, "is_open"),
    Input(ids.ShortcutsHelp.BUTTON, "n_clicks"),
    prevent_initial_call=True,
)
