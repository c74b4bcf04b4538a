"""The embedded backend: a real FakeAI server as a child process, seeded with demo jobs.

Used when no API is configured, so `make run` shows a living dashboard with no account.
The child never outlives us: stop() on normal exit, Ctrl-C and SIGTERM, and the kernel
kills it (PR_SET_PDEATHSIG) if we die without running any Python at all.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import requests

log = logging.getLogger(__name__)

# Different base models so the first page shows the variety a real team has.
DEMO_JOBS = (
    {"model": "meta-llama/Llama-3.1-8B-Instruct", "suffix": "support-bot", "cancel": False},
    {"model": "mistralai/Mistral-7B-Instruct-v0.3", "suffix": "legal-summaries", "cancel": True},
    {"model": "Qwen/Qwen2.5-7B-Instruct", "suffix": "sql-helper", "cancel": False},
    {"model": "gpt-4o-mini-2024-07-18", "suffix": None, "cancel": False},
)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedFakeAI:
    """Start, health-check, seed and stop one FakeAI server on a free loopback port."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", log_path: str | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> EmbeddedFakeAI:
        command = [sys.executable, "-m", "fakeai", "server", "--host", self.host, "--port", str(self.port)]
        output = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        try:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            raise RuntimeError(f"Could not start FakeAI ({exc}). Install it: pip install 'fakeai-dash[demo]'") from None
        finally:
            if output is not subprocess.DEVNULL:
                output.close()
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"FakeAI exited with code {self.process.returncode} before it was ready "
                    "(is `fakeai` installed? pip install 'fakeai-dash[demo]')")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"FakeAI did not become healthy on {self.url} within {timeout:g} s")

    def seed(self) -> list[str]:
        """Demo jobs on different models; one cancelled, the others running for ~35 s."""
        session = requests.Session()
        files = session.get(f"{self.url}/v1/files", timeout=5).json()["data"]
        created = []
        for index, spec in enumerate(DEMO_JOBS):
            body = {"model": spec["model"], "training_file": files[index % len(files)]["id"]}
            if spec["suffix"]:
                body["suffix"] = spec["suffix"]
            job = session.post(f"{self.url}/v1/fine_tuning/jobs", json=body, timeout=5).json()
            if spec["cancel"]:
                session.post(f"{self.url}/v1/fine_tuning/jobs/{job['id']}/cancel", timeout=5)
            created.append(job["id"])
        return created

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def __enter__(self) -> EmbeddedFakeAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
