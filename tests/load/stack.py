"""The processes a load run needs, each started and stopped by its own pid: the scale simulator,
the app under gunicorn (the Procfile's command) and, optionally, a redis-server. Local only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PROCFILE_COMMAND = ["gunicorn", "-c", "python:fakeai_dash.gunicorn_conf", "fakeai_dash.wsgi:server"]


def free_port() -> int:
    # gunicorn takes $PORT, so the port is chosen here; a lost race shows as a failed start,
    # which Gunicorn.start retries on another port a bounded number of times.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, seconds: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        try:
            value = check()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready within {seconds:g} s")


def stop(process: subprocess.Popen | None, seconds: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class Simulator:
    """``python -m tests.support.scale_sim`` as a process of its own (so the harness's threads do not
    share its interpreter); its URL is the first line it prints."""

    def __init__(self, args: list[str]):
        self.args = args
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> Simulator:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.scale_sim", *self.args, "--port", "0"],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            stop(self.process)
            raise RuntimeError(f"the simulator did not start (first line: {self.url!r})")
        self.info = requests.get(f"{self.url}/_sim/info", timeout=10).json()
        return self

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sim/stats", timeout=10).json()

    def control(self, action: str, **params) -> dict:
        return requests.post(f"{self.url}/_sim/{action}", params=params, timeout=10).json()

    def stop(self) -> None:
        stop(self.process)


class Redis:
    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> Redis:
        server = shutil.which("redis-server")
        if not server:
            raise RuntimeError("redis-server is not installed")
        port = free_port()
        self.process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _redis_ping(port), 10, "redis-server", self.process)
        self.url = f"redis://127.0.0.1:{port}/0"
        return self

    def stop(self) -> None:
        stop(self.process)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Gunicorn:
    """The app as deployed: the Procfile's command, $PORT and $WEB_CONCURRENCY, the API in env."""

    def __init__(self, api_base: str, workers: int = 2, extra_env: dict[str, str] | None = None,
                 app_dir: Path | None = None):
        self.api_base, self.workers, self.extra_env = api_base, workers, extra_env or {}
        # Another checkout of the app (say the commit before a change) for side-by-side figures.
        self.app_dir = Path(app_dir).resolve() if app_dir else ROOT
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log_path = Path(tempfile.mkdtemp(prefix="load-gunicorn-")) / "gunicorn.log"

    def start(self, attempts: int = 3) -> Gunicorn:
        binary = Path(sys.executable).with_name("gunicorn")
        command = [str(binary) if binary.exists() else PROCFILE_COMMAND[0], *PROCFILE_COMMAND[1:]]
        last_error: Exception | None = None
        for _ in range(attempts):
            port = free_port()
            env = {**os.environ, "FAKEAI_DASH_API_BASE": self.api_base, "PORT": str(port), "HOST": "127.0.0.1",
                   "WEB_CONCURRENCY": str(self.workers), "PYTHONPATH": str(self.app_dir), **self.extra_env}
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(command, cwd=self.app_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.url = f"http://127.0.0.1:{port}"
            try:
                wait_for(lambda: requests.get(f"{self.url}/healthz", timeout=2).ok, 90, "gunicorn", self.process)
                return self
            except RuntimeError as error:
                last_error = error
                stop(self.process)
        raise RuntimeError(f"{last_error} (log: {self.log_path})")

    def stop(self) -> None:
        stop(self.process, seconds=30)
