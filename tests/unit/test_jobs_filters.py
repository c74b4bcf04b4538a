"""The job filters' logic as plain functions: the grid's filter model, periods, and the URL query round trip."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from fakeai_dash.components import job_filters as jf
from fakeai_dash.components.jobs_list import (
    COLUMN_DEFS,
    MAX_MODEL_CONDITIONS,
    grid_filter_model,
)

GPT, QWEN, LLAMA = "gpt-4o-mini-2024-07-18", "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"


def _column(field):
    return next(c for c in COLUMN_DEFS if c["field"] == field)


def test_filters001_nothing_picked_clears_the_grid_filter():
    assert grid_filter_model() == {}
    assert grid_filter_model("all", [], None) == {}
    assert grid_filter_model(None, None, None) == {}


def test_filters002_one_model_is_one_exact_condition():
    assert grid_filter_model("all", [GPT]) == {"model": {"filterType": "text", "type": "equals", "filter": GPT}}
    assert _column("model")["filter"] == "agTextColumnFilter"
    assert _column("model")["filterParams"]["caseSensitive"] is True


def test_filters003_several_models_are_ored():
    model = grid_filter_model("all", [GPT, QWEN, LLAMA])["model"]
    assert model["operator"] == "OR"
    assert [c["filter"] for c in model["conditions"]] == [GPT, QWEN, LLAMA]
    assert all(c == {"filterType": "text", "type": "equals", "filter": c["filter"]} for c in model["conditions"])
    assert _column("model")["filterParams"]["maxNumConditions"] == MAX_MODEL_CONDITIONS >= 3


def test_filters004_created_after_is_an_inclusive_number_filter():
    assert grid_filter_model(created_after=1_790_000_000) == {
        "created_at": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 1_790_000_000}}
    assert _column("created_at")["filter"] == "agNumberColumnFilter"
    # Epoch 0 is a real (if odd) bound, not "no filter".
    assert "created_at" in grid_filter_model(created_after=0)


def test_filters005_filters_combine_in_one_model():
    model = grid_filter_model("active", [GPT, QWEN], 1_790_000_000)
    assert set(model) == {"status", "model", "created_at"}
    assert model["status"]["operator"] == "OR" and len(model["status"]["conditions"]) == 5
    assert model["model"]["operator"] == "OR" and len(model["model"]["conditions"]) == 2
    assert model["created_at"]["filter"] == 1_790_000_000
    assert grid_filter_model("failed", [GPT]) == {
        "status": {"filterType": "text", "type": "equals", "filter": "failed"},
        "model": {"filterType": "text", "type": "equals", "filter": GPT}}


@pytest.mark.parametrize("period, expected", [
    ("1h", 1_790_000_040 - 3600), ("24h", 1_790_000_040 - 86400), ("7d", 1_790_000_040 - 7 * 86400),
    ("30d", 1_790_000_040 - 30 * 86400), ("any", None), (None, None), ("custom", None),
])
def test_filters006_period_becomes_an_absolute_start_on_the_minute(period, expected):
    assert jf.created_after_for(period, now=1_790_000_059.7) == expected


def test_filters007_caption_names_the_fixed_start():
    assert jf.period_caption(1_790_000_040) == "created since 2026-09-21 14:14 UTC"
    assert jf.period_caption(None) == ""


def test_filters008_query_round_trip_keeps_other_keys():
    filters = {"q": "run6", "status": "succeeded", "models": [GPT, QWEN], "since": 1_790_000_040}
    search = jf.query_with_filters(filters, "?smoothing=0.8&log=1&compare=ftjob-a")
    pairs = parse_qsl(search.lstrip("?"))
    # Other owners' keys first and untouched; ours appended; several models in one key.
    assert pairs[:3] == [("smoothing", "0.8"), ("log", "1"), ("compare", "ftjob-a")]
    assert dict(pairs[3:]) == {"q": "run6", "status": "succeeded", "model": f"{GPT},{QWEN}", "since": "1790000040"}
    assert jf.filters_from_query(search) == filters
    # The charts' writer rebuilds the query through a dict: our keys survive it.
    assert jf.filters_from_query("?" + "&".join(f"{k}={v}" for k, v in dict(pairs).items())) == filters


def test_filters009_cleared_filters_leave_only_other_keys():
    assert jf.query_with_filters(jf.EMPTY_FILTERS, "?smoothing=0.8&status=failed&model=a&since=5&q=x") == "?smoothing=0.8"
    assert jf.query_with_filters(jf.EMPTY_FILTERS, "?status=failed") == ""
    assert jf.query_with_filters(jf.EMPTY_FILTERS, None) == ""
    assert jf.filters_from_query("") == jf.EMPTY_FILTERS
    assert not jf.filters_active(jf.EMPTY_FILTERS)
    for one in ({"q": "x"}, {"status": "failed"}, {"models": [GPT]}, {"since": 1}):
        assert jf.filters_active({**jf.EMPTY_FILTERS, **one})


@pytest.mark.parametrize("search", [
    "?status=bogus", "?since=yesterday", "?since=-5", "?model=,,", "?model=", "?q=%20%20",
])
def test_filters010_hand_edited_links_fall_back_to_no_filter(search):
    assert jf.filters_from_query(search) == jf.EMPTY_FILTERS


def test_filters011_restored_picks_join_the_options():
    options = [{"label": f"{GPT} (3)", "value": GPT}]
    assert jf.options_with(options, [GPT]) is jf.no_update
    assert jf.options_with(options, [GPT, QWEN]) == [*options, {"label": QWEN, "value": QWEN}]
    assert jf.options_with(None, [QWEN]) == [{"label": QWEN, "value": QWEN}]
