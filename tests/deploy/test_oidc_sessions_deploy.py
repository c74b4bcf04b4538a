"""OIDC sessions under gunicorn, started as the Procfile starts it, with two workers (#17, finding 6).

A session begun on one worker is known to the other (the host's shared session store), and
sign-out on one ends it on both: a cookie saved before /oidc/logout is refused afterwards, on
callbacks and on pages alike, by whichever worker answers. The cookie carries a random id only.
The access log names the worker (pid) that answered each request, so the test sees both answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urljoin

import pytest
import requests

from fakeai_dash.embedded import free_port
from tests.deploy.test_auth_deploy import PROCFILE, procfile_env
from tests.deploy.test_server import running, wait_until
from tests.integration.test_auth_gate import callback_body, dependencies
from tests.integration.test_auth_oidc_doors import cookie_payload
from tests.support.oidc_provider import OIDCProvider, OIDCUser
from tests.support.scale_sim import ScaleSimulator

PW = "carol-secret-pw"
ACCESS = re.compile(r"^worker=<?(\d+)>? (\w+) (\S+) (\d{3})$", re.M)


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=4, running_jobs=2) as server:
        yield server


def answers(log: str, method: str, path: str) -> dict[str, set[int]]:
    """{worker pid: statuses} of the requests for ``path`` in the access log."""
    seen = defaultdict(set)
    for pid, logged_method, logged_path, status in ACCESS.findall(log):
        if (logged_method, logged_path) == (method, path):
            seen[pid].add(int(status))
    return seen


def test_deploy101_sign_out_on_one_worker_ends_the_session_on_both(tmp_path, sim):
    with OIDCProvider({"carol": OIDCUser(PW, "carol@example.com", ["fakeai-operators"])}) as idp:
        port = free_port()
        env = procfile_env(tmp_path, "127.0.0.1", port, FAKEAI_DASH_AUTH="oidc", FAKEAI_DASH_OIDC_ISSUER=idp.issuer,
                           FAKEAI_DASH_OIDC_CLIENT_ID=idp.client_id, FAKEAI_DASH_OIDC_CLIENT_SECRET=idp.client_secret,
                           FAKEAI_DASH_OIDC_OPERATORS='["group:fakeai-operators"]', FAKEAI_DASH_API_BASE=sim.url,
                           FAKEAI_DASH_DATA_DIR=str(tmp_path / "data"),
                           GUNICORN_CMD_ARGS="--access-logformat 'worker=%(p)s %(m)s %(U)s %(s)s'")
        with running(PROCFILE, tmp_path, env, port) as server:
            wait_until(lambda: server.log.count("Booting worker") >= 2, 30, "two workers")
            base = server.base
            browser = requests.Session()
            browser.headers["Connection"] = "close"  # a new connection, so any worker, per request
            form = browser.get(f"{base}/jobs/ftjob-x", headers={"Accept": "text/html"}, timeout=10)
            action = re.search(r"action='([^']+)'", form.text).group(1).replace("&amp;", "&")
            landed = browser.post(urljoin(form.url, action), data={"username": "carol", "password": PW}, timeout=30)
            assert landed.status_code == 200 and landed.url == f"{base}/jobs/ftjob-x"
            saved = browser.cookies.get("session")

            # Opaque: the id alone, nothing about carol or her role.
            payload = cookie_payload(saved)
            assert list(payload) == ["sid"] and len(payload["sid"]) == 43
            assert not re.search(r"carol|example\.com|operator|viewer|groups", str(payload))

            def replay(method: str, path: str, **kwargs) -> requests.Response:
                return requests.request(method, base + path, cookies={"session": saved}, allow_redirects=False,
                                        headers={"Connection": "close", **kwargs.pop("headers", {})}, timeout=10,
                                        **kwargs)

            # Both workers know the session (begun on one of them).
            def both_answer(method: str, path: str, expected: int, since: int = 0, **kwargs) -> bool:
                response = replay(method, path, **kwargs)
                assert response.status_code == expected, (path, response.status_code)
                if expected == 302:
                    assert response.headers["Location"].startswith("/oidc/sso/login?next=")
                seen = answers(server.log[since:], method, path)
                return len(seen) >= 2 and all(statuses == {expected} for statuses in seen.values())

            wait_until(lambda: both_answer("GET", "/_dash-layout", 200), 30, "both workers to serve the session")
            deps = dependencies(lambda p: replay("GET", p))
            header = callback_body(deps, "header-user", {"header-user": "header-user"}, "id")
            wait_until(lambda: both_answer("POST", "/_dash-update-component", 200, json=header), 30,
                       "both workers to answer the header's callback")

            out = browser.get(f"{base}/oidc/logout", timeout=10)
            assert out.status_code == 200 and "Signed out" in out.text

            # The saved cookie, replayed: refused by both workers, on a callback and on a page.
            mark = len(server.log)
            wait_until(lambda: both_answer("POST", "/_dash-update-component", 401, mark, json=header), 30,
                       "both workers to refuse the callback")
            wait_until(lambda: both_answer("GET", "/", 302, mark, headers={"Accept": "text/html"}), 30,
                       "both workers to send the page to sign-in")
            wait_until(lambda: both_answer("GET", "/_dash-layout", 401, mark), 30, "both workers to refuse the layout")
        assert "Traceback" not in server.log
