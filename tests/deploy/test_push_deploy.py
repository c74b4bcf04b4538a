"""Push under the Procfile's gunicorn: streams are served, and a stopping worker ends them at once
(the page reconnects elsewhere) instead of holding the stop for the 30 s graceful timeout."""

from __future__ import annotations

import signal
import subprocess

import requests

from tests.load.sse import parse
from tests.load.stack import Gunicorn
from tests.support.scale_sim import ScaleSimulator


def test_push_deploy001_a_stop_ends_open_streams_with_bye_and_does_not_wait_for_them():
    with ScaleSimulator(jobs=5, big=["300:live"], rate=1.0) as sim:
        app = Gunicorn(sim.url, workers=1).start()
        try:
            job = sim.big_job_ids[0]
            response = requests.get(f"{app.url}/_push?job={job}", stream=True, timeout=(5, 25))
            assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
            events = parse(response.iter_content(chunk_size=None))
            assert next(e for e in events if e is not None).event == "hello"
            app.process.send_signal(signal.SIGTERM)
            names = [e.event for e in events if e is not None]  # read until the server closes the stream
            assert names[-1] == "bye", names[-5:]
            # Well inside gunicorn's 30 s graceful timeout: the stream did not hold the stop.
            assert app.process.wait(timeout=15) == 0
        finally:
            try:
                app.stop()
            except subprocess.TimeoutExpired:
                app.process.kill()
