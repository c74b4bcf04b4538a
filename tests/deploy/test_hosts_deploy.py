"""Host names, forwarded headers and the OIDC callback URL on the real app under gunicorn, started as
the Procfile starts it (issue #17: findings 1, 8 and 9c).

- DNS rebinding: a page whose name was re-pointed at 127.0.0.1 sends its own Host and a matching
  Origin. On a loopback install with no sign-in, such requests read, created and cancelled jobs
  as "anonymous"; they get 400 now, the API sees nothing, the audit trail stays empty, while the
  same requests by 127.0.0.1 still work. /healthz answers any Host.
- gunicorn believes no forwarded header: X-Forwarded-Proto from 127.0.0.1 is not HTTPS unless
  FAKEAI_DASH_TRUSTED_PROXIES says a proxy is in front (then ProxyFix believes it, and the
  forwarded host is the one checked).
- The OIDC callback URL never comes from Host or X-Forwarded-Host.
- A public bind needs FAKEAI_DASH_ALLOWED_HOSTS (and, with OIDC, FAKEAI_DASH_OIDC_REDIRECT_URI).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fakeai_dash import ids
from fakeai_dash.embedded import free_port
from tests.deploy.test_auth_deploy import PROCFILE, procfile_env
from tests.deploy.test_server import VENV_BIN, clean_env, running
from tests.integration.test_auth_gate import callback_body, cancel_body, create_body, dependencies, text_of
from tests.support.oidc_provider import OIDCProvider, OIDCUser
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

REBOUND = "rebind.attacker.example"


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=8, running_jobs=4) as server:
        yield server


def audit_rows(data_dir) -> list[dict]:
    path = data_dir / "audit.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [json.loads(row[0]) for row in db.execute("SELECT record FROM audit ORDER BY id")]


def raw_status(port: int, request: bytes) -> int:
    """The status of a request sent as written (requests always adds a Host)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        head = connection.makefile("rb").readline()
    return int(head.split()[1])


