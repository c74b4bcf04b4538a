"""The load harness's replay logic on hand-made captures, and one short run end to end."""

from __future__ import annotations

import json
import math

import pytest

from tests.load.replay import (
    ViewerState, apply_patch, group_ticks, parse_records, percentile, server_outputs, should_send,
    stringify_id,
)

ROW = {"type": "row", "index": 2}


def record(start: float, end: float, output: str, changed: list[str], inputs: list, state: list | None = None) -> dict:
    body = {"output": output, "outputs": [], "inputs": inputs, "state": state or [], "changedPropIds": changed}
    return {"start": start, "end": end, "status": 200, "body": json.dumps(body)}


def tick_inputs(n: int) -> list[dict]:
    return [{"id": "refresh", "property": "n_intervals", "value": n}]


def capture() -> list[dict]:
    """Page load, then ticks 1 and 2 (each: two fetches, then a chained render), then tick 3 open."""
    store_input = [{"id": "store", "property": "data", "value": {"v": "captured"}}]
    records = [record(0, 40, "store.data", [], [{"id": "url", "property": "pathname", "value": "/"}])]
    for n, t in ((1, 1000), (2, 4000), (3, 7000)):
        records += [
            record(t, t + 50, "store.data", ["refresh.n_intervals"], tick_inputs(n),
                   [{"id": "sig", "property": "data", "value": "s0"}]),
            record(t + 2, t + 90, "list.data", ["refresh.n_intervals"], tick_inputs(n)),
            record(t + 60, t + 80, "panel.children", ["store.data"], store_input,
                   [{"id": ROW, "property": "value", "value": 1}]),
            record(t + 95, t + 99, "chart.figure", ["chart.relayoutData", "store.data"], store_input),
        ]
    return records


def test_load001_ticks_are_cut_at_interval_firings_in_waves():
    ticks = group_ticks(parse_records(capture()))
    assert [tick.n for tick in ticks] == [1, 2]  # page load before tick 1 and the open tick 3 left out
    waves = [[r.output for r in wave] for wave in ticks[0].waves]
    # panel waited for an answer of wave 1, chart for the panel's answer
    assert waves == [["store.data", "list.data"], ["panel.children"], ["chart.figure"]]
    assert all(tick.interval_id == "refresh" for tick in ticks)


def test_load002_viewer_sends_what_the_server_sent_it():
    tick = group_ticks(parse_records(capture()))[0]
    state = ViewerState()
    first = state.body_for(tick.waves[0][0], 41)
    assert first["inputs"][0]["value"] == 41 and first["state"][0]["value"] == "s0"  # nothing learnt yet
    changed = state.learn({"multi": True, "response": {"sig": {"data": "s9"}, "store": {"data": {"v": "fresh"}},
                                                       stringify_id(ROW): {"value": 7}}})
    assert changed == {"sig.data", "store.data", '{"index":2,"type":"row"}.value'}
    assert state.body_for(tick.waves[0][0], 42)["state"][0]["value"] == "s9"
    panel = state.body_for(tick.waves[1][0], 42)
    assert panel["inputs"][0]["value"] == {"v": "fresh"}
    assert panel["state"][0] == {"id": ROW, "property": "value", "value": 7}
    assert json.loads(state.body_text_for(tick.waves[1][0], 42)) == panel
    assert tick.waves[1][0].body["inputs"][0]["value"] == {"v": "captured"}  # the capture is left as it was


def test_load003_chained_requests_follow_this_ticks_answers():
    tick = group_ticks(parse_records(capture()))[0]
    server_set = server_outputs([{"output": "..store.data...sig.data.."}, {"output": "list.data"},
                                 {"output": "panel.children"}, {"output": "url.search@3f2a"},
                                 {"output": "chart.relayoutData", "clientside_function": {"function_name": "f"}}])
    assert server_set == {"store.data", "sig.data", "list.data", "panel.children", "url.search"}
    fetch, panel, chart = tick.waves[0][0], tick.waves[1][0], tick.waves[2][0]
    assert should_send(fetch, set(), server_set)  # the interval fires it
    assert not should_send(panel, set(), server_set)  # the store did not change this tick
    assert should_send(panel, {"store.data"}, server_set)
    assert should_send(chart, set(), server_set)  # relayoutData is the browser's own change
    leftover = parse_records([record(0, 1, "x.children", [], [])])[0]
    assert not should_send(leftover, {"store.data"}, server_set)


def test_load004_patches_and_percentiles():
    figure = {"data": [{"x": [1, 2], "y": [3, 4]}], "layout": {"title": "t"}}
    patch = {"__dash_patch_update": "__dash_patch_update", "operations": [
        {"operation": "Extend", "location": ["data", 0, "x"], "params": {"value": [3]}},
        {"operation": "Assign", "location": ["layout", "title"], "params": {"value": "u"}}]}
    assert apply_patch(figure, patch) == {"data": [{"x": [1, 2, 3], "y": [3, 4]}], "layout": {"title": "u"}}
    assert figure["data"][0]["x"] == [1, 2]
    state = ViewerState()
    state.learn({"response": {"g": {"figure": figure}}})
    state.learn({"response": {"g": {"figure": patch}}})
    assert state.props[("g", "figure")]["data"][0]["x"] == [1, 2, 3]
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert math.isnan(percentile([], 50))


@pytest.mark.browser
def test_load005_a_short_run_replays_real_ticks_through_gunicorn():
    from tests.load.viewers import measure

    results, table = measure(["--viewers", "3", "--seconds", "4", "--sim-jobs", "200", "--latency", "0",
                              "--refresh-interval", "1", "--capture-ticks", "2", "--page", "finished"])
    assert [r.viewers for r in results] == [3]
    for r in results:
        assert r.errors == {}
        assert r.ticks >= 3 * r.viewers  # one tick a second per viewer, minus the edges
        assert r.api["total"] > 0 and r.callbacks >= r.ticks
        assert r.window_start - 1 <= r.api["since"] <= r.window_start  # API counted over the window only
        assert r.tick_ms and r.healthz_ms
    assert table.count("\n| ") == 2 and "\n| 3 | " in table
