"""The NVIDIA palettes (dark and light) and the status colours every panel shares.

This module is the palette's one source: the figures read it directly, and assets/theme.css
declares the same values as CSS custom properties per theme (tests/unit/test_theme.py holds
the two together). The dark names below (GREEN, SURFACE_0, ...) are the dark palette's.
"""

from __future__ import annotations

from fakeai_dash.api.models import ACTIVE_STATUSES
from fakeai_dash.i18n import N_, _

GREEN = "#76b900"
GREEN_DARK = "#669900"
GREEN_LIGHT = "#8acc00"
SURFACE_0 = "#0a0a0a"
SURFACE_1 = "#1a1a1a"
SURFACE_2 = "#2a2a2a"
BORDER = "#3a3a3a"
TEXT = "#ffffff"
TEXT_MUTED = "#b3b3b3"
TEXT_DIM = "#666666"

# One colour per documented status (plus the ones OpenAI and Azure add); assets/theme.css
# mirrors these as .status-<name> classes for badges in the grid and the panels.
STATUS_COLORS = {
    "validating_files": "#f0ad4e",
    "queued": "#5bc0de",
    "running": "#3b82f6",
    "succeeded": GREEN,
    "failed": "#ef4444",
    "cancelled": "#9ca3af",
    "paused": "#a78bfa",
    "pending": "#5bc0de",
}

# -- themes ------------------------------------------------------------------------------------

DARK, LIGHT = "dark", "light"
THEMES = (DARK, LIGHT)
DEFAULT_THEME = DARK

# Per theme: the CSS custom property (without "--") -> value. Text tokens meet WCAG AA (4.5:1)
# on every surface of their theme; "accent-text" is the green that text and thin lines use
# (the brand green itself is 2.4:1 on white, so the light theme writes green text darker).
PALETTES: dict[str, dict[str, str]] = {
    DARK: {
        "nvidia-green": GREEN, "nvidia-green-dark": GREEN_DARK, "nvidia-green-light": GREEN_LIGHT,
        "accent-text": GREEN_LIGHT, "brand-text": GREEN, "focus-ring": GREEN_LIGHT,
        "page-bg": "#000000", "surface-0": SURFACE_0, "surface-1": SURFACE_1, "surface-2": SURFACE_2,
        "border": BORDER, "text-primary": TEXT, "text-secondary": TEXT_MUTED,
        # TEXT_DIM (#666) is 3.0:1 on the cards: text takes this grey, rules and marks keep #666.
        "text-dim": "#949494", "mark-dim": TEXT_DIM,
        "danger": "#ef4444", "danger-text": "#f87171", "warning": "#f0ad4e", "warning-text": "#f0ad4e",
        "info-text": "#5bc0de", "running-text": "#60a5fa", "cancelled-text": "#9ca3af", "paused-text": "#a78bfa",
        "alert-text": "#ffb000", "grid-odd-row": "#161616", "grid-odd-row-deep": "#111111",
    },
    LIGHT: {
        "nvidia-green": GREEN, "nvidia-green-dark": GREEN_DARK, "nvidia-green-light": GREEN_LIGHT,
        "accent-text": "#3f6b00", "brand-text": "#3f6b00", "focus-ring": "#3f6b00",
        "page-bg": "#f3f4f1", "surface-0": "#f8f9f6", "surface-1": "#ffffff", "surface-2": "#e9ebe6",
        "border": "#c9cec2", "text-primary": "#111111", "text-secondary": "#4d4d4d",
        "text-dim": "#5c5c5c", "mark-dim": "#8c9386",
        "danger": "#c62828", "danger-text": "#b91c1c", "warning": "#b45309", "warning-text": "#92400e",
        "info-text": "#0e7490", "running-text": "#1d4ed8", "cancelled-text": "#4b5563", "paused-text": "#6d28d9",
        "alert-text": "#92400e", "grid-odd-row": "#f8f9f6", "grid-odd-row-deep": "#f1f2ee",
    },
}


def normalize_theme(theme: object) -> str:
    """A theme name from the browser (untrusted): "light" or "dark", anything else the default."""
    return theme if theme in THEMES else DEFAULT_THEME


def palette(theme: object) -> dict[str, str]:
    return PALETTES[normalize_theme(theme)]

STATUS_GROUPS = {
    "active": tuple(sorted(ACTIVE_STATUSES)),
    "succeeded": ("succeeded",),
    "failed": ("failed",),
    "cancelled": ("cancelled",),
}


# Status names as the page shows them (an unknown status from the API is shown as it came).
STATUS_NAMES = {"validating_files": N_("validating files"), "queued": N_("queued"), "running": N_("running"),
                "succeeded": N_("succeeded"), "failed": N_("failed"), "cancelled": N_("cancelled"),
                "paused": N_("paused"), "pending": N_("pending"), None: N_("unknown")}


def status_label(status: str | None) -> str:
    if status in STATUS_NAMES:
        return _(STATUS_NAMES[status])
    return (status or "unknown").replace("_", " ")


def status_class(status: str | None) -> str:
    """CSS class of a status badge; unknown statuses get a neutral one."""
    return f"status-{status}" if status in STATUS_COLORS else "status-other"
