"""The gate every request and every write passes: who is asking, may they, how often, on record.

- ``protect`` (a before_request hook) lets only /healthz, the stylesheets and favicon the sign-in
  pages use, and the sign-in routes through without an identity; everything else, every Dash
  callback included, answers 401 (or a redirect to the provider) until the user signs in.
- ``authorize_write(action, target)`` wraps every write callback: it refuses a user whose role
  may not do ``action`` and a user over the write rate limit, before any API call, and records
  the attempt in the audit trail, allowed, refused or failed (with the API's message).
- ``allow_refresh(scope)`` rate-limits forced refreshes per user.
- Basic sign-in: past a few failures for one user name from one address, each further try of that
  pair waits a growing delay (auth/throttle.py); nobody else waits for them.

Rate limits are flask-limiter's: Redis storage when FAKEAI_DASH_CACHE_URL is set (the limits hold
across workers and instances), memory per worker otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from fakeai_dash.api.client import ApiError
from fakeai_dash.auth.audit import AuditTrail
from fakeai_dash.auth.pages import page
from fakeai_dash.auth.roles import ANONYMOUS, READ_ONLY_REASON, ROLE_WORDS, ROLES, WRITE_ACTIONS, User
from fakeai_dash.auth.throttle import SigninThrottle
from fakeai_dash.auth.wording import Wording, localized, words
from fakeai_dash.i18n import N_, _
from fakeai_dash.validation import is_valid_id

log = logging.getLogger(__name__)

EXTENSION = "fakeai_dash_auth"
_G_USER = "fakeai_dash_user"
# The refusals as whole sentences (the verb's form differs in German and Chinese), stored English
# and translated where shown (auth/wording.py).
NEEDS_OPERATOR = {
    "upload": N_("Not allowed: uploading files needs the operator role, and {user} is a {role}."),
    "create": N_("Not allowed: creating jobs needs the operator role, and {user} is a {role}."),
    "cancel": N_("Not allowed: cancelling jobs needs the operator role, and {user} is a {role}."),
    "pause": N_("Not allowed: pausing jobs needs the operator role, and {user} is a {role}."),
    "resume": N_("Not allowed: resuming jobs needs the operator role, and {user} is a {role}."),
}
TOO_MANY = {"write": N_("Too many changes (uploads, creates, cancels, pauses, resumes): the limit is {limit}. "
                        "Try again in {wait} s."),
            "refresh": N_("Too many forced refreshes: the limit is {limit}. Try again in {wait} s."),
            "watch": N_("Too many jobs opened: the limit is {limit}. Try again in {wait} s.")}
# "10 per minute", "100 per 5 minutes": limits' granularity names, one sentence each.
PER_ONE = {"second": N_("{amount} per second"), "minute": N_("{amount} per minute"), "hour": N_("{amount} per hour"),
           "day": N_("{amount} per day"), "month": N_("{amount} per month"), "year": N_("{amount} per year")}
PER_MANY = {"second": N_("{amount} per {multiples} seconds"), "minute": N_("{amount} per {multiples} minutes"),
            "hour": N_("{amount} per {multiples} hours"), "day": N_("{amount} per {multiples} days"),
            "month": N_("{amount} per {multiples} months"), "year": N_("{amount} per {multiples} years")}


class WriteRefused(ApiError):
    """The gate said no (role or rate limit); nothing was sent to the API. ``reason`` is
    "role" or "rate". An ApiError, so a callback that shows API trouble shows this too."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def limiter_storage_uri(cache_url: str | None) -> str:
    if not cache_url:
        return "memory://"
    if cache_url.startswith("unix://"):
        return "redis+unix://" + cache_url[len("unix://"):]
    return cache_url  # redis:// or rediss:// (TLS), password and all


