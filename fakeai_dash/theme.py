"""The NVIDIA dark palette and the status colours every panel shares."""

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
UNKNOWN_STATUS_COLOR = TEXT_DIM

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
