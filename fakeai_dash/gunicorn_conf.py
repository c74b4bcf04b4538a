"""Gunicorn settings for the Procfile: bind $PORT, WEB_CONCURRENCY workers, one shared backend.

When no API is configured, the master starts one embedded FakeAI before forking, so every
worker talks to the same simulated jobs instead of starting its own.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60
accesslog = "-"

_backend = None


def on_starting(server):
    global _backend
    if os.environ.get("FAKEAI_DASH_API_BASE"):
        return
    from fakeai_dash.app import start_embedded_backend

    _backend = start_embedded_backend()
    os.environ["FAKEAI_DASH_API_BASE"] = _backend.url
    server.log.info("Embedded FakeAI serving on %s", _backend.url)


def on_exit(server):  # noqa: ARG001
    if _backend is not None:
        _backend.stop()
