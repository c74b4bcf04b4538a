"""OIDC sign-in (Google, Entra ID, Okta, Keycloak…) on dash-auth's OIDCAuth and Authlib.

dash-auth registers the routes and Authlib does the protocol: discovery, the authorization-code
flow with PKCE and a nonce, and the ID token's signature (the provider's JWKS), issuer, audience
and expiry. Changed here:

- the request check is the dashboard's gate (fakeai_dash.auth.gate), not dash-auth's
  before_request, which lets any callback through whose body names a public pathname;
- the callback keeps a small session (name, e-mail, role, expiry), not the whole ID token, gives
  the role from the token's groups or verified e-mail (auth/claims.py), names the user by the
  verified e-mail or ``sub`` (never ``preferred_username``), and escapes the provider's error
  text, which dash-auth returns as HTML as it came;
- after sign-in the user lands on the page they asked for (a same-site path: auth/redirects.py).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from authlib.integrations.base_client import OAuthError
from dash_auth import OIDCAuth
from flask import Response, redirect, request, session

from fakeai_dash.auth.claims import identity_from_claims, role_for
from fakeai_dash.auth.pages import page
from fakeai_dash.auth.redirects import local_path
from fakeai_dash.auth.roles import User
from fakeai_dash.i18n import _

log = logging.getLogger(__name__)

IDP = "sso"
SESSION_HOURS = 12
LOGIN_PATH = f"/oidc/{IDP}/login"
CALLBACK_PATH = f"/oidc/{IDP}/callback"
LOGOUT_PATH = "/oidc/logout"


class DashboardOIDC(OIDCAuth):
    mode = "oidc"
    sign_out_path = LOGOUT_PATH

    def __init__(self, app, settings, secret_key: str, css: list[str]):
        self.settings = settings
        self.css = css
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
        return session.get("user")

    def identify(self, user) -> User | None:
        if not isinstance(user, dict) or not user.get("name") or user.get("exp", 0) < time.time():
            return None
        if user.get("role") is None:
            return User(user["name"], "", self.mode, user.get("email"))  # signed in, no access
        return User(user["name"], user["role"], self.mode, user.get("email"))

    def challenge(self) -> Response:
        wants_page = request.method == "GET" and "text/html" in request.headers.get("Accept", "") \
            and not request.path.startswith("/_dash")
        if wants_page:
            return redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'), safe='/')}")
        return Response('{"message": "Sign in first: open the dashboard page to sign in."}', status=401,
                        mimetype="application/json", headers={"Cache-Control": "no-store"})

    # -- the routes dash-auth registered --------------------------------------------------------

    def _create_redirect_uri(self, idp: str):
        return self.settings.oidc_redirect_uri or super()._create_redirect_uri(idp)

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
        role = role_for(identity, self.settings.oidc_operators, self.settings.oidc_viewers)
        next_path = local_path(session.get("next"))
        session.clear()  # nothing from before sign-in survives it (no session fixation)
        session["user"] = {"name": identity.name, "email": identity.email, "sub": identity.sub,
                           "role": role, "exp": time.time() + SESSION_HOURS * 3600}
        log.info("OIDC sign-in: %s as %s", identity.name, role or "no access")
        return redirect(next_path)

    def logout(self):
        session.clear()
        return page(_("Signed out"), [_("You are signed out of the Fine-Tuning Dashboard.")],
                    links=[(_("Sign in again"), "/")], css=self.css)

    def signed_out(self) -> Response:
        return self.logout()
