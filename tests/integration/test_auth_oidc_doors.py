"""OIDC sign-in's doors on the real app and the real provider (#17, findings 2, 3 and 6):

- ``next`` never sends the browser off the site, whatever it holds (no 500 either);
- an unverified e-mail, a group posing as an address, a malformed address or a chosen
  ``preferred_username`` grants no operator role, and the audited name is the verified e-mail
  or the issuer's ``sub``;
- sign-out ends the session on the server: a saved cookie signs nobody in afterwards; the cookie
  holds only a random id; a role change in the settings applies to sessions already open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from urllib.parse import urljoin

import msgpack
import pytest
import redis
import requests
from hypothesis import HealthCheck, given, settings

from tests.integration.test_auth_gate import cancel_body, dependencies, running_job, text_of, trail, writes
from tests.integration.test_auth_oidc import HTML, oidc_apps, session_of, sign_in
from tests.support.oidc_provider import OMIT, OIDCProvider, OIDCUser
from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator
from tests.unit.test_auth_next import HOSTILE, assert_same_site
from tests.support.waiting import wait_until

PW = "a-long-password-1"
PEOPLE = {
    "carol": OIDCUser(PW, "carol@example.com", ["fakeai-operators"]),
    "alice": OIDCUser(PW, "alice@corp.com"),  # verified, in the domain: the one true operator
    # The four ways in of finding 3, each with operators ["@corp.com"]:
    "eve": OIDCUser(PW, "eve@corp.com", claims={"email_verified": OMIT}),  # Entra ID never sends it
    "frank": OIDCUser(PW, "frank@corp.com", claims={"email_verified": "false"}),  # a string, truthy
    "gina": OIDCUser(PW, "gina@gmail.com", ["@corp.com"]),  # a group named like the domain
    "hank": OIDCUser(PW, "x@evil.com@corp.com"),  # two "@"
    # A viewer who picked the name of an operator.
    "ivan": OIDCUser(PW, "ivan@gmail.com", claims={"preferred_username": "alice@corp.com", "name": "alice@corp.com"}),
}


@pytest.fixture(scope="module")
def sim():
    with ScaleSimulator(jobs=6, running_jobs=4) as server:
        yield server


@pytest.fixture(scope="module")
def idp():
    with OIDCProvider(PEOPLE) as provider:
        yield provider


@pytest.fixture
def oidc_app(make_app, sim, idp, tmp_path):
    with oidc_apps(make_app, sim, idp, tmp_path, session_secret="one-deployment-secret-0123456789abcdef") as make:
        yield make


def landing(url: str, next_query: str, user: str = "carol") -> requests.Response:
    """The callback's answer after a sign-in started at /oidc/sso/login?<next_query>; every
    redirect followed by hand, so a broken check cannot send the test off the machine."""
    browser = requests.Session()
    started = browser.get(f"{url}/oidc/sso/login?{next_query}", allow_redirects=False, timeout=10)
    assert started.status_code == 302, (next_query, started.status_code)
    form = browser.get(started.headers["Location"], timeout=10)
    action = re.search(r"action='([^']+)'", form.text).group(1).replace("&amp;", "&")
    back = browser.post(urljoin(form.url, action), data={"username": user, "password": PW}, allow_redirects=False,
                        timeout=10)
    assert back.headers["Location"].startswith(url + "/oidc/sso/callback?")
    return browser.get(back.headers["Location"], allow_redirects=False, timeout=10)


def cookie_payload(cookie: str) -> dict:
    """What anyone can read in a Flask session cookie: base64 JSON (zlib'd when it starts with ".")."""
    compressed = cookie.startswith(".")
    data = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


# -- finding 2: next ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["next=/%09/evil.example", "next=/%0a/evil.example", "next=/%0d%0aSet-Cookie:x=1",
                                   "next=/%5Cevil.example", "next=/%252F/evil.example", "next=%2F%E3%80%80/evil"])
def test_doors101_a_hostile_next_lands_home_never_elsewhere_nor_a_server_error(oidc_app, query):
    _app, url = oidc_app()
    landed = landing(url, query)
    assert landed.status_code == 302 and landed.headers["Location"] == "/", (query, landed.headers.get("Location"))


def test_doors102_the_real_flow_over_hostile_next_values(oidc_app):
    _app, url = oidc_app()

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(HOSTILE)
    def lands_on_the_site(value):
        landed = landing(url, "next=" + requests.utils.quote(value, safe=""))
        assert landed.status_code == 302, (value, landed.status_code)
        assert_same_site(landed.headers["Location"])

    lands_on_the_site()
    assert landing(url, "next=/jobs/ftjob-abc%3Ftab%3Dmetrics").headers["Location"] == "/jobs/ftjob-abc?tab=metrics"


# -- finding 3: roles from claims ----------------------------------------------------------------------

@pytest.mark.parametrize(("user", "audited"), [("eve", "sub-eve"), ("frank", "sub-frank"), ("gina", "gina@gmail.com"),
                                               ("hank", "sub-hank"), ("ivan", "ivan@gmail.com")])
def test_doors103_unverified_or_posing_claims_give_no_operator_and_the_audit_names_the_verified(oidc_app, sim, user,
                                                                                               audited):
    app, url = oidc_app(oidc_operators=["@corp.com"])
    browser = requests.Session()
    assert sign_in(browser, url, user, PW).status_code == 200
    who = session_of(browser, url)["auth-session-store"]["data"]
    assert (who["name"], who["role"], who["can_write"]) == (audited, "viewer", False)
    deps = dependencies(lambda p: browser.get(url + p, timeout=10))
    answer = browser.post(url + "/_dash-update-component", json=cancel_body(deps, running_job(sim)), timeout=10).json()
    assert f"and {audited} is a viewer" in text_of(answer)
    assert writes(sim) == 0
    assert [(r["user"], r["outcome"]) for r in trail(app)] == [(audited, "refused")]
    assert "alice" not in json.dumps(trail(app))


