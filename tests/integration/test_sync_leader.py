"""One leader per deployment: two worker processes, one talks to the API; kill it and the other
takes over. With Redis (a lock with expiry) and without (a file lock on the host)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, *args: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.sync_worker", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.states: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def state(self) -> str | None:
        while not self.lines.empty():
            self.states.append(self.lines.get())
        return self.states[-1] if self.states else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def workers():
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        worker = Worker(*args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _one_leader_then_takeover(sim, first: Worker, second: Worker, takeover_s: float) -> None:
    wait_until(lambda: first.state() and second.state(), 30, "both workers to start")
    wait_until(lambda: "leading" in (first.state(), second.state()), 30, "a leader")
    observe(2.0)  # a window in which a second leader would show itself
    states = (first.state(), second.state())
    assert sorted(states) == ["following", "leading"], states
    # Both watch the list, yet the API sees one list round per interval (0.5 s), not two.
    sim.reset_stats()
    observe(3.0)
    assert sim.stats()["by_kind"]["jobs_list"] <= 3.0 / 0.5 + 2
    leader, follower = (first, second) if states[0] == "leading" else (second, first)
    os.kill(leader.proc.pid, signal.SIGKILL)  # no chance to release anything
    wait_until(lambda: follower.state() == "leading", takeover_s, "the follower to take over")
    sim.reset_stats()
    wait_until(lambda: sim.stats()["by_kind"]["jobs_list"] >= 1, 10, "the new leader to poll")


def test_leader001_redis_lock_one_leader_and_takeover(workers):
    with ScaleSimulator(jobs=30) as sim, running_redis() as redis_url:
        first = workers(sim.url, "--redis", redis_url)
        second = workers(sim.url, "--redis", redis_url)
        # The lock expires 5 s after the leader's last renewal; the follower tries every second.
        _one_leader_then_takeover(sim, first, second, takeover_s=10)


def test_leader002_file_lock_one_leader_per_host_and_takeover(workers, tmp_path):
    with ScaleSimulator(jobs=30) as sim:
        first = workers(sim.url, "--data-dir", str(tmp_path))
        second = workers(sim.url, "--data-dir", str(tmp_path))
        # The kernel frees the file lock when the leader dies: takeover at the follower's next try.
        _one_leader_then_takeover(sim, first, second, takeover_s=5)