def _per(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return f"{item.amount} per {unit}" if item.multiples == 1 else f"{item.amount} per {item.multiples} {unit}s"


def _per_parts(item: RateLimitItem) -> list | str:
    """``_per`` as parts to translate (the plain English for a unit limits may add one day)."""
    unit = item.GRANULARITY.name
    if item.multiples == 1 and unit in PER_ONE:
        return [[PER_ONE[unit], {"amount": item.amount}]]
    if item.multiples != 1 and unit in PER_MANY:
        return [[PER_MANY[unit], {"amount": item.amount, "multiples": item.multiples}]]
    return _per(item)


@dataclass
class Limits:
    """Per-user rate limits on flask-limiter's storage, with a per-worker fallback if Redis fails."""

    limiter: Limiter
    rules: dict[str, list[RateLimitItem]]
    fallback: MovingWindowRateLimiter = field(default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))
    failing: bool = False  # the storage failed last time: said once, until it answers again

    def _strategy(self):
        return self.limiter.limiter

    def hit(self, kind: str, *keys: str) -> str | None:
        """Spend one unit of ``kind`` for ``keys``; None when allowed, else the refusal message."""
        for item in self.rules[kind]:
            try:
                allowed = self._strategy().hit(item, "fakeai-dash", kind, *keys)
                if self.failing:
                    self.failing = False
                    log.info("rate-limit storage answers again")
            except Exception as error:  # noqa: BLE001 - Redis down: limits still hold per worker
                if not self.failing:  # once per outage, not once per write
                    log.warning("rate-limit storage failed (%s); limiting in this worker", error)
                    self.failing = True
                allowed = self.fallback.hit(item, "fakeai-dash", kind, *keys)
            if not allowed:
                return self._message(kind, item, keys)
        return None

    def blocked(self, kind: str, *keys: str) -> str | None:
        """The refusal message if the next hit of ``kind`` would be refused (spends nothing)."""
        for item in self.rules[kind]:
            try:
                free = self._strategy().test(item, "fakeai-dash", kind, *keys)
            except Exception:  # noqa: BLE001
                free = self.fallback.test(item, "fakeai-dash", kind, *keys)
            if not free:
                return self._message(kind, item, keys)
        return None

    def _message(self, kind: str, item: RateLimitItem, keys: tuple[str, ...]) -> Wording:
        try:
            reset = self._strategy().get_window_stats(item, "fakeai-dash", kind, *keys).reset_time
            wait = max(1, math.ceil(reset - time.time()))
        except Exception:  # noqa: BLE001
            wait = item.get_expiry()
        if kind in TOO_MANY:
            return words(TOO_MANY[kind], limit=_per_parts(item), wait=wait)
        return words("Too many {what}: the limit is {limit}. Try again in {wait} s.", what=kind, limit=_per(item),
                     wait=wait)


@dataclass
class AuthState:
    mode: str
    authenticator: Any  # BasicSignIn, DashboardOIDC, or None for mode none
    trail: AuditTrail
    limits: Limits
    public: set[str]
    css: list[str]
    throttle: SigninThrottle | None = None  # Basic sign-in only


def state(app: Flask | None = None) -> AuthState | None:
    return (app or current_app).extensions.get(EXTENSION)


# -- identity ----------------------------------------------------------------------------------

def user_key(user: User) -> str:
    if user.mode == "none":  # everyone is "anonymous": limit per address instead
        return f"none:{request.remote_addr if has_request_context() else '-'}"
    return f"{user.mode}:{user.name}"


def current_user() -> User | None:
    """The signed-in user of this request (ANONYMOUS with FAKEAI_DASH_AUTH=none); None if unknown."""
    if not has_request_context():
        return None
    user = g.get(_G_USER)
    if user is not None:
        return user
    auth = state()
    return ANONYMOUS if auth is not None and auth.mode == "none" else None


def _is_public(auth: AuthState, path: str) -> bool:
    if path in auth.public:
        return True
    # The stylesheets the sign-in pages use: CSS only, and never a path that climbs.
    return path.startswith("/assets/") and path.endswith(".css") and ".." not in path


def protect(app: Flask, auth: AuthState) -> None:
    @app.before_request
    def _gate() -> Response | None:
        if auth.mode == "none":
            g.setdefault(_G_USER, ANONYMOUS)
            return None
        if _is_public(auth, request.path):
            return None
        authenticator = auth.authenticator
        credentials = authenticator.credentials()
        if auth.mode == "basic" and credentials is not None:
            # Recently verified credentials pass at once; anything else is hashed (~50 ms of CPU)
            # only once this name's wait from this address (after its failures) is over.
            user = authenticator.identify(credentials, slow=False)
            if user is None:
                name, address = credentials[0], request.remote_addr or "-"
                wait = auth.throttle.wait(name, address)
                if wait:
                    return too_many_sign_ins(auth, wait)
                user = authenticator.identify(credentials)
                if user is None:
                    wait = auth.throttle.failed(name, address)
                    log.warning("Basic sign-in refused for %r from %s (next try in %d s)", name[:64], address, wait)
                else:
                    auth.throttle.succeeded(name, address)
        else:
            user = authenticator.identify(credentials)
        if user is None:
            return authenticator.challenge()
        if user.role not in ROLES:
            return page(_("No access"), [_("You are signed in as {user}, but this account has no access to the "
                                           "Fine-Tuning Dashboard. Ask an administrator to add you.").format(user=user.name)],
                        links=[(_("Sign out"), authenticator.sign_out_path)], status=403, css=auth.css)
        g.setdefault(_G_USER, user)
        return None


def too_many_sign_ins(auth: AuthState, wait: int) -> Response:
    return page(_("Too many sign-in attempts"),
                [_("Too many failed sign-ins for this user name from your address. Try again in {wait} s.")
                 .format(wait=wait)], status=429, css=auth.css, headers={"Retry-After": str(wait)})


