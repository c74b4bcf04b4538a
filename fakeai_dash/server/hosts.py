"""The host names this dashboard answers to, and the WSGI guard that refuses every other one.

Why: a page on rebind.attacker.example whose DNS name the attacker re-points at 127.0.0.1 is,
to the browser, still that site. Its requests reach a loopback dashboard with
``Host: rebind.attacker.example`` and a matching Origin, so the same-origin check passes, and
with no sign-in on loopback every visitor is an operator. Only the Host says which site the
browser thinks it is talking to, so only known names are answered (as Django's ALLOWED_HOSTS,
Jupyter and Vite do).

Allowed, on any port unless the entry names one:

- loopback names: ``localhost``, any 127.x.y.z literal, ``[::1]``;
- each entry of FAKEAI_DASH_ALLOWED_HOSTS: ``dash.example.com``, ``.example.com`` (the name
  and its subdomains; ``*.example.com`` means the same), ``dash.example.com:8443``, or ``*``
  (any host: the check is off);
- the host of FAKEAI_DASH_OIDC_REDIRECT_URI.

Behind trusted proxies (FAKEAI_DASH_TRUSTED_PROXIES > 0) ProxyFix has put the forwarded host
in ``HTTP_HOST`` before the guard reads it. ``GET /healthz`` answers any Host: load balancers
probe it by the pod's address, and it tells nothing but "ok" and the version.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

from fakeai_dash import i18n
from fakeai_dash.i18n import _

ANY = "*"
HEALTH_PATH = "/healthz"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a Host may look like at all (Django's host_validation_re): a DNS name or an IPv6
# literal, and a port. Userinfo ("a@b"), spaces, commas and raw unicode never match.
_HOST_RE = re.compile(r"^(?P<name>[a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::(?P<port>[0-9]{1,5}))?$")
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def split_host(value: str | None) -> tuple[str, int | None] | None:
    """(name, port) of a Host header in canonical form, or None when it is not a host.

    The name is lower case, without the one trailing dot DNS allows ("example.com."), IP
    literals in their compressed form ("[0::1]" -> "[::1]").
    """
    if not value:
        return None
    match = _HOST_RE.match(value.strip().lower())
    if match is None:
        return None
    name, port = match.group("name"), match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    if name.startswith("["):
        try:
            name = f"[{ipaddress.IPv6Address(name[1:-1]).compressed}]"
        except ValueError:
            return None
    elif name.endswith(".") and not name.endswith(".."):
        name = name[:-1]
    return name, int(port) if port is not None else None


def is_loopback_name(name: str) -> bool:
    """localhost, 127.0.0.0/8 or [::1] (``name`` as split_host gives it)."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_entries(value: str | Iterable[str]) -> list[str]:
    """The entries of FAKEAI_DASH_ALLOWED_HOSTS: a JSON list, or names separated by commas
    (as a Heroku config var holds them). Raises ValueError with one sentence."""
    if isinstance(value, str):
        text = value.strip()
        if re.match(r'^\[\s*["\]]', text):  # a JSON list; "[::1]" alone is an IPv6 address
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"not a valid JSON list ({error.msg})") from None
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError("a JSON list of host names, e.g. [\"dash.example.com\"]")
        else:
            value = text.split(",")
    return [normalize_entry(item) for item in value if item.strip()]


def normalize_entry(entry: str) -> str:
    """One allowed-host entry in the form the matcher compares: lower case, IDNA for unicode
    names ("bücher.example" -> "xn--bcher-kva.example", what browsers send), "*.x" as ".x"."""
    text = entry.strip()
    if text == ANY:
        return ANY
    if "://" in text or "/" in text:
        raise ValueError(f"{text!r} is a URL: write its host name only (e.g. {urlsplit(text).netloc or 'dash.example.com'})")
    subdomains = text.startswith((".", "*."))
    text = text.removeprefix("*").removeprefix(".") if subdomains else text
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise ValueError(f"{entry.strip()!r} is not a valid host name") from None
    parts = split_host(text)
    if parts is None or (not parts[0].startswith("[") and not _NAME_RE.match(parts[0])):
        raise ValueError(f"{entry.strip()!r} is not a host name (e.g. dash.example.com, .example.com, "
                         "dash.example.com:8443)")
    name, port = parts
    if subdomains and name.startswith("["):
        raise ValueError(f"{entry.strip()!r}: an address has no subdomains")
    return ("." if subdomains else "") + name + (f":{port}" if port is not None else "")


