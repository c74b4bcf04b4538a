"""HTTP hardening of the dashboard's server: security headers, forged-request refusal, cookie
attributes, the request size cap and the proxies it may believe.

- **Headers** (flask-talisman): a Content-Security-Policy whose scripts are this origin's files
  plus Dash's own inline scripts by hash (``Dash.csp_hashes``), no ``unsafe-eval`` (dash-ag-grid
  evaluates our ``{"function": ...}`` column props with esprima and static-eval, an interpreter,
  not ``eval``), ``frame-ancestors 'none'`` and X-Frame-Options DENY (nobody frames the cancel
  button), nosniff, ``Referrer-Policy: same-origin``, and HSTS on requests known to be HTTPS.
- **Forged requests**: a POST (or PUT, PATCH, DELETE) whose Origin, else Referer, names
  another site is refused with 403 before anything runs.
- **Cookies**: every cookie the app sets leaves with SameSite=Lax and HttpOnly, and Secure when
  the request came over HTTPS.
- **Size**: MAX_CONTENT_LENGTH a little over what the largest accepted upload takes in a Dash
  callback (base64, 4/3 of the file); a bigger request is answered 413 with one sentence.
- **Hosts** (server/hosts.py): a request naming a host that is not allowed gets 400 before anything
  else runs (DNS rebinding).
- **Proxies**: X-Forwarded-* are believed only with FAKEAI_DASH_TRUSTED_PROXIES > 0 (werkzeug's
  ProxyFix): the scheme decides HSTS and Secure cookies, the host the host check and the
  same-origin check. gunicorn believes none of them (gunicorn_conf.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from babel.numbers import format_decimal
from dash import Dash
from flask import Flask, Request, Response, request
from flask_talisman import Talisman
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from fakeai_dash import i18n
from fakeai_dash.server.hosts import HostGuard, policy_for

MB = 1024 * 1024
# Room for the rest of an upload callback's body (filename, form state, JSON punctuation).
REQUEST_OVERHEAD_BYTES = 1 * MB
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def content_security_policy(script_hashes: Iterable[str]) -> dict[str, str]:
    """The policy every response carries. Styles allow 'unsafe-inline': Plotly and AG Grid
    write <style> elements and style attributes at run time (no nonce can reach them); a
    style cannot run code, and scripts stay locked to this origin and Dash's hashed inline ones."""
    return {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        # data: for Bootstrap's and AG Grid's inline SVG icons and Plotly's image export.
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def request_limit_bytes(upload_limit_mb: float) -> int:
    """The largest request body accepted: the upload limit in base64 plus the callback's rest."""
    return math.ceil(upload_limit_mb * MB * 4 / 3) + REQUEST_OVERHEAD_BYTES


# -- same origin -------------------------------------------------------------------------------

def _netloc(scheme: str, netloc: str) -> str:
    """host[:port] in lower case, without the scheme's default port."""
    netloc = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    return netloc[: -len(default) - 1] if default and netloc.endswith(":" + default) else netloc


def foreign_origin(req: Request) -> str | None:
    """The other site a state-changing request came from, or None when it is this one's.

    Origin is what browsers send with every POST; Referer stands in where Origin is missing.
    A request with neither did not come from a page in a browser (every browser that can run
    this dashboard sends Origin on a POST), so it cannot be a forgery riding on a user's cookies
    or saved password: API clients and health checks pass. ``null`` (a sandboxed frame, a
    data: page) is another site.
    """
    claimed = req.headers.get("Origin") or req.headers.get("Referer")
    if claimed is None:
        return None
    parts = urlsplit(claimed.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return claimed or "null"
    if req.is_secure and parts.scheme != "https":
        return claimed  # an http:// page must not act on the https:// site
    # The scheme this server sees may be http behind a TLS proxy it does not trust: only the
    # host and port are compared then.
    if _netloc(parts.scheme, parts.netloc) != _netloc(req.scheme, req.host):
        return claimed
    return None


def _refusal(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


# -- cookies -----------------------------------------------------------------------------------

def harden_cookie(header: str, secure: bool) -> str:
    """A Set-Cookie value with SameSite (Lax unless set), HttpOnly, and Secure over HTTPS."""
    attributes = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
    if "samesite" not in attributes:
        header += "; SameSite=Lax"
    if "httponly" not in attributes:
        header += "; HttpOnly"
    if secure and "secure" not in attributes:
        header += "; Secure"
    return header


class CookieGuard:
    """WSGI middleware: every Set-Cookie of every response, Flask's session cookie included
    (written after the after_request hooks have run), gets the attributes of harden_cookie."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ, start_response):
        secure = environ.get("wsgi.url_scheme") == "https"

        def start(status, headers, exc_info=None):
            headers = [(name, harden_cookie(value, secure) if name.lower() == "set-cookie" else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


# -- set-up ------------------------------------------------------------------------------------

def configure_security(app: Dash, settings) -> Talisman:
    """Headers, forged-request refusal, cookie attributes, the size cap and trusted proxies."""
    server: Flask = app.server
    server.config.update(MAX_CONTENT_LENGTH=request_limit_bytes(settings.upload_limit_mb),
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True)
    # Dash moves the registered inline scripts (clientside callbacks) into the app here: call
    # this once every callback is registered (create_app does, last).
    talisman = Talisman(
        server, content_security_policy=content_security_policy(app.csp_hashes()),
        force_https=False,  # TLS is the proxy's business; HSTS below once a request is known HTTPS
        strict_transport_security=False, frame_options="DENY", referrer_policy="same-origin",
        session_cookie_secure=False,  # Secure per request: CookieGuard
        session_cookie_samesite="Lax",
        permissions_policy={"browsing-topics": "()", "camera": "()", "microphone": "()", "geolocation": "()"},
    )

    @server.before_request
    def _same_origin() -> Response | None:
        if request.method not in UNSAFE_METHODS:
            return None
        other = foreign_origin(request)
        if other is None:
            return None
        # In the request's language (i18n.py): a page of the dashboard may show it.
        return _refusal(403, i18n.gettext("Refused: this request came from another site ({site}), not from the "
                                          "dashboard's own pages.").format(site=other[:100]))

    @server.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_error) -> Response:
        limit = format_decimal(settings.upload_limit_mb, format="#,##0.######", locale=i18n.locale())
        return _refusal(413, i18n.gettext("The request is larger than this dashboard accepts: files up to {limit} MB "
                                          "can be uploaded from the browser. Upload larger files with the API and "
                                          "type their id.").format(limit=limit))

    server.wsgi_app = CookieGuard(server.wsgi_app)
    # Outside everything the app does (sign-in, Dash, the push route, static files), and inside
    # ProxyFix, so that behind trusted proxies the forwarded host is the one checked.
    server.wsgi_app = HostGuard(server.wsgi_app, policy_for(settings))
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return talisman


__all__ = ["CookieGuard", "configure_security", "content_security_policy", "foreign_origin", "harden_cookie",
           "request_limit_bytes"]
