"""Basic sign-in has no session to revoke: every request is checked against the users file as it
is now, so removing a user or changing a role applies on that user's next request."""

from __future__ import annotations

import json
import os

from tests.integration.test_auth_gate import (  # noqa: F401 - basic_app and sim are fixtures
    OPERATOR,
    VIEWER,
    basic,
    basic_app,
    callback_body,
    dependencies,
    sim,
)


def rewrite(path: str, change) -> None:
    with open(path, encoding="utf-8") as handle:
        body = json.load(handle)
    change(body["users"])
    with open(path + ".new", "w", encoding="utf-8") as handle:
        json.dump(body, handle)
    os.replace(path + ".new", path)  # as `fakeai-dash users add` writes it: whole, renamed over


def test_basic101_a_removed_user_or_a_changed_role_applies_on_the_next_request(basic_app):
    app = basic_app()
    users = app.server.config["FAKEAI_DASH_SETTINGS"].users_file
    client = app.server.test_client()
    assert client.get("/_dash-layout", headers=basic(VIEWER)).status_code == 200
    rewrite(users, lambda entries: entries.pop(VIEWER[0]))
    assert client.get("/_dash-layout", headers=basic(VIEWER)).status_code == 401
    assert client.get("/_dash-layout", headers=basic(OPERATOR)).status_code == 200
    deps = dependencies(lambda p: client.get(p, headers=basic(OPERATOR)))
    header = callback_body(deps, "header-user", {"header-user": "header-user"}, "id")

    def role() -> str:
        answer = client.post("/_dash-update-component", json=header, headers=basic(OPERATOR)).get_json()
        return answer["response"]["auth-session-store"]["data"]["role"]

    assert role() == "operator"
    rewrite(users, lambda entries: entries[OPERATOR[0]].update(role="viewer"))
    assert role() == "viewer"
