"""Budgets: the month's spend from the jobs list, and the create dialog's warnings (pure logic).

Costs come from pricing.py, the same table the cost panel uses; budgets are settings
(FAKEAI_DASH_BUDGET_PER_JOB_USD, FAKEAI_DASH_BUDGET_PER_MONTH_USD) and only ever warn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from fakeai_dash import format as fmt
from fakeai_dash.i18n import _
from fakeai_dash.pricing import training_cost


def month_start(now: float) -> float:
    """Epoch seconds of the first instant of ``now``'s calendar month, in UTC."""
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    return day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_spend(rows: Iterable[Mapping[str, Any]], price_table: Mapping[str, float] | None, now: float) -> float:
    """Dollars of the jobs created this month (UTC): their trained tokens at the table's price.

    A job the API has not counted tokens for yet (still running) adds nothing until it has."""
    start = month_start(now)
    total = 0.0
    for row in rows:
        created = row.get("created_at")
        tokens = row.get("trained_tokens")
        if not isinstance(created, (int, float)) or created < start:
            continue
        if isinstance(tokens, (int, float)) and not isinstance(tokens, bool) and tokens > 0:
            total += training_cost(tokens, row.get("model"), price_table)
    return total


def budget_warnings(projected: float | None, job_budget: float | None, month_budget: float | None,
                    month_spent: float) -> list[str]:
    """One sentence per budget the projected cost would pass (empty: within every budget)."""
    if projected is None or projected <= 0:
        return []
    warnings = []
    if job_budget is not None and projected > job_budget:
        warnings.append(_("The estimated {cost} is over the budget of {budget} per job.").format(
            cost=_usd(projected), budget=_usd(job_budget)))
    if month_budget is not None:
        remaining = max(month_budget - month_spent, 0.0)
        if projected > remaining:
            warnings.append(_("The estimated {cost} is more than this month's remaining budget: {remaining} of "
                              "{budget} ({spent} spent).").format(cost=_usd(projected), remaining=_usd(remaining),
                                                                  budget=_usd(month_budget), spent=_usd(month_spent)))
    return warnings


def _usd(amount: float) -> str:
    # Cents, whatever the amount: a budget sentence does not need format.money's four decimals.
    return fmt.money_cents(amount)
