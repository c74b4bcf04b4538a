"""The jobs snapshot's companion signature: readable alone, fresh with its value, gone with it."""

from __future__ import annotations

from fakeai_dash.data import current_source
from tests.jobs_factory import openai_job, serve_job_pages


def test_signature001_companion_tracks_the_snapshot(httpserver, make_app):
    serve_job_pages(httpserver, [openai_job(i) for i in range(5)])
    app = make_app(httpserver.url_for("").rstrip("/"), refresh_interval=60.0)
    with app.server.test_request_context():
        source = current_source()
        assert source.signature("jobs") is None  # nothing fetched yet
        snapshot = source.jobs_snapshot()
        assert source.signature("jobs") == snapshot["signature"]
        requests_so_far = len(httpserver.log)
        assert source.signature("jobs") == snapshot["signature"]
        assert len(httpserver.log) == requests_so_far  # reading the signature costs no request
        source.invalidate("jobs")
        assert source.signature("jobs") is None  # invalidated with its value