def test_hosts001_dns_rebinding_on_loopback_is_refused_and_forwarded_proto_is_not_believed(tmp_path, sim):
    port, data = free_port(), tmp_path / "data"
    env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, FAKEAI_DASH_DATA_DIR=str(data),
                       WEB_CONCURRENCY="1")
    with running(PROCFILE, tmp_path, env, port) as server:
        base = server.base
        deps = dependencies(lambda p: requests.get(base + p, timeout=10))
        job_id = next(j for j in sim.job_ids() if sim._job(j).status == "running")
        read = callback_body(deps, ids.Page.INTERVAL, {ids.Page.INTERVAL: 1}, "n_intervals", "jobs-store.data")
        actions = {"read": read, "create": create_body(deps, "file-sim-train-0001"), "cancel": cancel_body(deps, job_id)}

        # The rebinding page: its own name as Host, its own origin, any port.
        forged = {"Host": f"{REBOUND}:{port}", "Origin": f"http://{REBOUND}:{port}"}
        answers = {action: requests.post(f"{base}/_dash-update-component", json=body, headers=forged, timeout=30)
                   for action, body in actions.items()}
        assert {action: answer.status_code for action, answer in answers.items()} == dict.fromkeys(actions, 400)
        for answer in answers.values():
            assert answer.headers["Content-Type"].startswith("text/plain")
            assert answer.text.strip() == (f"This dashboard does not answer to the host name {REBOUND}:{port}: open it "
                                           "by the address its operator set up (FAKEAI_DASH_ALLOWED_HOSTS).")
        for path in ("/", "/jobs/" + job_id, "/_dash-layout", "/_dash-dependencies", "/_push", "/assets/theme.css"):
            answer = requests.get(base + path, headers=forged, timeout=10)
            assert answer.status_code == 400, (path, answer.status_code)
            assert "jobs" not in answer.text.lower()
        for host in (f"{REBOUND}.:{port}", f"127.0.0.1@{REBOUND}:{port}", f"127.0.0.1.{REBOUND}", "0x7f.0.0.1",
                     f"LOCALHOST.{REBOUND}"):
            assert requests.get(base + "/", headers={"Host": host}, timeout=10).status_code == 400, host
        # In the request's language, like every message a page may show.
        german = requests.get(base + "/", headers={**forged, "Accept-Language": "de"}, timeout=10)
        assert german.status_code == 400 and german.headers["Content-Language"] == "de"
        assert REBOUND in german.text and "does not answer" not in german.text
        # An HTTP/1.0 request may name no host at all, so it names no site either.
        assert raw_status(port, b"GET / HTTP/1.0\r\n\r\n") == 400
        assert raw_status(port, b"GET /healthz HTTP/1.0\r\n\r\n") == 200
        # A load balancer probes /healthz by whatever name or address it has: only the status.
        health = requests.get(f"{base}/healthz", headers={"Host": "10.1.2.3:8050"}, timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert sim.stats()["by_kind"].get("writes", 0) == 0
        assert audit_rows(data) == []

        # The same requests by the loopback name still work.
        own = {"Origin": base}

        def job_list():
            answer = requests.post(f"{base}/_dash-update-component", json=read, headers=own, timeout=30)
            return answer.status_code == 200 and answer.json()["response"]["jobs-store"]["data"]

        rows = wait_until(job_list, 30, "the job list")
        assert job_id in {row["id"] for row in rows}
        created = requests.post(f"{base}/_dash-update-component", json=actions["create"], headers=own, timeout=30)
        assert created.status_code == 200, created.text[:300]
        cancelled = requests.post(f"{base}/_dash-update-component", json=actions["cancel"], headers=own, timeout=30)
        assert "Cancel requested." in text_of(cancelled.json())
        assert sim.stats()["by_kind"]["writes"] == 2 and sim._job(job_id).status == "cancelled"
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"127.9.9.9:{port}", f"[::1]:{port}", f"LocalHost.:{port}"):
            assert requests.get(f"{base}/_dash-layout", headers={"Host": host}, timeout=10).status_code == 200, host

        # No proxy is trusted: a client's own X-Forwarded-Proto does not make plain http "https"
        # (gunicorn believed it from 127.0.0.1 whatever FAKEAI_DASH_TRUSTED_PROXIES said).
        claimed = requests.get(f"{base}/?lang=de", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"},
                               timeout=10)
        assert claimed.status_code == 200
        assert "Strict-Transport-Security" not in claimed.headers
        assert "lang=de" in claimed.headers["Set-Cookie"] and "Secure" not in claimed.headers["Set-Cookie"]
    assert [(r["action"], r["outcome"], r["user"]) for r in audit_rows(data)] == [
        ("create", "allowed", "anonymous"), ("cancel", "allowed", "anonymous")]
    assert "Traceback" not in server.log


def login_redirect_uri(answer: requests.Response) -> str:
    """The redirect_uri the app sent the browser to the provider with."""
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    return parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_uri"][0]


def oidc_env(idp: OIDCProvider, **settings: str) -> dict[str, str]:
    return {"FAKEAI_DASH_AUTH": "oidc", "FAKEAI_DASH_OIDC_ISSUER": idp.issuer,
            "FAKEAI_DASH_OIDC_CLIENT_ID": idp.client_id, "FAKEAI_DASH_OIDC_CLIENT_SECRET": idp.client_secret,
            **settings}


