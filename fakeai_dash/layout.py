"""The page skeleton: header, banner, two panels, the stores and the refresh interval."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from fakeai_dash import ids
from fakeai_dash.i18n import _
from fakeai_dash.components import api_banner, create_job_dialog, header, job_details, jobs_list
from fakeai_dash.server.first_list import fill_jobs_list
from fakeai_dash.server.first_view import fill_job_page
from fakeai_dash.components import push_listener


def build_layout(refresh_interval_s: float, upload_limit_mb: float | None = None, push: bool = True) -> html.Div:
    stores = [
        dcc.Location(id=ids.Page.LOCATION, refresh=False),
        dcc.Interval(id=ids.Page.INTERVAL, interval=int(refresh_interval_s * 1000), n_intervals=0),
        dcc.Store(id=ids.JobsList.STORE),
        dcc.Store(id=ids.JobsList.SIGNATURE),
        dcc.Store(id=ids.JobsList.REFRESH_SIGNAL),
        dcc.Store(id=ids.Alerts.STORE),
        dcc.Store(id=ids.Page.API_STATUS),
        dcc.Store(id=ids.JobDetails.SELECTED),
        dcc.Store(id=ids.JobDetails.STORE),
        dcc.Store(id=ids.JobDetails.SUMMARY),
        dcc.Store(id=ids.JobDetails.SIGNATURE),
        dcc.Store(id=ids.JobDetails.ACTION_SIGNAL),
        # What this API lacks (pause/resume answered 404/405) is remembered for the tab's life.
        dcc.Store(id=ids.JobDetails.ACTION_SUPPORT, storage_type="session"),
        dcc.Store(id=ids.TrainingProgress.DRAWN),
        dcc.Store(id=ids.JobComparison.STORE),
        dcc.Store(id=ids.JobComparison.SIGNATURE),
        *push_listener.layout(refresh_interval_s, enabled=push),
    ]
    body = dbc.Row([
        # Landmarks: the jobs list is how one moves between jobs (nav), inside the page's main part.
        dbc.Col(html.Nav(jobs_list.layout(), className="jobs-nav", **{"aria-label": _("Fine-tuning jobs")}),
                lg=5, className="mb-3 jobs-col"),
        dbc.Col(job_details.layout(), lg=7, className="mb-3"),
    ], className="g-3 mx-0 px-2 pt-3")
    root = html.Div([*stores, header.layout(), html.Main([api_banner.layout(), body]),
                     create_job_dialog.layout(upload_limit_mb)],
                    className="app-root")
    root = fill_jobs_list(root)  # every page: the list's rows come with it
    return fill_job_page(root)  # a job's own URL: its data, panels and charts come with the page
