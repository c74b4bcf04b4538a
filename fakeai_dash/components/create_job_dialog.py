"""CreateJobDialog: the modal that creates a fine-tuning job (opened from the header)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html

from fakeai_dash import ids


def layout() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Create fine-tuning job")),
        dbc.ModalBody(html.Div(id=ids.CreateJob.BODY)),
    ], id=ids.CreateJob.MODAL, is_open=False, size="lg", scrollable=True)


@callback(Output(ids.CreateJob.MODAL, "is_open"), Input(ids.Header.CREATE, "n_clicks"),
          State(ids.CreateJob.MODAL, "is_open"), prevent_initial_call=True)
def open_dialog(_clicks, is_open):
    return not is_open
