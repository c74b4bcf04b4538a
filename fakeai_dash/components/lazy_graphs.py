"""Graphs mounted only once a job is shown: a mounted dcc.Graph downloads plotly.js (the
largest file of the page) even while hidden, and the jobs list page draws no chart. They
mount once assets/chart_loader.js has loaded plotly.js's basic bundle, which they then use.

The graphs are put in place in the browser, by a clientside callback on the selection, which also
sets a small "mounted" store. The job's data may come back before they are (plotly.js still
loading): the callbacks that draw them take that store as an Input, so Dash holds them until the
graphs exist. (Not the container's children: as an Input those travel with every redraw request,
figures and all: 108 KB up per tick of a long job.)
"""

from __future__ import annotations

import json

import plotly
from dash import Input, Output, State, dcc

from fakeai_dash import ids
from fakeai_dash.server.blueprint import Blueprint


def mount_when_a_job_is_shown(blueprint: Blueprint, container_id: str, mounted_id: str, graphs: list[dcc.Graph]) -> None:
    """Fill ``container_id`` with ``graphs`` the first time a job is selected (once per page) and
    then set the store ``mounted_id`` (in the component's layout) to true."""
    specs = json.dumps([graph.to_plotly_json() for graph in graphs], cls=plotly.utils.PlotlyJSONEncoder)
    blueprint.clientside_callback(
        """function (selected, children) {
            const nu = window.dash_clientside.no_update;
            if (!selected || (children && children.length)) { return [nu, nu]; }
            const graphs = %s;
            // Their accessible names in the page's language (assets/_i18n.js; i18n.for_scripts).
            graphs.forEach((graph) => {
                const props = graph.props || {};
                if (props["aria-label"] && window.T) { props["aria-label"] = window.T(props["aria-label"]); }
            });
            // plotly.js's own words (the toolbar's tooltips) too: chart_loader.js loads its locale.
            const plotlyLocale = window.fakeaiDash && window.fakeaiDash.plotlyLocale;
            const localize = (node) => {
                if (!node || typeof node !== "object") { return; }
                if (Array.isArray(node)) { node.forEach(localize); return; }
                const props = node.props || {};
                if (node.type === "Graph") { props.config = Object.assign({}, props.config, {locale: plotlyLocale()}); }
                localize(props.children);
            };
            if (plotlyLocale) { localize(graphs); }
            // After the small plotly.js bundle (assets/chart_loader.js): a graph mounted before
            // it would fetch the full one. Should it fail to load, the graphs fetch their own.
            const loader = window.fakeaiDash && window.fakeaiDash.loadPlotly;
            const mounted = [graphs, true];
            return loader ? loader().then(() => mounted, () => mounted) : mounted;
        }""" % specs,
        Output(container_id, "children"),
        Output(mounted_id, "data"),
        Input(ids.JobDetails.SELECTED, "data"),
        State(container_id, "children"),
    )
