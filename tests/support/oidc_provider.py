"""A small but real OpenID Connect provider for the tests, built on Authlib's server parts.

It serves discovery, a JWKS, a login form, and the authorization-code flow with PKCE and a nonce,
issuing RS256-signed ID tokens (joserfc) that carry the user's e-mail and groups. The dashboard
talks to it over HTTP exactly as it would to Keycloak or Entra ID: nothing in the app is mocked.

    with OIDCProvider(users={"carol": OIDCUser("pw", "carol@example.com", ["fakeai-operators"])}) as idp:
        idp.issuer, idp.client_id, idp.client_secret, idp.logins

A test chooses what a user's ID token says with ``claims``: each key replaces the standard claim
(``sub``, ``preferred_username``, ``email``, ``email_verified``, ``groups``…) and OMIT leaves it out,
as Entra ID leaves out ``email_verified``:

    OIDCUser("pw", "x@corp.com", claims={"email_verified": OMIT, "preferred_username": "alice@corp.com"})
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from html import escape
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server


OMIT = object()  # as a value in OIDCUser.claims: the ID token carries no such claim


@dataclass
class OIDCUser:
    password: str
    email: str
    groups: list[str] = field(default_factory=list)
    name: str = ""
    claims: dict[str, Any] = field(default_factory=dict)  # overrides of the standard claims (OMIT: none)


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile", "groups"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        # An empty list accepts any loopback callback: the app's port is known only once it serves.
        if not self.redirect_uris:
            return redirect_uri.startswith(("http://127.0.0.1:", "http://localhost:"))
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post") if endpoint == "token" else True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        pass


class OIDCProvider:
    def __init__(self, users: dict[str, OIDCUser], redirect_uris: list[str] | None = None):
        self.users = users
        self.client_id = "fakeai-dash-test"
        self.client_secret = secrets.token_urlsafe(24)
        self.client = _Client(self.client_id, self.client_secret, list(redirect_uris or []))
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        # What ID tokens are signed with: the published key, unless a test swaps in a forger's.
        self.signing_key = self.key
        self.codes: dict[str, _Code] = {}
        self.logins: list[str] = []  # user names, in the order they signed in
        self.tokens_issued = 0
        self._lock = threading.Lock()
        self.app = self._build()
        self._server = None
        self._thread: threading.Thread | None = None
        self.issuer = ""

    # -- the Authlib server ------------------------------------------------------------------

    def _build(self) -> Flask:
        provider = self
        app = Flask("oidc-provider")
        app.secret_key = secrets.token_hex(16)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):
                data = req.payload.data
                with provider._lock:
                    provider.codes[code] = _Code(code, req.client.get_client_id(), req.payload.redirect_uri,
                                                 req.scope, req.user, data.get("nonce"), data.get("code_challenge"),
                                                 data.get("code_challenge_method"), int(time.time()))

            def query_authorization_code(self, code, client):
                item = provider.codes.get(code)
                return item if item and item.client_id == client.get_client_id() else None

            def delete_authorization_code(self, authorization_code):
                with provider._lock:
                    provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class OpenID(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return any(code.nonce == nonce for code in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.signing_key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "test-key"}

            def get_client_claims(self, client):
                return {"iss": provider.issuer, "aud": [client.get_client_id()]}

            def generate_user_info(self, user, scope):
                person = provider.users[user]
                claims = {"sub": f"sub-{user}", "preferred_username": user, "name": person.name or user,
                          "email": person.email, "email_verified": True, "groups": list(person.groups),
                          **person.claims}
                return UserInfo({key: value for key, value in claims.items() if value is not OMIT})

        def save_token(token, req):
            with provider._lock:
                provider.tokens_issued += 1

        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == self.client_id else None,
                                     save_token=save_token)
        server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return jsonify({
                "issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "groups"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"], "claims_supported": ["sub", "email", "groups"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            try:
                grant = server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return f"<h1>Bad sign-in request</h1><p>{escape(error.error)}: {escape(error.description or '')}</p>", 400
            message = ""
            if request.method == "POST":
                name = request.form.get("username", "")
                person = provider.users.get(name)
                if person and secrets.compare_digest(request.form.get("password", ""), person.password):
                    with provider._lock:
                        provider.logins.append(name)
                    return server.create_authorization_response(grant_user=name, grant=grant)
                message = "<p id='login-error'>Wrong user name or password.</p>"
            action = "/authorize?" + urlencode(list(request.args.items(multi=True)))
            return (f"<!DOCTYPE html><html><head><title>Test provider sign-in</title></head><body>"
                    f"<h1>Sign in to the test provider</h1>{message}"
                    f"<form method='post' action='{escape(action)}'>"
                    f"<input id='username' name='username' autocomplete='username'>"
                    f"<input id='password' name='password' type='password'>"
                    f"<button id='sign-in' type='submit'>Sign in</button></form></body></html>")

        @app.get("/favicon.ico")
        def favicon():
            return "", 204  # a browser asks for it; a 404 would be an error in the console

        @app.post("/token")
        def token():
            return server.create_token_response()

        return app

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
