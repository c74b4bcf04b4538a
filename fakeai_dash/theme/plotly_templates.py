"""The Plotly templates of the two themes ("nvidia" dark, "nvidia_light"), drawn from the palettes
beside them (fakeai_dash.theme), and the light theme's darker line colours."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from fakeai_dash.theme import GREEN, GREEN_DARK, GREEN_LIGHT, TEXT, TEXT_MUTED, normalize_theme, palette

TEMPLATE_NAME = "nvidia"
TEMPLATE_NAMES = {"dark": TEMPLATE_NAME, "light": "nvidia_light"}

# Greens first (the brand), then colours distinct enough for extra metric lines.
COLORWAY = [GREEN, GREEN_LIGHT, GREEN_DARK, TEXT_MUTED, "#4da3ff", "#ffb000", "#e5484d", "#a78bfa"]

FONT_FAMILY = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# The light theme draws the same roles darker: the brand green is 2.4:1 on white, and a chart's
# lines and marks need 3:1 (WCAG 1.4.11). Unlisted colours are drawn as they are.
LIGHT_COLORS = {GREEN: "#3f6b00", GREEN_LIGHT: "#669900", GREEN_DARK: "#4f8a00", TEXT: "#111111",
                TEXT_MUTED: "#4d4d4d", "#4da3ff": "#1f6fd1", "#ffb000": "#a15c00", "#e5484d": "#c62828",
                "#a78bfa": "#7c3aed"}


def themed(color: str | None, theme: str = "dark") -> str | None:
    """``color`` (a dark-palette colour) as the ``theme`` draws it."""
    return LIGHT_COLORS.get(color, color) if normalize_theme(theme) == "light" and color else color


def _axis(colors: dict[str, str]) -> dict[str, Any]:
    return {
        "gridcolor": colors["surface-2"],
        "linecolor": colors["border"],
        "zerolinecolor": colors["border"],
        "tickcolor": colors["border"],
        "title": {"font": {"color": colors["text-secondary"]}},
        "automargin": True,
    }


def register_template(theme: str = "dark") -> str:
    """Register the ``theme``'s template (``plotly.io.templates["nvidia"]`` for dark,
    ``["nvidia_light"]`` for light; once, or again if it was removed) and return its name."""
    theme = normalize_theme(theme)
    name = TEMPLATE_NAMES[theme]
    if name not in pio.templates:
        pio.templates[name] = _template(theme)
    return name


def _template(theme: str = "dark") -> go.layout.Template:
    colors = palette(theme)
    layout = go.Layout(
        paper_bgcolor=colors["surface-1"],
        plot_bgcolor=colors["surface-0"],
        font={"family": FONT_FAMILY, "color": colors["text-secondary"], "size": 12},
        title={"font": {"color": colors["text-primary"], "size": 15}, "x": 0.0, "xanchor": "left"},
        colorway=[themed(color, theme) for color in COLORWAY],
        xaxis=_axis(colors),
        yaxis=_axis(colors),
        legend={"bgcolor": "rgba(0,0,0,0)", "bordercolor": colors["border"], "font": {"color": colors["text-secondary"]}},
        hoverlabel={
            "bgcolor": colors["surface-2"],
            "bordercolor": colors["border"],
            "font": {"color": colors["text-primary"], "family": FONT_FAMILY},
        },
        hovermode="x unified",
        margin={"l": 56, "r": 16, "t": 40, "b": 44},
    )
    return go.layout.Template(layout=layout)
