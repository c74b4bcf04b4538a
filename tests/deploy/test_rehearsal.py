"""Deploy rehearsal: the app as a Procfile platform builds and runs it, as close as we get without its servers.

Build, as the Python buildpack does: the repository's files (what `git push` sends: the tracked
files, so no .venv and no compiled .mo catalogs) in an app directory of their own, and a fresh
virtual environment that installs only the lock (``pip install --require-hashes -r
requirements.txt``): no editable install of the project, no test extras. The project runs from
the app directory, as it does on the platform.

Run, as the platform does: the Procfile's ``web:`` line exactly as written, through bash in the
app directory, with PORT set, the environment's bin first on PATH, and the config vars a Heroku
app made from app.json has: its values, a generated session secret, Basic sign-in with a users
file made by the deployed code, the allowed host, the Redis add-on's REDIS_URL, and no API (so the
embedded FakeAI of the demo extra serves). Requests arrive as Heroku's router forwards them
(X-Forwarded-For/-Proto).

Then: /healthz answers without credentials; / and /_dash-layout answer 401 without and 200 with
them; a German request gets German (translations from the .po, with no build step); the shared
picture is in Redis; and SIGTERM to the process group (what the platform sends) stops everything
within the platform's 30 s, with exit code 0.

The install's and the whole rehearsal's durations are printed (``pytest -s`` / ``-rP``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from fakeai_dash.embedded import free_port
from tests.deploy.test_server import ROOT, answers, clean_env, wait_until
from tests.support.redis_server import running_redis

PLATFORM_STOP_SECONDS = 30  # Heroku (and Dokku's default) send SIGKILL this long after SIGTERM
OPERATOR = ("alice", "rehearsal-password-1")
# Heroku's router: TLS ends there, one hop, the client's address and scheme forwarded, Host kept.
ROUTER_HEADERS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}


def basic(user: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(":".join(user).encode()).decode()}


def tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"the rehearsal copies what `git push` sends: not a git checkout ({error})")
    return [name for name in listed.decode().split("\0") if name]


def platform_env(base: dict[str, str], venv: Path) -> dict[str, str]:
    """The process environment of a dyno: nothing of this test's interpreter or checkout."""
    env = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


@pytest.fixture(scope="module")
def slug(tmp_path_factory):
    """The built app: (app directory, virtual environment, seconds the lock's install took)."""
    root = tmp_path_factory.mktemp("rehearsal")
    app, venv = root / "app", root / "venv"
    for name in tracked_files():
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in this checkout is not pushed either
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / name)
    assert not list(app.rglob("*.mo")), "compiled catalogs are not committed"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = platform_env(clean_env(root), venv)
    started = time.monotonic()
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-input", "--progress-bar", "off",
                              "--require-hashes", "-r", "requirements.txt"],
                             cwd=app, env=env, capture_output=True, text=True, timeout=1200)
    install_seconds = time.monotonic() - started
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    # The project itself is not installed: outside the app directory it cannot be imported.
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.util, sys; sys.exit(importlib.util.find_spec('fakeai_dash') is not None)"],
                           cwd=root, env=env, timeout=60)
    assert probe.returncode == 0, "fakeai_dash is importable without the app directory: the lock installed it"
    assert not (venv / "bin" / "pytest").exists() and not (venv / "bin" / "fakeai-dash").exists()
    yield app, venv, install_seconds
    shutil.rmtree(root, ignore_errors=True)  # a few hundred MB: not kept with pytest's last three runs


def app_json_config(app: Path, users_file: str, redis_url: str) -> dict[str, str]:
    """The config vars of a Heroku app created from app.json, with what its deployer fills in."""
    manifest = json.loads((app / "app.json").read_text())
    config = {name: entry["value"] for name, entry in manifest["env"].items() if "value" in entry}
    config.update({name: secrets.token_urlsafe(48) for name, entry in manifest["env"].items()
                   if entry.get("generator") == "secret"})
    config.update(FAKEAI_DASH_AUTH="basic", FAKEAI_DASH_USERS_FILE=users_file, FAKEAI_DASH_ALLOWED_HOSTS="127.0.0.1",
                  REDIS_URL=redis_url)  # REDIS_URL: set by the Redis add-on
    missing = [name for name, entry in manifest["env"].items() if entry.get("required") and name not in config]
    assert not missing, f"app.json requires {missing}, which the rehearsal does not set"
    return config


