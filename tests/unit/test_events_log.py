"""The events log's logic as functions: grid rows, filters and counts, and paging through the app's DataSource.

The DataSource is the app's own (``current_source()``), reading an OpenAI-shaped API served by
pytest-httpserver: newest-first JSON pages walked with ``after``.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from dash import Patch, no_update
from werkzeug import Response

from fakeai_dash.components import events_log as ev

T0 = 1_790_000_000


def event(n, level="info", kind="metrics", text=None):
    data = {"step": n, "train_loss": 2.0 - n / 1000} if kind == "metrics" else {}
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{n:05d}", "created_at": T0 + n, "level": level,
            "type": kind, "message": text or f"Step {n}", "data": data}


# -- rows, filters, counts ---------------------------------------------------------------------

def test_events001_rows_carry_what_the_columns_and_filters_need():
    row = ev.event_row(event(7, level="WARN", kind="message", text="Loss rose"))
    assert row == {"id": "ftevent-00007", "created_at": T0 + 7, "time": "14:13:27", "level": "warning",
                   "type": "message", "message": "Loss rose", "data": None,
                   "level_group": "warning", "type_group": "message"}
    odd = ev.event_row({"level": "debug", "type": "hyperparameters", "created_at": T0}, index=3)
    assert (odd["level_group"], odd["type_group"], odd["level"]) == ("info", "message", "debug")
    assert odd["id"] == f"event-{T0}-3"  # no id from the API: still one row, one id
    assert ev.event_row(event(1))["data"] == {"step": 1, "train_loss": 1.999}


def test_events002_a_page_repeating_an_event_gives_one_row():
    rows = ev.page_rows([event(3), event(2), event(2), event(1)])
    assert [row["id"] for row in rows] == ["ftevent-00003", "ftevent-00002", "ftevent-00001"]


def test_events003_filter_model_for_the_checklists():
    assert ev.filter_model(list(ev.LEVELS), list(ev.TYPES)) == {}
    assert ev.filter_model(["error"], list(ev.TYPES)) == {
        "level_group": {"filterType": "text", "type": "equals", "filter": "error"}}
    model = ev.filter_model(["info", "warning"], ["message"])
    assert model["level_group"]["operator"] == "OR"
    assert [c["filter"] for c in model["level_group"]["conditions"]] == ["info", "warning"]
    assert model["type_group"] == {"filterType": "text", "type": "equals", "filter": "message"}
    nothing = ev.filter_model([], list(ev.TYPES))["level_group"]["filter"]
    assert nothing not in ev.LEVELS  # an unticked checklist matches no row
    column = next(c for c in ev.COLUMN_DEFS if c["field"] == "level_group")
    assert column["filterParams"]["maxNumConditions"] >= len(ev.LEVELS)


def test_events004_counts_follow_the_filters_and_keep_unknown_levels_with_info():
    rows = ev.page_rows([event(1), event(2, level="error", kind="message"), event(3, level="debug", kind="message"),
                         event(4, level="warn", kind="hyperparameters")])
    counts = ev.tally(rows)
    assert ev.shown_count(counts, list(ev.LEVELS), list(ev.TYPES)) == 4
    assert ev.shown_count(counts, ["info"], ["message"]) == 1  # the debug message rides with info
    assert ev.shown_count(counts, ["warning", "error"], ["message"]) == 2  # a new type rides with message
    assert ev.shown_count(counts, [], list(ev.TYPES)) == 0
    view = ev.view_outputs({"held": 4, "counts": counts, "has_older": False}, ["error"], list(ev.TYPES))
    assert view["count"] == "(1 of 4 shown)" and view["message"] == ""
    assert view["grid_style"] == {"height": f"{ev.ROW_HEIGHT + 36}px"}
    assert view["older_disabled"] and view["older_style"] == {"display": "none"}
    none = ev.view_outputs({"held": 4, "counts": counts, "has_older": True}, [], list(ev.TYPES))
    assert none["message"] == "No events match the filters." and none["grid_style"] == {"display": "none"}
    assert not none["older_disabled"]
    assert ev.view_outputs({"held": 0, "counts": {}}, list(ev.LEVELS), list(ev.TYPES))["message"] == "No events yet."


def test_events005_new_rows_since_the_newest_shown():
    page = ev.page_rows([event(5), event(4), event(3)])
    assert [r["id"] for r in ev.new_rows_since(page, "ftevent-00003")] == ["ftevent-00005", "ftevent-00004"]
    assert ev.new_rows_since(page, "ftevent-00005") == []
    assert ev.new_rows_since(page, "ftevent-00001") is None  # more arrived than a page holds


def test_events006_held_text():
    assert ev.held_text({"held": 17, "has_older": False}) == "All 17 events loaded."
    assert ev.held_text({"held": 200, "has_older": True}) == "The newest 200 events are loaded."
    assert "the most this page keeps" in ev.held_text({"held": ev.MAX_HELD, "has_older": True})


# -- paging through the app's DataSource --------------------------------------------------------

class OpenAIEvents:
    """One job whose events (oldest first) the test can extend; pages served newest first."""

    def __init__(self, count, status="succeeded"):
        self.events = [event(n) for n in range(1, count + 1)]
        self.status = status

    def handle(self, request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs/ftjob-ev":
            body = {"object": "fine_tuning.job", "id": "ftjob-ev", "model": "gpt-4o-mini", "created_at": T0,
                    "status": self.status, "training_file": "file-x"}
        elif path == "/fine_tuning/jobs/ftjob-ev/events":
            newest_first = list(reversed(self.events))
            after, limit = request.args.get("after"), int(request.args.get("limit", 20))
            start = next((i + 1 for i, e in enumerate(newest_first) if e["id"] == after), 0) if after else 0
            body = {"object": "list", "data": newest_first[start:start + limit],
                    "has_more": start + limit < len(newest_first)}
        elif path == "/fine_tuning/jobs/ftjob-ev/checkpoints":
            body = {"object": "list", "data": [], "has_more": False}
        else:
            return Response(json.dumps({"error": {"message": "nope"}}), status=404, content_type="application/json")
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def source_for(httpserver, make_app):
    """The DataSource of an app reading ``api`` (and a request context to call it in)."""
    contexts = []

    def make(api, **overrides):
        httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(api.handle)
        app = make_app(httpserver.url_for("").rstrip("/"), **overrides)
        context = app.server.test_request_context()
        context.push()
        contexts.append(context)
        from fakeai_dash.data import NotReady, current_source
        from tests.support.waiting import wait_until

        source = current_source()

        def synced():  # the details panel's read makes the sync loop fetch the job (as it would open)
            try:
                return source.job_detail("ftjob-ev")["history"]["loaded"] >= 1.0
            except NotReady:
                return False

        wait_until(synced, 30, "the sync loop to fetch the job")
        return source

    yield make
    for context in reversed(contexts):
        context.pop()


def extend_rows(rows, patch):
    """Apply a rowData Patch the way the browser does (Extend / Prepend operations)."""
    rows = list(rows)
    for op in patch.to_plotly_json()["operations"]:
        if op["operation"] == "Extend":
            rows.extend(op["params"]["value"])
        elif op["operation"] == "Prepend":
            rows.insert(0, op["params"]["value"])
        else:
            raise AssertionError(f"unexpected operation {op['operation']}")
    return rows


def test_events007_newest_page_then_older_pages_until_the_first_event(source_for):
    source = source_for(OpenAIEvents(450))
    rows, state = ev.events_update(source, "ftjob-ev", None, load_older=False)
    assert [r["id"] for r in rows[:2]] == ["ftevent-00450", "ftevent-00449"] and len(rows) == ev.PAGE_SIZE
    assert state == {"job_id": "ftjob-ev", "newest": "ftevent-00450", "oldest": "ftevent-00251",
                     "held": 200, "has_older": True, "counts": {"info|metrics": 200}}
    older, state = ev.events_update(source, "ftjob-ev", state, load_older=True)
    assert isinstance(older, Patch)
    rows = extend_rows(rows, older)
    assert [r["id"] for r in rows[199:201]] == ["ftevent-00251", "ftevent-00250"] and len(rows) == 400
    last, state = ev.events_update(source, "ftjob-ev", state, load_older=True)
    rows = extend_rows(rows, last)
    assert len(rows) == 450 and rows[-1]["id"] == "ftevent-00001"
    assert state["held"] == 450 and not state["has_older"] and state["counts"] == {"info|metrics": 450}
    assert ev.events_update(source, "ftjob-ev", state, load_older=True) == (no_update, state)
    # A quiet tick sends nothing; another job starts afresh.
    assert ev.events_update(source, "ftjob-ev", state, load_older=False) == (no_update, state)


def test_events008_the_browser_never_holds_more_than_max_held(source_for, monkeypatch):
    monkeypatch.setattr(ev, "MAX_HELD", 300)
    source = source_for(OpenAIEvents(450))
    _, state = ev.events_update(source, "ftjob-ev", None, load_older=False)
    older, state = ev.events_update(source, "ftjob-ev", state, load_older=True)
    assert len(older.to_plotly_json()["operations"][0]["params"]["value"]) == 100  # up to the cap, no more
    assert state["held"] == 300
    assert ev.events_update(source, "ftjob-ev", state, load_older=True) == (no_update, state)
    assert ev.view_outputs(state, list(ev.LEVELS), list(ev.TYPES))["older_disabled"]


def wait_for_update(source, state, deadline_s=5.0):
    """The first update that is not no_update (the source's cache lifetime has to pass)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        update = ev.events_update(source, "ftjob-ev", state, load_older=False)
        if update[0] is not no_update:
            return update
        time.sleep(0.05)
    raise AssertionError("the new events never showed")


def test_events009_a_live_job_prepends_new_events_or_starts_afresh_after_a_gap(source_for):
    api = OpenAIEvents(250, status="running")
    source = source_for(api, refresh_interval=0.5)  # the live events' cache lifetime
    rows, state = ev.events_update(source, "ftjob-ev", None, load_older=False)
    api.events += [event(n, level="error", kind="message") for n in (251, 252, 253)]
    patch, state = wait_for_update(source, state)
    assert {op["operation"] for op in patch.to_plotly_json()["operations"]} == {"Prepend"}
    rows = extend_rows(rows, patch)
    assert [r["id"] for r in rows[:4]] == ["ftevent-00253", "ftevent-00252", "ftevent-00251", "ftevent-00250"]
    assert state["newest"] == "ftevent-00253" and state["held"] == 203
    assert state["counts"] == {"info|metrics": 200, "error|message": 3}
    # More new events than a page holds: the newest page replaces what was shown.
    api.events += [event(n) for n in range(254, 254 + ev.PAGE_SIZE + 5)]
    fresh, state = wait_for_update(source, state)
    assert isinstance(fresh, list) and fresh[0]["id"] == f"ftevent-{253 + ev.PAGE_SIZE + 5:05d}"
    assert state["held"] == ev.PAGE_SIZE and state["has_older"]


def test_events010_the_callback_honours_a_click_whose_own_call_was_overtaken(source_for):
    source_for(OpenAIEvents(450))  # pushes a request context of the app reading this API
    signature = {"job_id": "ftjob-ev", "signature": "abc", "final": True}
    levels, types = list(ev.LEVELS), list(ev.TYPES)
    first = ev.render_events(signature, levels, types, None, None)
    rows, state = first[0], first[8]
    assert len(rows) == 200 and state["clicks"] == 0 and first[3] == "(200 of 200 shown)"
    # A tick's call that carries a click the state has not taken (the click's own call was dropped).
    after_click = ev.render_events(signature, levels, types, 1, state)
    assert isinstance(after_click[0], Patch) and after_click[8]["held"] == 400 and after_click[8]["clicks"] == 1
    assert after_click[3] == "(400 of 400 shown)"
    # Taken once: the same count again loads nothing more.
    again = ev.render_events(signature, levels, types, 1, after_click[8])
    assert again[0] is no_update and again[8] is no_update
    # Another job: its newest page, whatever the button's count.
    assert ev.render_events({"job_id": "ftjob-none", "signature": None}, levels, types, 1, state) == (no_update,) * 9


def test_shared_rows_follow_the_page_content_not_its_ids():
    # A restarted simulator reuses event ids: two pages with the same ends and length but other
    # events between them are two pages (a shared row list keyed by ids showed a stale "paused").
    from fakeai_dash.components.events_log import shared_page_rows

    def event(n, message):
        return {"id": f"ev-{n}", "created_at": 1_790_000_000 + n, "level": "info", "message": message}

    before = {"events": [event(3, "c"), event(2, "paused"), event(1, "a")], "has_older": False, "version": "log@1"}
    after = {"events": [event(3, "c"), event(2, "resumed"), event(1, "a")], "has_older": False, "version": "log@2"}
    assert [r["message"] for r in shared_page_rows(before)] == ["c", "paused", "a"]
    assert [r["message"] for r in shared_page_rows(after)] == ["c", "resumed", "a"]
    assert shared_page_rows(after) is shared_page_rows(after)
