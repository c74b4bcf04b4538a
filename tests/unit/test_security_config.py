"""Secrets and transport settings: the key from the environment or a secret file (never a flag),
plain http:// only to this machine unless opted in, debug only on loopback. A refusal is one
line naming the setting, exit code 2, no traceback, and never the key itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeai_dash.api.client import client_from_settings
from fakeai_dash.config import Settings, SettingsError, load_settings

KEY = "sk-test-from-a-file-1234"


pytestmark = pytest.mark.usefixtures("clean_settings_env")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FAKEAI_DASH_")}
    return subprocess.run([sys.executable, "-m", "fakeai_dash", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env={**clean, **(env or {})})


@pytest.fixture
def refusal(monkeypatch):
    def refused(argv=(), **env) -> str:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings(list(argv))
        return str(caught.value)

    return refused


# -- the key file --------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [KEY + "\n", KEY + "\r\n", KEY, KEY + "\n\n"])
def test_sec_cfg001_the_key_file_is_read_without_its_trailing_newline(tmp_path, monkeypatch, written):
    secret = tmp_path / "api-key"
    secret.write_bytes(written.encode())
    monkeypatch.setenv("FAKEAI_DASH_API_KEY_FILE", str(secret))
    settings = load_settings([])
    assert settings.api_key.get_secret_value() == KEY
    assert KEY not in repr(settings)
    # And it is the key the client sends (OpenAI's header; Azure's api-key).
    assert client_from_settings(settings, "https://api.openai.com").session.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("make", "reason"), [
    (lambda d: d / "missing", "No such file or directory"),
    (lambda d: d, "Is a directory"),
])
def test_sec_cfg002_a_missing_or_unreadable_key_file_is_one_line_naming_the_setting(refusal, tmp_path, make, reason):
    path = make(tmp_path)
    message = refusal(FAKEAI_DASH_API_KEY_FILE=str(path))
    assert message.splitlines()[1:] == [f"  FAKEAI_DASH_API_KEY_FILE: cannot read {path}: {reason}"]


def test_sec_cfg003_an_empty_key_file_and_two_keys_are_refused(refusal, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert f"FAKEAI_DASH_API_KEY_FILE: {empty} is empty" in refusal(FAKEAI_DASH_API_KEY_FILE=str(empty))
    secret = tmp_path / "key"
    secret.write_text(KEY)
    message = refusal(FAKEAI_DASH_API_KEY_FILE=str(secret), FAKEAI_DASH_API_KEY="sk-other")
    assert "FAKEAI_DASH_API_KEY_FILE: set it or FAKEAI_DASH_API_KEY, not both" in message
    assert KEY not in message and "sk-other" not in message


def test_sec_cfg004_the_cli_exits_2_on_a_missing_key_file_without_a_traceback(tmp_path):
    result = run_cli(env={"FAKEAI_DASH_API_KEY_FILE": str(tmp_path / "nope")}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid configuration:", f"  FAKEAI_DASH_API_KEY_FILE: cannot read {tmp_path / 'nope'}: No such file or directory"]
    assert result.stdout == ""


# -- no flag for the key ------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--api-key", KEY], [f"--api-key={KEY}"], ["--api-k", KEY], ["--api-key"]])
def test_sec_cfg005_a_key_on_the_command_line_is_refused_with_where_to_put_it(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "fakeai-dash: --api-key is not accepted: a key on the command line shows in ps and shell history. Put it "
        "in FAKEAI_DASH_API_KEY (environment or .env), or in a file named by FAKEAI_DASH_API_KEY_FILE.")
    assert KEY not in result.stderr + result.stdout


def test_sec_cfg006_help_offers_no_key_flag(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0 and "--api-base" in result.stdout
    assert "--api-key" not in result.stdout


# -- transport ----------------------------------------------------------------------------------

@pytest.mark.parametrize("base", ["http://10.0.0.5:8000", "http://fakeai:8000/v1", "http://api.example.com",
                                  "http://127.0.0.1.nip.io:8000", "http://[2001:db8::1]:80"])
def test_sec_cfg007_plain_http_to_another_machine_is_refused_unless_opted_in(refusal, monkeypatch, base):
    message = refusal(["--api-base", base])
    [line] = message.splitlines()[1:]
    assert line.startswith("  FAKEAI_DASH_API_BASE (--api-base): ") and "FAKEAI_DASH_ALLOW_INSECURE_HTTP=true" in line
    monkeypatch.setenv("FAKEAI_DASH_ALLOW_INSECURE_HTTP", "true")
    assert load_settings(["--api-base", base]).api_base.startswith("http://")


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000/v1", "http://[::1]:9000",
                                  "http://127.1.2.3", "https://api.openai.com", "https://10.0.0.5"])
def test_sec_cfg008_https_and_this_machine_need_no_opt_in(base):
    assert load_settings(["--api-base", base]).api_base


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "dash.example.com"])
def test_sec_cfg009_debug_is_refused_on_a_host_others_can_reach(refusal, host, tmp_path):
    message = refusal(["--debug", "--host", host])
    assert message.splitlines()[1] == (
        "  FAKEAI_DASH_DEBUG (--debug): debug mode shows code and tracebacks to whoever opens the page; it runs "
        f"only on a loopback host (127.0.0.1, ::1, localhost), not {host}")
    assert load_settings(["--host", host]).host == host  # without debug the host is fine
    for loopback in ("127.0.0.1", "::1", "localhost"):
        assert load_settings(["--debug", "--host", loopback]).debug


def test_sec_cfg010_the_cli_refuses_debug_on_0000_before_serving(tmp_path):
    result = run_cli("--debug", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2
    assert "FAKEAI_DASH_DEBUG (--debug)" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_sec_cfg011_settings_built_in_code_obey_the_same_rules():
    with pytest.raises(Exception, match="FAKEAI_DASH_ALLOW_INSECURE_HTTP"):
        Settings(_env_file=None, api_base="http://10.1.1.1")
    assert Settings(_env_file=None, api_base="http://10.1.1.1", allow_insecure_http=True).api_base