def test_hosts002_the_oidc_callback_url_never_names_the_requests_host(tmp_path, sim):
    people = {"carol": OIDCUser("carol-secret-pw", "carol@example.com", ["staff"])}
    with OIDCProvider(people) as idp:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, WEB_CONCURRENCY="1",
                           FAKEAI_DASH_ALLOWED_HOSTS="alt.example", **oidc_env(idp))
        with running(PROCFILE, tmp_path, env, port) as server:
            login = f"{server.base}/oidc/sso/login"
            own = f"http://127.0.0.1:{port}/oidc/sso/callback"  # loopback, unset: where the connection arrived
            # No proxy is trusted, yet dash-auth took X-Forwarded-Host as the site's name.
            for headers in ({"X-Forwarded-Host": "evil.example"}, {"X-Forwarded-Host": f"evil.example:{port}"},
                            {"Host": f"alt.example:{port}", "X-Forwarded-Host": "evil.example"},
                            {"Host": f"localhost:{port}"}):
                answer = requests.get(login, headers=headers, allow_redirects=False, timeout=10)
                assert login_redirect_uri(answer) == own, headers
            forged = requests.get(login, headers={"Host": f"evil.example:{port}"}, allow_redirects=False, timeout=10)
            assert forged.status_code == 400 and "evil.example" not in forged.headers.get("Location", "")
        assert "Traceback" not in server.log

        # Behind a trusted proxy: the setting's URL whatever the forwarded host; its host is allowed.
        public = "https://dash.example.com/oidc/sso/callback"
        behind = tmp_path / "behind"
        behind.mkdir()
        port = free_port()
        env = procfile_env(behind, "127.0.0.1", port, FAKEAI_DASH_API_BASE=sim.url, WEB_CONCURRENCY="1",
                           FAKEAI_DASH_TRUSTED_PROXIES="1", FAKEAI_DASH_OIDC_REDIRECT_URI=public,
                           FAKEAI_DASH_ALLOWED_HOSTS="alt.example", **oidc_env(idp))
        with running(PROCFILE, behind, env, port) as server:
            login = f"{server.base}/oidc/sso/login"
            proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
            for host in ("dash.example.com", "alt.example", "evil.example, dash.example.com"):
                answer = requests.get(login, headers={**proxied, "X-Forwarded-Host": host}, allow_redirects=False,
                                      timeout=10)
                assert login_redirect_uri(answer) == public, host
                # The proxy said https: HSTS, and the sign-in's state cookie is Secure.
                assert "Strict-Transport-Security" in answer.headers and "Secure" in answer.headers["Set-Cookie"]
            for host in ("evil.example", "dash.example.com, evil.example"):  # the last hop's value counts
                answer = requests.get(login, headers={**proxied, "X-Forwarded-Host": host}, allow_redirects=False,
                                      timeout=10)
                assert answer.status_code == 400, host
        assert "Traceback" not in server.log


@pytest.mark.parametrize(("settings", "named"), [
    ({"FAKEAI_DASH_AUTH": "none"}, "FAKEAI_DASH_ALLOWED_HOSTS"),
    ({"FAKEAI_DASH_AUTH": "oidc", "FAKEAI_DASH_OIDC_ISSUER": "https://idp.example",
      "FAKEAI_DASH_OIDC_CLIENT_ID": "dash", "FAKEAI_DASH_OIDC_CLIENT_SECRET": "s3cret",
      "FAKEAI_DASH_ALLOWED_HOSTS": "dash.example.com"}, "FAKEAI_DASH_OIDC_REDIRECT_URI"),
], ids=["no-allowed-hosts", "oidc-without-redirect-uri"])
def test_hosts003_a_public_bind_without_its_host_names_refuses_to_start_with_one_line(tmp_path, settings, named):
    for command, env in ((PROCFILE, procfile_env(tmp_path, "0.0.0.0", free_port(), **settings)),
                         ([str(VENV_BIN / "fakeai-dash"), "--host", "0.0.0.0", "--port", str(free_port())],
                          clean_env(tmp_path, **settings))):
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        refusal = [line for line in output.splitlines() if "refusing to serve" in line]
        assert len(refusal) == 1 and named in refusal[0], output
        assert "Traceback" not in output and "Booting worker" not in output and "Embedded FakeAI" not in output


def test_hosts004_any_host_on_purpose_starts_with_a_warning(tmp_path, sim):
    port = free_port()
    env = procfile_env(tmp_path, "0.0.0.0", port, FAKEAI_DASH_AUTH="none", FAKEAI_DASH_ALLOWED_HOSTS="*",
                       FAKEAI_DASH_API_BASE=sim.url, WEB_CONCURRENCY="1")
    with running(PROCFILE, tmp_path, env, port) as server:
        assert requests.get(f"{server.base}/_dash-layout", headers={"Host": f"{REBOUND}:{port}"}, timeout=10).ok
    assert "FAKEAI_DASH_ALLOWED_HOSTS=*: every host name is answered" in server.log
