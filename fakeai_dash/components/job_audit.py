"""JobAudit: the selected job's history from the audit trail ("Cancelled by alice at 14:02 UTC").

Every write attempt on the job, newest first: who, what, when, and whether it was allowed,
refused (role or rate limit) or failed (with the API's message). Repeated refusals come merged
(auth/refusals.py): one line with how many and from when to when.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, html, no_update

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import format as fmt
from fakeai_dash import ids
from fakeai_dash.i18n import N_, _, ngettext
from fakeai_dash.auth import state
from fakeai_dash.auth.roles import ROLES, ROLE_WORDS
from fakeai_dash.auth.wording import localized
from fakeai_dash.validation import is_valid_id

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()

SHOWN = 8
PAST = {"create": N_("Created by {user}"), "cancel": N_("Cancelled by {user}"), "pause": N_("Paused by {user}"),
        "resume": N_("Resumed by {user}"), "upload": N_("Uploaded by {user}")}
VERB = {"create": N_("Create"), "cancel": N_("Cancel"), "pause": N_("Pause"), "resume": N_("Resume"), "upload": N_("Upload")}


def layout() -> html.Div:
    return html.Div(id=ids.JobDetails.AUDIT, className="detail-audit small mt-2")


def describe(record: dict[str, Any]) -> str:
    """One attempt in words: "Cancelled by alice", "Cancel refused for bob (viewer)"."""
    action, user, outcome = record.get("action", "?"), record.get("user", "?"), record.get("outcome")
    if outcome == "allowed":
        return _(PAST[action]).format(user=user) if action in PAST else f"{action.capitalize()} by {user}"
    verb = _(VERB[action]) if action in VERB else action.capitalize()
    if outcome == "refused":
        role = record.get("role")
        role = _(ROLE_WORDS[role]) if role in ROLES else role or _("no role")
        count = record.get("count") or 1
        if count > 1:
            return ngettext("{action} refused {count} time for {user} ({role})",
                            "{action} refused {count} times for {user} ({role})", count).format(
                action=verb, count=count, user=user, role=role)
        return _("{action} refused for {user} ({role})").format(action=verb, user=user, role=role)
    return _("{action} by {user} failed").format(action=verb, user=user)


def history_view(records: list[dict[str, Any]]) -> list:
    if not records:
        return []
    items = []
    for record in records[:SHOWN]:
        outcome = record.get("outcome")
        colour = {"allowed": "text-success", "refused": "text-warning", "failed": "text-danger"}.get(outcome, "")
        last = record.get("last_ts") if (record.get("count") or 1) > 1 else None
        items.append(html.Li([
            html.Span(describe(record), className=colour),
            _(" at "), html.Span(fmt.clock(record.get("ts")) + ("" if last else " UTC"),
                                 title=fmt.absolute_time(record.get("ts"))),
            # A merged refusal: its first and its last attempt.
            *([html.Span(f"–{fmt.clock(last)} UTC", title=fmt.absolute_time(last))] if last else []),
            # Stored English; the gate's refusals also as parts, shown in the page's language.
            *([html.Span(f" — {localized(record['message'], record.get('message_parts'))}", className="text-secondary")]
              if record.get("message") and outcome != "allowed" else []),
        ], className="audit-entry"))
    return [html.Div(_("History"), className="detail-label"),
            html.Ul(items, className="list-unstyled mb-0"),
            *([html.Div(_("and earlier attempts (see the audit trail)"), className="text-secondary")]
              if len(records) > SHOWN else [])]


@blueprint.callback(Output(ids.JobDetails.AUDIT, "children"),
          Input(ids.JobDetails.SELECTED, "data"),
          Input(ids.JobDetails.ACTION_SIGNAL, "data"),
          # Another user's cancel shows here when the job's status changes on this screen.
          Input(ids.JobDetails.SIGNATURE, "data"))
def show_history(job_id, _action, _signature):
    auth = state()
    if not job_id:
        return no_update  # nothing selected: nothing to clear (and no render for others to wait on)
    if not is_valid_id(job_id) or auth is None:
        return []
    return history_view(auth.trail.history(job_id, SHOWN + 1))
