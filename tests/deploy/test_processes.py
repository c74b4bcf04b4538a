"""Process-level tests: the CLI and gunicorn start, serve, and leave no FakeAI child behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fakeai_dash.embedded import EmbeddedFakeAI, free_port
from tests.support.waiting import wait_until

VENV_BIN = Path(sys.executable).parent
EMBEDDED_LINE = re.compile(r"Embedded FakeAI serving on (http://[\d.]+:\d+)")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


def read_embedded_url(log_path: Path) -> str | None:
    match = EMBEDDED_LINE.search(log_path.read_text(errors="replace"))
    return match.group(1) if match else None


def start_process(command: list[str], env: dict, log_path: Path, cwd: Path) -> subprocess.Popen:
    """Start ``command`` in a process group of its own, output to ``log_path``."""
    with open(log_path, "wb") as log:
        # Its own group: a teardown can take down what it started (workers, FakeAI) if it hangs.
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)


def ensure_stopped(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """For ``finally``: SIGTERM a process still running, and kill its whole group if that does
    not end it in time (or children outlived it); never wait without a limit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout)


def listening_port(proc: subprocess.Popen, log_path: Path, timeout: float) -> int | None:
    """The port gunicorn (pid ``proc.pid``) says it listens on; None if it exited first."""
    line = re.compile(rf"Listening at: http://127\.0\.0\.1:(\d+) \({proc.pid}\)")

    def bound_or_exited():
        match = line.search(log_path.read_text(errors="replace"))
        return match or proc.poll() is not None

    found = wait_until(bound_or_exited, timeout, "the server to listen")
    return int(found.group(1)) if isinstance(found, re.Match) else None


def start_listening(command_for_port, env: dict, log_path: Path, cwd: Path, timeout: float = 90.0,
                    attempts: int = 3) -> tuple[subprocess.Popen, int]:
    """Start a server on a free port; if another process took the port first, try another one.

    For servers that cannot pick their own port (the CLI refuses --port 0).
    """
    for _ in range(attempts):
        proc = start_process(command_for_port(free_port()), env, log_path, cwd)
        try:
            port = listening_port(proc, log_path, timeout)
        except BaseException:
            ensure_stopped(proc)
            raise
        if port is not None:
            return proc, port
        ensure_stopped(proc)
        text = log_path.read_text(errors="replace")
        assert "Connection in use" in text, f"the server exited before listening:\n{text}"
    raise AssertionError(f"every port tried was taken:\n{text}")


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_deploy001_cli_starts_seeded_fakeai_and_stops_it(tmp_path, clean_env, stop_signal):
    log_path = tmp_path / "cli.log"
    proc, port = start_listening(lambda port: [str(VENV_BIN / "fakeai-dash"), "--port", str(port)],
                                 clean_env, log_path, tmp_path)
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
        ensure_stopped(proc)


def test_deploy002_invalid_setting_exits_2_with_one_clear_message(clean_env):
    result = subprocess.run([sys.executable, "-m", "fakeai_dash", "--refresh-interval", "0"],
                            capture_output=True, text=True, env=clean_env, timeout=60)
    assert result.returncode == 2
    assert "FAKEAI_DASH_REFRESH_INTERVAL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _start_gunicorn(env, log_path) -> tuple[subprocess.Popen, int]:
    """The Procfile's command, as a platform would run it, on a port gunicorn picks and logs."""
    command = [str(VENV_BIN / "gunicorn"), "-c", "python:fakeai_dash.gunicorn_conf", "fakeai_dash.wsgi:server"]
    env = {**env, "PORT": "0", "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2"}
    proc = start_process(command, env, log_path, Path(__file__).resolve().parents[2])
    try:
        port = listening_port(proc, log_path, 90)
        assert port, f"gunicorn exited before listening:\n{log_path.read_text(errors='replace')}"
    except BaseException:
        ensure_stopped(proc)
        raise
    return proc, port


def test_deploy003_gunicorn_two_workers_serve_app_and_healthz(tmp_path, clean_env, fakeai):
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    assert "gunicorn -c python:fakeai_dash.gunicorn_conf fakeai_dash.wsgi:server" in procfile
    log_path = tmp_path / "gunicorn.log"
    proc, port = _start_gunicorn({**clean_env, "FAKEAI_DASH_API_BASE": fakeai.url}, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{base}/healthz"), 60, "gunicorn")
        wait_until(lambda: log_path.read_text().count("Booting worker") >= 2, 30, "two workers")
        assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        index = requests.get(f"{base}/", timeout=5)
        assert index.status_code == 200
        assert 'id="_dash-renderer"' in index.text and "dash_renderer" in index.text  # the renderer boots
        assert "bootstrap.min.css" in index.text
        css = requests.get(f"{base}/assets/theme.css", timeout=5)
        assert css.ok and "#76b900" in css.text  # assets are found under gunicorn too
        layout = requests.get(f"{base}/_dash-layout", timeout=5)
        assert layout.ok and "jobs-grid" in layout.text
        # Many requests spread over both workers all succeed.
        assert all(requests.get(f"{base}/_dash-layout", timeout=5).ok for _ in range(10))
    finally:
        ensure_stopped(proc)


def test_deploy004_gunicorn_without_api_shares_one_embedded_fakeai(tmp_path, clean_env):
    log_path = tmp_path / "gunicorn.log"
    proc, port = _start_gunicorn(clean_env, log_path)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 90, "gunicorn")
        backend = read_embedded_url(log_path)
        assert backend
        assert log_path.read_text().count("Embedded FakeAI serving on") == 1  # one, in the master
        assert answers(f"{backend}/health")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        # Checked before the teardown kills the process group: the master itself stopped FakeAI.
        wait_until(lambda: not answers(f"{backend}/health"), 10, "FakeAI to stop with gunicorn")
    finally:
        ensure_stopped(proc)


def test_deploy005_fakeai_dies_with_a_killed_parent(tmp_path):
    # SIGKILL runs no Python at all: PR_SET_PDEATHSIG must take the child down.
    script = ("import sys, time; from fakeai_dash.embedded import EmbeddedFakeAI; "
              "f = EmbeddedFakeAI().start(); print(f.url, flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        url = parent.stdout.readline().strip()  # EOF (an empty line) if the parent died first
        assert url.startswith("http://"), "the parent never reported its FakeAI"
        assert answers(f"{url}/health")
        parent.kill()  # only the parent: its child must die by itself
        parent.wait(10)
        wait_until(lambda: not answers(f"{url}/health"), 10, "the orphaned FakeAI to die")
    finally:
        parent.stdout.close()
        ensure_stopped(parent)


def test_deploy006_embedded_stop_is_idempotent():
    server = EmbeddedFakeAI().start()
    server.stop()
    server.stop()
    assert server.process is None
