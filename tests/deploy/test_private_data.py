"""The host's data directory under gunicorn, as the Procfile starts it: private to the dashboard.

- A fresh FAKEAI_DASH_DATA_DIR is made 0700, and what the workers put in it (the picture, the
  audit trail, the session secret, the leader lock) is 0700/0600, even with a umask of 022.
- A directory the operator made is left as it is (with a warning if others may read it), and the
  dashboard's own files an older version left open in it are tightened.
- A pickle planted in the picture's SQLite file, as anyone who can write that file could, is
  never unpickled: a worker reading its key finds nothing, runs nothing, and keeps serving.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import stat
import time
from pathlib import Path

import requests

from fakeai_dash import ids
from fakeai_dash.embedded import free_port
from tests.deploy.test_auth_deploy import PROCFILE, procfile_env
from tests.deploy.test_server import running, wait_until
from tests.integration.test_auth_gate import callback_body, dependencies
from tests.support.oidc_provider import OIDCProvider, OIDCUser
from tests.support.scale_sim import ScaleSimulator

# The umask most hosts have: without the dashboard's care, files come out 0644, directories 0755.
UMASK_022 = ["sh", "-c", 'umask 022 && exec "$@"', "sh"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def detail_fetch(deps: list[dict], job_id: str) -> dict:
    """The body a page posts to fetch ``job_id``'s details (the job-details fetch callback)."""
    return callback_body(deps, ids.JobDetails.SELECTED, {ids.JobDetails.SELECTED: job_id}, "data",
                         output=f"{ids.JobDetails.STORE}.data")


def test_data001_a_fresh_data_dir_and_everything_in_it_is_private(tmp_path):
    people = {"carol": OIDCUser("carol-secret-pw", "carol@example.com", ["fakeai-operators"])}
    data = tmp_path / "var" / "fakeai-dash"  # neither exists yet
    with ScaleSimulator(jobs=4, running_jobs=1) as sim, OIDCProvider(people) as idp:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_AUTH="oidc", FAKEAI_DASH_OIDC_ISSUER=idp.issuer,
                           FAKEAI_DASH_OIDC_CLIENT_ID=idp.client_id, FAKEAI_DASH_OIDC_CLIENT_SECRET=idp.client_secret,
                           FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(data))
        with running(UMASK_022 + PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
            wait_until(lambda: list(data.glob("leader-*.lock")), 30, "the leader's lock")
            wait_until(lambda: (data / "picture" / "cache.db-wal").exists(), 30, "the picture's first write")
            assert mode(data) == 0o700
            assert mode(data / "picture") == 0o700
            private = [data / "session-secret", data / "audit.sqlite3", *data.glob("leader-*.lock"),
                       *(data / "picture").glob("cache.db*")]
            assert len(private) >= 6, private
            assert {path.name: mode(path) for path in private} == {path.name: 0o600 for path in private}
        assert "Traceback" not in server.log


def test_data002_an_operators_directory_is_kept_and_the_dashboards_files_in_it_tightened(tmp_path):
    data = tmp_path / "shared"
    (data / "picture").mkdir(parents=True)
    os.chmod(data, 0o755)
    os.chmod(data / "picture", 0o755)  # as an older version made them
    (data / "audit.sqlite3").touch(0o644)
    os.chmod(data / "audit.sqlite3", 0o644)
    with ScaleSimulator(jobs=4, running_jobs=1) as sim:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(data),
                           WEB_CONCURRENCY="1")
        with running(UMASK_022 + PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: list(data.glob("leader-*.lock")), 30, "the leader's lock")
            assert mode(data) == 0o755  # the operator's choice, not the dashboard's
            assert mode(data / "picture") == 0o700
            assert mode(data / "audit.sqlite3") == 0o600
            assert mode(data / "picture" / "cache.db") == 0o600
        assert f"Data directory {data} is readable by other users" in server.log
        assert "Traceback" not in server.log


class Planted:
    """What an attacker with write access to the cache file would store: code run on unpickling."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def plant(cache_db: Path, key: str, value: object) -> None:
    """A row marked as a pickle (diskcache's MODE_PICKLE, 4), written straight into the SQLite file."""
    now = time.time()
    with sqlite3.connect(cache_db, timeout=10) as db:
        db.execute("INSERT OR REPLACE INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, "
                   "size, mode, filename, value) VALUES (?, 1, ?, NULL, ?, 0, NULL, 0, 4, NULL, ?)",
                   (key, now, now, pickle.dumps(value)))


def test_data003_a_pickle_planted_in_the_picture_is_never_unpickled(tmp_path):
    data, marker = tmp_path / "data", tmp_path / "code-ran"
    with ScaleSimulator(jobs=4, running_jobs=1) as sim:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(data))
        with running(PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
            deps = dependencies(lambda p: requests.get(server.base + p, timeout=10))
            cache_db = data / "picture" / "cache.db"

            real = sim.job_ids()[0]

            def namespace() -> str | None:  # the picture's key prefix, once a real job is in it
                with sqlite3.connect(cache_db, timeout=10) as db:
                    rows = db.execute("SELECT key FROM Cache WHERE key LIKE ?", (f"%:job:{real}",)).fetchall()
                return rows[0][0].split(":", 1)[0] if rows else None

            ns = wait_until(lambda: (requests.post(f"{server.base}/_dash-update-component", timeout=30,
                                                   json=detail_fetch(deps, real)) and namespace()),
                            30, "a job in the picture")
            planted = "ftjob-planted-0001"
            plant(cache_db, f"{ns}:job:{planted}", Planted(marker))
            answer = requests.post(f"{server.base}/_dash-update-component", json=detail_fetch(deps, planted),
                                   timeout=30)
            assert answer.status_code in (200, 204), answer.text[:300]  # read as missing: the API is asked
            assert not marker.exists()
            assert "Refused a row of the picture's cache file" in server.log
            assert requests.get(f"{server.base}/healthz", timeout=10).ok
            assert server.log.count("Booting worker") == 2  # no worker died and was replaced
        assert not marker.exists()
        assert "Traceback" not in server.log