# -- writes ------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """What a write callback reports back to the gate inside ``authorize_write``."""

    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None

    def failed(self, message: str) -> None:
        """The write did not happen though nothing raised (e.g. a form with errors)."""
        self.failure = message


def refusal_for(user: User | None, action: str) -> Wording | None:
    if user is None:
        return words(N_("Not allowed: sign in first."))
    if action not in WRITE_ACTIONS:
        return words(N_("Not allowed: {action} is not an action this dashboard performs."), action=repr(action))
    if not user.may(action):
        role = [[ROLE_WORDS[user.role], {}]] if user.role in ROLE_WORDS else user.role
        return words(NEEDS_OPERATOR[action], user=user.name, role=role)
    return None


@contextlib.contextmanager
def authorize_write(action: str, target: str | None = None, **detail: Any):
    """Check the role and the rate limit, then run the block; record the attempt either way.

    Raises WriteRefused before the block runs (nothing reaches the API). Inside, an ApiError
    (or any exception) is recorded as failed with its message and re-raised.
    """
    user = current_user()
    auth = state() if has_request_context() else None
    if target is not None and not is_valid_id(target):
        # Never a key or a history under a hostile name; what was sent is kept, shortened.
        detail, target = {**detail, "given_id": repr(target)[:80]}, None
    attempt = Attempt(target, dict(detail))
    base = {"user": user.name if user else "unknown", "role": user.role if user else "",
            "mode": user.mode if user else (auth.mode if auth else "?"), "action": action,
            "addr": request.remote_addr if has_request_context() else None}

    def record(outcome: str, message: str | None = None) -> None:
        if auth is not None:
            auth.trail.record(**base, target=attempt.target, outcome=outcome, message=message,
                              message_parts=getattr(message, "parts", None), detail=attempt.detail)

    refusal = refusal_for(user, action) if auth is not None else words(N_("Not allowed: sign-in is not set up."))
    if refusal is None:
        refusal = auth.limits.hit("write", user_key(user))
        reason = "rate"
    else:
        reason = "role"
    if refusal is not None:
        record("refused", refusal)
        raise WriteRefused(refusal, reason)
    try:
        yield attempt
    except ApiError as error:
        record("failed", str(error))
        raise
    except Exception as error:
        record("failed", f"{type(error).__name__}: {error}")
        raise
    record("failed" if attempt.failure else "allowed", attempt.failure)


# -- forced refreshes ----------------------------------------------------------------------------

def allow_refresh(scope: str) -> bool:
    """Spend one forced refresh of ``scope`` ("jobs", "job") for this user; False past the limit."""
    user, auth = current_user(), state() if has_request_context() else None
    if user is None or auth is None:
        return False
    refused = auth.limits.hit("refresh", scope, user_key(user))
    if refused:
        log.info("forced refresh of %s refused for %s: %s", scope, user.name, refused)
    return refused is None


def refresh_blocked(scope: str = "jobs") -> Wording | None:
    """Why the next forced refresh of ``scope`` would be refused (English; ``wording.localized``
    for the page), or None."""
    user, auth = current_user(), state() if has_request_context() else None
    if user is None or auth is None:
        return None
    return auth.limits.blocked("refresh", scope, user_key(user))


# -- watching (a job's first look by a user: sync/interest.py) ------------------------------------

def watch_viewer() -> tuple[str, Any] | None:
    """(this user's key, a function spending one "watch" of their rate limit: the refusal or None)
    for the sync loop's admission; None outside a request (the app's own reads are trusted)."""
    if not has_request_context():
        return None
    user, auth = current_user() or ANONYMOUS, state()
    key = user_key(user)
    return key, (lambda: auth.limits.hit("watch", key)) if auth is not None else (lambda: None)


def read_only_reason(user: User | None) -> str | None:
    """Why ``user`` may not write, in the request's language (shown, never recorded); None if they may."""
    if user is None:
        return _("Sign in to make changes.")
    return None if user.can_write else _(READ_ONLY_REASON)


def build_limits(app: Flask, settings: Any) -> Limits:
    limiter = Limiter(key_func=lambda: user_key(current_user() or ANONYMOUS), app=app,
                      storage_uri=limiter_storage_uri(settings.cache_url),
                      # Short: a dead Redis costs a write a fraction of a second, then limits hold per worker.
                      storage_options=({"socket_timeout": 2, "socket_connect_timeout": 0.5}
                                       if settings.cache_url else {}),
                      strategy="moving-window", default_limits=[], headers_enabled=False,
                      key_prefix="fakeai-dash-limits")
    rules = {"write": parse_many(settings.rate_limit_writes), "refresh": parse_many(settings.rate_limit_refresh),
             "watch": parse_many(getattr(settings, "rate_limit_watch", "60/minute"))}
    return Limits(limiter, rules)
