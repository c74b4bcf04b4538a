"""Unit tests for fakeai_dash.budgets (month's spend, warnings) and the cost panel's budget row."""

from __future__ import annotations

import datetime as dt

from fakeai_dash import budgets
from fakeai_dash.components.cost_tracker import cost_rows

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc).timestamp()
NOV_1 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc).timestamp()
TABLE = {"default": 0.01, "gpt-4o": 0.025}


def test_budgets001_month_spend_sums_this_months_jobs_at_the_price_tables_price():
    rows = [
        {"id": "a", "created_at": NOV_1, "trained_tokens": 100_000, "model": "gpt-4o-2024-08-06"},  # $2.50
        {"id": "b", "created_at": NOW - 60, "trained_tokens": 50_000, "model": "llama"},  # $0.50
        {"id": "c", "created_at": NOV_1 - 1, "trained_tokens": 1_000_000, "model": "llama"},  # October
        {"id": "d", "created_at": NOW, "trained_tokens": None, "model": "llama"},  # running: not counted yet
        {"id": "e", "created_at": None, "trained_tokens": 10, "model": "llama"},  # unknown time
    ]
    assert budgets.month_start(NOW) == NOV_1
    assert abs(budgets.month_spend(rows, TABLE, NOW) - 3.0) < 1e-9
    assert budgets.month_spend([], TABLE, NOW) == 0.0


def test_budgets002_warnings_for_each_budget_passed_and_none_at_or_under():
    assert budgets.budget_warnings(5.0, 10.0, 100.0, 20.0) == []
    assert budgets.budget_warnings(10.0, 10.0, None, 0.0) == []  # at the budget is not over it
    assert budgets.budget_warnings(10.01, 10.0, None, 0.0) == [
        "The estimated $10.01 is over the budget of $10.00 per job."]
    month = budgets.budget_warnings(15.0, None, 100.0, 90.0)
    assert month == ["The estimated $15.00 is more than this month's remaining budget: $10.00 of $100.00 "
                     "($90.00 spent)."]
    assert len(budgets.budget_warnings(50.0, 10.0, 100.0, 120.0)) == 2  # the month already overspent
    assert budgets.budget_warnings(None, 1.0, 1.0, 0.0) == []  # no estimate, no warning


def test_budgets003_cost_panel_shows_the_budget_against_the_projection_or_the_cost():
    running = {"tokens": 1000, "estimated": True, "cost": 1.0, "projected_tokens": 4000, "projected_cost": 4.0,
               "price_per_1k": 1.0}
    assert cost_rows(running, 3.0)[-1] == ("Budget", "$3.00", "over by $1.00")
    done = {**running, "estimated": False, "projected_tokens": None, "projected_cost": None}
    assert cost_rows(done, 3.0)[-1] == ("Budget", "$3.00", "$2.00 left")
    assert all(label != "Budget" for label, _, _ in cost_rows(done))
