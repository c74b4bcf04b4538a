"""The host allowlist (fakeai_dash.server.hosts): which Host values pass, the setting's syntax, the start
check of a public bind, the guard's refusal and the OIDC callback URL built from settings alone."""

from __future__ import annotations

import ipaddress
import socket
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from fakeai_dash.auth.startup import start_problem
from fakeai_dash.config import Settings, SettingsError, load_settings
from fakeai_dash.server.hosts import HostGuard, HostPolicy, normalize_entry, own_url, parse_entries, policy_for, split_host

POLICY = HostPolicy(tuple(parse_entries("dash.example.com, .corp.example, admin.example.org:8443, [2001:db8::7]")))


pytestmark = pytest.mark.usefixtures("clean_settings_env")


# -- which hosts pass ------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [
    "localhost", "localhost:8050", "LOCALHOST:1", "localhost.", "127.0.0.1", "127.0.0.1:8050", "127.255.3.4:80",
    "[::1]", "[::1]:8050", "[0:0:0:0:0:0:0:1]:8050", "dash.example.com", "Dash.Example.COM.:443",
    "dash.example.com:8050", " dash.example.com\t", "corp.example", "a.b.corp.example:1234", "admin.example.org:8443", "[2001:DB8::7]:80",
])
def test_hosts_unit001_allowed(host):  # surrounding whitespace is HTTP's optional whitespace
    assert POLICY.allows(host)


@pytest.mark.parametrize("host", [
    None, "", " ", "rebind.attacker.example", "rebind.attacker.example:8050", "dash.example.com.evil.example",
    "evildash.example.com", "xcorp.example", "corp.example.evil", "admin.example.org", "admin.example.org:8444",
    "127.0.0.1@evil.example", "evil.example@127.0.0.1", "user:pw@localhost", "localhost:", "localhost:0",
    "localhost:65536", "localhost:8050:80", "localhost..", "localhost,evil.example", "localhost evil.example",
    "localhost/x", "127.1", "0x7f.0.0.1", "2130706433", "127.000.0.1", "[::ffff:127.0.0.1]", "[::1", "::1",
    "[2001:db8::8]", "dash.exämple.com", "xn--dash.example.com", "[fe80::1%25eth0]",
    "0.0.0.0", "[::]", "localhost.localdomain.evil",
])
def test_hosts_unit002_refused(host):
    assert not POLICY.allows(host)


def test_hosts_unit003_a_port_in_an_entry_is_compared_with_the_schemes_default():
    policy = HostPolicy(("dash.example.com:443",))
    assert policy.allows("dash.example.com", "https") and not policy.allows("dash.example.com", "http")
    assert policy.allows("dash.example.com:443", "http")


LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
NAME = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
PORT = st.one_of(st.none(), st.integers(1, 65535))


def with_port(name: str, port: int | None) -> str:
    return name if port is None else f"{name}:{port}"


@given(NAME, PORT)
def test_hosts_unit004_names_that_are_not_allowed_never_pass_whatever_their_case_dot_or_port(name, port):
    assume(name not in ("localhost", "dash.example.com", "corp.example", "admin.example.org"))
    assume(not name.endswith(".corp.example"))
    for form in (name, name.upper(), name + "."):
        assert not POLICY.allows(with_port(form, port)), form
    # ...nor as a prefix, suffix or subdomain of an allowed name.
    for form in (f"{name}.dash.example.com", f"dash.example.com.{name}", f"{name}corp.example", f"{name}.localhost"):
        assert not POLICY.allows(with_port(form, port)), form


@given(PORT, st.sampled_from(["localhost", "dash.example.com", "corp.example", "x.corp.example"]),
       st.sampled_from([str.lower, str.upper, str.title]), st.booleans())
def test_hosts_unit005_allowed_names_pass_in_any_case_with_a_trailing_dot_on_any_port(port, name, case, dot):
    assert POLICY.allows(with_port(case(name) + ("." if dot else ""), port))


@given(st.ip_addresses(), PORT)
def test_hosts_unit006_an_address_passes_only_when_it_is_loopback_or_listed(address, port):
    literal = f"[{address}]" if address.version == 6 else str(address)
    expected = address.is_loopback or address == ipaddress.ip_address("2001:db8::7")
    assert POLICY.allows(with_port(literal, port)) is expected
    if address.version == 6:
        assert POLICY.allows(with_port(f"[{address.exploded}]", port)) is expected


@given(st.text(max_size=40))
def test_hosts_unit007_any_text_passes_only_in_canonical_host_form(text):
    if POLICY.allows(text):
        name, _port = split_host(text)
        assert set(text.strip().lower()) <= set(string.ascii_lowercase + string.digits + ".-:[]")
        assert "@" not in text and text.strip()
    # Userinfo, whitespace inside, unicode, commas and slashes never pass.
    if any(c in text.strip() for c in "@ ,/\\\t\n") or not text.isascii():
        assert not POLICY.allows(text)


def test_hosts_unit008_any_host_on_purpose():
    policy = HostPolicy(("*",))
    assert policy.any_host and policy.allows("rebind.attacker.example:1") and policy.allows(None)


# -- the setting ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "entries"), [
    ("dash.example.com", ["dash.example.com"]),
    ("dash.example.com, .example.org,", ["dash.example.com", ".example.org"]),  # a Heroku config var
    ('["dash.example.com", "*.example.org"]', ["dash.example.com", ".example.org"]),  # JSON
    ("Dash.Example.com.:8443", ["dash.example.com:8443"]),
    ("bücher.example", ["xn--bcher-kva.example"]),  # what browsers send
    ("[::1], [2001:DB8::1]:80", ["[::1]", "[2001:db8::1]:80"]),
    ("*", ["*"]),
    ("", []),
])
def test_hosts_unit009_the_setting_takes_commas_or_json(monkeypatch, value, entries):
    monkeypatch.setenv("FAKEAI_DASH_ALLOWED_HOSTS", value)
    assert load_settings([]).allowed_hosts == entries