def procfile_web_line(app: Path) -> str:
    lines = [line for line in (app / "Procfile").read_text().splitlines() if line.startswith("web:")]
    assert len(lines) == 1, "one web: process in the Procfile"
    return lines[0].removeprefix("web:").strip()


def test_rehearsal001_the_lock_installs_and_the_procfile_serves_as_a_platform_runs_it(slug, tmp_path):
    rehearsal_started = time.monotonic()
    app, venv, install_seconds = slug
    env = platform_env(clean_env(tmp_path), venv)
    # Basic sign-in's users file, made by the deployed code (the project has no script installed).
    added = subprocess.run([str(venv / "bin" / "python"), "-m", "fakeai_dash", "users", "add", OPERATOR[0], "--role",
                            "operator", "--password-stdin", "--file", "users.json"],
                           input=OPERATOR[1] + "\n", capture_output=True, text=True, cwd=app, env=env, timeout=60)
    assert added.returncode == 0, added.stderr
    port = free_port()
    with running_redis() as redis_url:
        env.update(app_json_config(app, "users.json", redis_url), PORT=str(port), DYNO="web.1")
        command = procfile_web_line(app)
        log_path = tmp_path / "web.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(["bash", "-c", command], cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # a dyno: the platform signals the whole group

        def output() -> str:
            return log_path.read_text(errors="replace")

        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers(f"{base}/healthz") or process.poll() is not None, 120, "the web process")
            assert process.poll() is None, output()
            started_seconds = time.monotonic() - rehearsal_started

            def get(path: str, **headers: str) -> requests.Response:
                return requests.get(base + path, headers={**ROUTER_HEADERS, **headers}, timeout=30)

            health = get("/healthz")
            assert health.status_code == 200
            for path in ("/", "/_dash-layout"):
                assert get(path).status_code == 401, path
                signed_in = get(path, **basic(OPERATOR))
                assert signed_in.status_code == 200, (path, signed_in.status_code, signed_in.text[:300])
            # Behind the router (one trusted proxy): the request was HTTPS, so HSTS.
            assert "max-age" in get("/", **basic(OPERATOR)).headers.get("Strict-Transport-Security", "")
            # German with no build step: the catalogs come from the .po files.
            assert "Anmeldung erforderlich" in get("/", **{"Accept-Language": "de-DE,de;q=0.9"}).text
            german = get("/_dash-layout?lang=de", **basic(OPERATOR)).text
            english = get("/_dash-layout?lang=en", **basic(OPERATOR)).text
            assert "Job erstellen" in german and "Job erstellen" not in english and "Create job" in english
            # The demo extra's FakeAI serves (no API configured) and the add-on's Redis holds the picture.
            assert "Embedded FakeAI serving on" in output()
            assert f"Listening at: http://0.0.0.0:{port}" in output()
            shared = redis.Redis.from_url(redis_url)
            wait_until(lambda: shared.keys("fakeai-dash:*"), 30, "the sync loop's picture in Redis")
            shared.close()
        finally:
            stop_started = time.monotonic()
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                code = process.wait(PLATFORM_STOP_SECONDS + 5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
                code = None
            stop_seconds = time.monotonic() - stop_started
    assert code == 0 and stop_seconds < PLATFORM_STOP_SECONDS, (code, stop_seconds, output()[-4000:])

    def group_gone() -> bool:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(group_gone, 10, "every process of the dyno (the embedded FakeAI too) to exit")
    assert "Traceback" not in output(), output()[-4000:]
    assert not list(app.rglob("*.mo"))  # nothing was compiled on the way
    print(f"\nrehearsal: lock installed in {install_seconds:.1f} s; web process answering {started_seconds:.1f} s "
          f"after the run began; stopped {stop_seconds:.1f} s after SIGTERM; "
          f"run {time.monotonic() - rehearsal_started:.1f} s, with the build {install_seconds + time.monotonic() - rehearsal_started:.1f} s")
