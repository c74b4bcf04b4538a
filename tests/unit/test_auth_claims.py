"""Who gets a role from an OIDC ID token (auth/claims), over hostile claim sets (#17, finding 3): an
e-mail rule only from a verified, strictly valid address, a group rule only from the groups claim,
and the name shown and audited is never a claim the user picks.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeai_dash.auth.claims import identity_from_claims, parse_entry, role_for
from fakeai_dash.auth.roles import OPERATOR, VIEWER
from fakeai_dash.config import SettingsError, load_settings

ABSENT = object()
ADDRESSES = st.sampled_from(["alice@corp.com", "ALICE@Corp.COM", "x@evil.com@corp.com", "@corp.com", "alice@",
                             "alice@corp.com ", " alice@corp.com", "alice@corp.com\n", "al ice@corp.com",
                             "eve@gmail.com", "lead@corp.com", "eve@corp.com.evil.example", "eve@evil-corp.com",
                             "alice@corp.com\u200b", "ml-ops", "group:ml-ops"]) | st.emails() | st.text(max_size=20)
VERIFIED = st.sampled_from([ABSENT, True, False, "true", "false", "True", 1, 0, 1.0, None, [], {}, [True]])
GROUP_VALUES = st.sampled_from(["@corp.com", "alice@corp.com", "ml-ops", "ML-OPS", " ml-ops ", "group:ml-ops",
                                "lead@corp.com", "viewers", ""]) | st.text(max_size=12)
GROUPS = st.one_of(st.just(ABSENT), st.lists(GROUP_VALUES | st.integers(), max_size=5), GROUP_VALUES)
CLAIMS = st.fixed_dictionaries({"sub": st.sampled_from(["sub-1", "", ABSENT, 7]) | st.text(min_size=1, max_size=8),
                                "email": st.just(ABSENT) | ADDRESSES, "email_verified": VERIFIED,
                                "groups": GROUPS, "preferred_username": st.just(ABSENT) | ADDRESSES}).map(
    lambda claims: {key: value for key, value in claims.items() if value is not ABSENT})


def verified_address(claims: dict) -> str | None:
    """What an e-mail rule may match: stated independently of auth/claims.py."""
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str) or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    if not local or not domain or any(ch.isspace() or not ch.isprintable() for ch in email):
        return None
    return email.lower()


def group_values(claims: dict) -> set[str]:
    groups = claims.get("groups")
    if isinstance(groups, str):
        groups = groups.replace(";", ",").split(",")
    return {group.strip() for group in groups if isinstance(group, str)} if isinstance(groups, list) else set()


@settings(max_examples=600, deadline=None)
@given(CLAIMS)
def test_claims001_an_email_rule_needs_a_verified_strict_address(claims):
    identity = identity_from_claims(claims, "groups")
    if identity is None:
        assert not isinstance(claims.get("sub"), str) or not claims["sub"]
        return
    role = role_for(identity, ["@corp.com", "lead@corp.com"], ["viewers"])
    address = verified_address(claims)
    if role == OPERATOR:
        assert address is not None and (address.endswith("@corp.com") or address == "lead@corp.com"), claims
    if role == VIEWER:
        assert "viewers" in group_values(claims), claims
    # The name shown and audited: the verified address or the issuer's sub, whatever else was sent.
    assert identity.name == (address or claims["sub"])
    assert role_for(identity_from_claims({**claims, "preferred_username": "lead@corp.com"}, "groups"),
                    ["@corp.com", "lead@corp.com"], ["viewers"]) == role


@settings(max_examples=600, deadline=None)
@given(CLAIMS)
def test_claims002_a_group_rule_matches_only_the_groups_claim(claims):
    identity = identity_from_claims({**claims, "sub": "sub-1"}, "groups")
    role = role_for(identity, ["group:@corp.com", "group:alice@corp.com", "ml-ops"], ["group:viewers"])
    groups = group_values(claims)
    assert (role == OPERATOR) == bool(groups & {"@corp.com", "alice@corp.com", "ml-ops"}), claims
    assert (role == VIEWER) == (role != OPERATOR and "viewers" in groups), claims


@pytest.mark.parametrize("claims", [
    {"sub": "s", "email": "eve@corp.com"},  # no email_verified (Entra ID, "nOAuth")
    {"sub": "s", "email": "eve@corp.com", "email_verified": "false"},
    {"sub": "s", "email": "eve@gmail.com", "email_verified": True, "groups": ["@corp.com"]},
    {"sub": "s", "email": "x@evil.com@corp.com", "email_verified": True},
    {"sub": "s", "email": "eve@gmail.com", "email_verified": True, "preferred_username": "alice@corp.com"},
])
def test_claims003_the_reported_claims_do_not_operate(claims):
    identity = identity_from_claims(claims, "groups")
    assert role_for(identity, ["@corp.com"], []) == VIEWER
    assert identity.name in ("s", "eve@gmail.com")


def test_claims004_entries_and_their_meaning():
    assert [parse_entry(entry) for entry in ("group:ml-ops", "ml-ops", "group:a@b.c", "Lead@Corp.com", " @Corp.com ",
                                             "group:ML Ops")] == [
        ("group", "ml-ops"), ("group", "ml-ops"), ("group", "a@b.c"), ("email", "lead@corp.com"),
        ("domain", "corp.com"), ("group", "ML Ops")]
    for bad in ("x@evil.com@corp.com", "alice@", "@", "group:", "", " ", "a b@c.d", "tab\tgroup"):
        with pytest.raises(ValueError):
            parse_entry(bad)
    with pytest.raises(SettingsError, match="FAKEAI_DASH_OIDC_OPERATORS: 'x@evil.com@corp.com' is not group:NAME"):
        load_settings([], oidc_operators=["x@evil.com@corp.com"])
