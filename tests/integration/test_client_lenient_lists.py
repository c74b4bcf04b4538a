"""One odd item in a list never hides the rest of the list."""

from __future__ import annotations

import logging

import pytest

from fakeai_dash.api.client import ApiError, FineTuningClient


def _job(job_id, **extra):
    return {"object": "fine_tuning.job", "id": job_id, "model": "gpt-4o-mini", "status": "running",
            "created_at": 1_790_000_000, **extra}


def test_lenient001_numeric_id_is_shown_and_an_idless_job_is_skipped(httpserver, caplog):
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json({"object": "list", "has_more": False, "data": [
        _job("ftjob-ok"), _job(12345), {"object": "fine_tuning.job", "model": "no-id"}, _job("ftjob-ok2", model=7)]})
    client = FineTuningClient(httpserver.url_for("").rstrip("/"))
    # caplog's handler is pytest's own and goes away with the test, pass or fail.
    with caplog.at_level(logging.WARNING, logger="fakeai_dash.api.client"):
        jobs = client.list_jobs()
    assert [job.id for job in jobs] == ["ftjob-ok", "12345", "ftjob-ok2"]
    assert jobs[2].model == "7"
    skipped = [r.getMessage() for r in caplog.records
               if r.name == "fakeai_dash.api.client" and r.levelno == logging.WARNING]
    assert len(skipped) == 1 and skipped[0].startswith("Skipped an unreadable Job")  # the operator is told


def test_lenient002_a_list_with_nothing_readable_is_an_error(httpserver):
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "has_more": False, "data": [{"model": "no-id"}, {"status": "x"}]})
    with pytest.raises(ApiError, match="unexpected job"):
        FineTuningClient(httpserver.url_for("").rstrip("/")).list_jobs()
