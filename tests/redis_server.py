"""A real redis-server on a free port for the tests that need one, ready before it is handed out."""

from __future__ import annotations

import contextlib
import shutil
import subprocess

import redis

from tests.waiting import wait_until


@contextlib.contextmanager
def running_redis():
    server = shutil.which("redis-server")
    assert server, "redis-server is installed by `make test` (Debian package redis-server)"
    # Port 0 is not allowed for redis' TCP port; let it bind a unix socket instead: no port race.
    import tempfile

    directory = tempfile.mkdtemp(prefix="redis-")
    socket_path = f"{directory}/redis.sock"
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", socket_path, "--save", "",
                             "--appendonly", "no", "--dir", directory],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(unix_socket_path=socket_path)
    try:
        def answers() -> bool:
            assert proc.poll() is None, "redis-server exited at start"
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, 10, "redis-server to answer PING")
        yield f"unix://{socket_path}"
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(directory, ignore_errors=True)
