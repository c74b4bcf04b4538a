"""A real redis-server on a free port for the tests that need one, ready before it is handed out.

``RedisServer`` can be stopped and started again on the same unix socket (an outage the app must
ride out); ``running_redis()`` hands out the URL of one that runs for the ``with`` block.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile

import redis

from tests.support.waiting import wait_until


class RedisServer:
    def __init__(self):
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is installed by `make test` (Debian package redis-server)"
        # Port 0 is not allowed for redis' TCP port; let it bind a unix socket instead: no port race.
        self.directory = tempfile.mkdtemp(prefix="redis-")
        self.socket_path = f"{self.directory}/redis.sock"
        self.url = f"unix://{self.socket_path}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen([self.binary, "--port", "0", "--unixsocket", self.socket_path, "--save", "",
                                      "--appendonly", "no", "--dir", self.directory],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(unix_socket_path=self.socket_path)
        proc = self.proc

        def answers() -> bool:
            assert proc.poll() is None, "redis-server exited at start"
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            wait_until(answers, 10, "redis-server to answer PING")
        finally:
            client.close()
        return self

    def stop(self) -> None:
        """Kill it (no goodbye to clients, like a crash): its data is gone, as without persistence."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def redis_server():
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.close()


@contextlib.contextmanager
def running_redis():
    with redis_server() as server:
        yield server.url