@dataclass(frozen=True)
class HostPolicy:
    """Which Host values pass: loopback names always, plus ``entries`` (normalize_entry's form)."""

    entries: tuple[str, ...] = ()

    @property
    def any_host(self) -> bool:
        return ANY in self.entries

    def allows(self, host: str | None, scheme: str = "http") -> bool:
        if self.any_host:
            return True
        parts = split_host(host)
        if parts is None:
            return False
        name, port = parts
        if is_loopback_name(name):
            return True
        port = port if port is not None else _DEFAULT_PORTS.get(scheme)
        return any(_matches(entry, name, port) for entry in self.entries)


def _matches(entry: str, name: str, port: int | None) -> bool:
    pattern, wanted_port = split_host(entry.lstrip(".")) or ("", None)
    if wanted_port is not None and wanted_port != port:
        return False
    if entry.startswith("."):
        return name == pattern or name.endswith("." + pattern)
    return name == pattern


def policy_for(settings) -> HostPolicy:
    """The allowed hosts of ``settings``: FAKEAI_DASH_ALLOWED_HOSTS and the OIDC callback's host."""
    entries = list(settings.allowed_hosts)
    if settings.oidc_redirect_uri:
        entries.append(normalize_entry(urlsplit(settings.oidc_redirect_uri).hostname or ""))
    return HostPolicy(tuple(entries))


def configured(settings) -> bool:
    """Whether an operator named any host at all (a public bind needs one: auth/startup.py)."""
    return bool(settings.allowed_hosts or settings.oidc_redirect_uri)


# -- the dashboard's own address ----------------------------------------------------------------

def local_address(environ: dict) -> tuple[str, int] | None:
    """The address this connection arrived at: the listening socket's own, which no request
    header can change (gunicorn and werkzeug's server pass the socket in the environ)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    try:
        host, port = sock.getsockname()[:2]
        return str(host), int(port)
    except (AttributeError, OSError, TypeError, ValueError):
        return None


def own_url(configured_url: str | None, path: str, environ: dict, host: str, port: int) -> str:
    """``configured_url``, else http://<loopback address>:<port><path> from where this connection
    arrived (loopback only), else from the bind settings ``host``/``port``: never from Host or
    X-Forwarded-Host, which any client writes."""
    if configured_url:
        return configured_url
    arrived = local_address(environ)
    if arrived is not None and is_loopback_name(arrived[0]):
        host, port = arrived
    literal = f"[{host}]" if ":" in host else host
    return f"http://{literal}:{port}{path}"


# -- the guard ---------------------------------------------------------------------------------

class HostGuard:
    """WSGI middleware: a request whose Host is not allowed gets 400 and one plain sentence
    before the app sees it: no sign-in, no Dash, no push stream, no static file."""

    def __init__(self, app: Callable, policy: HostPolicy, health_path: str = HEALTH_PATH):
        self.app, self.policy, self.health_path = app, policy, health_path

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")  # a request without Host (HTTP/1.0) names no site: refused
        if self.policy.allows(host, environ.get("wsgi.url_scheme", "http")) or self._health_check(environ):
            return self.app(environ, start_response)
        request = Request(environ)
        code = i18n.resolve(request.args.get(i18n.QUERY), request.headers.get("Referer"),
                            request.cookies.get(i18n.COOKIE), request.headers.get("Accept-Language"))
        shown = (host or "").encode("latin-1", "replace").decode("utf-8", "replace")[:100] or "-"
        with i18n.use_locale(code):
            body = _("This dashboard does not answer to the host name {host}: open it by the address "
                                "its operator set up (FAKEAI_DASH_ALLOWED_HOSTS).").format(host=shown)
        data = (body + "\n").encode("utf-8")
        start_response("400 Bad Request", [
            ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))),
            ("Content-Language", code), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
            ("Vary", "Host")])
        return [data]

    def _health_check(self, environ) -> bool:
        return environ.get("PATH_INFO") == self.health_path and environ.get("REQUEST_METHOD") in ("GET", "HEAD")


__all__ = ["ANY", "HostGuard", "HostPolicy", "configured", "is_loopback_name", "local_address", "normalize_entry",
           "own_url", "parse_entries", "policy_for", "split_host"]
