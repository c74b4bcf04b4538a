"""Unit tests for how alerts are shown: the details banner, the loss chart's marks (and their
patch when a mark appears on a drawn chart), and the "With alerts" filter model."""

from __future__ import annotations

from fakeai_dash.components import jobs_list
from fakeai_dash.components.training_alerts import alert_banner
from fakeai_dash.components.training_charts import figure_update
from fakeai_dash.figure_patches import trace_shape
from fakeai_dash.figures import ALERT_MARK_NAME, loss_figure
from fakeai_dash.series import MetricHistory

T0 = 1_790_000_000.0
NAN = {"kind": "nan", "title": "Loss is not a number", "message": "The train loss became NaN at step 31.",
       "step": 31, "at": T0 + 310, "checkpoint": None}
BUDGET = {"kind": "budget", "title": "Over budget", "message": "Projected $12.", "step": 40, "at": None,
          "checkpoint": None}


def history():
    return MetricHistory().merge_rows([{"step": s, "time": T0 + 10 * s, "train_loss": 2.0 / s} for s in range(1, 31)])


def marks(figure):
    return ([s.x0 for s in figure.layout.shapes if s.name == ALERT_MARK_NAME],
            [a.text for a in figure.layout.annotations if a.name == ALERT_MARK_NAME])


def test_alertviews001_banner_one_box_per_alert_with_where_it_started():
    boxes = alert_banner([NAN, BUDGET, {"kind": 5}, "junk"])
    assert [box.color for box in boxes] == ["danger", "warning"]
    text = str(boxes[0].children)
    assert "The train loss became NaN at step 31." in text and "Marked on the loss chart at step 31." in text
    assert "Marked on the loss chart" not in str(boxes[1].children)  # a budget has no place on the curve
    assert alert_banner([]) is None and alert_banner(None) is None


def test_alertviews002_loss_chart_marks_the_step_or_the_elapsed_time():
    assert marks(loss_figure(history(), alerts=[NAN, BUDGET])) == ([31, 40], ["⚠ Loss is not a number", "⚠ Over budget"])
    # On the elapsed axis the mark sits at the alert's time since the first point (budget: no time).
    assert marks(loss_figure(history(), x="elapsed", alerts=[NAN, BUDGET])) == ([300.0], ["⚠ Loss is not a number"])
    assert marks(loss_figure(history())) == ([], [])
    hostile = {**NAN, "title": "<b>x</b>"}
    assert marks(loss_figure(history(), alerts=[hostile]))[1] == ["⚠ &lt;b&gt;x&lt;/b&gt;"]


def test_alertviews003_a_mark_appearing_on_a_drawn_chart_is_patched_in():
    drawn = trace_shape(loss_figure(history()))
    patch = figure_update(drawn, loss_figure(history(), alerts=[NAN])).to_plotly_json()
    operations = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    assert [s["x0"] for s in operations[("layout", "shapes")]] == [31]
    assert [a["text"] for a in operations[("layout", "annotations")]] == ["⚠ Loss is not a number"]


def test_alertviews004_with_alerts_filter_model():
    assert jobs_list.grid_filter_model("alerts") == {"alert_kinds": {"filterType": "text", "type": "notBlank"}}
    assert "status" not in jobs_list.grid_filter_model("alerts", ["m"])
