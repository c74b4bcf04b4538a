"""Secure by default: a public bind with no sign-in or no host name configured does not start.

On loopback nothing is needed (``make run``). On any other bind (the Procfile's 0.0.0.0, a unix
socket behind a proxy):

- FAKEAI_DASH_AUTH must be set: basic or oidc, or none on purpose (which starts with a warning);
- the names browsers use must be set (FAKEAI_DASH_ALLOWED_HOSTS, or the OIDC callback URL):
  every other Host is refused (fakeai_dash.server.hosts), and on a public bind nothing else is known;
  ``*`` answers any host on purpose (a warning);
- OIDC needs FAKEAI_DASH_OIDC_REDIRECT_URI: the callback URL is never built from the request.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from collections.abc import Iterable
from typing import Any

from fakeai_dash.server import hosts
from fakeai_dash.auth.users import UsersFileError, load_users

log = logging.getLogger(__name__)


def bind_host(bind: str) -> str | None:
    """The host of a gunicorn bind ("0.0.0.0:8050", "[::1]:80", "localhost"); None for a socket."""
    if bind.startswith(("unix:", "fd://")):
        return None
    if bind.startswith("["):
        return bind[1:bind.index("]")] if "]" in bind else bind
    return bind.rsplit(":", 1)[0] if bind.count(":") == 1 else bind


def is_loopback(bind: str) -> bool:
    host = bind_host(bind)
    if host is None:
        return False  # a socket is usually what a public proxy forwards to
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, it is not known to be private


def start_problem(settings: Any, binds: Iterable[str]) -> tuple[str | None, str | None]:
    """(error, warning) for starting with ``settings`` on ``binds``: one line each, or None."""
    public = [bind for bind in binds if not is_loopback(bind)]
    if settings.auth is None and public:
        return (f"fakeai-dash: refusing to serve {', '.join(public)} without sign-in: set FAKEAI_DASH_AUTH=basic "
                "(with FAKEAI_DASH_USERS_FILE) or oidc, or FAKEAI_DASH_AUTH=none to serve it open on purpose.", None)
    if settings.auth == "basic":
        try:
            if not load_users(settings.users_file):
                return (f"fakeai-dash: the users file {settings.users_file} has no users: add one with "
                        "fakeai-dash users add NAME --role operator --password-stdin", None)
        except UsersFileError as error:
            return f"fakeai-dash: {error}", None
    if settings.auth == "oidc" and public and not settings.oidc_redirect_uri:
        return (f"fakeai-dash: refusing to serve {', '.join(public)} with OIDC sign-in without "
                "FAKEAI_DASH_OIDC_REDIRECT_URI: set it to the callback URL registered at the provider "
                "(e.g. https://dash.example.com/oidc/sso/callback).", None)
    if public and not hosts.configured(settings):
        return (f"fakeai-dash: refusing to serve {', '.join(public)} without FAKEAI_DASH_ALLOWED_HOSTS: set it to "
                "the host name(s) browsers use to reach the dashboard (e.g. dash.example.com), or * to answer "
                "any host on purpose.", None)
    warnings = []
    if settings.auth == "none" and public:
        warnings.append(f"FAKEAI_DASH_AUTH=none on {', '.join(public)}: anyone who reaches it can read, create "
                        "and cancel jobs on your API key.")
    if hosts.ANY in settings.allowed_hosts:
        warnings.append("FAKEAI_DASH_ALLOWED_HOSTS=*: every host name is answered, so a web page can reach this "
                        "dashboard by DNS rebinding; name the hosts instead.")
    return None, "\n".join(warnings) or None


def check_start(settings: Any, binds: Iterable[str]) -> None:
    """Exit 2 with one line when the start is refused; log the warnings of a start left open on purpose."""
    error, warning = start_problem(settings, list(binds))
    if error:
        print(error, file=sys.stderr, flush=True)
        raise SystemExit(2)
    for line in (warning or "").splitlines():
        log.warning(line)
