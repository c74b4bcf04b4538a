"""Unit tests for fakeai_dash.figures: the "nvidia" template and the loss/accuracy figures."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from fakeai_dash import figures as f
from fakeai_dash.theme import plotly_templates as templates
from fakeai_dash import figure_patches as patches
from fakeai_dash import figure_numbers as numbers
from fakeai_dash.downsample import MAX_POINTS
from fakeai_dash.series import MetricHistory, ema_smooth_array
from tests.support.histories import history_of, points
from tests.support.histories import reference_ema as ema_smooth

T0 = 1_790_000_000


CURVES = {
    "train_loss": points([2.4, 2.0, 1.7, 1.1, 0.9]),
    "valid_loss": points([2.5, 2.2, 1.9, 1.4, 1.2]),
    "full_valid_loss": [(50, 1.25, T0 + 12)],
    "train_accuracy": points([0.40, 0.55, 0.61, 0.70, 0.80]),
    "learning_rate": points([1e-5] * 5),
}
SERIES = history_of(CURVES)


def checkpoint(step, **metrics):
    return {
        "id": f"ftckpt-{step}",
        "created_at": T0 + step,
        "fine_tuned_model_checkpoint": f"ft:m:org::step-{step}",
        "step_number": step,
        "metrics": metrics,
    }


def trace(figure, name):
    matches = [t for t in figure.data if t.name == name]
    assert len(matches) == 1, [t.name for t in figure.data]
    return matches[0]


# ---------------------------------------------------------------------- template


def test_register_template_is_idempotent_and_themed():
    assert templates.register_template() == "nvidia"
    assert templates.register_template() == "nvidia"
    layout = pio.templates["nvidia"].layout
    assert layout.paper_bgcolor == "#1a1a1a"
    assert layout.plot_bgcolor == "#0a0a0a"
    assert layout.font.color == "#b3b3b3"
    assert layout.xaxis.gridcolor == "#2a2a2a" and layout.yaxis.gridcolor == "#2a2a2a"
    assert list(layout.colorway[:3]) == ["#76b900", "#8acc00", "#669900"]


def test_figures_use_the_nvidia_template():
    figure = f.loss_figure(SERIES)
    assert isinstance(figure, go.Figure)
    assert figure.layout.template.layout.paper_bgcolor == "#1a1a1a"


# -------------------------------------------------------------------------- loss


def test_loss_figure_raw_traces_and_styles():
    figure = f.loss_figure(SERIES)
    assert [t.name for t in figure.data] == ["train_loss", "valid_loss", "full_valid_loss"]
    train, valid, full = figure.data
    assert (train.line.color, train.line.dash, train.mode) == ("#76b900", "solid", "lines")
    assert (valid.line.color, valid.line.dash) == ("#8acc00", "dash")
    assert full.mode == "markers"
    assert list(train.x) == [10, 20, 30, 40, 50]
    assert list(train.y) == [2.4, 2.0, 1.7, 1.1, 0.9]
    assert figure.layout.yaxis.type == "linear"
    assert figure.layout.xaxis.title.text == "Step"


def test_loss_figure_smoothing_draws_faded_raw_behind_smoothed():
    figure = f.loss_figure(SERIES, smoothing=0.6)
    assert [t.name for t in figure.data] == [
        "train_loss (raw)",
        "train_loss",
        "valid_loss (raw)",
        "valid_loss",
        "full_valid_loss",
    ]
    raw, smoothed = trace(figure, "train_loss (raw)"), trace(figure, "train_loss")
    assert raw.opacity < 0.5 and raw.showlegend is False
    assert list(raw.y) == [2.4, 2.0, 1.7, 1.1, 0.9]
    expected = ema_smooth([2.4, 2.0, 1.7, 1.1, 0.9], 0.6)
    assert list(smoothed.y) == pytest.approx(expected, rel=1e-5)  # six significant digits travel
    assert smoothed.y[1] != raw.y[1]
    # The unified hover lists raw and smoothed for the step under the pointer.
    assert "raw %{y" in raw.hovertemplate and "smoothed %{y" in smoothed.hovertemplate
    assert raw.hoverinfo is None and smoothed.customdata is None
    assert trace(figure, "valid_loss").line.dash == "dash"


def test_loss_figure_checkpoint_markers_one_per_checkpoint():
    checkpoints = [
        checkpoint(25, train_loss=1.8, valid_loss=2.0),
        checkpoint(50, valid_loss=1.3),  # no train loss: sits at its valid loss
        checkpoint(40),  # no metrics at all: sits on the train-loss curve
        checkpoint(75, train_loss=0.7),
    ]
    markers = trace(f.loss_figure(SERIES, checkpoints=checkpoints), "Checkpoints")
    assert markers.mode == "markers"
    assert list(markers.x) == [25, 50, 40, 75]
    assert list(markers.y) == [1.8, 1.3, 1.1, 0.7]
    assert [row[2] for row in markers.customdata][0] == "ft:m:org::step-25"


def test_loss_figure_without_checkpoints_has_no_marker_trace():
    assert "Checkpoints" not in [t.name for t in f.loss_figure(SERIES, checkpoints=[]).data]


def test_loss_figure_log_scale_and_uirevision():
    linear = f.loss_figure(SERIES, uirevision="ftjob-1")
    log = f.loss_figure(SERIES, log_y=True, uirevision="ftjob-1")
    assert log.layout.yaxis.type == "log"
    assert linear.layout.uirevision and log.layout.uirevision
    # Same job and view keep zoom across refreshes; another job or axis starts fresh.
    assert f.loss_figure(SERIES, uirevision="ftjob-1").layout.uirevision == linear.layout.uirevision
    assert f.loss_figure(SERIES, uirevision="ftjob-2").layout.uirevision != linear.layout.uirevision
    assert log.layout.uirevision != linear.layout.uirevision


def test_loss_figure_elapsed_axis():
    figure = f.loss_figure(SERIES, x="elapsed", checkpoints=[checkpoint(25, train_loss=1.8)])
    assert list(trace(figure, "train_loss").x) == [0, 3, 6, 9, 12]
    assert list(trace(figure, "full_valid_loss").x) == [12]
    assert list(trace(figure, "Checkpoints").x) == [25]  # created_at T0+25
    assert figure.layout.xaxis.title.text == "Elapsed (s)"
    with pytest.raises(ValueError):
        f.loss_figure(SERIES, x="time")


def test_loss_figure_of_a_history_read_back_from_the_picture():
    series = MetricHistory.from_dict(SERIES.to_dict())
    figure = f.loss_figure(series, smoothing=0.5)
    assert list(trace(figure, "train_loss (raw)").y) == [2.4, 2.0, 1.7, 1.1, 0.9]


def test_loss_figure_without_losses_is_empty_figure():
    figure = f.loss_figure(history_of({"learning_rate": CURVES["learning_rate"]}))
    assert len(figure.data) == 0
    assert "No loss metrics yet" in figure.layout.annotations[0].text


# ---------------------------------------------------------------------- accuracy


def test_accuracy_figure_is_filled_area():
    figure = f.accuracy_figure(SERIES)
    assert [t.name for t in figure.data] == ["train_accuracy"]
    assert figure.data[0].fill == "tozeroy"
    assert figure.data[0].line.color == "#76b900"
    assert figure.layout.yaxis.tickformat == ".0%"


def test_accuracy_figure_smoothing_keeps_raw_unfilled():
    figure = f.accuracy_figure(SERIES, smoothing=0.5, x="elapsed")
    raw, smoothed = trace(figure, "train_accuracy (raw)"), trace(figure, "train_accuracy")
    assert raw.fill is None and smoothed.fill == "tozeroy"
    assert list(smoothed.x) == [0, 3, 6, 9, 12]


def test_accuracy_figure_without_accuracy_is_empty():
    figure = f.accuracy_figure(history_of({"train_loss": CURVES["train_loss"]}))
    assert len(figure.data) == 0 and figure.layout.annotations


# ------------------------------------------------------------------------- empty


def test_empty_figure_shows_message_and_hides_axes():
    figure = f.empty_figure("No metrics yet")
    assert len(figure.data) == 0
    assert figure.layout.annotations[0].text == "No metrics yet"
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert figure.layout.template.layout.plot_bgcolor == "#0a0a0a"


# ------------------------------------------------------------ 100,000-step histories

BIG = 100_000
SPIKE_AT = 50_000


@pytest.fixture(scope="module")
def big_history():
    steps = np.arange(1, BIG + 1, dtype=np.float64)
    rng = np.random.default_rng(7)
    loss = 2.5 * np.exp(-steps / 30_000) + 0.1 + rng.normal(0, 0.05, BIG)
    loss[SPIKE_AT - 1] = 9.0  # one step, at step 50,000
    accuracy = np.clip(0.3 + 0.6 * steps / BIG + rng.normal(0, 0.02, BIG), 0, 1)
    valid = np.full(BIG, np.nan)
    valid[::50] = loss[::50] + 0.05  # validation every 50 steps: 2,000 points
    return MetricHistory(steps, T0 + steps * 0.7, {
        "train_loss": loss, "valid_loss": valid, "train_mean_token_accuracy": accuracy,
        "valid_mean_token_accuracy": np.where(np.isnan(valid), np.nan, accuracy - 0.02)}, BIG)


def test_figures100k001_every_line_within_budget_from_first_to_last_step(big_history):
    for figure in (f.loss_figure(big_history, 0.6), f.accuracy_figure(big_history, 0.6)):
        lines = [t for t in figure.data if t.mode != "markers"]
        assert len(lines) == 4
        for line in lines:
            assert 100 <= len(line.x) <= MAX_POINTS
            steps = big_history.series(line.name.removesuffix(" (raw)"))[0]
            assert line.x[0] == steps[0] and line.x[-1] == steps[-1]  # the whole run, not its tail
    # Four lines share a figure's 6,000 points; one line alone may take the whole 2,000.
    assert len(trace(f.loss_figure(big_history, 0.6), "train_loss").x) <= f.FIGURE_POINTS // 4
    alone = MetricHistory(big_history.steps, big_history.times, {"train_loss": big_history.metrics["train_loss"]})
    assert 1900 <= len(trace(f.loss_figure(alone, 0.0), "train_loss").x) <= MAX_POINTS


def test_figures100k002_the_loss_spike_is_drawn(big_history):
    figure = f.loss_figure(big_history, 0.6)
    raw = trace(figure, "train_loss (raw)")
    assert SPIKE_AT in raw.x and raw.y[list(raw.x).index(SPIKE_AT)] == 9.0
    assert max(raw.y) == 9.0


def test_figures100k003_smoothing_runs_on_the_full_series_before_thinning(big_history):
    figure = f.loss_figure(big_history, 0.9)
    smoothed = trace(figure, "train_loss")
    full = ema_smooth(big_history.metrics["train_loss"].tolist(), 0.9)  # the reference EMA, every step
    for at in (len(smoothed.x) // 3, len(smoothed.x) // 2, len(smoothed.x) - 1):
        step = smoothed.x[at]
        assert smoothed.y[at] == pytest.approx(full[step - 1], rel=1e-5)
    # Smoothing the thinned points instead would give another curve.
    thinned = ema_smooth([v for v in trace(figure, "train_loss (raw)").y], 0.9)
    assert thinned[len(thinned) // 2] != pytest.approx(smoothed.y[len(thinned) // 2], rel=1e-3)


def test_figures100k004_a_zoomed_range_is_drawn_at_full_resolution(big_history):
    figure = f.loss_figure(big_history, 0.6, x_range=[49_900.5, 50_400.2])
    raw = trace(figure, "train_loss (raw)")
    assert list(raw.x) == list(range(49_900, 50_402))  # every step, and one beyond each edge
    assert 9.0 in raw.y
    valid = trace(figure, "valid_loss")
    assert list(valid.x) == list(range(49_851, 50_402, 50))  # every 50th, one beyond each edge
    # On the elapsed axis the range is in seconds; the same steps come back.
    seconds = [(49_900 - 1) * 0.7 - 0.1, (50_400 - 1) * 0.7 + 0.1]
    elapsed = trace(f.loss_figure(big_history, 0.6, x="elapsed", x_range=seconds), "train_loss")
    assert list(elapsed.customdata) == list(range(49_899, 50_402))
    assert len(set(elapsed.x)) == 503  # rounded to the zoomed span, so 0.7 s apart stays apart


def test_figures100k005_elapsed_axis_log_scale_and_checkpoints(big_history):
    checkpoints = [checkpoint(25_000), checkpoint(SPIKE_AT, train_loss=1.5)]
    figure = f.loss_figure(big_history, 0.6, log_y=True, x="elapsed", checkpoints=checkpoints)
    assert figure.layout.yaxis.type == "log" and figure.layout.xaxis.title.text == "Elapsed (s)"
    assert trace(figure, "train_loss").x[-1] == pytest.approx((BIG - 1) * 0.7, abs=1)
    markers = trace(figure, "Checkpoints")
    loss = big_history.metrics["train_loss"]
    assert list(markers.y) == [pytest.approx(loss[25_000 - 1]), 1.5]  # on the curve, or its own loss


# --------------------------------------------------------------------- pure helpers


def test_compact_numbers_rounds_to_six_digits_and_keeps_json_short():
    values = np.array([0.123456789, 12345.6789, 1e-7 / 3, 2.0, -0.30000000000000004, np.nan, np.inf, 0.0])
    got = numbers.compact_numbers(values)
    assert got == [0.123457, 12345.7, 3.33333e-08, 2.0, -0.3, None, None, 0.0]
    assert numbers.compact_numbers(np.array([1.0, 20.0, 300.0])) == [1, 20, 300]  # steps travel as ints
    assert json.dumps(numbers.compact_numbers(np.linspace(0.1, 0.9, 9))) == "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]"


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 1.5, -1])
def test_vectorised_ema_matches_metrics_ema_smooth(weight):
    rng = np.random.default_rng(11)
    values = rng.normal(2, 0.5, 5000)
    values[[3, 400, 401]] = np.nan
    values[17] = np.inf
    want = ema_smooth(values.tolist(), weight)
    got = ema_smooth_array(values, weight)
    assert np.allclose(got, want, rtol=1e-12, atol=0, equal_nan=True)
    assert got[17] == np.inf
    # Appending never moves earlier smoothed values: what makes patching a live chart sound.
    assert np.array_equal(ema_smooth_array(values[:3000], weight), got[:3000], equal_nan=True)


def test_vectorised_ema_long_series_and_constants():
    values = np.linspace(3, 1, BIG) + np.sin(np.arange(BIG))  # blocks of cumulative sums
    want = ema_smooth(values.tolist(), 0.6)
    assert np.allclose(ema_smooth_array(values, 0.6), want, rtol=1e-9)
    assert ema_smooth_array([2.0, 2.0, float("nan"), 2.0], 0.9).tolist()[:2] == [2.0, 2.0]
    assert ema_smooth_array([], 0.9).size == 0


def test_history_csv_writes_every_step_with_empty_cells():
    from fakeai_dash.series import history_csv, history_from_events

    events = [{"type": "metrics", "created_at": T0 + 2 * i, "data": {
        "step": i + 1, "train_loss": 2.0 - i / 10, "total_steps": 5, **({"valid_loss": 1.5} if i % 2 else {})}}
        for i in range(5)]
    history = history_from_events(events)
    assert history_csv(history, ["train_loss", "valid_loss"]) == (
        "step,elapsed_s,train_loss,valid_loss\n"
        "1,0,2.0,\n2,2,1.9,1.5\n3,4,1.8,\n4,6,1.7,1.5\n5,8,1.6,\n")



def test_note_is_drawn_and_recorded_in_the_shape():
    figure = f.loss_figure(SERIES, note="Loading history 40%")
    assert [a.text for a in figure.layout.annotations] == ["Loading history 40%"]
    assert patches.trace_shape(figure)["notes"] == ["Loading history 40%"]
    assert patches.trace_shape(f.loss_figure(SERIES))["notes"] == []
    assert f.loss_figure(MetricHistory(), note="Loading history 5%").layout.annotations[0].text == "Loading history 5%"


def cut(history, n):
    return MetricHistory(history.steps[:n], history.times[:n], {k: v[:n] for k, v in history.metrics.items()})


def test_replace_plan_swaps_changed_traces_and_append_plan_refuses_a_rethinned_curve(big_history):
    # The step that closes a block of the raw tail (downsample.tail_stride, a power of two well
    # under 2,048) thins the curve anew: its points are replaced, not appended to.
    closing = (len(big_history) // 2048) * 2048
    old, new = f.loss_figure(cut(big_history, closing - 1), 0.6), f.loss_figure(cut(big_history, closing), 0.6)
    shape = patches.trace_shape(old)
    assert patches.append_plan(shape, new) is None  # the thinned curve was picked anew
    plan = patches.replace_plan(shape, new)
    assert {0, 1} <= {index for index, _ in plan}  # train loss (raw and smoothed) changed
    index, values = plan[0]
    assert values["x"] == list(new.data[0].x) and values["y"] == list(new.data[0].y)
    assert patches.replace_plan(patches.trace_shape(new), new) == []
    assert patches.replace_plan(shape, f.loss_figure(cut(big_history, closing), 0.0)) is None  # other traces: whole figure


# ------------------------------------------- what one chart update sends (training_progress)

ANSWER_LIMIT = 300_000  # bytes per update to the browser (issue #7)
OUTPUT_IDS = ("bar.value", "bar.label", "bar-text.children", "loss-graph.figure", "accuracy-graph.figure",
              "drawn.data", "charts.style", "no-metrics.style")


def answer_bytes(outputs):
    """The JSON body Dash sends for these outputs (no_update ones are left out, as Dash does)."""
    from dash import no_update
    from plotly.io.json import to_json_plotly

    response = {}
    for name, value in zip(OUTPUT_IDS, outputs):
        if value is not no_update:
            component, prop = name.split(".")
            response.setdefault(component, {})[prop] = value
    return len(to_json_plotly({"multi": True, "response": response}).encode())


def store_for(job_id="ftjob-big", status="running"):
    return {"job_id": job_id, "job": {"id": job_id, "status": status, "created_at": T0},
            "checkpoints": [checkpoint(25_000), checkpoint(50_000, train_loss=1.5)]}


def grown(history, steps):
    """``history`` and its next ``steps`` steps (a live job's new points)."""
    last = history.steps[-1]
    new = [{"step": last + i, "time": T0 + (last + i) * 0.7, "train_loss": 0.3, "train_mean_token_accuracy": 0.8}
           for i in range(1, steps + 1)]
    return history.merge_rows(new)


@pytest.mark.parametrize("x", ["step", "elapsed"])
def test_answer001_updates_of_a_100k_step_job_stay_under_300_kb(big_history, x):
    from dash import Patch

    from fakeai_dash.components.training_progress import progress_outputs

    view = {"smoothing": 0.6, "log": False, "x": x}
    first = progress_outputs(store_for(), view, None, big_history)
    assert isinstance(first[3], go.Figure) and isinstance(first[4], go.Figure)
    assert answer_bytes(first) <= ANSWER_LIMIT
    drawn = first[5]

    # One more step: the thinned curves are picked anew; only their points travel.
    bigger = grown(big_history, 1)
    tick = progress_outputs(store_for(), view, drawn, bigger)
    assert isinstance(tick[3], Patch) and isinstance(tick[4], Patch)
    assert answer_bytes(tick) <= ANSWER_LIMIT
    assert answer_bytes(tick) < answer_bytes(first)

    # A zoom re-reads the range at full resolution and sends only the zoomed graph's points.
    zoom = progress_outputs(store_for(), view, tick[5], bigger, zoom=zoom_store(loss=(100, 900)))
    assert isinstance(zoom[3], Patch) and zoom[4] is no_update_value()
    # The other outputs are answered too: if this call overtook a tick's, the tick's answer is lost.
    assert zoom[:3] == tick[:3] and zoom[6:] == tick[6:] and zoom[0] is not no_update_value()
    assert answer_bytes(zoom) <= ANSWER_LIMIT
    operations = zoom[3].to_plotly_json()["operations"]
    x_values = next(op["params"]["value"] for op in operations if op["location"] == ["data", 0, "x"])
    assert len(x_values) >= 800  # every step of [100, 900] (and its elapsed seconds)
    assert zoom[5]["ranges"]["loss"]["range"] == [100, 900]


def zoom_store(seq=1, **ranges):
    """The zoom store after zooming ``graph=(low, high)`` (what the clientside filter keeps)."""
    return {graph: {"relayout": {"xaxis.range[0]": low, "xaxis.range[1]": high}, "seq": seq}
            for graph, (low, high) in ranges.items()}


def no_update_value():
    from dash import no_update

    return no_update


@pytest.mark.parametrize("x", ["step", "elapsed"])
def test_answer003_a_100k_step_live_job_sends_only_its_new_points_between_re_thinnings(big_history, x):
    # The thinned curve stays as drawn while the newest block fills (downsample.tail_stride):
    # a refresh of a 100,000-step job carries its new steps, not 100 KB of re-picked points.
    from fakeai_dash.components.training_progress import progress_outputs

    view = {"smoothing": 0.6, "log": False, "x": x}
    # 95,000-odd steps, just past a block boundary (a 10× span, like 100,000, rounds x anew: a rare full update).
    live = cut(big_history, 95_000 - 95_000 % 2048 + 5)
    first = progress_outputs(store_for(), view, None, live)
    tick = progress_outputs(store_for(), view, first[5], grown(live, 3))
    for figure in (tick[3], tick[4]):
        operations = figure.to_plotly_json()["operations"]
        assert {op["operation"] for op in operations} == {"Extend"}
        assert all(len(op["params"]["value"]) == 3 for op in operations)
    assert answer_bytes(tick) < 5_000


def test_answer002_a_live_job_under_the_budget_sends_only_its_new_points():
    from fakeai_dash.components.training_progress import progress_outputs

    steps = np.arange(1, 1001, dtype=np.float64)
    history = MetricHistory(steps, T0 + steps, {"train_loss": 2 - steps / 1000, "train_mean_token_accuracy": steps / 2000})
    view = {"smoothing": 0.6, "log": False, "x": "step"}
    first = progress_outputs(store_for(), view, None, history)
    tick = progress_outputs(store_for(), view, first[5], grown(history, 5))
    operations = tick[3].to_plotly_json()["operations"]
    assert {op["operation"] for op in operations} == {"Extend"}
    assert all(len(op["params"]["value"]) == 5 for op in operations)
    assert answer_bytes(tick) < 5_000
    # Nothing new: nothing sent for the charts.
    quiet = progress_outputs(store_for(), view, tick[5], grown(history, 5))
    assert quiet[3] is no_update_value() and quiet[4] is no_update_value() and quiet[5] is no_update_value()


# ----------------------------------------------- training_progress: zoom, loading, progress


@pytest.mark.parametrize("relayout, expected", [
    ({"xaxis.range[0]": 120.5, "xaxis.range[1]": 80}, ("range", [80.0, 120.5])),
    ({"xaxis.range": [10, 20], "yaxis.range": [0, 1]}, ("range", [10.0, 20.0])),
    ({"xaxis.autorange": True, "yaxis.autorange": True}, ("auto", None)),
    ({"yaxis.range[0]": 0, "yaxis.range[1]": 2}, ("none", None)),
    ({"autosize": True}, ("none", None)),
    (None, ("none", None)),
    ({"xaxis.range[0]": "abc", "xaxis.range[1]": 3}, ("none", None)),
    ({"xaxis.range[0]": 5, "xaxis.range[1]": 5}, ("none", None)),
])
def test_relayout_x_range(relayout, expected):
    from fakeai_dash.components.training_charts import relayout_x_range

    assert relayout_x_range(relayout) == expected


def test_zoom_is_kept_across_ticks_and_dropped_with_the_axis_or_a_reset(big_history):
    from fakeai_dash.components.training_charts import chart_updates

    view = {"smoothing": 0.6, "log": False, "x": "step"}
    _, drawn = chart_updates(store_for(), view, None, big_history)
    zoom = zoom_store(loss=(10, 20))
    _, drawn = chart_updates(store_for(), view, drawn, big_history, zoom=zoom)
    figures, drawn = chart_updates(store_for(), view, drawn, grown(big_history, 3), zoom=zoom)  # a tick
    assert drawn["ranges"]["loss"]["range"] == [10, 20] and drawn["loss"]["lengths"][0] == 13
    assert figures["loss"] is no_update_value()  # the zoomed range did not change
    # The log switch is another uirevision: Plotly unzooms, so do we.
    _, log_drawn = chart_updates(store_for(), {**view, "log": True}, drawn, big_history, zoom=zoom)
    assert log_drawn["ranges"]["loss"]["range"] is None and log_drawn["loss"]["lengths"][0] > 1000
    # Smoothing keeps the zoom (same uirevision) and swaps only the points.
    smoother, drawn = chart_updates(store_for(), {**view, "smoothing": 0.9}, drawn, big_history, zoom=zoom)
    assert drawn["ranges"]["loss"]["range"] == [10, 20] and type(smoother["loss"]).__name__ == "Patch"
    # Double-click: the whole run again.
    zoom["loss"] = {"relayout": {"xaxis.autorange": True}, "seq": 2}
    reset, drawn = chart_updates(store_for(), {**view, "smoothing": 0.9}, drawn, big_history, zoom=zoom)
    assert drawn["ranges"]["loss"]["range"] is None and drawn["loss"]["ends"][0] == [1, BIG]


def test_loading_history_note_and_charts_shown_while_loading():
    from fakeai_dash.components.training_progress import loading_note, progress_outputs

    assert loading_note(0.4) == "Loading history 40%" and loading_note(1.0) is None
    assert loading_note(0.999) == "Loading history 99%" and loading_note(None) is None
    view = {"smoothing": 0.6, "log": False, "x": "step"}
    steps = np.arange(5001, 5101, dtype=np.float64)
    partial = MetricHistory(steps, T0 + steps, {"train_loss": 1 / steps})
    outputs = progress_outputs(store_for(), view, None, partial, loaded=0.4)
    assert [a.text for a in outputs[3].layout.annotations] == ["Loading history 40%"]
    # More loaded: only the note (and the points that arrived) change.
    older = partial.merge_rows([{"step": 5000.0, "time": T0 + 5000, "train_loss": 0.5}])
    later = progress_outputs(store_for(), view, outputs[5], older, loaded=0.6)
    operations = later[3].to_plotly_json()["operations"]
    assert any(op["location"] == ["layout", "annotations"] and op["params"]["value"][0]["text"] == "Loading history 60%"
               for op in operations)
    done = progress_outputs(store_for(), view, later[5], older, loaded=1.0)
    assert any(op["location"] == ["layout", "annotations"] and op["params"]["value"] == []
               for op in done[3].to_plotly_json()["operations"])
    # Nothing known yet but still loading: the charts say so instead of "no metrics".
    empty = progress_outputs(store_for(), view, None, None, loaded=0.1)
    assert empty[6] == {} and empty[7] == {"display": "none"}
    assert empty[3].layout.annotations[0].text == "Loading history 10%"
    never = progress_outputs(store_for(status="failed"), view, None, None, loaded=1.0)
    assert never[6] == {"display": "none"} and never[7] == {}


def test_progress_comes_from_the_history_when_the_store_has_no_events():
    from fakeai_dash.components.training_progress import progress_outputs

    steps = np.arange(1, 20_001, dtype=np.float64)
    history = MetricHistory(steps, T0 + steps, {"train_loss": 1 / steps}, total_steps=40_000)
    outputs = progress_outputs(store_for(), {"smoothing": 0.0, "log": False, "x": "step"}, None, history)
    assert outputs[:3] == (50.0, "50%", "Step 20000 / 40000 · 50%")


# ------------------------------------------------ render_progress, called as the callback


@pytest.fixture
def callback_app(httpserver, make_app):
    """An app reading the test's httpserver, and a way to call render_progress with a trigger."""
    import re

    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    from fakeai_dash.components import training_progress

    def call(prop_id, *args):
        app = make_app(httpserver.url_for("").rstrip("/"))
        token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        try:
            with app.server.test_request_context():
                return training_progress.render_progress(*args)
        finally:
            context_value.reset(token)

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_json(
        {"error": {"message": "No such job", "type": "invalid_request_error", "param": None, "code": None}},
        status=404)
    return call


def test_render_progress_draws_from_the_picture_and_never_asks_the_api(callback_app, httpserver):
    # The API answers only errors: a chart render that asked it would show it. Nothing asks.
    outputs = callback_app("job-detail-store.data", store_for(), 0.6, False, "step", None, [], None)
    assert len(outputs) == 8 and outputs != (no_update_value(),) * 8
    assert len(httpserver.log) == 0


def test_a_zoom_is_applied_once_and_again_if_its_answer_was_dropped(big_history):
    from fakeai_dash.components.training_charts import chart_updates, pending_zooms

    view = {"smoothing": 0.6, "log": False, "x": "step"}
    _, drawn = chart_updates(store_for(), view, None, big_history)
    zoom = zoom_store(loss=(100, 200))
    assert pending_zooms(zoom, drawn) == {"loss": {"action": "range", "range": [100.0, 200.0], "seq": 1}}
    figures, zoomed = chart_updates(store_for(), view, drawn, big_history, zoom=zoom)
    assert type(figures["loss"]).__name__ == "Patch" and zoomed["ranges"]["loss"]["seq"] == 1
    assert pending_zooms(zoom, zoomed) == {}  # taken: a later tick does not take it again
    # A tick that overtook the zoom's call (whose answer Dash then dropped) still applies it.
    figures, overtaken = chart_updates(store_for(), view, drawn, grown(big_history, 1), zoom=zoom)
    assert overtaken["ranges"]["loss"]["range"] == [100.0, 200.0]
    assert overtaken["loss"]["ends"][0] == [99, 201]
    # A zoom recorded for another job is not carried over to the next one.
    other, other_drawn = chart_updates({**store_for("ftjob-other")}, view, zoomed, big_history, zoom=zoom)
    assert patches.trace_shape(other["loss"])["ends"][0] == [1, BIG]
    _, other_drawn = chart_updates({**store_for("ftjob-other")}, view, other_drawn, big_history, zoom=zoom)
    assert other_drawn["ranges"]["loss"]["range"] is None and other_drawn["loss"]["ends"][0] == [1, BIG]


def test_chart_redraws_never_send_their_graphs_up(httpserver, make_app):
    # A server callback's Inputs travel in every request: a graph container's children as an
    # Input would send the drawn figures up with each redraw (108 KB per tick of a long job).
    from fakeai_dash import ids

    app = make_app(httpserver.url_for("").rstrip("/"))
    app.server.test_client().get("/_dash-dependencies")  # Dash adopts the callbacks on first serve
    containers = {ids.TrainingProgress.CHARTS, ids.JobComparison.GRAPH_BOX}
    sent_up = [(key, dep) for key, spec in app.callback_map.items() if "callback" in spec
               for dep in (*spec["inputs"], *spec["state"]) if dep["id"] in containers]
    drawing = [key for key in app.callback_map if "loss-graph.figure" in key or "compare-loss-graph.figure" in key]
    assert len(drawing) >= 2 and sent_up == []
