"""Unit tests for fakeai_dash.figures: the "nvidia" template and the loss/accuracy figures."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from fakeai_dash import figures as f
from fakeai_dash.metrics import MetricPoint, ema_smooth

T0 = 1_790_000_000


def points(values, start_step=10, every=10, t0=T0, seconds_per_point=3):
    return [MetricPoint(start_step + i * every, v, t0 + i * seconds_per_point) for i, v in enumerate(values)]


SERIES = {
    "train_loss": points([2.4, 2.0, 1.7, 1.1, 0.9]),
    "valid_loss": points([2.5, 2.2, 1.9, 1.4, 1.2]),
    "full_valid_loss": [MetricPoint(50, 1.25, T0 + 12)],
    "train_accuracy": points([0.40, 0.55, 0.61, 0.70, 0.80]),
    "learning_rate": points([1e-5] * 5),
}


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
    assert f.register_template() == "nvidia"
    assert f.register_template() == "nvidia"
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
    assert list(smoothed.y) == pytest.approx(expected)
    assert smoothed.y[1] != raw.y[1]
    # Hover shows step, raw and smoothed from customdata.
    assert [list(row) for row in smoothed.customdata][1] == pytest.approx([20, 2.0, expected[1]])
    assert "customdata[0]" in smoothed.hovertemplate and "customdata[2]" in smoothed.hovertemplate
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


def test_loss_figure_accepts_json_round_tripped_series():
    series = json.loads(json.dumps(SERIES))
    figure = f.loss_figure(series, smoothing=0.5)
    assert list(trace(figure, "train_loss (raw)").y) == [2.4, 2.0, 1.7, 1.1, 0.9]


def test_loss_figure_without_losses_is_empty_figure():
    figure = f.loss_figure({"learning_rate": SERIES["learning_rate"]})
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
    figure = f.accuracy_figure({"train_loss": SERIES["train_loss"]})
    assert len(figure.data) == 0 and figure.layout.annotations


# ------------------------------------------------------------------------- empty


def test_empty_figure_shows_message_and_hides_axes():
    figure = f.empty_figure("No metrics yet")
    assert len(figure.data) == 0
    assert figure.layout.annotations[0].text == "No metrics yet"
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert figure.layout.template.layout.plot_bgcolor == "#0a0a0a"
