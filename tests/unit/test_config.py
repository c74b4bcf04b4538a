"""Settings (fakeai_dash.config): FAKEAI_DASH_* environment, a .env file, then CLI flags.

Verifies the precedence (flags over env over .env over defaults), the derived defaults
(cache TTL is half the refresh interval), api_base normalisation, and that every invalid
value is reported in one message naming the setting, which ``python -m fakeai_dash``
prints before exiting with code 2 and no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeai_dash.config import Settings, SettingsError, load_settings


pytestmark = pytest.mark.usefixtures("clean_settings_env")


# -- sources and precedence ---------------------------------------------------------------


def test_config001_defaults():
    settings = load_settings([])

    assert settings.api_base is None and settings.embedded
    assert settings.api_type == "openai"
    assert settings.refresh_interval == 3.0
    assert settings.port == 8050 and settings.host == "127.0.0.1"
    assert settings.api_key is None


def test_config002_env_prefix_sets_values(monkeypatch):
    monkeypatch.setenv("FAKEAI_DASH_API_BASE", "https://api.openai.com")
    monkeypatch.setenv("FAKEAI_DASH_API_KEY", "sk-env")
    monkeypatch.setenv("FAKEAI_DASH_PORT", "9001")
    monkeypatch.setenv("FAKEAI_DASH_API_TYPE", "azure")
    monkeypatch.setenv("FAKEAI_DASH_PRICE_PER_1K_TOKENS", '{"gpt-4o": 0.025, "default": 0.01}')
    monkeypatch.setenv("PORT", "1234")  # unprefixed: not ours

    settings = load_settings([])

    assert settings.api_base == "https://api.openai.com"
    assert settings.api_key.get_secret_value() == "sk-env"
    assert "sk-env" not in repr(settings)
    assert settings.port == 9001
    assert settings.api_type == "azure"
    assert settings.price_per_1k_tokens == {"gpt-4o": 0.025, "default": 0.01}
    assert not settings.embedded


def test_config003_dotenv_file_in_cwd_is_read(tmp_path):
    (tmp_path / ".env").write_text("FAKEAI_DASH_REFRESH_INTERVAL=7.5\nFAKEAI_DASH_MAX_JOBS=123\n")

    settings = load_settings([])

    assert settings.refresh_interval == 7.5
    assert settings.max_jobs == 123


def test_config004_env_beats_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("FAKEAI_DASH_PORT=7000\n")
    monkeypatch.setenv("FAKEAI_DASH_PORT", "7001")

    assert load_settings([]).port == 7001


def test_config005_cli_flags_override_env_and_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("FAKEAI_DASH_HOST=10.0.0.1\nFAKEAI_DASH_MAX_JOBS=5\n")
    monkeypatch.setenv("FAKEAI_DASH_PORT", "7001")
    monkeypatch.setenv("FAKEAI_DASH_REFRESH_INTERVAL", "9")

    settings = load_settings(["--port", "7002", "--refresh-interval", "2", "--host", "::1",
                              "--api-base", "http://localhost:8000/v1", "--debug"])

    assert settings.port == 7002
    assert settings.refresh_interval == 2.0
    assert settings.host == "::1"
    assert settings.api_base == "http://localhost:8000"
    assert settings.debug is True
    assert settings.max_jobs == 5  # not given on the command line: .env still counts


def test_config006_valid_cli_flag_hides_invalid_env_value(monkeypatch):
    monkeypatch.setenv("FAKEAI_DASH_PORT", "not-a-port")

    assert load_settings(["--port", "8123"]).port == 8123


# -- derived values -----------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://localhost:8000/", "http://localhost:8000"),
    ("http://localhost:8000/v1", "http://localhost:8000"),
    ("http://localhost:8000/v1/", "http://localhost:8000"),
    ("  https://api.openai.com/v1  ", "https://api.openai.com"),
    ("https://res.openai.azure.com", "https://res.openai.azure.com"),
])
def test_config007_api_base_normalised(given, expected):
    assert load_settings(["--api-base", given]).api_base == expected


@pytest.mark.parametrize("blank", ["", "   "])
def test_config008_blank_api_base_means_embedded(monkeypatch, blank):
    monkeypatch.setenv("FAKEAI_DASH_API_BASE", blank)

    assert load_settings([]).embedded


@pytest.mark.parametrize(("refresh", "ttl"), [(3.0, 1.5), (2.0, 1.0), (10.0, 5.0), (0.5, 0.5)])
def test_config009_cache_ttl_defaults_to_half_the_refresh_interval(refresh, ttl):
    assert load_settings(["--refresh-interval", str(refresh)]).cache_ttl == ttl


def test_config010_explicit_cache_ttl_kept(monkeypatch):
    monkeypatch.setenv("FAKEAI_DASH_CACHE_TTL", "4")

    assert load_settings(["--refresh-interval", "2"]).cache_ttl == 4.0


# -- invalid values -----------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "env", "named"), [
    (["--port", "0"], {}, "FAKEAI_DASH_PORT (--port)"),
    (["--port", "http"], {}, "FAKEAI_DASH_PORT (--port)"),
    (["--refresh-interval", "nope"], {}, "FAKEAI_DASH_REFRESH_INTERVAL (--refresh-interval)"),
    (["--refresh-interval", "0.1"], {}, "FAKEAI_DASH_REFRESH_INTERVAL (--refresh-interval)"),
    (["--api-base", "localhost:8000"], {}, "FAKEAI_DASH_API_BASE (--api-base)"),
    (["--api-type", "gcp"], {}, "FAKEAI_DASH_API_TYPE (--api-type)"),
    (["--max-jobs", "0"], {}, "FAKEAI_DASH_MAX_JOBS (--max-jobs)"),
    (["--cache-url", "memcached://x"], {}, "FAKEAI_DASH_CACHE_URL (--cache-url)"),
    ([], {"FAKEAI_DASH_PORT": "70000"}, "FAKEAI_DASH_PORT (--port)"),
    ([], {"FAKEAI_DASH_READ_TIMEOUT": "-1"}, "FAKEAI_DASH_READ_TIMEOUT:"),
    ([], {"FAKEAI_DASH_CACHE_TTL": "0"}, "FAKEAI_DASH_CACHE_TTL:"),
    ([], {"FAKEAI_DASH_DEBUG": "maybe"}, "FAKEAI_DASH_DEBUG:"),
    ([], {"FAKEAI_DASH_PRICE_PER_1K_TOKENS": '{"gpt": -1}'}, "FAKEAI_DASH_PRICE_PER_1K_TOKENS:"),
    ([], {"FAKEAI_DASH_PRICE_PER_1K_TOKENS": '{"gpt": "cheap"}'}, "FAKEAI_DASH_PRICE_PER_1K_TOKENS at gpt:"),
    ([], {"FAKEAI_DASH_PRICE_PER_1K_TOKENS": "not json"}, "FAKEAI_DASH_PRICE_PER_1K_TOKENS:"),
])
def test_config011_invalid_value_names_the_setting(monkeypatch, argv, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings(argv)

    message = str(caught.value)
    assert message.startswith("Invalid configuration:")
    assert named in message
    assert message.count("\n") == 1  # one line per bad setting


def test_config012_every_bad_setting_listed_at_once(monkeypatch):
    monkeypatch.setenv("FAKEAI_DASH_MAX_JOBS", "lots")

    with pytest.raises(SettingsError) as caught:
        load_settings(["--port", "-5", "--refresh-interval", "x"])

    lines = str(caught.value).splitlines()[1:]
    assert [line.split(" ")[2] for line in lines] == ["FAKEAI_DASH_REFRESH_INTERVAL", "FAKEAI_DASH_MAX_JOBS",
                                                      "FAKEAI_DASH_PORT"]


def test_config013_no_flag_named_for_env_only_settings(monkeypatch):
    monkeypatch.setenv("FAKEAI_DASH_CONNECT_TIMEOUT", "0")

    with pytest.raises(SettingsError) as caught:
        load_settings([])

    assert "--connect-timeout" not in str(caught.value)


def test_config014_settings_direct_construction_ignores_dotenv_when_asked(tmp_path):
    (tmp_path / ".env").write_text("FAKEAI_DASH_PORT=7000\n")

    assert Settings(_env_file=None).port == 8050
    assert Settings().port == 7000


# -- the CLI ------------------------------------------------------------------------------


def _run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    return subprocess.run([sys.executable, "-m", "fakeai_dash", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env={**clean, **(env or {})})


@pytest.mark.parametrize(("args", "env", "named"), [
    (["--refresh-interval", "nope"], {}, "FAKEAI_DASH_REFRESH_INTERVAL (--refresh-interval)"),
    (["--port", "0"], {}, "FAKEAI_DASH_PORT (--port)"),
    ([], {"FAKEAI_DASH_PRICE_PER_1K_TOKENS": "{broken"}, "FAKEAI_DASH_PRICE_PER_1K_TOKENS"),
])
def test_config015_cli_invalid_value_exits_2_with_message_and_no_traceback(tmp_path, args, env, named):
    result = _run_cli(*args, env=env, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Invalid configuration:" in result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_config030_redis_url_of_a_platform_add_on_is_the_cache_unless_cache_url_says_otherwise(monkeypatch):
    # Heroku's Redis add-on and Dokku's redis:link set REDIS_URL (and change it when they rotate
    # the credentials): app.json's deploy works without copying it into FAKEAI_DASH_CACHE_URL.
    monkeypatch.setenv("REDIS_URL", "rediss://:secret@ec2-1-2-3-4.compute-1.amazonaws.com:6380")
    assert load_settings([]).cache_url == "rediss://:secret@ec2-1-2-3-4.compute-1.amazonaws.com:6380"
    monkeypatch.setenv("FAKEAI_DASH_CACHE_URL", "redis://own.example:6379/2")
    assert load_settings([]).cache_url == "redis://own.example:6379/2"
    assert load_settings(["--cache-url", "redis://flag.example/0"]).cache_url == "redis://flag.example/0"
    monkeypatch.delenv("FAKEAI_DASH_CACHE_URL")
    monkeypatch.setenv("REDIS_URL", "memcached://x")
    with pytest.raises(SettingsError) as caught:
        load_settings([])
    assert str(caught.value) == ("Invalid configuration:\n  FAKEAI_DASH_CACHE_URL is not set and REDIS_URL is not "
                                 "a redis:// URL")
    monkeypatch.setenv("REDIS_URL", "")
    assert load_settings([]).cache_url is None


def test_config031_cache_tls_verify_false_accepts_a_self_signed_redis_certificate(monkeypatch):
    # Heroku Redis serves rediss:// with a self-signed certificate: verification is switched off
    # only when asked, for every client of the URL (sync store, audit stream, rate limits).
    import redis

    url = "rediss://:secret@ec2-1-2-3-4.compute-1.amazonaws.com:6380"
    monkeypatch.setenv("REDIS_URL", url)
    assert load_settings([]).cache_url == url  # verified by default
    monkeypatch.setenv("FAKEAI_DASH_CACHE_TLS_VERIFY", "false")
    relaxed = load_settings([]).cache_url
    assert relaxed == url + "?ssl_cert_reqs=none&ssl_check_hostname=false"
    kwargs = redis.Redis.from_url(relaxed).connection_pool.connection_kwargs
    assert kwargs["ssl_cert_reqs"] == "none" and kwargs["ssl_check_hostname"] is False
    monkeypatch.setenv("REDIS_URL", "redis://plain.example:6379/0")  # no TLS: nothing to relax
    assert load_settings([]).cache_url == "redis://plain.example:6379/0"
