"""Settings for the dashboard: environment (FAKEAI_DASH_*), a .env file, then CLI flags."""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from fakeai_dash.server import hosts
from fakeai_dash.pricing import DEFAULT_PRICE_PER_1K


class Settings(BaseSettings):
    """Everything an operator can set. Field names map to FAKEAI_DASH_<NAME> variables."""

    model_config = SettingsConfigDict(
        env_prefix="FAKEAI_DASH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # None means: start an embedded FakeAI server and use that.
    api_base: str | None = Field(None, description="Base URL of the API, e.g. https://api.openai.com")
    api_key: SecretStr | None = Field(None, description="API key, kept on the server")
    api_key_file: str | None = Field(None, description="File holding the API key (a Docker or Kubernetes secret)")
    allow_insecure_http: bool = Field(False, description="Allow a plain http:// API base on another machine "
                                                         "(the key would travel unencrypted)")
    trusted_proxies: int = Field(0, ge=0, le=10, description="Proxies in front whose X-Forwarded-For/-Proto/-Host "
                                                             "headers are believed (0: none)")
    # NoDecode: the value is read by hosts.parse_entries (a comma-separated list, as Heroku config
    # vars hold it, or a JSON list), not as JSON alone.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names browsers use to reach the dashboard, besides loopback "
                                          "(dash.example.com, .example.com for subdomains, optional :port; * for "
                                          "any); required on a public bind")
    api_type: Literal["openai", "azure"] = Field("openai", description="Auth and URL style")
    azure_api_version: str = Field("2024-10-21", description="api-version query for Azure OpenAI")
    refresh_interval: float = Field(3.0, ge=0.5, le=3600, description="Seconds between refreshes")
    push: bool = Field(True, description="Push updates to open pages (Server-Sent Events); off: pages poll")
    live_poll_interval: float = Field(0.5, ge=0.1, le=60, description="Seconds between checks for new events "
                                                                      "of a running job that a live page shows")
    connect_timeout: float = Field(3.05, gt=0, le=120, description="Seconds to connect to the API")
    read_timeout: float = Field(15.0, gt=0, le=600, description="Seconds to wait for an API answer")
    max_jobs: int = Field(10_000, ge=1, le=100_000, description="Cap on jobs loaded into the list")
    host: str = Field("127.0.0.1", description="Address the dashboard listens on")
    port: int = Field(8050, ge=1, le=65535, description="Port the dashboard listens on")
    cache_url: str | None = Field(None, description="redis:// URL for a cache shared by workers")
    # What Heroku's Redis add-on and Dokku's redis:link set: the cache when FAKEAI_DASH_CACHE_URL is not.
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "redis_url"),
                                  description="REDIS_URL, used when FAKEAI_DASH_CACHE_URL is not set")
    cache_tls_verify: bool = Field(True, description="Verify the rediss:// server's certificate and host name; false "
                                                     "only for a provider whose certificate is self-signed (Heroku Redis)")
    cache_ttl: float | None = Field(None, gt=0, le=3600, description="Seconds an API answer is reused")
    data_dir: str | None = Field(None, description="Directory for the sync loop's picture when no Redis "
                                                   "is set (shared by the workers of one host)")
    price_per_1k_tokens: dict[str, float] = Field(
        default_factory=lambda: {"default": DEFAULT_PRICE_PER_1K},
        description="Training price per 1K tokens by model prefix (JSON object)",
    )
    # -- training-health alerts and budgets (fakeai_dash/alerts.py) ------------------------------
    alert_smoothing: float = Field(0.9, ge=0, le=0.99, description="EMA weight of the train loss the divergence "
                                                                   "and overfitting rules read")
    alert_divergence_rise: float = Field(0.5, gt=0, le=100, description="Divergence: smoothed train loss this "
                                                                        "fraction above its running minimum")
    alert_divergence_window: int = Field(10, ge=2, le=100_000, description="Divergence: for this many reported "
                                                                           "points in a row")
    alert_overfit_evals: int = Field(4, ge=2, le=1000, description="Overfitting: valid loss rising over this many "
                                                                   "evaluations since its best")
    alert_overfit_min_rise: float = Field(0.05, gt=0, le=100, description="Overfitting: valid loss at least this "
                                                                          "fraction above its best")
    alert_stall_factor: float = Field(10.0, ge=1, le=10_000, description="Stall: no event for this many times the "
                                                                         "job's seconds per step")
    alert_stall_min_s: float = Field(120.0, ge=0, le=7 * 86400, description="Stall: never sooner than this many "
                                                                            "seconds")
    alert_active_jobs: int = Field(8, ge=0, le=200, description="Running jobs the sync loop follows for alerts "
                                                                "even when nobody opened them (most recent first)")
    alert_active_interval: float = Field(30.0, ge=1, le=3600, description="Seconds between those background rounds")
    budget_per_job_usd: float | None = Field(None, gt=0, description="Budget of one job in USD (unset: none)")
    budget_per_month_usd: float | None = Field(None, gt=0, description="Budget of a calendar month (UTC) in USD "
                                                                       "(unset: none)")
    upload_limit_mb: float = Field(50.0, gt=0, le=1024, description="Largest JSONL accepted in the browser")
    debug: bool = Field(False, description="Dash debug mode (never in production)")
    # -- sign-in, roles, rate limits (fakeai_dash/auth) --------------------------------------
    auth: Literal["basic", "oidc", "none"] | None = Field(
        None, description="Sign-in: basic (users file), oidc (SSO) or none; unset is none on loopback "
                          "and refused on a public bind")
    users_file: str | None = Field(None, description="Basic sign-in users (fakeai-dash users add NAME ...)")
    oidc_issuer: str | None = Field(None, description="OIDC issuer URL (its /.well-known/openid-configuration)")
    oidc_client_id: str | None = Field(None, description="OIDC client id")
    oidc_client_secret: SecretStr | None = Field(None, description="OIDC client secret")
    oidc_scopes: str = Field("openid email profile", description="OIDC scopes asked for")
    oidc_redirect_uri: str | None = Field(None, description="The callback URL registered at the provider; "
                                                            "required on a public bind (on loopback: "
                                                            "http://127.0.0.1:<port>/oidc/sso/callback)")
    oidc_groups_claim: str = Field("groups", description="ID-token claim listing the user's groups or roles")
    oidc_operators: list[str] = Field(default_factory=list, description="group:NAME, verified e-mails or @domains "
                                                                        "that operate (auth/claims.py)")
    oidc_viewers: list[str] = Field(default_factory=list, description="group:NAME, verified e-mails or @domains "
                                                                      "that may view (empty: everyone the provider "
                                                                      "signs in)")
    session_secret: SecretStr | None = Field(None, description="Signs sign-in cookies; the same on every "
                                                               "instance (default: one per host, in the data dir)")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="How long an OIDC sign-in lasts (the session "
                                                                     "is kept server-side; sign-out ends it)")

    @field_validator("oidc_operators", "oidc_viewers")
    @classmethod
    def _oidc_entries_parse(cls, value: list[str]) -> list[str]:
        # An entry that states no rule would silently grant nothing (or, before, the wrong thing).
        from fakeai_dash.auth.claims import parse_entry

        for entry in value:
            try:
                parse_entry(entry)
            except ValueError as error:
                raise _setting_error(str(error)) from None
        return value
    rate_limit_writes: str = Field("20/minute", description="Writes (upload, create, cancel, pause, resume) per user")
    rate_limit_refresh: str = Field("30/minute", description="Forced refreshes per user")
    rate_limit_signin: str = Field("10/minute", description="Failed Basic sign-ins one user name may have from one "
                                                            "address before each further try waits (the count "
                                                            "is kept at least this period, and 15 minutes)")
    signin_max_delay: float = Field(60.0, ge=1, le=3600, description="Longest wait between sign-in tries past "
                                                                     "those failures (1 s, 2 s, 4 s, ... up to this)")
    # What one reader can make the sync loop poll (fakeai_dash/sync/interest.py).
    rate_limit_watch: str = Field("60/minute", description="Jobs a user starts watching (opening or comparing "
                                                           "one; not each refresh of an open page) per user")
    watch_unknown_per_user: int = Field(20, ge=1, le=10_000, description="Job ids outside the jobs list one user "
                                                                          "may have looked up per 10 minutes")
    watch_max: int = Field(200, ge=1, le=100_000, description="Jobs the sync loop follows at once, for every "
                                                              "viewer together")

    @field_validator("api_base")
    @classmethod
    def _api_base_is_http(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        # Accept a base with or without /v1 (or Azure's /openai); the client adds the path itself.
        for api_path in ("/v1", "/openai"):  # OpenAI's and Azure's API roots
            if value.endswith(api_path):
                return value[: -len(api_path)]
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _allowed_hosts_parse(cls, value):
        if value is None:
            return []
        try:
            return hosts.parse_entries(value)
        except ValueError as error:
            raise _setting_error(str(error)) from None

    @field_validator("oidc_redirect_uri")
    @classmethod
    def _redirect_uri_is_absolute(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or not urlsplit(value).hostname:
            raise ValueError("must be the full callback URL, e.g. https://dash.example.com/oidc/sso/callback")
        return value

    @field_validator("cache_url")
    @classmethod
    def _cache_url_is_redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value or None

    @model_validator(mode="after")
    def _cache_url_from_redis_url(self) -> Settings:
        if self.cache_url is None and self.redis_url and self.redis_url.strip():
            if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
                raise _setting_error("FAKEAI_DASH_CACHE_URL is not set and REDIS_URL is not a redis:// URL")
            self.cache_url = self.redis_url.strip()
        if self.cache_url and self.cache_url.startswith("rediss://") and not self.cache_tls_verify \
                and "ssl_cert_reqs=" not in self.cache_url:
            # Query arguments that redis-py (and flask-limiter's storage, through it) read from the URL.
            self.cache_url += ("&" if "?" in self.cache_url else "?") + "ssl_cert_reqs=none&ssl_check_hostname=false"
        return self

    @field_validator("price_per_1k_tokens")
    @classmethod
    def _prices_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        if any(price < 0 for price in value.values()):
            raise ValueError("prices must not be negative")
        return value

    @model_validator(mode="after")
    def _default_ttl(self) -> Settings:
        # About half a refresh: N browsers polling the same data cost the API what one does,
        # and no browser sees data older than one tick.
        if self.cache_ttl is None:
            self.cache_ttl = max(0.5, self.refresh_interval / 2)
        return self

    @field_validator("rate_limit_writes", "rate_limit_refresh", "rate_limit_signin", "rate_limit_watch")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be a rate such as '20/minute' or '5 per second'") from None
        return value

    @model_validator(mode="after")
    def _auth_complete(self) -> Settings:
        # One line naming what is missing, before anything starts.
        if self.auth == "basic" and not self.users_file:
            raise ValueError("FAKEAI_DASH_AUTH=basic needs FAKEAI_DASH_USERS_FILE "
                             "(create it with: fakeai-dash users add NAME --role operator --password-stdin)")
        if self.auth == "oidc":
            missing = [f"FAKEAI_DASH_{name.upper()}" for name in ("oidc_issuer", "oidc_client_id", "oidc_client_secret")
                       if not getattr(self, name)]
            if missing:
                raise ValueError(f"FAKEAI_DASH_AUTH=oidc needs {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _secrets_and_transport(self) -> Settings:
        # The key is read once, here: a missing secret stops the start with one line, not a
        # worker failing later. A key is never a command-line flag (ps, shell history).
        if self.api_key_file:
            if self.api_key is not None:
                raise _setting_error("FAKEAI_DASH_API_KEY_FILE: set it or FAKEAI_DASH_API_KEY, not both")
            self.api_key = SecretStr(read_key_file(self.api_key_file))
        if self.api_base and not self.allow_insecure_http:
            scheme, _, rest = self.api_base.partition("://")
            if scheme == "http" and not is_loopback_host(_url_host(rest)):
                raise _setting_error(
                    f"FAKEAI_DASH_API_BASE (--api-base): {self.api_base} is plain http:// to another machine, so the "
                    "API key would travel unencrypted; use https://, or set FAKEAI_DASH_ALLOW_INSECURE_HTTP=true "
                    "if the network in between is yours")
        if self.debug and not is_loopback_host(self.host):
            raise _setting_error(
                f"FAKEAI_DASH_DEBUG (--debug): debug mode shows code and tracebacks to whoever opens the page; "
                f"it runs only on a loopback host (127.0.0.1, ::1, localhost), not {self.host}")
        return self

    @property
    def embedded(self) -> bool:
        return self.api_base is None

    @property
    def upload_limit_bytes(self) -> int:
        return megabytes(self.upload_limit_mb)


def megabytes(mb: float) -> int:
    """Bytes in ``mb`` MB (MiB, as browsers and the upload limit count them)."""
    return int(mb * 1024 * 1024)


def _setting_error(message: str) -> PydanticCustomError:
    # A custom error keeps the message as written (a ValueError gets "Value error, " in front).
    return PydanticCustomError("setting", message)


def read_key_file(path: str) -> str:
    """The API key in ``path`` without its trailing newline (how secrets are usually written)."""
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.read().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not readable text"
        raise _setting_error(f"FAKEAI_DASH_API_KEY_FILE: cannot read {path}: {reason}") from None
    if not key.strip():
        raise _setting_error(f"FAKEAI_DASH_API_KEY_FILE: {path} is empty")
    return key


def _url_host(rest: str) -> str:
    """The host of a URL without its scheme: 'user@[::1]:80/x' -> '::1'."""
    netloc = rest.split("/", 1)[0].rpartition("@")[2]
    if netloc.startswith("["):
        return netloc[1:].partition("]")[0]
    return netloc.rpartition(":")[0] if ":" in netloc else netloc


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a name is not trusted to resolve anywhere in particular."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


API_KEY_FLAG_MESSAGE = ("fakeai-dash: --api-key is not accepted: a key on the command line shows in ps and shell "
                        "history. Put it in FAKEAI_DASH_API_KEY (environment or .env), or in a file named by "
                        "FAKEAI_DASH_API_KEY_FILE.")

_FLAGS: dict[str, tuple[str, type]] = {
    "api_base": ("--api-base", str),
    "api_type": ("--api-type", str),
    "refresh_interval": ("--refresh-interval", float),
    "max_jobs": ("--max-jobs", int),
    "host": ("--host", str),
    "port": ("--port", int),
    "cache_url": ("--cache-url", str),
    "upload_limit_mb": ("--upload-limit-mb", float),
}


class SettingsError(Exception):
    """Invalid configuration, with one line per bad setting naming it."""


def _setting_name(field: str) -> str:
    flag = _FLAGS.get(field, (None,))[0]
    name = f"FAKEAI_DASH_{field.upper()}"
    return f"{name} ({flag})" if flag else name


def describe_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if not loc:
            lines.append(item["msg"] if item["msg"].startswith("FAKEAI_DASH_") else f"settings: {item['msg']}")
            continue
        where = f" at {'.'.join(loc[1:])}" if len(loc) > 1 else ""
        lines.append(f"{_setting_name(loc[0])}{where}: {item['msg']}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def _describe_source_error(error: SourceError) -> str:
    # pydantic-settings fails before validation when an env/.env value is not JSON where a
    # JSON object is expected: 'error parsing value for field "x" from source "..."'.
    match = re.search(r'field "([^"]+)"', str(error))
    name = _setting_name(match.group(1)) if match else "settings"
    return f"Invalid configuration:\n  {name}: not valid JSON ({error})"


def load_settings(argv: Sequence[str] | None = None, **overrides) -> Settings:
    """Settings from env/.env, overridden by CLI flags in ``argv`` and keyword ``overrides``."""
    parser = argparse.ArgumentParser(prog="fakeai-dash", description="Fine-tuning jobs dashboard")
    for name, (flag, _type) in _FLAGS.items():
        parser.add_argument(flag, dest=name, default=None, help=Settings.model_fields[name].description)
    parser.add_argument("--debug", action="store_true", default=None, help="Dash debug mode")
    parser.add_argument("--api-key", dest="api_key_flag", nargs="?", const="", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else [])
    if args.api_key_flag is not None:
        raise SettingsError(API_KEY_FLAG_MESSAGE)
    values = {k: v for k, v in vars(args).items() if v is not None and k != "api_key_flag"}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as error:
        raise SettingsError(describe_errors(error)) from None
    except SourceError as error:
        raise SettingsError(_describe_source_error(error)) from None
