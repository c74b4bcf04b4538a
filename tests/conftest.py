"""Shared fixtures: a real FakeAI server process, app factories and headless Chromium options."""

from __future__ import annotations

import logging
import os
import shutil

import pytest
import requests
from hypothesis import settings as hypothesis_settings

from fakeai_dash.config import Settings
from fakeai_dash.embedded import EmbeddedFakeAI, free_port

MODELS = ("meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3", "Qwen/Qwen2.5-7B-Instruct")


class FakeAIBackend:
    """A running FakeAI process plus the few raw calls tests use to arrange and check state."""

    def __init__(self, server: EmbeddedFakeAI):
        self.server = server
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return self.server.url

    def files(self) -> list[dict]:
        return self.http.get(f"{self.url}/v1/files", timeout=10).json()["data"]

    def jobs(self) -> list[dict]:
        jobs, after = [], None
        while True:
            params = {"limit": 100, **({"after": after} if after else {})}
            page = self.http.get(f"{self.url}/v1/fine_tuning/jobs", params=params, timeout=10).json()
            jobs.extend(page["data"])
            if not page["has_more"]:
                return jobs
            after = page["data"][-1]["id"]

    def create_job(self, model: str = MODELS[0], **extra) -> dict:
        body = {"model": model, "training_file": self.files()[0]["id"], **extra}
        response = self.http.post(f"{self.url}/v1/fine_tuning/jobs", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def cancel_job(self, job_id: str) -> dict:
        return self.http.post(f"{self.url}/v1/fine_tuning/jobs/{job_id}/cancel", timeout=10).json()

    def job(self, job_id: str) -> dict:
        return self.http.get(f"{self.url}/v1/fine_tuning/jobs/{job_id}", timeout=10).json()


def _running_fakeai():
    server = EmbeddedFakeAI().start()
    try:
        yield FakeAIBackend(server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fakeai():
    """One FakeAI server for the whole session; tests create their own jobs on it."""
    yield from _running_fakeai()


@pytest.fixture
def private_fakeai():
    """A FakeAI server of the test's own, for tests that stop and restart it."""
    yield from _running_fakeai()


@pytest.fixture
def settings_for():
    """Settings pointing at a given API base, fast enough for tests to watch ticks."""

    def make(api_base: str, **overrides) -> Settings:
        values = {"api_base": api_base, "refresh_interval": 1.0, "read_timeout": 5.0,
                  "connect_timeout": 1.0, **overrides}
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def make_app(settings_for):
    """A fresh Dash app per call (create_app hands each app its own copy of the callbacks).

    Each app runs a sync loop thread; it is stopped when the test ends, so no test leaves
    threads polling a server that is gone.
    """
    from fakeai_dash.app import create_app
    from fakeai_dash.data import EXTENSION_KEY

    apps = []

    def make(api_base: str, **overrides):
        app = create_app(settings_for(api_base, **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.server.extensions[EXTENSION_KEY].close()


@pytest.fixture
def start_dash(dash_duo, make_app):
    """Serve a fresh app on a free port in the dash_duo browser; returns dash_duo."""

    def start(api_base: str, path: str = "/", **overrides):
        app = make_app(api_base, **overrides)
        dash_duo.start_server(app, port=free_port())
        if path != "/":
            dash_duo.driver.get(dash_duo.server_url + path)
        return dash_duo

    return start


def pytest_setup_options():
    """Headless Chromium options for dash[testing] (Debian's chromium + chromium-driver)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,1000", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions"):
        options.add_argument(flag)
    return options


os.environ.setdefault("DASH_TESTING_NO_PERCY", "1")
# CI must not fail on an input nobody has seen before: there the property tests replay a fixed
# sequence; on developers' machines they keep exploring (and found real bugs that way).
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
# One line per request from the threaded test servers buries the failures that matter.
logging.getLogger("werkzeug").setLevel(logging.WARNING)
