"""Push: the page's end of the push channel — its stores, the header's live/polling indicator and
the clientside bridge to assets/push.js, which holds the EventSource.

The bridge only bumps signal stores ("the list changed", "its live fields moved", "a job shown
changed"); the fetch
callbacks take them as Inputs beside the refresh Interval, so a pushed update is drawn by the
same stores and render callbacks as a polled one. While live, the Interval is off (header's
toggle_polling) and the bridge sends one keep-alive fetch every HEARTBEAT_S instead.
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output, State, dcc, html

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import ids
from fakeai_dash.i18n import _, for_scripts

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

HEARTBEAT_S = 45  # while live: one list fetch this often (at most 2 requests in any minute)
# Reconnect delays after the first quick retry; the last one repeats.
BACKOFF_S = (1, 2, 4, 8, 15, 30)
STALE_S = 40  # no byte for this long (the server sends a keep-alive every 15 s): the stream is dead
PUSH_PATH = "/_push"

LABELS = {
    "live": (for_scripts("live"), for_scripts("Updates are pushed to this page as they happen")),
    "polling": (for_scripts("polling"), for_scripts("No push channel: this page asks for updates every refresh interval")),
    "off": (for_scripts("off"), for_scripts("Auto-refresh is off: this page does not update by itself")),
}


def layout(refresh_interval_s: float, enabled: bool = True) -> list:
    config = {"enabled": enabled, "path": dash.get_relative_path(PUSH_PATH), "heartbeat_ms": HEARTBEAT_S * 1000,
              "backoff_ms": [s * 1000 for s in BACKOFF_S], "stale_ms": STALE_S * 1000}
    return [
        dcc.Store(id=ids.Push.CONFIG, data=config),
        dcc.Store(id=ids.Push.STATE, data="polling"),
        dcc.Store(id=ids.Push.LIST_SIGNAL),
        dcc.Store(id=ids.Push.PROGRESS_SIGNAL),
        dcc.Store(id=ids.Push.SETTLED),
        dcc.Store(id=ids.Push.JOB_SIGNAL),
        dcc.Interval(id=ids.Push.CLOCK, interval=int(refresh_interval_s * 1000)),
    ]


def indicator() -> html.Span:
    label, title = LABELS["polling"]
    return html.Span(_(label), id=ids.Push.INDICATOR, className="push-indicator push-polling", title=_(title),
                     role="status")


def polling_disabled(auto_refresh: bool | None, push_state: str | None) -> bool:
    """The refresh Interval is off when auto-refresh is off, or while updates are pushed."""
    return not auto_refresh or push_state == "live"


# The bridge: (re)configures the stream whenever what the page shows changes. push.js opens one
# EventSource for the list, the open job and the compared jobs, and closes it when auto-refresh
# is switched off. Its answer is the state right now; later changes arrive through set_props.
blueprint.clientside_callback(
    """function (autoRefresh, jobId, picks, config) {
        if (!window.fakeaiPush) { return "polling"; }
        return window.fakeaiPush.configure(!!autoRefresh, jobId || null, picks || [], config || {});
    }""",
    Output(ids.Push.STATE, "data"),
    Input(ids.Header.AUTO_REFRESH, "value"),
    Input(ids.JobDetails.SELECTED, "data"),
    Input(ids.JobComparison.PICKER, "value"),
    State(ids.Push.CONFIG, "data"),
)

# Whether the open job is settled (then the heartbeat leaves it alone), told to the bridge apart:
# Dash holds a callback back while one of its inputs is the output of a callback in flight, and
# with the job's signature among the bridge's inputs the stream waited for the job's first fetch
# to open (over 15 s on a loaded machine: the page stayed "polling").
blueprint.clientside_callback(
    """function (detailSignature, jobId) {
        if (window.fakeaiPush) {
            window.fakeaiPush.settled(jobId || null,
                                      !!(detailSignature && detailSignature.final && detailSignature.job_id === jobId));
        }
        return window.dash_clientside.no_update;
    }""",
    Output(ids.Push.SETTLED, "data"),  # read by nothing: a pending output must block nothing else
    Input(ids.JobDetails.SIGNATURE, "data"),
    State(ids.JobDetails.SELECTED, "data"),
)

blueprint.clientside_callback(
    """function (state) {
        const labels = %s;
        const known = labels[state] ? state : "polling";
        return [T(labels[known][0]), "push-indicator push-" + known, T(labels[known][1])];
    }""" % json.dumps({k: list(v) for k, v in LABELS.items()}),
    Output(ids.Push.INDICATOR, "children"),
    Output(ids.Push.INDICATOR, "className"),
    Output(ids.Push.INDICATOR, "title"),
    Input(ids.Push.STATE, "data"),
)
