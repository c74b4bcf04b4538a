"""A job's status vocabulary and its stage timeline: when it was validated, queued, started and
finished, read from its timestamps and its events' wording (JobStatusTimeline draws it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.api.models import FINISHED_STATUSES
from fakeai_dash.i18n import N_
from fakeai_dash.wire_values import as_step, finite_number, is_metrics_event, normalize_status

Job = Mapping[str, Any]
Event = Mapping[str, Any]

# The wire module owns the status vocabulary.
TERMINAL_STATUSES = tuple(sorted(FINISHED_STATUSES))
PRE_TERMINAL_STAGES = ("validating_files", "queued", "running")
KNOWN_STATUSES = (*PRE_TERMINAL_STAGES, "paused", *TERMINAL_STATUSES)

STAGE_LABELS = {
    "validating_files": N_("Validating files"),
    "queued": N_("Queued"),
    "running": N_("Running"),
    "paused": N_("Paused"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


_STAGE_PATTERNS = {
    "validating_files": re.compile(r"\bvalidating\b|job created|created fine-tuning job", re.I),
    "queued": re.compile(
        r"\bfiles? (were |have been )?validated|validation (passed|succeeded|complete)|\bqueued\b", re.I
    ),
    "running": re.compile(
        r"training started|started training|(fine-tuning )?job started|training (is )?running"
        r"|\bstep\s+\d+\s*/\s*\d+",
        re.I,
    ),
    "paused": re.compile(r"\bpaused\b", re.I),
    "resumed": re.compile(r"\bresum(ed|ing)\b", re.I),
    "succeeded": re.compile(
        r"completed successfully|successfully completed|\bsucceeded\b|training (has )?(completed|finished)"
        r"|(fine-tuning )?job (has )?(completed|finished)",
        re.I,
    ),
    "failed": re.compile(r"\bfail(ed|ure)\b", re.I),
    "cancelled": re.compile(r"\bcancel(l)?ed\b|\bcancellation\b", re.I),
}


def stage_marks(job: Job, events: Iterable[Event]) -> dict[str, float]:
    """Epoch seconds at which each stage was first seen, from job fields and event messages."""
    marks: dict[str, float] = {}
    for event in events or ():
        at = finite_number(event.get("created_at"))
        if at is None:
            continue
        message = str(event.get("message") or "")
        for stage, pattern in _STAGE_PATTERNS.items():
            if stage not in marks and pattern.search(message):
                marks[stage] = at
        # FakeAI logs a step-0 metrics event at creation, so only later steps prove training ran.
        if "running" not in marks and is_metrics_event(event):
            if (as_step(event["data"].get("step")) or 0) > 0:
                marks["running"] = at
    created = finite_number(job.get("created_at"))
    if created is not None:
        marks["validating_files"] = created
    finished = finite_number(job.get("finished_at"))
    status = normalize_status(job.get("status"))
    if status in TERMINAL_STATUSES and finished is not None:
        marks[status] = finished
    return marks


def stage_timeline(job: Job, events: Iterable[Event], now: float) -> list[dict[str, Any]]:
    """Ordered stages ``{"name","label","state","start","end","duration"}``.

    Stages run validating_files → queued → running → (paused, if ever seen) →
    terminal. State is "done", "current", "pending" or "skipped" (stages a finished
    job never reached). An unrecognised status becomes the current stage under its
    raw name, placed after the last stage the events prove was reached.
    """
    events = list(events or ())
    raw_status = str(job.get("status") or "unknown")
    status = normalize_status(raw_status)
    marks = stage_marks(job, events)
    names = list(PRE_TERMINAL_STAGES)
    if status == "paused" or "paused" in marks:
        names.append("paused")
    if status not in KNOWN_STATUSES:
        reached = [i for i, name in enumerate(names) if name in marks]
        names.insert(max(reached, default=0) + 1, status)
    names.append(status if status in TERMINAL_STATUSES else "succeeded")

    states = _stage_states(names, status, marks)
    stages = []
    for index, name in enumerate(names):
        state = states[index]
        start = marks.get(name) if state in ("done", "current") else None
        label = STAGE_LABELS.get(name, raw_status if name == status else name)
        stages.append(
            {"name": name, "label": label, "state": state, "start": start, "end": None, "duration": None}
        )
    _fill_ends(stages, marks, now)
    return stages


def _stage_states(names: list[str], status: str, marks: Mapping[str, float]) -> list[str]:
    terminal_index = len(names) - 1
    if status in TERMINAL_STATUSES:
        last_reached = max((i for i, n in enumerate(names[:-1]) if n in marks), default=0)
        return ["done" if i <= last_reached or i == terminal_index else "skipped" for i in range(len(names))]
    current = names.index(status)
    states = []
    for index, name in enumerate(names):
        if index < current:
            states.append("done")
        elif index == current:
            states.append("current")
        elif name == "paused" and "resumed" in marks:
            # A pause that was resumed already happened even though it sorts after running.
            states.append("done")
        else:
            states.append("pending")
    return states


def _fill_ends(stages: list[dict[str, Any]], marks: Mapping[str, float], now: float) -> None:
    for index, stage in enumerate(stages):
        start = stage["start"]
        if stage["state"] == "current":
            stage["duration"] = max(0.0, now - start) if start is not None else None
            continue
        if stage["state"] != "done":
            continue
        if index == len(stages) - 1:
            stage["end"] = start  # the terminal stage is an instant, not a span
            continue
        end = marks.get("resumed") if stage["name"] == "paused" else None
        if end is None:
            following = next((s for s in stages[index + 1 :] if s["state"] != "skipped"), None)
            end = following["start"] if following else None
        stage["end"] = end
        if start is not None and end is not None:
            stage["duration"] = max(0.0, end - start)