def test_doors104_a_verified_address_operates_and_viewers_lists_still_hold(oidc_app):
    _app, url = oidc_app(oidc_operators=["@corp.com"], oidc_viewers=["group:staff", "@gmail.com"])
    alice, eve = requests.Session(), requests.Session()
    assert sign_in(alice, url, "alice", PW).status_code == 200
    assert session_of(alice, url)["auth-session-store"]["data"]["role"] == "operator"
    refused = sign_in(eve, url, "eve", PW)  # unverified: not in @corp.com, nor a viewer
    assert refused.status_code == 403 and "signed in as sub-eve" in refused.text


# -- finding 6: sessions the server can end ----------------------------------------------------------

def test_doors105_sign_out_ends_the_session_a_saved_cookie_is_refused(oidc_app):
    _app, url = oidc_app()
    browser = requests.Session()
    assert sign_in(browser, url, "carol", PW).status_code == 200
    saved = browser.cookies.get("session")
    assert requests.get(url + "/_dash-layout", cookies={"session": saved}, timeout=10).status_code == 200
    assert browser.get(url + "/oidc/logout", timeout=10).status_code == 200
    assert requests.get(url + "/_dash-layout", cookies={"session": saved}, timeout=10).status_code == 401
    again = requests.get(url + "/", cookies={"session": saved}, headers=HTML, allow_redirects=False, timeout=10)
    assert again.status_code == 302 and again.headers["Location"].startswith("/oidc/sso/login")


def test_doors106_the_cookie_holds_a_random_id_only(oidc_app):
    _app, url = oidc_app()
    browser = requests.Session()
    assert sign_in(browser, url, "carol", PW).status_code == 200
    payload = cookie_payload(browser.cookies.get("session"))
    assert list(payload) == ["sid"] and re.fullmatch(r"[A-Za-z0-9_-]{43}", payload["sid"])
    other = requests.Session()
    assert sign_in(other, url, "carol", PW).status_code == 200
    assert cookie_payload(other.cookies.get("session"))["sid"] != payload["sid"]  # one per sign-in


def test_doors107_a_role_change_in_the_settings_applies_to_open_sessions(oidc_app):
    # Two apps on one data directory and secret: the same deployment before and after a restart
    # that removed the operators group from FAKEAI_DASH_OIDC_OPERATORS.
    _before, url = oidc_app(oidc_operators=["fakeai-operators"])
    browser = requests.Session()
    assert sign_in(browser, url, "carol", PW).status_code == 200
    assert session_of(browser, url)["auth-session-store"]["data"]["role"] == "operator"
    _after, url_after = oidc_app(oidc_operators=[])  # made once the first serves (Dash's callbacks are global)
    assert session_of(browser, url_after)["auth-session-store"]["data"]["role"] == "viewer"


def test_doors108_a_session_ends_after_its_lifetime(oidc_app):
    _app, url = oidc_app(session_hours=1 / 3600)  # one second
    browser = requests.Session()
    assert sign_in(browser, url, "carol", PW).status_code == 200
    wait_until(lambda: browser.get(url + "/_dash-layout", timeout=10).status_code == 401, 10, "the session to expire")


def test_doors109_with_redis_the_session_is_a_key_with_a_ttl_and_sign_out_deletes_it(oidc_app):
    with running_redis() as cache_url:
        _app, url = oidc_app(cache_url=cache_url)
        browser = requests.Session()
        assert sign_in(browser, url, "carol", PW).status_code == 200
        saved = browser.cookies.get("session")
        key = "fakeai-dash:session:" + hashlib.sha256(cookie_payload(saved)["sid"].encode()).hexdigest()
        client = redis.Redis.from_url(cache_url)
        record = msgpack.unpackb(client.get(key))
        assert (record["sub"], record["email"], record["groups"]) == ("sub-carol", "carol@example.com",
                                                                      ["fakeai-operators"])
        assert 11.9 * 3600 < client.pttl(key) / 1000 <= 12 * 3600  # FAKEAI_DASH_SESSION_HOURS' default
        assert cookie_payload(saved)["sid"] not in str(client.keys("*"))  # the store holds no cookie
        assert browser.get(url + "/oidc/logout", timeout=10).status_code == 200
        assert client.exists(key) == 0
        assert requests.get(url + "/_dash-layout", cookies={"session": saved}, timeout=10).status_code == 401
        client.close()


def test_doors110_signing_in_again_ends_the_session_it_replaces(oidc_app):
    _app, url = oidc_app()
    browser = requests.Session()
    assert sign_in(browser, url, "carol", PW).status_code == 200
    first = browser.cookies.get("session")
    assert landing(url, "next=/", "carol").status_code == 302  # a second sign-in, elsewhere: first lives on
    assert requests.get(url + "/_dash-layout", cookies={"session": first}, timeout=10).status_code == 200
    again = sign_in(browser, url, "carol", PW, "/oidc/sso/login")  # in the same browser: replaces it
    assert again.status_code == 200 and browser.cookies.get("session") != first
    assert requests.get(url + "/_dash-layout", cookies={"session": first}, timeout=10).status_code == 401
