"""What an OIDC ID token proves about a person, and the role FAKEAI_DASH_OIDC_OPERATORS/_VIEWERS give it.

An entry of those lists is one of:

- ``group:NAME`` — a member of group (or app role) NAME in the groups claim, compared exactly;
- ``alice@corp.com`` — that address, ``@corp.com`` — every address of that domain: an entry with
  an "@" (and no ``group:`` prefix) is always an e-mail rule, never a group;
- a bare ``NAME`` (no "@") — a group, as before ``group:`` existed; it cannot look like an address.

An e-mail rule matches only an address the provider vouches for: ``email_verified`` exactly JSON
``true`` (Entra ID never sends it, so its addresses match nothing: grant roles there by group or
app role) and exactly one "@" with a non-empty local part and domain, compared case-insensitively.
A group rule matches only a value of the groups claim; a group's value is never read as an address.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from fakeai_dash.auth.roles import OPERATOR, VIEWER

GROUP_PREFIX = "group:"
MAX_GROUPS = 500  # a token listing more is cut here; Entra sends at most 200 before overage
MAX_CLAIM = 256  # longer values are not names anyone configures


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: ``sub`` (the issuer's id), a verified address or None, groups."""

    sub: str
    email: str | None
    groups: tuple[str, ...]

    @property
    def name(self) -> str:
        """The name shown and audited: the verified address, else the issuer's ``sub``; never a
        claim the user picks (``preferred_username``, ``name``, an unverified ``email``)."""
        return self.email or self.sub


class Rule(NamedTuple):
    kind: str  # "group", "email" or "domain"
    value: str


def _clean(text: str, spaces: bool = False) -> bool:
    """No control, format or unassigned characters (nothing that prints unlike it compares), and no
    whitespace unless ``spaces`` (a group may be called "ML Ops"; an address has none)."""
    banned = "C" if spaces else "CZ"
    return all(unicodedata.category(ch)[0] not in banned for ch in text)


def strict_address(value: object) -> str | None:
    """``value`` lower-cased when it is one plain address (one "@", both sides non-empty), else None."""
    if not isinstance(value, str) or len(value) > MAX_CLAIM or value.count("@") != 1 or not _clean(value):
        return None
    local, _, domain = value.partition("@")
    if not local or not domain:
        return None
    return value.lower()


def parse_entry(entry: str) -> Rule:
    """The rule an entry of FAKEAI_DASH_OIDC_OPERATORS/_VIEWERS states; ValueError if it states none."""
    text = entry.strip() if isinstance(entry, str) else ""
    if text.startswith(GROUP_PREFIX):
        group = text[len(GROUP_PREFIX):].strip()
        if group and _clean(group, spaces=True):
            return Rule("group", group)
    elif "@" in text:
        if text.startswith("@") and strict_address("x" + text):
            return Rule("domain", text[1:].lower())
        address = strict_address(text)
        if address:
            return Rule("email", address)
    elif text and _clean(text, spaces=True):
        return Rule("group", text)
    raise ValueError(f"{str(entry)[:80]!r} is not group:NAME, an e-mail address or @domain")


def identity_from_claims(claims: dict, groups_claim: str) -> Identity | None:
    """The Identity an ID token's claims prove; None without a ``sub`` (the token names nobody)."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_CLAIM:
        return None
    # Only JSON true: a missing claim (Entra ID, the "nOAuth" pattern), "false", "true", 1 are not.
    email = strict_address(claims.get("email")) if claims.get("email_verified") is True else None
    groups = claims.get(groups_claim)
    if isinstance(groups, str):  # a provider that sends one string: "a,b" or "a;b"
        groups = groups.replace(";", ",").split(",")
    if not isinstance(groups, list):
        groups = []
    kept = tuple(dict.fromkeys(group.strip() for group in groups[:MAX_GROUPS]
                               if isinstance(group, str) and group.strip() and len(group) <= MAX_CLAIM))
    return Identity(sub, email, kept)


def _matches(identity: Identity, rules: list[Rule]) -> bool:
    domain = identity.email.partition("@")[2] if identity.email else None
    for rule in rules:
        if rule.kind == "group" and rule.value in identity.groups:
            return True
        if rule.kind == "email" and rule.value == identity.email:
            return True
        if rule.kind == "domain" and domain is not None and rule.value == domain:
            return True
    return False


def rules(entries: list[str]) -> list[Rule]:
    """The rules of a list of entries; entries stating none are skipped (settings refuse them at start)."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(parse_entry(entry))
        except ValueError:
            continue
    return parsed


def role_for(identity: Identity, operators: list[str], viewers: list[str]) -> str | None:
    """operator, viewer, or None (signed in, no access). Empty ``viewers``: everyone signed in views."""
    if _matches(identity, rules(operators)):
        return OPERATOR
    if not viewers or _matches(identity, rules(viewers)):
        return VIEWER
    return None
