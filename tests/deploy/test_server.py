"""The CLI serves with gunicorn, from the Procfile's settings module; the Procfile's gunicorn reads .env too."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from fakeai_dash import gunicorn_conf
from fakeai_dash.__main__ import DashboardServer
from fakeai_dash.config import Settings
from fakeai_dash.embedded import free_port
from tests.support.waiting import wait_until

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
DEV_SERVER_WARNING = "development server"


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus our settings (REDIS_URL is one: the cache when FAKEAI_DASH_CACHE_URL is
    not set); HOME and XDG_RUNTIME_DIR inside the test's directory; this checkout's fakeai_dash
    first (an editable install elsewhere must not serve the CLI's tests)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FAKEAI_DASH_", "WEB_CONCURRENCY", "XDG_RUNTIME_DIR")) and k != "REDIS_URL"}
    return {**env, "PYTHONUNBUFFERED": "1", "HOME": str(home), "PYTHONPATH": str(ROOT), **extra}


class Running:
    def __init__(self, process: subprocess.Popen, log_path: Path, base: str):
        self.process, self.log_path, self.base = process, log_path, base

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running(command: list[str], workdir: Path, env: dict[str, str], port: int, timeout: float = 90):
    """Start a server process, wait for /healthz, yield it, and stop it with SIGTERM."""
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    server = Running(process, log_path, f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: answers(f"{server.base}/healthz") or process.poll() is not None, timeout, "the server")
        assert process.poll() is None, server.log
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def running_cli(workdir: Path, *flags: str, **env: str):
    port = free_port()
    command = [str(VENV_BIN / "fakeai-dash"), "--port", str(port), *flags]
    return running(command, workdir, clean_env(workdir, **env), port)


def test_server001_cli_serves_with_gunicorn_and_its_flags_reach_the_workers(tmp_path, fakeai):
    with running_cli(tmp_path, "--api-base", fakeai.url, "--refresh-interval", "7", WEB_CONCURRENCY="2") as cli:
        wait_until(lambda: cli.log.count("Booting worker") >= 2, 30, "two workers")
        page = requests.get(f"{cli.base}/", timeout=10)
        assert page.ok and page.headers["Server"] == "gunicorn"
        port = cli.base.rsplit(":", 1)[1]
        assert f"Listening at: http://127.0.0.1:{port}" in cli.log  # loopback unless --host says otherwise
        assert f"Dashboard on http://127.0.0.1:{port}" in cli.log
        # A flag parsed by the CLI reaches the app each worker builds after the fork.
        for _ in range(6):  # both workers answer some of these
            layout = requests.get(f"{cli.base}/_dash-layout", timeout=10).text
            assert '"interval":7000' in layout.replace(" ", "")
        assert "Embedded FakeAI" not in cli.log  # --api-base given: no embedded backend
    assert DEV_SERVER_WARNING not in cli.log.lower()
    assert "Traceback" not in cli.log
    # gunicorn's control socket (one fixed path per user) is off: two dashboards never share one.
    assert not (tmp_path / ".gunicorn").exists()
    assert cli.process.returncode == 0


def test_server002_cli_uses_the_procfile_settings_module(tmp_path):
    settings = Settings(_env_file=None, host="::1", port=9123)
    cfg = DashboardServer(settings).cfg
    assert cfg.bind == ["[::1]:9123"]
    for name in ("workers", "threads", "timeout", "accesslog", "control_socket_disable"):
        assert cfg.settings[name].get() == getattr(gunicorn_conf, name), name
    for hook in ("on_starting", "when_ready", "on_exit"):
        assert cfg.settings[hook].get() is getattr(gunicorn_conf, hook), hook


def _gunicorn(workdir: Path, env: dict[str, str], port: int, conf: str = "fakeai_dash.gunicorn_conf"):
    command = [str(VENV_BIN / "gunicorn"), "-c", f"python:{conf}", "fakeai_dash.wsgi:server"]
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "PYTHONPATH": str(ROOT)}
    return command, env


def test_server003_procfile_takes_the_api_from_dotenv_and_starts_no_fakeai(tmp_path, fakeai):
    (tmp_path / ".env").write_text(f"FAKEAI_DASH_API_BASE={fakeai.url}\n")
    port = free_port()
    command, env = _gunicorn(tmp_path, clean_env(tmp_path), port)
    with running(command, tmp_path, env, port) as server:
        assert requests.get(f"{server.base}/_dash-layout", timeout=10).ok
    assert "Embedded FakeAI" not in server.log


def test_server004_procfile_with_a_bad_setting_exits_2_before_any_worker(tmp_path):
    command, env = _gunicorn(tmp_path, clean_env(tmp_path, FAKEAI_DASH_REFRESH_INTERVAL="0"), free_port())
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "FAKEAI_DASH_REFRESH_INTERVAL" in result.stderr
    assert "Booting worker" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_server005_debug_runs_dash_dev_server_and_help_says_so(tmp_path, fakeai):
    shown = subprocess.run([str(VENV_BIN / "fakeai-dash"), "--help"], capture_output=True, text=True,
                           env=clean_env(tmp_path), cwd=tmp_path, timeout=60)
    assert shown.returncode == 0
    assert "gunicorn" in shown.stdout and "--debug runs Dash's development server" in shown.stdout
    with running_cli(tmp_path, "--api-base", fakeai.url, "--debug") as cli:
        assert requests.get(f"{cli.base}/", timeout=10).headers["Server"].startswith("Werkzeug")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_server006_workers_share_one_data_dir_removed_on_exit(tmp_path, fakeai, stop):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with running_cli(tmp_path, "--api-base", fakeai.url, WEB_CONCURRENCY="2", TMPDIR=str(tmp)) as cli:
        wait_until(lambda: cli.log.count("Booting worker") >= 2, 30, "two workers")
        assert len(list(tmp.glob("fakeai-dash-*"))) == 1  # the master's, for every worker
        cli.process.send_signal(stop)
        try:
            assert cli.process.wait(30) == 0
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 30 s after {stop.name}; its log:\n{cli.log[-4000:]}")
    assert not list(tmp.glob("fakeai-dash-*"))


def test_server008_a_stop_signal_during_a_workers_boot_is_not_lost(tmp_path, fakeai):
    # Ctrl-C right after start once hung for gunicorn's 30 s graceful timeout (a CI failure of
    # server006): the worker got the master's signal before its own handlers were set.
    the_first_worker_stops(tmp_path, fakeai, "tests.deploy.early_signal_conf")


def test_server010_a_quick_stop_while_the_worker_starts_a_thread_is_not_a_deadlock(tmp_path, fakeai):
    # Seen once on a loaded machine: server006[ctrl-c] waited 30 s for one worker that never said
    # "Worker exiting". gthread's SIGQUIT handler takes the thread pool's lock, which the main
    # thread holds while submit() starts a thread: a signal handled there deadlocked the worker.
    the_first_worker_stops(tmp_path, fakeai, "tests.deploy.quit_in_submit_conf")


def the_first_worker_stops(tmp_path, fakeai, conf: str) -> None:
    """Serve with the Procfile's settings plus ``conf``'s hooks, whose first worker gets a stop
    signal at a bad moment: it must stop (and the master boot another), not hang."""
    command, env = _gunicorn(tmp_path, clean_env(tmp_path, FAKEAI_DASH_API_BASE=fakeai.url), free_port(), conf=conf)
    with running(command, tmp_path, env, int(env["PORT"])) as server:
        first = wait_until(lambda: re.search(r"Booting worker with pid: (\d+)", server.log), 30, "the first worker")
        wait_until(lambda: f"Worker exiting (pid: {first.group(1)})" in server.log, 30, "the first worker to stop")


def test_server009_a_connection_outlives_the_pages_refresh_interval(tmp_path, fakeai):
    # A page polls every refresh interval: its connection must still be open at the next tick,
    # or every tick reconnects (gunicorn's default keep-alive, 2 s, is shorter than 3 s).
    import http.client

    from tests.support.waiting import observe

    with running_cli(tmp_path, "--api-base", fakeai.url) as cli:
        connection = http.client.HTTPConnection(cli.base.removeprefix("http://"), timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().read()
        socket_before = connection.sock
        observe(Settings(_env_file=None).refresh_interval + 0.5)  # one idle refresh interval
        connection.request("GET", "/healthz")  # on a connection the server closed: RemoteDisconnected
        assert connection.getresponse().status == 200
        assert connection.sock is socket_before
        connection.close()


def test_server007_a_fresh_worker_answers_its_first_concurrent_requests(fakeai):
    # gunicorn's threads take a fresh worker's first requests together; none may hit Dash
    # before its first-request set-up is done (it used to answer some of them 500).
    from fakeai_dash.wsgi import build_app

    app = build_app(Settings(_env_file=None, api_base=fakeai.url))
    paths = ["/_dash-component-suites/dash/dcc/async-graph.js", "/_dash-component-suites/dash_ag_grid/async-community.js",
             "/_dash-dependencies"]
    barrier = threading.Barrier(16)
    codes: list[int] = []

    def first_request(index: int):
        client = app.server.test_client()
        barrier.wait(10)
        codes.append(client.get(paths[index % len(paths)]).status_code)

    threads = [threading.Thread(target=first_request, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [200] * 16
