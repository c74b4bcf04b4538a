"""OIDC sign-in (Google, Entra ID, Okta, Keycloak…) on dash-auth's OIDCAuth and Authlib.

dash-auth registers the routes and Authlib does the protocol: discovery, the authorization-code
flow with PKCE and a nonce, and the ID token's signature (the provider's JWKS), issuer, audience
and expiry. Changed here:

- the request check is the dashboard's gate (fakeai_dash.auth.gate), not dash-auth's
  before_request, which lets any callback through whose body names a public pathname;
- the callback keeps what the token proves (sub, a verified e-mail, groups: auth/claims.py) in a
  server-side session (auth/sessions.py) and puts only its random id in the cookie; the role is
  worked out on every request from that record and the current settings, and sign-out deletes it;
- the user is named (on the page, in the audit trail) by the verified e-mail or ``sub``, never by
  ``preferred_username``, which the user may choose;
- the provider's error text, which dash-auth returns as HTML as it came, is escaped;
- after sign-in the user lands on the page they asked for (a same-site path: auth/redirects.py).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from authlib.integrations.base_client import OAuthError
from dash_auth import OIDCAuth
from flask import Response, redirect, request, session

from fakeai_dash.auth.claims import Identity, identity_from_claims, role_for
from fakeai_dash.auth.pages import page
from fakeai_dash.auth.redirects import local_path
from fakeai_dash.auth.roles import User
from fakeai_dash.auth.sessions import SessionStore
from fakeai_dash.i18n import _

log = logging.getLogger(__name__)

IDP = "sso"
LOGIN_PATH = f"/oidc/{IDP}/login"
CALLBACK_PATH = f"/oidc/{IDP}/callback"
LOGOUT_PATH = "/oidc/logout"


class DashboardOIDC(OIDCAuth):
    mode = "oidc"
    sign_out_path = LOGOUT_PATH

    def __init__(self, app, settings, secret_key: str, css: list[str], sessions: SessionStore):
        self.settings = settings
        self.css = css
        self.sessions = sessions
        super().__init__(app, secret_key=secret_key)
        issuer = settings.oidc_issuer.rstrip("/")
        self.register_provider(
            IDP,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )

    def _protect(self):
        """Nothing: fakeai_dash.auth.gate checks every request (dash-auth's check is bypassable)."""

    def public_paths(self) -> set[str]:
        return {LOGIN_PATH, CALLBACK_PATH, LOGOUT_PATH}

    # -- who is asking -----------------------------------------------------------------------

    def credentials(self):
        return session.get("sid")

    def identify(self, session_id) -> User | None:
        record = self.sessions.get(session_id)
        if record is None:
            return None
        identity = Identity(str(record.get("sub") or ""), record.get("email") or None,
                            tuple(record.get("groups") or ()))
        if not identity.sub:
            return None
        # From the settings of now: a change to FAKEAI_DASH_OIDC_OPERATORS applies on the next request.
        role = role_for(identity, self.settings.oidc_operators, self.settings.oidc_viewers)
        return User(identity.name, role or "", self.mode, identity.email)  # "": signed in, no access

    def challenge(self) -> Response:
        wants_page = request.method == "GET" and "text/html" in request.headers.get("Accept", "") \
            and not request.path.startswith("/_dash")
        if wants_page:
            return redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'), safe='/')}")
        return Response('{"message": "Sign in first: open the dashboard page to sign in."}', status=401,
                        mimetype="application/json", headers={"Cache-Control": "no-store"})

    # -- the routes dash-auth registered --------------------------------------------------------

    def _create_redirect_uri(self, idp: str):
        # Never from Host or X-Forwarded-Host (dash-auth's way): a forged one sent the provider's
        # code to another site. The setting (required on a public bind: auth/startup.py), else on
        # loopback the address this connection arrived at.
        from fakeai_dash.server.hosts import own_url

        return own_url(self.settings.oidc_redirect_uri, CALLBACK_PATH, request.environ, self.settings.host,
                       self.settings.port)

    def login_request(self, idp: str = None):
        session["next"] = local_path(request.args.get("next"))
        try:
            return super().login_request(IDP)
        except Exception as error:  # noqa: BLE001 - discovery failed: say so, no traceback
            log.error("OIDC sign-in could not start: %s: %s", type(error).__name__, error)
            return page(_("Sign-in is unavailable"), [
                _("The sign-in provider ({issuer}) did not answer. Try again in a minute.").format(
                    issuer=self.settings.oidc_issuer)],
                status=502, css=self.css)

    def callback(self, idp: str):
        if idp != IDP:
            return page(_("Unknown sign-in provider"), [_("This sign-in link is not valid.")], status=400, css=self.css)
        client = self.get_oauth_client(IDP)
        try:
            token = client.authorize_access_token()
        except OAuthError as error:
            return page(_("Sign-in failed"), [_("The sign-in provider said: {error}").format(error=error)],
                        links=[(_("Try again"), "/")],
                        status=401, css=self.css)
        except Exception as error:  # noqa: BLE001 - a bad state, token or signature: no traceback
            log.warning("OIDC callback refused: %s: %s", type(error).__name__, error)
            return page(_("Sign-in failed"), [_("The sign-in answer could not be verified.")],
                        links=[(_("Try again"), "/")], status=401, css=self.css)
        identity = identity_from_claims(token.get("userinfo") or {}, self.settings.oidc_groups_claim)
        if identity is None:
            return page(_("Sign-in failed"), [_("The provider named no user.")], status=401, css=self.css)
        next_path = local_path(session.get("next"))
        try:
            session_id = self.sessions.create({"sub": identity.sub, "email": identity.email,
                                               "groups": list(identity.groups)})
        except Exception as error:  # noqa: BLE001 - the shared store did not answer: say so, no traceback
            log.error("OIDC sign-in could not be saved: %s: %s", type(error).__name__, error)
            return page(_("Sign-in is unavailable"), [_("Your sign-in could not be saved. Try again in a minute.")],
                        links=[(_("Try again"), "/")], status=503, css=self.css)
        self.sessions.revoke(session.get("sid"))  # signing in again ends the session it replaces
        session.clear()  # nothing from before sign-in survives it (no session fixation)
        session["sid"] = session_id  # all the cookie holds from now on: a random id
        role = role_for(identity, self.settings.oidc_operators, self.settings.oidc_viewers)
        log.info("OIDC sign-in: %s as %s", identity.name, role or "no access")
        return redirect(next_path)

    def logout(self):
        self.sessions.revoke(session.get("sid"))  # a saved copy of the cookie signs nobody in now
        session.clear()
        return page(_("Signed out"), [_("You are signed out of the Fine-Tuning Dashboard.")],
                    links=[(_("Sign in again"), "/")], css=self.css)

    def signed_out(self) -> Response:
        return self.logout()
