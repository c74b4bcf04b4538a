"""Basic sign-in: users and roles from FAKEAI_DASH_USERS_FILE, checked on every request.

Written here rather than with dash-auth's BasicAuth, which compares plain-text passwords, answers
a malformed Authorization header with a server error, and (through its Auth base) lets any
callback through whose body names a public pathname.
"""

from __future__ import annotations

import base64
import binascii

from flask import Response, request

from fakeai_dash.auth.pages import page
from fakeai_dash.auth.roles import User
from fakeai_dash.auth.users import UsersFile
from fakeai_dash.i18n import _

REALM = "Fine-Tuning Dashboard"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(name, password) from an ``Authorization: Basic …`` header; None for anything else."""
    if not header or len(header) > 4096:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    name, colon, password = decoded.partition(":")
    return (name, password) if colon and name else None


class BasicSignIn:
    mode = "basic"
    sign_out_path = "/auth/signed-out"

    def __init__(self, users_file: str, css: list[str]):
        self.users = UsersFile(users_file)
        self.css = css

    def public_paths(self) -> set[str]:
        return set()

    def credentials(self) -> tuple[str, str] | None:
        return parse_basic(request.headers.get("Authorization"))

    def identify(self, credentials: tuple[str, str] | None, *, slow: bool = True) -> User | None:
        """The user these credentials sign in; ``slow=False``: only if verified recently (no hashing)."""
        if credentials is None:
            return None
        record = self.users.verify(*credentials, slow=slow)
        return User(record.name, record.role, self.mode) if record else None

    def challenge(self) -> Response:
        return page(_("Sign-in required"), [_("Sign in with the user name and password an administrator gave you.")],
                    status=401, css=self.css, headers={"WWW-Authenticate": CHALLENGE})

    def signed_out(self) -> Response:
        # A browser forgets Basic credentials only when the server refuses them: this page
        # answers 401, so the next visit asks again.
        return page(_("Signed out"), [_("You are signed out of the Fine-Tuning Dashboard. Close this tab, or "
                                        "sign in again (your browser asks for your name and password).")],
                    links=[(_("Sign in again"), "/")], status=401, css=self.css,
                    headers={"WWW-Authenticate": CHALLENGE})