@pytest.mark.parametrize(("value", "says"), [
    ("https://dash.example.com/", "is a URL: write its host name only (e.g. dash.example.com)"),
    ("user@dash.example.com", "is not a host name"), ("dash example", "is not a host name"),
    ('["dash.example.com"', "not a valid JSON list"), ('["a", 1]', "a JSON list of host names"),
    ("a..example", "is not a host name"), ("dash.example.com:0", "is not a host name"),
    ("*dash.example.com", "is not a host name"), ("..example.com", "is not a host name"),
])
def test_hosts_unit010_a_bad_entry_is_one_line_naming_the_setting(monkeypatch, value, says):
    monkeypatch.setenv("FAKEAI_DASH_ALLOWED_HOSTS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings([])
    lines = str(caught.value).splitlines()
    assert len(lines) == 2 and lines[1].strip().startswith("FAKEAI_DASH_ALLOWED_HOSTS: ") and says in lines[1]


def test_hosts_unit011_the_oidc_callbacks_host_is_allowed():
    policy = policy_for(Settings(_env_file=None, oidc_redirect_uri="https://Dash.Example.net/oidc/sso/callback"))
    assert policy.allows("dash.example.net") and policy.allows("dash.example.net:8443")
    assert not policy.allows("example.net") and normalize_entry("*.x.example") == ".x.example"


# -- the start check -----------------------------------------------------------------------------

OIDC = {"auth": "oidc", "oidc_issuer": "https://idp.example", "oidc_client_id": "c", "oidc_client_secret": "s"}


@pytest.mark.parametrize(("settings", "bind", "error", "warning"), [
    ({"auth": "none"}, "127.0.0.1:8050", None, None),
    ({}, "127.0.0.1:8050", None, None),
    ({"auth": "none"}, "0.0.0.0:8050", "without FAKEAI_DASH_ALLOWED_HOSTS", None),
    ({"auth": "none", "allowed_hosts": "dash.example.com"}, "0.0.0.0:8050", None, "FAKEAI_DASH_AUTH=none"),
    ({"auth": "none", "allowed_hosts": "*"}, "0.0.0.0:8050", None, "FAKEAI_DASH_ALLOWED_HOSTS=*"),
    ({"allowed_hosts": "*"}, "127.0.0.1:8050", None, "DNS rebinding"),
    ({**OIDC}, "127.0.0.1:8050", None, None),
    ({**OIDC, "allowed_hosts": "dash.example.com"}, "0.0.0.0:8050", "FAKEAI_DASH_OIDC_REDIRECT_URI", None),
    ({**OIDC, "oidc_redirect_uri": "https://dash.example.com/oidc/sso/callback"}, "unix:/run/d.sock", None, None),
    ({}, "0.0.0.0:8050", "FAKEAI_DASH_AUTH=basic", None),  # sign-in is named first
])
def test_hosts_unit012_a_public_bind_needs_its_host_names(settings, bind, error, warning):
    found_error, found_warning = start_problem(Settings(_env_file=None, **settings), [bind])
    assert (found_error is None) is (error is None) and (error is None or error in found_error)
    assert (found_warning is None) is (warning is None) and (warning is None or warning in found_warning)
    if found_error:
        assert "\n" not in found_error


# -- the guard -----------------------------------------------------------------------------------

def inner(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"inner"]


def call(environ) -> tuple[str, bytes]:
    answer = {}
    body = b"".join(HostGuard(inner, POLICY)(environ, lambda status, headers, exc=None: answer.update(s=status)))
    return answer["s"], body


def test_hosts_unit013_a_request_without_host_is_refused_except_the_health_check():
    for path, expected in (("/", "400 Bad Request"), ("/_dash-layout", "400 Bad Request"), ("/healthz", "200 OK")):
        environ = EnvironBuilder(path=path).get_environ()
        environ["SERVER_PROTOCOL"] = "HTTP/1.0"
        del environ["HTTP_HOST"]  # an HTTP/1.0 client need not send one
        assert call(environ)[0] == expected, path
    post = EnvironBuilder(path="/healthz", method="POST", headers={"Host": "evil.example"}).get_environ()
    assert call(post)[0] == "400 Bad Request"  # only the probe's GET is answered whatever the Host
    status, body = call(EnvironBuilder(path="/", headers={"Host": "évil.example"}).get_environ())
    assert status == "400 Bad Request" and body.decode().count("\n") == 1


# -- the OIDC callback URL -----------------------------------------------------------------------

def test_hosts_unit014_the_callback_url_comes_from_settings_or_the_loopback_socket():
    forged = EnvironBuilder(path="/oidc/sso/login", headers={"Host": "evil.example",
                                                             "X-Forwarded-Host": "evil.example"}).get_environ()
    path = "/oidc/sso/callback"
    assert own_url("https://dash.example.com/cb", path, forged, "127.0.0.1", 8050) == "https://dash.example.com/cb"
    assert own_url(None, path, forged, "127.0.0.1", 8050) == "http://127.0.0.1:8050/oidc/sso/callback"
    assert own_url(None, path, forged, "::1", 9000) == "http://[::1]:9000/oidc/sso/callback"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client, listener.accept()[0] as served:
            assert client
            environ = {**forged, "gunicorn.socket": served}
            assert own_url(None, path, environ, "127.0.0.1", 8050) == f"http://127.0.0.1:{port}{path}"
