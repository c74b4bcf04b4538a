"""Process-level tests: the CLI and gunicorn start, serve, and leave no FakeAI child behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from fakeai_dash.embedded import EmbeddedFakeAI, free_port

VENV_BIN = Path(sys.executable).parent
EMBEDDED_LINE = re.compile(r"Embedded FakeAI serving on (http://[\d.]+:\d+)")


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns a truthy value (a bounded wait, not a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


def read_embedded_url(log_path: Path) -> str | None:
    match = EMBEDDED_LINE.search(log_path.read_text(errors="replace"))
    return match.group(1) if match else None


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_deploy001_cli_starts_seeded_fakeai_and_stops_it(tmp_path, clean_env, stop_signal):
    port = free_port()
    log_path = tmp_path / "cli.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(VENV_BIN / "fakeai-dash"), "--port", str(port)], stdout=log,
                                stderr=subprocess.STDOUT, env=clean_env, cwd=tmp_path)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz") or proc.poll() is not None, 90,
                   "the dashboard")
        assert proc.poll() is None, log_path.read_text()
        backend = read_embedded_url(log_path)
        assert backend, log_path.read_text()
        jobs = requests.get(f"{backend}/v1/fine_tuning/jobs", timeout=5).json()["data"]
        # Seeded: at least 3 jobs on different models, one cancelled, one still running.
        assert len(jobs) >= 3
        assert len({job["model"] for job in jobs}) >= 3
        assert any(job["status"] == "cancelled" for job in jobs)
        assert any(job["status"] in ("validating_files", "queued", "running") for job in jobs)
        layout = requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=5)
        assert layout.ok and "jobs-grid" in layout.text
        proc.send_signal(stop_signal)
        assert proc.wait(20) == 0
        wait_until(lambda: not answers(f"{backend}/health"), 10, "FakeAI to stop")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_deploy002_invalid_setting_exits_2_with_one_clear_message(clean_env):
    result = subprocess.run([sys.executable, "-m", "fakeai_dash", "--refresh-interval", "0"],
                            capture_output=True, text=True, env=clean_env, timeout=60)
    assert result.returncode == 2
    assert "FAKEAI_DASH_REFRESH_INTERVAL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _start_gunicorn(env, port, log_path):
    command = [str(VENV_BIN / "gunicorn"), "-c", "python:fakeai_dash.gunicorn_conf", "fakeai_dash.wsgi:server"]
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2"}
    with open(log_path, "wb") as log:
        # The Procfile's command, as a platform would run it.
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=Path(__file__).resolve().parents[2])


def test_deploy003_gunicorn_two_workers_serve_app_and_healthz(tmp_path, clean_env, fakeai):
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    assert "gunicorn -c python:fakeai_dash.gunicorn_conf fakeai_dash.wsgi:server" in procfile
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    proc = _start_gunicorn({**clean_env, "FAKEAI_DASH_API_BASE": fakeai.url}, port, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz"), 60, "gunicorn")
        log_text = wait_until(lambda: (t := log_path.read_text()).count("Booting worker") >= 2 and t, 30,
                              "two workers")
        assert "Listening at: http://127.0.0.1:" in log_text
        assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        index = requests.get(f"{base}/", timeout=5)
        assert index.ok and "_dash-renderer" in index.text or "dash_renderer" in index.text
        assert "bootstrap.min.css" in index.text
        css = requests.get(f"{base}/assets/theme.css", timeout=5)
        assert css.ok and "#76b900" in css.text  # assets are found under gunicorn too
        layout = requests.get(f"{base}/_dash-layout", timeout=5)
        assert layout.ok and "jobs-grid" in layout.text
        # Many requests spread over both workers all succeed.
        assert all(requests.get(f"{base}/_dash-layout", timeout=5).ok for _ in range(10))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_deploy004_gunicorn_without_api_shares_one_embedded_fakeai(tmp_path, clean_env):
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    proc = _start_gunicorn(clean_env, port, log_path)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 90, "gunicorn")
        backend = read_embedded_url(log_path)
        assert backend
        assert log_path.read_text().count("Embedded FakeAI serving on") == 1  # one, in the master
        assert answers(f"{backend}/health")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    wait_until(lambda: not answers(f"{backend}/health"), 10, "FakeAI to stop with gunicorn")


def test_deploy005_fakeai_dies_with_a_killed_parent(tmp_path):
    # SIGKILL runs no Python at all: PR_SET_PDEATHSIG must take the child down.
    script = ("import sys, time; from fakeai_dash.embedded import EmbeddedFakeAI; "
              "f = EmbeddedFakeAI().start(); print(f.url, flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    url = parent.stdout.readline().strip()
    assert answers(f"{url}/health")
    parent.kill()
    parent.wait(10)
    wait_until(lambda: not answers(f"{url}/health"), 10, "the orphaned FakeAI to die")


def test_deploy006_embedded_stop_is_idempotent():
    server = EmbeddedFakeAI().start()
    server.stop()
    server.stop()
    assert server.process is None
