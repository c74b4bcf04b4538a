"""Graphs mounted only once a job is shown: a mounted dcc.Graph downloads plotly.js (the
largest file of the page) even while hidden, and the jobs list page draws no chart.

The graphs are put in place in the browser, by a clientside callback on the selection: it runs
before the selected job's data comes back from the server, so every figure finds its graph.
"""

from __future__ import annotations

import json

import plotly
from dash import Input, Output, State, clientside_callback, dcc

from fakeai_dash import ids


def mount_when_a_job_is_shown(container_id: str, graphs: list[dcc.Graph]) -> None:
    """Fill ``container_id`` with ``graphs`` the first time a job is selected (once per page)."""
    specs = json.dumps([graph.to_plotly_json() for graph in graphs], cls=plotly.utils.PlotlyJSONEncoder)
    clientside_callback(
        """function (selected, children) {
            if (!selected || (children && children.length)) { return window.dash_clientside.no_update; }
            return %s;
        }""" % specs,
        Output(container_id, "children"),
        Input(ids.JobDetails.SELECTED, "data"),
        State(container_id, "children"),
    )
