"""Who may do what: a viewer reads; an operator also uploads, creates, cancels, pauses and resumes."""

from __future__ import annotations

from dataclasses import dataclass

from fakeai_dash.i18n import N_

VIEWER = "viewer"
OPERATOR = "operator"
ROLES = (VIEWER, OPERATOR)
_RANK = {VIEWER: 0, OPERATOR: 1}  # an operator may do whatever a viewer may

# Every write the dashboard can make, and the role it needs. A write not listed is refused.
WRITE_ACTIONS = {
    "upload": OPERATOR,
    "create": OPERATOR,
    "cancel": OPERATOR,
    "pause": OPERATOR,
    "resume": OPERATOR,
}
# The roles in words (a page shows them in its language; users files and the audit trail keep the names).
ROLE_WORDS = {VIEWER: N_("viewer"), OPERATOR: N_("operator"), "": N_("user without a role")}
READ_ONLY_REASON = N_("Read-only: your role is viewer. Uploading, creating, cancelling, pausing and "
                    "resuming jobs need the operator role.")


@dataclass(frozen=True)
class User:
    """The person behind a request. ``mode`` is how they signed in (basic, oidc, none)."""

    name: str
    role: str
    mode: str = "none"
    email: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role == OPERATOR

    def may(self, action: str) -> bool:
        needed = WRITE_ACTIONS.get(action)
        return needed is not None and _RANK.get(self.role, -1) >= _RANK[needed]

    def public(self) -> dict:
        """What the browser may know about the signed-in user (its header shows it)."""
        return {"name": self.name, "role": self.role, "mode": self.mode, "can_write": self.can_write}


# With FAKEAI_DASH_AUTH=none (or on loopback with nothing configured) everyone is this user.
ANONYMOUS = User("anonymous", OPERATOR, "none")

