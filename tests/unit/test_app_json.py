"""app.json, Heroku's app manifest (a Heroku Button, review apps, `heroku create --manifest`).

Checked against the manifest's schema (https://devcenter.heroku.com/articles/app-json-schema;
the keys and shapes below mirror the JSON schema Heroku ships in @heroku/mcp-server 1.0.7,
dist/utils/app-json.schema.json), and against the app: every variable it sets is a setting the
app reads, every setting a deployment must decide on is there with a description, and its values
load as settings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fakeai_dash.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "app.json").read_text())

TOP_LEVEL = {"name", "description", "keywords", "website", "repository", "logo", "success_url", "scripts", "env",
             "formation", "addons", "buildpacks", "environments", "stack", "image"}
ENV_KEYS = {"description", "value", "required", "generator"}
DYNO_SIZES = {"free", "eco", "hobby", "basic", "standard-1x", "standard-2x", "performance-m", "performance-l",
              "private-s", "private-m", "private-l", "shield-s", "shield-m", "shield-l"}
# What a deployment must decide on, and how app.json asks for it.
MUST_DECIDE = {"FAKEAI_DASH_AUTH": "required", "FAKEAI_DASH_ALLOWED_HOSTS": "required",
               "FAKEAI_DASH_SESSION_SECRET": "generated", "FAKEAI_DASH_API_KEY": "listed",
               "FAKEAI_DASH_API_BASE": "listed", "WEB_CONCURRENCY": "value"}
# Read by the Procfile's gunicorn settings (fakeai_dash/gunicorn_conf.py), not by Settings.
GUNICORN_VARS = {"WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_KEEPALIVE"}


def test_app_json001_follows_the_manifest_schema():
    assert set(MANIFEST) <= TOP_LEVEL, set(MANIFEST) - TOP_LEVEL
    assert re.match(r"^[a-zA-Z-_\.]+", MANIFEST["name"]) and len(MANIFEST["name"]) <= 30
    assert all(isinstance(word, str) for word in MANIFEST["keywords"])
    for name, entry in MANIFEST["env"].items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name
        assert isinstance(entry, dict) and set(entry) <= ENV_KEYS, (name, entry)
        assert isinstance(entry.get("value", ""), str) and isinstance(entry.get("required", False), bool), name
        assert entry.get("generator", "secret") == "secret", name
    for process, dynos in MANIFEST["formation"].items():
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", process) and set(dynos) <= {"quantity", "size"}
        assert isinstance(dynos["quantity"], int) and dynos["quantity"] >= 0 and dynos.get("size", "basic") in DYNO_SIZES
    for addon in MANIFEST["addons"]:
        assert isinstance(addon, str) or (set(addon) <= {"plan", "as", "options"} and isinstance(addon["plan"], str))
    assert all(set(pack) == {"url"} and isinstance(pack["url"], str) for pack in MANIFEST["buildpacks"])


def test_app_json002_every_setting_to_decide_is_there_with_a_description():
    env = MANIFEST["env"]
    for name, how in MUST_DECIDE.items():
        assert name in env, name
        assert len(env[name].get("description", "")) >= 30, name
        if how == "required":
            assert env[name].get("required") is True and "value" not in env[name], name
        elif how == "generated":
            assert env[name].get("generator") == "secret" and "value" not in env[name], name
        elif how == "value":
            assert env[name].get("value"), name
    assert all(entry.get("description") for entry in env.values())
    # What the Procfile's platform provides: Redis (its REDIS_URL is the cache), the Python buildpack,
    # one web dyno, and the router as the one trusted proxy.
    assert [addon["plan"].split(":")[0] for addon in MANIFEST["addons"]] == ["heroku-redis"]
    assert MANIFEST["buildpacks"] == [{"url": "heroku/python"}]
    assert MANIFEST["formation"]["web"]["quantity"] >= 1
    assert env["FAKEAI_DASH_TRUSTED_PROXIES"]["value"] == "1"
    # The schema has no health-check field: the description names the route.
    assert "/healthz" in MANIFEST["description"]


def test_app_json003_names_only_settings_the_app_reads():
    gunicorn_conf = (ROOT / "fakeai_dash" / "gunicorn_conf.py").read_text()
    for name in MANIFEST["env"]:
        if name in GUNICORN_VARS:
            assert f'os.environ.get("{name}"' in gunicorn_conf, name
            continue
        assert name.startswith("FAKEAI_DASH_"), name
        field = name.removeprefix("FAKEAI_DASH_").lower()
        assert field in Settings.model_fields, f"{name} is not a setting"


def test_app_json004_its_values_load_as_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    for name, entry in MANIFEST["env"].items():
        if "value" in entry and name.startswith("FAKEAI_DASH_"):
            monkeypatch.setenv(name, entry["value"])
    monkeypatch.setenv("FAKEAI_DASH_AUTH", "none")
    monkeypatch.setenv("REDIS_URL", "rediss://:secret@ec2-1-2-3-4.compute-1.amazonaws.com:6380")  # the add-on's
    settings = load_settings([])
    assert settings.trusted_proxies == 1 and settings.cache_tls_verify is False
    assert settings.cache_url.startswith("rediss://:secret@ec2-1-2-3-4.compute-1.amazonaws.com:6380?ssl_cert_reqs=none")



@pytest.mark.parametrize("name", sorted(MUST_DECIDE))
def test_app_json005_the_readme_names_each_setting_to_decide(name):
    assert name in (ROOT / "README.md").read_text(), name
