"""The push load harness: its pure parts on hand-made data, and one short run end to end
(counts and behaviour only; the figures are in docs/performance.md)."""

from __future__ import annotations

import json

import pytest

from tests.load.push_pages import first_at_or_after, latencies, push_groups, store_step
from tests.load.replay import parse_records
from tests.load.sse import parse


def record(start, end, output, changed):
    body = {"output": output, "outputs": [], "inputs": [], "state": [], "changedPropIds": changed}
    return {"start": start, "end": end, "status": 200, "body": json.dumps(body)}


def test_push_load001_chains_are_cut_at_push_firings():
    records = [
        record(0, 10, "job-detail-store.data", ["push-job-signal.data"]),     # first resync: bigger
        record(12, 30, "panel-a.children", ["job-detail-store.data"]),
        record(12, 30, "panel-b.children", ["job-detail-store.data"]),
        record(100, 110, "jobs-store.data", ["push-list-signal.data"]),
        record(200, 210, "job-detail-store.data", ["push-job-signal.data"]),  # steady state
        record(212, 230, "panel-a.children", ["job-detail-store.data"]),
        record(300, 310, "job-detail-store.data", ["push-job-signal.data"]),  # still open: left out
        record(312, None, "panel-c.children", ["job-detail-store.data"]),
    ]
    groups = push_groups(parse_records(records))
    assert [[r.output for r in wave] for wave in groups["push-job-signal.data"]] == [
        ["job-detail-store.data"], ["panel-a.children"]]
    assert [[r.output for r in wave] for wave in groups["push-list-signal.data"]] == [["jobs-store.data"]]


def test_push_load002_latency_is_counted_per_event_and_page():
    births = [(10.0, 5), (20.0, 6)]
    shown_fast = [(10.4, 5), (20.3, 6)]
    shown_late = [(11.0, 4), (21.5, 6)]  # step 5 never shown alone: step 6 shows it too
    found, missed = latencies(births, [shown_fast, shown_late])
    assert sorted(round(x, 1) for x in found) == [0.3, 0.4, 1.5, 11.5] and missed == 0
    assert latencies([(30.0, 7)], [shown_fast])[1] == 1
    assert first_at_or_after(shown_late, 5) == 21.5
    assert store_step({"events": [{"data": {"step": 3}}, {"data": {}}, {"data": {"step": 9}}]}) == 9


def test_push_load003_sse_parser_reads_events_and_keepalives():
    chunks = ["retry: 2000\n\nevent: hello\ndata: {\"versions\"", ": {}}\n\n: keep-alive\n\n",
              b"event: change\ndata: {\"member\": \"list\", \"version\": 3}\n\n"]
    events = list(parse(chunks))
    assert [e.event if e else None for e in events] == ["hello", None, "change"]
    assert events[2].data == {"member": "list", "version": 3}


@pytest.mark.browser
def test_push_load004_a_short_run_measures_every_part_through_gunicorn():
    from tests.load.push import measure

    results, table = measure(["--pages", "3", "--samples", "3", "--streams", "12", "--stream-samples", "2",
                              "--idle-seconds", "10", "--sim-jobs", "50", "--latency", "0"])
    latency, restart, streams, idle = (results[k] for k in ("latency", "restart", "streams", "idle"))
    assert latency["missed"] == 0 and len(latency["all"]) == 3 * 3
    assert restart["reconnected"] >= 1 and len(restart["resync"]) == 3
    assert streams["missed"] == 0 and streams["refused"] == 0 and len(streams["found"]) == 12 * 2
    assert streams["healthz"]
    assert idle["live"]["push_opens"] == 0 and idle["live"]["callbacks"] <= 1, idle
    assert idle["polling"]["callbacks"] >= idle["live"]["callbacks"] + 10, idle
    for heading in ("**Latency**", "**Idle traffic**", "open pages**", "**Restart**"):
        assert heading in table
