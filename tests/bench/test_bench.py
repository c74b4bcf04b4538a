"""Benchmarks (`make bench`): the hot paths of a refresh tick, with 10,000 jobs where it matters.

Under `make test` each runs once with timing disabled, so the code stays exercised; numbers
come only from `make bench`.
"""

from __future__ import annotations

import pytest

from fakeai_dash import figures
from fakeai_dash.api.client import FineTuningClient
from fakeai_dash.api.models import Job
from fakeai_dash.data import job_row, snapshot_signature
from fakeai_dash.series import history_from_events
from tests.support.jobs_factory import openai_job, serve_job_pages

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
        series = history_from_events(events)
        return figures.loss_figure(series, smoothing=0.9, log_y=True)

    figure = benchmark(render)
    drawn = figure.data[0].x
    assert drawn[0] == 1 and drawn[-1] == 5000 and len(drawn) <= 2000  # the whole run, thinned


@pytest.fixture(scope="module")
def warm_10k_source(tmp_path_factory):
    """A DataSource whose picture holds the 10,000-job list, and that list's signature."""
    from fakeai_dash.api.client import client_from_settings
    from fakeai_dash.config import Settings
    from fakeai_dash.data import NotReady, build_source
    from tests.support.scale_sim import ScaleSimulator
    from tests.support.waiting import wait_until

    with ScaleSimulator(jobs=N_JOBS) as sim:
        settings = Settings(_env_file=None, api_base=sim.url, refresh_interval=600.0, data_dir=str(tmp_path_factory.mktemp("picture")))
        source = build_source(settings, client_from_settings(settings))
        source.engine.start()

        def complete():
            try:
                return source.jobs_snapshot()["complete"]
            except NotReady:
                return False

        wait_until(complete, 300, "the 10,000-job list")
        try:
            yield source, source.jobs_snapshot()["signature"]
        finally:
            source.close()


def test_bench005_full_list_read_from_the_picture_with_10k_jobs(benchmark, warm_10k_source):
    source, signature = warm_10k_source
    full = benchmark.pedantic(source.jobs_snapshot, rounds=20, iterations=1)  # a tick whose list changed
    assert full["signature"] == signature and len(full["rows"]) == N_JOBS


def test_bench006_quiet_tick_reads_only_the_signature(benchmark, warm_10k_source):
    source, signature = warm_10k_source
    assert benchmark(source.signature) == signature  # a tick whose list did not change


def test_bench007_steady_list_round_with_10k_jobs(benchmark, warm_10k_source):
    """The leader's round in steady state: the newest page and the active jobs, not 100 pages."""
    source, _ = warm_10k_source
    benchmark.pedantic(source.engine.list_sync.run, rounds=5, iterations=1)
    assert len(source.jobs_snapshot()["rows"]) == N_JOBS


def test_bench008_chart_update_for_a_100k_step_history(benchmark):
    """A live 100,000-step job's chart tick on the server: smoothing at full resolution, then
    downsampling, then the JSON the browser gets (the figure; a Patch is smaller)."""
    import json

    import numpy as np
    import plotly

    from fakeai_dash.series import MetricHistory

    steps = np.arange(1, 100_001, dtype=np.float64)
    rng = np.random.default_rng(7)
    loss = 2.5 * np.exp(-steps / 30_000) + 0.1 + rng.normal(0, 0.05, steps.size)
    valid = np.where(steps % 10 == 0, loss + 0.05, np.nan)
    history = MetricHistory(steps, 1_700_000_000 + steps, {"train_loss": loss, "valid_loss": valid,
                                                           "train_mean_token_accuracy": 1 - loss / 3})

    def tick():
        loss_chart = figures.loss_figure(history, smoothing=0.9, log_y=True)
        accuracy_chart = figures.accuracy_figure(history, smoothing=0.9)
        return len(json.dumps([loss_chart, accuracy_chart], cls=plotly.utils.PlotlyJSONEncoder))

    size = benchmark.pedantic(tick, rounds=5, iterations=1)
    assert size <= 300_000
