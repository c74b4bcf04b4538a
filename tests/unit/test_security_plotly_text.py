"""API text in Plotly figures is escaped: Plotly renders <a href>, <span style>, <b> and entities
in trace names, hover text and titles, and fills "%{...}" in hovertemplates."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeai_dash import figures as f
from fakeai_dash import comparison as c
from fakeai_dash.format import plotly_template_text, plotly_text
from tests.support.histories import history_of

T0 = 1_790_000_000
HOSTILE = '<a href="javascript:alert(1)">x</a><span style="font-size:90px">&amp;%{y}</span>'
# The only tags our own figures put in text: Plotly's <extra> box and a <br> line break.
OUR_TAGS = re.compile(r"</?extra>|<br>")


def points(values, start_step=10):
    return [(start_step + 10 * i, v, T0 + 3 * i) for i, v in enumerate(values)]


def markup_left(text: str) -> str:
    """``text`` without our own tags: whatever '<' remains came from the API unescaped."""
    return OUR_TAGS.sub("", text or "")


@given(st.text())
def test_sec_text001_escaped_text_has_no_markup_and_decodes_back(text):
    escaped = plotly_text(text)
    assert "<" not in escaped and ">" not in escaped
    # Plotly decodes &amp; &lt; &gt; (and &#37;) when it draws: what shows is the original text.
    decoded = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert decoded == text
    template = plotly_template_text(text)
    assert "%" not in template and template.replace("&#37;", "%") == escaped


def test_sec_text002_a_metric_named_by_the_api_is_text_in_legend_and_hover():
    name = "train_loss" + HOSTILE
    for smoothing in (0.0, 0.6):
        figure = f.loss_figure(history_of({name: points([2.0, 1.5, 1.0])}), smoothing=smoothing)
        assert figure.data, "the metric was not drawn"
        for trace in figure.data:
            assert "<" not in trace.name  # a legend name is no template: its "%{y}" stays text
            hover = markup_left(trace.hovertemplate)
            assert "<" not in hover
            # The template's own fields stay; the API's "%{y}" does not become one.
            assert hover.count("%{") == trace.hovertemplate.count("%{") and "&#37;{y}" in hover


def test_sec_text003_a_checkpoint_model_name_is_text_in_the_hover():
    checkpoint = {"id": "ftckpt-1", "created_at": T0, "step_number": 20,
                  "fine_tuned_model_checkpoint": "ft:m:" + HOSTILE, "metrics": {"train_loss": 1.5}}
    figure = f.loss_figure(history_of({"train_loss": points([2.0, 1.5, 1.0])}), checkpoints=[checkpoint])
    [marker] = [t for t in figure.data if t.name == f.CHECKPOINT_TRACE]
    shown = marker.customdata[0][2]
    assert "<" not in shown and shown == plotly_text("ft:m:" + HOSTILE)


def test_sec_text004_a_compared_jobs_name_is_text_in_legend_and_hover():
    runs = [{"id": "ftjob-1", "name": HOSTILE + " (this job)",
             "series": {"train_loss": [[10, 2.0], [20, 1.5]], "valid_loss": [[10, 2.1], [20, 1.7]]}},
            {"id": "ftjob-2", "name": "peer", "series": {"train_loss": [[10, 2.2], [20, 1.6]]}}]
    figure = c.comparison_figure(runs)
    mine = [t for t in figure.data if t.legendgroup == "ftjob-1"]
    assert len(mine) == 2
    for trace in mine:
        assert trace.name.startswith(plotly_text(HOSTILE)) and "<" not in trace.name
        hover = markup_left(trace.hovertemplate)
        assert "<" not in hover and "%{y}" not in hover.split("(raw")[1]
    assert [t.name for t in figure.data if t.legendgroup == "ftjob-2"] == ["peer · train"]


@pytest.mark.parametrize("name", ["train_loss", "valid_loss", "full_valid_loss"])
def test_sec_text005_ordinary_names_are_unchanged(name):
    figure = f.loss_figure(history_of({name: points([2.0, 1.5, 1.0])}))
    assert [t.name for t in figure.data] == [name]
