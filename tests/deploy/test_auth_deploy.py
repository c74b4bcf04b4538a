"""Access control on the real app under gunicorn, started as the Procfile starts it.

- A public bind with no sign-in configured does not start (one line, exit 2); FAKEAI_DASH_AUTH=none
  starts it with a warning; loopback needs nothing.
- Basic sign-in with users added by `fakeai-dash users add`: nothing answers without credentials
  but /healthz; a viewer's forged cancel, create and upload are refused and the API sees no
  write; an operator's go through and each is on the audit trail (JSON log lines and the
  host's SQLite trail), whichever of two workers served it.
- OIDC against the local provider, two workers: the sign-in that starts on one worker ends on
  whichever the callback reaches (the host's shared session secret).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from fakeai_dash.embedded import free_port
from tests.deploy.test_server import ROOT, VENV_BIN, clean_env, running, wait_until
from tests.integration.test_auth_gate import (
    OPERATOR,
    VIEWER,
    basic,
    callback_body,
    cancel_body,
    concrete_paths,
    create_body,
    dependencies,
    text_of,
    upload_body,
)
from tests.support.oidc_provider import OIDCProvider, OIDCUser
from tests.support.scale_sim import ScaleSimulator

PROCFILE = [str(VENV_BIN / "gunicorn"), "-c", "python:fakeai_dash.gunicorn_conf", "fakeai_dash.wsgi:server"]


def procfile_env(workdir: Path, host: str, port: int, **settings: str) -> dict[str, str]:
    return clean_env(workdir, PORT=str(port), HOST=host, WEB_CONCURRENCY=settings.pop("WEB_CONCURRENCY", "2"),
                     PYTHONPATH=str(ROOT), **settings)


def add_user_cli(users: Path, name: str, role: str, password: str, workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "fakeai-dash"), "users", "add", name, "--role", role, "--password-stdin"],
                          input=password + "\n", capture_output=True, text=True, timeout=60, cwd=workdir,
                          env=clean_env(workdir, FAKEAI_DASH_USERS_FILE=str(users)))


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=8, running_jobs=6) as server:
        yield server


def test_deploy001_public_bind_without_sign_in_refuses_to_start_with_one_line(tmp_path):
    for command, env in ((PROCFILE, procfile_env(tmp_path, "0.0.0.0", free_port())),
                         ([str(VENV_BIN / "fakeai-dash"), "--host", "0.0.0.0", "--port", str(free_port())],
                          clean_env(tmp_path))):
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        refusal = [line for line in output.splitlines() if "refusing to serve" in line]
        assert len(refusal) == 1 and "FAKEAI_DASH_AUTH=basic" in refusal[0] and "FAKEAI_DASH_AUTH=none" in refusal[0]
        assert "Traceback" not in output and "Booting worker" not in output and "Embedded FakeAI" not in output


def test_deploy002_explicit_none_starts_with_a_warning_and_loopback_needs_nothing(tmp_path, sim):
    port = free_port()
    env = procfile_env(tmp_path, "0.0.0.0", port, FAKEAI_DASH_AUTH="none", FAKEAI_DASH_API_BASE=sim.url,
                       FAKEAI_DASH_ALLOWED_HOSTS="dash.example.com", WEB_CONCURRENCY="1")
    with running(PROCFILE, tmp_path, env, port) as server:
        assert requests.get(f"{server.base}/_dash-layout", timeout=10).status_code == 200
    assert "FAKEAI_DASH_AUTH=none on 0.0.0.0" in server.log and "anyone who reaches it" in server.log
    loopback = tmp_path / "loopback"
    loopback.mkdir()
    port = free_port()
    env = procfile_env(loopback, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, WEB_CONCURRENCY="1")
    with running(PROCFILE, loopback, env, port) as server:
        assert requests.get(f"{server.base}/_dash-layout", timeout=10).status_code == 200
    assert "FAKEAI_DASH_AUTH" not in server.log


def test_deploy003_users_add_keeps_only_salted_hashes(tmp_path):
    users = tmp_path / "users.json"
    added = add_user_cli(users, "alice", "operator", "a-long-password-1", tmp_path)
    assert added.returncode == 0 and added.stdout.strip() == f"Added alice (operator) in {users}"
    again = add_user_cli(users, "bob", "viewer", "a-long-password-1", tmp_path)  # the same password
    assert again.returncode == 0
    text = users.read_text()
    assert "a-long-password-1" not in text
    hashes = [entry["password_hash"] for entry in json.loads(text)["users"].values()]
    assert all(h.startswith("scrypt:") for h in hashes) and hashes[0] != hashes[1]  # salted
    assert users.stat().st_mode & 0o777 == 0o600
    short = add_user_cli(users, "carol", "viewer", "short", tmp_path)
    assert short.returncode == 2 and short.stderr.strip() == "fakeai-dash users: a password needs at least 12 characters"
    bad_role = subprocess.run([str(VENV_BIN / "fakeai-dash"), "users", "add", "dave", "--role", "admin",
                               "--password-stdin", "--file", str(users)], input="x" * 20, capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
    assert bad_role.returncode == 2 and "invalid choice: 'admin'" in bad_role.stderr


def test_deploy004_basic_under_gunicorn_viewer_refused_operator_audited(tmp_path, sim, make_app):
    users = tmp_path / "users.json"
    for name, role, password in (("alice", "operator", OPERATOR[1]), ("bob", "viewer", VIEWER[1])):
        assert add_user_cli(users, name, role, password, tmp_path).returncode == 0
    data = tmp_path / "data"
    port = free_port()
    env = procfile_env(tmp_path, "0.0.0.0", port, FAKEAI_DASH_AUTH="basic", FAKEAI_DASH_USERS_FILE=str(users),
                       FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(data),
                       FAKEAI_DASH_ALLOWED_HOSTS="dash.example.com")
    # The same app in this process names every route the workers serve.
    routes = concrete_paths(make_app(sim.url, auth="basic", users_file=str(users), data_dir=str(tmp_path / "x")))
    with running(PROCFILE, tmp_path, env, port) as server:
        wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
        base = server.base
        for method, path in routes:
            response = requests.request(method, base + path, json={} if method == "POST" else None, timeout=10)
            # The styles' bundle is public as every stylesheet of the assets folder is (the sign-in
            # pages' look, server/bundles.py); the scripts' bundle is not.
            expected = 200 if path in ("/healthz", "/_favicon.ico", "/assets/_bundle.css") else 401
            assert response.status_code == expected, (method, path, response.status_code)
        deps = dependencies(lambda p: requests.get(base + p, headers=basic(VIEWER), timeout=10))
        for spec in deps:  # every callback, with the body the renderer sends, and no credentials
            if not spec.get("clientside_function"):
                body = callback_body(deps, spec["inputs"][0]["id"], trigger_prop=spec["inputs"][0]["property"])
                assert requests.post(f"{base}/_dash-update-component", json=body, timeout=10).status_code == 401

        running_jobs = [j for j in sim.job_ids() if sim._job(j).status == "running"]
        forged = {"cancel": cancel_body(deps, running_jobs[0]), "create": create_body(deps, "file-sim-train-0001"),
                  "upload": upload_body(deps)}
        for action, body in forged.items():
            answer = requests.post(f"{base}/_dash-update-component", json=body, headers=basic(VIEWER), timeout=30)
            assert answer.status_code == 200 and "operator role" in text_of(answer.json()), action
        assert sim.stats()["by_kind"].get("writes", 0) == 0

        def operator(body):
            answer = requests.post(f"{base}/_dash-update-component", json=body, headers=basic(OPERATOR), timeout=30)
            assert answer.status_code == 200, answer.text[:300]
            return answer.json()["response"]

        assert "Cancel requested." in text_of(operator(cancel_body(deps, running_jobs[1])))
        file_id = operator(upload_body(deps))["create-job-training-file"]["value"]
        new_job = operator(create_body(deps, file_id))["url"]["pathname"].rsplit("/", 1)[1]
        assert sim.stats()["by_kind"]["writes"] == 3 and sim._job(running_jobs[1]).status == "cancelled"
        history = operator(callback_body(deps, "selected-job-store", {"selected-job-store": running_jobs[1]},
                                         "data", "detail-audit"))
        assert re.search(r"Cancelled by alice at \d\d:\d\d:\d\d UTC", text_of(history))

    expected = [("bob", "cancel", "refused", running_jobs[0]), ("bob", "create", "refused", None),
                ("bob", "upload", "refused", None), ("alice", "cancel", "allowed", running_jobs[1]),
                ("alice", "upload", "allowed", file_id), ("alice", "create", "allowed", new_job)]
    logged = [json.loads(line) for line in server.log.splitlines() if line.startswith('{"action"')]
    assert [(r["user"], r["action"], r["outcome"], r["target"]) for r in logged] == expected
    db = sqlite3.connect(data / "audit.sqlite3")
    stored = [json.loads(row[0]) for row in db.execute("SELECT record FROM audit ORDER BY id")]
    refused = [json.loads(row[0]) for row in db.execute("SELECT record FROM refusals ORDER BY id")]
    # The host's trail holds every attempt, from both workers: the writes in ``audit``, the
    # refusals apart (merged and bounded; a log line also carries the merged count so far).
    merged_fields = ("count", "last_ts", "last_time")
    assert refused + stored == [{k: v for k, v in r.items() if k not in merged_fields} for r in logged]
    assert [r["count"] for r in logged[:3]] == [1, 1, 1]
    assert "Traceback" not in server.log


def test_deploy005_oidc_sign_in_works_across_two_workers(tmp_path, sim):
    people = {"carol": OIDCUser("carol-secret-pw", "carol@example.com", ["fakeai-operators"])}
    with OIDCProvider(people) as idp:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_AUTH="oidc", FAKEAI_DASH_OIDC_ISSUER=idp.issuer,
                           FAKEAI_DASH_OIDC_CLIENT_ID=idp.client_id, FAKEAI_DASH_OIDC_CLIENT_SECRET=idp.client_secret,
                           FAKEAI_DASH_OIDC_OPERATORS='["fakeai-operators"]', FAKEAI_DASH_API_BASE=sim.url)
        with running(PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
            base = server.base
            for attempt in range(4):  # each sign-in's requests land on either worker
                browser = requests.Session()
                browser.headers["Connection"] = "close"  # a new connection, so any worker, per request
                form = browser.get(f"{base}/jobs/ftjob-x", headers={"Accept": "text/html"}, timeout=10)
                assert form.url.startswith(idp.issuer), form.url
                action = re.search(r"action='([^']+)'", form.text).group(1).replace("&amp;", "&")
                landed = browser.post(urljoin(form.url, action), data={"username": "carol",
                                                                       "password": "carol-secret-pw"}, timeout=30)
                assert landed.status_code == 200 and landed.url == f"{base}/jobs/ftjob-x", attempt
                assert all(browser.get(f"{base}/_dash-layout", timeout=10).status_code == 200 for _ in range(4))
            assert idp.logins == ["carol"] * 4
        assert "Traceback" not in server.log
