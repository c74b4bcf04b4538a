"""Graphs mounted only once a job is shown: a mounted dcc.Graph downloads plotly.js (the
largest file of the page) even while hidden, and the jobs list page draws no chart. They
mount once assets/chart_loader.js has loaded plotly.js's basic bundle, which they then use.

The graphs are put in place in the browser, by a clientside callback on the selection. The job's
data may come back before they are (plotly.js still loading): the callbacks that draw them take
the container's children as an Input, so Dash holds them until the graphs exist.
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
            const graphs = %s;
            // After the small plotly.js bundle (assets/chart_loader.js): a graph mounted before
            // it would fetch the full one. Should it fail to load, the graphs fetch their own.
            const loader = window.fakeaiDash && window.fakeaiDash.loadPlotly;
            return loader ? loader().then(() => graphs, () => graphs) : graphs;
        }""" % specs,
        Output(container_id, "children"),
        Input(ids.JobDetails.SELECTED, "data"),
        State(container_id, "children"),
    )
