"""Pure rules for keeping the jobs list: merge pages by id, order newest first, know what is active."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash.api.models import FINISHED_STATUSES


def order_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, ties by id, so every worker and every refresh lists jobs the same way."""
    return sorted((dict(r) for r in rows), key=lambda r: (-(r.get("created_at") or 0), str(r.get("id"))))


def unique_by_id(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """First occurrence of each id wins: a job that moved across a page boundary is listed once."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row.get("id") in seen:
            continue
        seen.add(row.get("id"))
        kept.append(dict(row))
    return kept


def merge_rows(known: Iterable[Mapping[str, Any]], fresh: Iterable[Mapping[str, Any]],
               gone: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``known`` updated with ``fresh`` rows (fresh wins), minus the ids in ``gone``."""
    by_id = {row["id"]: dict(row) for row in known}
    for row in fresh:
        by_id[row["id"]] = dict(row)
    for job_id in gone:
        by_id.pop(job_id, None)
    return order_rows(by_id.values())


def active_ids(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Jobs whose state can still change: re-checked every round even when off the newest page.
    An undocumented status counts as active: it may move on, and checking costs little."""
    return [row["id"] for row in rows if row.get("status") not in FINISHED_STATUSES]
