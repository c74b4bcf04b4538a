"""Budgets in the create dialog against a real FakeAI server: an expensive configuration gets a
warning before submit (over the job's budget and the month's remaining budget), a cheap one
none, and the warning never blocks the submit button."""

from __future__ import annotations

import json
import os

import pytest

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, ticks

pytestmark = pytest.mark.browser

F = ids.CreateJob.FIELDS
TICK = 1.0
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")  # set it to keep screenshots for a human
WARNING = f"#{ids.Budget.WARNING}"


def chat_line(i: int) -> str:
    return json.dumps({"messages": [
        {"role": "system", "content": "You are terse. " * 20},
        {"role": "user", "content": f"What is {i} + {i}?"},
        {"role": "assistant", "content": str(2 * i)},
    ]})


def fill(dash_duo, field: str, value: str) -> None:
    element = dash_duo.find_element(f"#{F[field]}")
    element.clear()
    element.send_keys(value)


def test_budget001_expensive_configuration_warns_before_submit_and_does_not_block(private_fakeai, start_dash,
                                                                                 tmp_path):
    # $2 per 1K tokens: the dataset below is ~1.3K tokens per epoch, so about $2.6 an epoch. A FakeAI
    # of its own: the month's spend is nothing but this test's, not the jobs other tests ran to
    # success on the shared one (one was enough to spend the $12).
    dash_duo = start_dash(private_fakeai.url, "/", refresh_interval=TICK, price_per_1k_tokens={"default": 2.0},
                          budget_per_job_usd=10.0, budget_per_month_usd=12.0)
    dash_duo.wait_for_element(f"#{ids.Header.CREATE}", timeout=ticks(LOAD_TICKS, TICK)).click()
    dash_duo.wait_for_element(f".create-job-dialog.show #{ids.CreateJob.SUBMIT}", timeout=ticks(10, TICK))
    fill(dash_duo, "model", "meta-llama/Llama-3.1-8B-Instruct")
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(chat_line(i) for i in range(12)) + "\n", encoding="utf-8")
    dash_duo.find_element(f"#{ids.CreateJob.UPLOAD} input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "was uploaded as", timeout=ticks(15, TICK))

    fill(dash_duo, "n_epochs", "1")  # cheap: within both budgets
    dash_duo.wait_for_contains_text(f"#{ids.CreateJob.ESTIMATE}", "1 epoch ", timeout=ticks(10, TICK))
    one_epoch = float(dash_duo.find_element("#create-job-estimate-value").text.lstrip("$").replace(",", ""))
    assert 1.0 < one_epoch < 6.0, one_epoch  # the premise of the two cases below
    assert dash_duo.find_element(WARNING).text == ""

    fill(dash_duo, "n_epochs", "10")  # expensive: over $10 per job and the month's $12
    dash_duo.wait_for_contains_text(WARNING, "Over budget", timeout=ticks(10, TICK))
    text = dash_duo.find_element(WARNING).text
    estimate = dash_duo.find_element("#create-job-estimate-value").text
    assert f"The estimated {estimate} is over the budget of $10.00 per job." in text
    assert f"The estimated {estimate} is more than this month's remaining budget" in text and "of $12.00" in text
    assert dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").is_enabled()  # it warns; it does not block
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        dash_duo.driver.save_screenshot(f"{SHOTS}/budget-warning.png")

    fill(dash_duo, "n_epochs", "2")  # back under both budgets: the warning goes
    dash_duo.wait_for_contains_text(f"#{ids.CreateJob.ESTIMATE}", "2 epochs", timeout=ticks(10, TICK))
    dash_duo.wait_for_text_to_equal(WARNING, "", timeout=ticks(10, TICK))
    assert dash_duo.get_logs() == []
