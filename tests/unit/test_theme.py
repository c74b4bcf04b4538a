"""The two themes: one palette source (theme.py) that the CSS mirrors, text that meets WCAG AA on
every surface of its theme, one Plotly template per theme, and figures cached per theme."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import fakeai_dash.figures as f
from fakeai_dash import comparison as c
from fakeai_dash.theme import plotly_templates as templates
from fakeai_dash.components.training_progress import progress_outputs
from fakeai_dash.series import MetricHistory
from fakeai_dash.theme import GREEN, PALETTES, THEMES, normalize_theme, palette
from tests.support.histories import history_of

THEME_CSS = Path(__file__).resolve().parents[2] / "assets" / "theme.css"
SELECTORS = {"dark": ':root, [data-bs-theme="dark"]', "light": '[data-bs-theme="light"]'}
TEXT_TOKENS = ("text-primary", "text-secondary", "text-dim", "accent-text", "brand-text", "danger-text",
               "warning-text", "info-text", "running-text", "cancelled-text", "paused-text", "alert-text")
SURFACES = ("page-bg", "surface-0", "surface-1")
T0 = 1_700_000_000.0


def luminance(color: str) -> float:
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_block(theme: str) -> dict[str, str]:
    css = THEME_CSS.read_text(encoding="utf-8")
    body = css.split(SELECTORS[theme] + " {", 1)[1].split("}", 1)[0]
    return dict(re.findall(r"--([\w-]+):\s*([^;]+);", body))


@pytest.mark.parametrize("theme", THEMES)
def test_theme001_css_custom_properties_mirror_the_palette(theme):
    declared = css_block(theme)
    assert {name: declared.get(name) for name in PALETTES[theme]} == PALETTES[theme]


@pytest.mark.parametrize("theme", THEMES)
def test_theme002_every_text_colour_meets_aa_on_every_surface(theme):
    colors = palette(theme)
    failing = {(text, surface): round(contrast(colors[text], colors[surface]), 2)
               for text in TEXT_TOKENS for surface in SURFACES if contrast(colors[text], colors[surface]) < 4.5}
    assert failing == {}


def test_theme003_unknown_theme_names_fall_back_to_dark():
    assert [normalize_theme(v) for v in ("light", "dark", None, "LIGHT", "<script>", 1)] == [
        "light", "dark", "dark", "dark", "dark", "dark"]


def test_theme004_one_template_per_theme_from_the_palette():
    assert (templates.register_template("dark"), templates.register_template("light")) == ("nvidia", "nvidia_light")
    for theme in THEMES:
        layout = pio.templates[templates.TEMPLATE_NAMES[theme]].layout
        assert (layout.paper_bgcolor, layout.plot_bgcolor, layout.font.color) == (
            palette(theme)["surface-1"], palette(theme)["surface-0"], palette(theme)["text-secondary"])


def test_theme005_light_figures_draw_every_line_and_mark_at_3_to_1():
    series = history_of({"train_loss": [[1, 2.0], [2, 1.5]], "valid_loss": [[1, 2.1], [2, 1.7]], "full_valid_loss": [[2, 1.6]]})
    figure = f.loss_figure(series, theme="light", alerts=[{"step": 2, "title": "stall", "kind": "stall"}])
    plot_bg = palette("light")["surface-0"]
    colors = [t.line.color or t.marker.color for t in figure.data] + [s.line.color for s in figure.layout.shapes]
    assert all(contrast(color, plot_bg) >= 3 for color in colors), colors
    assert figure.layout.template.layout.paper_bgcolor == "#ffffff"
    # The dark figure keeps the brand green: "dark as it is now".
    assert f.loss_figure(series).data[0].line.color == GREEN
    assert [c.comparison_color(i, "light") for i in range(3)] == [templates.themed(c.comparison_color(i), "light")
                                                                  for i in range(3)]


def test_theme006_figures_are_cached_per_theme_and_a_switch_redraws_them_whole():
    steps = np.arange(1, 51, dtype=np.float64)
    history = MetricHistory(steps, T0 + steps, {"train_loss": 2 - steps / 100}, version="v-theme")
    store = {"job_id": "ftjob-theme", "job": {"id": "ftjob-theme", "status": "running", "created_at": T0},
             "checkpoints": []}
    view = {"smoothing": 0.0, "log": False, "x": "step"}
    dark = progress_outputs(store, {**view, "theme": "dark"}, None, history)
    light = progress_outputs(store, {**view, "theme": "light"}, dark[5], history)
    # The same history version: the light call did not get the dark figure from the cache, and
    # it sent whole figures (not a no_update or a Patch of points) to the graphs drawn dark.
    assert isinstance(dark[3], go.Figure) and isinstance(light[3], go.Figure)
    assert dark[3].layout.template.layout.paper_bgcolor == palette("dark")["surface-1"]
    assert light[3].layout.template.layout.paper_bgcolor == palette("light")["surface-1"]
    assert light[3].data[0].line.color == templates.themed(GREEN, "light")
