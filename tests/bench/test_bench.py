"""Benchmarks (`make bench`): the hot paths of a refresh tick, with 10,000 jobs where it matters.

Under `make test` each runs once with timing disabled, so the code stays exercised; numbers
come only from `make bench`.
"""

from __future__ import annotations

import pytest

from fakeai_dash import figures, metrics
from fakeai_dash.api.client import FineTuningClient
from fakeai_dash.api.models import Job
from fakeai_dash.data import job_row, snapshot_signature
from tests.jobs_factory import openai_job, serve_job_pages

N_JOBS = 10_000


@pytest.fixture(scope="module")
def raw_jobs():
    return [openai_job(i) for i in range(N_JOBS)]


def test_bench001_list_10k_jobs_over_http(benchmark, httpserver, raw_jobs):
    serve_job_pages(httpserver, raw_jobs)
    client = FineTuningClient(httpserver.url_for("").rstrip("/"), max_jobs=N_JOBS)
    jobs = benchmark.pedantic(client.list_jobs, rounds=3, iterations=1)
    assert len(jobs) == N_JOBS


def test_bench002_rows_and_signature_for_10k_jobs(benchmark, raw_jobs):
    parsed = [Job.model_validate(raw) for raw in raw_jobs]

    def build():
        rows = [job_row(job) for job in parsed]
        return rows, snapshot_signature(rows)

    rows, signature = benchmark(build)
    assert len(rows) == N_JOBS and len(signature) == 24


def test_bench003_quiet_tick_is_a_cache_hit(benchmark, httpserver, raw_jobs, make_app):
    serve_job_pages(httpserver, raw_jobs[:500])
    app = make_app(httpserver.url_for("").rstrip("/"), refresh_interval=60.0)
    from fakeai_dash.data import current_source

    with app.server.test_request_context():
        source = current_source()
        source.jobs_snapshot()
        served = len(httpserver.log)
        snapshot = benchmark(source.jobs_snapshot)
        assert len(snapshot["rows"]) == 500
        assert len(httpserver.log) == served  # every benchmarked call was answered by the cache


def _long_job_events(steps: int) -> list[dict]:
    events = []
    for step in range(1, steps + 1):
        loss = 2.5 * (1 - step / steps) + 0.1
        events.append({"id": f"e{step}", "created_at": 1000 + step, "level": "info", "type": "metrics",
                       "message": f"Step {step}/{steps}", "data": {
                           "step": step, "train_loss": loss, "valid_loss": loss + 0.05,
                           "train_accuracy": 0.3 + 0.6 * step / steps}})
    return events


def test_bench004_series_and_smoothed_loss_figure_for_5000_steps(benchmark):
    events = _long_job_events(5000)

    def render():
        series = metrics.metric_series(events)
        return figures.loss_figure(series, smoothing=0.9, log_y=True)

    figure = benchmark(render)
    assert len(figure.data[0].x) == 5000


@pytest.fixture
def warm_10k_source(httpserver, raw_jobs, make_app):
    """A DataSource whose cache already holds a 10,000-job snapshot, and that snapshot's signature."""
    serve_job_pages(httpserver, raw_jobs)
    app = make_app(httpserver.url_for("").rstrip("/"), refresh_interval=600.0, read_timeout=30.0)
    from fakeai_dash.data import current_source

    with app.server.test_request_context():
        source = current_source()
        yield source, source.jobs_snapshot()["signature"]


def test_bench005_full_snapshot_cache_hit_with_10k_jobs(benchmark, warm_10k_source):
    source, signature = warm_10k_source
    full_hit = benchmark.pedantic(source.jobs_snapshot, rounds=20, iterations=1)  # the old quiet tick
    assert full_hit["signature"] == signature


def test_bench006_quiet_tick_reads_only_the_signature(benchmark, warm_10k_source):
    source, signature = warm_10k_source
    assert benchmark(source.signature, "jobs") == signature
