"""What the sync-loop integration tests share: a source with its loop running, and a wait on its picture."""

from __future__ import annotations

import pytest

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings
from fakeai_dash.sync import NotReady, build_source
from tests.support.waiting import wait_until

REFRESH = 0.5  # the sync loop's round interval in these tests


@pytest.fixture
def source_for(tmp_path):
    """``make(api_base, start=True, **settings)``: a DataSource (each in its own data dir) whose sync
    loop runs unless ``start`` is False (the API address then need not answer)."""
    sources = []

    def make(api_base: str = "http://127.0.0.1:9", start: bool = True, **overrides):
        values = {"api_base": api_base, "refresh_interval": REFRESH, "data_dir": str(tmp_path / f"d{len(sources)}"),
                  **overrides}
        settings = Settings(_env_file=None, **values)
        source = build_source(settings, client_from_settings(settings))
        if start:
            source.engine.start()
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def detail_when(source, job_id, condition, timeout=30.0):
    """The job's picture once ``condition(detail)`` holds (the loop fills it in the background)."""
    def ready():
        try:
            detail = source.job_detail(job_id)
        except NotReady:
            return None
        return detail if condition(detail) else None

    return wait_until(ready, timeout, f"the picture of {job_id}")
