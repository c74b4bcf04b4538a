"""Shared fixtures: a real FakeAI server process, app factories and headless Chromium options."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading

import pytest
import requests
from hypothesis import settings as hypothesis_settings

from fakeai_dash.config import Settings
from fakeai_dash.embedded import EmbeddedFakeAI

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


# EmbeddedFakeAI picks a free port before FakeAI binds it: another process can take the port
# in between. That bind failure, and only it, is retried on a new port.
FAKEAI_BIND_ATTEMPTS = 3


class FakeAIBindError(RuntimeError):
    """FakeAI could not bind the port it was given (someone else took it first)."""


def _owns_port(server: EmbeddedFakeAI) -> bool:
    """Whether FakeAI's own process listens on its port (not a stranger answering /health)."""
    import psutil

    try:
        processes = [psutil.Process(server.process.pid)]
        processes += processes[0].children(recursive=True)
        return any(conn.status == psutil.CONN_LISTEN and conn.laddr.port == server.port
                   for process in processes for conn in process.net_connections(kind="inet"))
    except psutil.Error:
        return False


def start_fakeai(log_dir) -> EmbeddedFakeAI:
    for attempt in range(1, FAKEAI_BIND_ATTEMPTS + 1):
        log = log_dir / f"fakeai-{attempt}.log"
        server = EmbeddedFakeAI(log_path=str(log))
        try:
            server.start()
            if not _owns_port(server):
                raise FakeAIBindError(f"another process answers on port {server.port}")
            return server
        except RuntimeError as error:
            server.stop()
            lost_port = isinstance(error, FakeAIBindError) or "address already in use" in log.read_text(
                encoding="utf-8", errors="replace")
            if not lost_port or attempt == FAKEAI_BIND_ATTEMPTS:
                raise RuntimeError(f"{error} (FakeAI's log: {log})") from error
    raise AssertionError("unreachable")


def _running_fakeai(log_dir):
    server = start_fakeai(log_dir)
    try:
        yield FakeAIBackend(server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fakeai(tmp_path_factory):
    """One FakeAI server for the whole session; tests create their own jobs on it."""
    yield from _running_fakeai(tmp_path_factory.mktemp("fakeai"))


@pytest.fixture
def private_fakeai(tmp_path):
    """A FakeAI server of the test's own (an empty one). To simulate an outage, put a
    tests.support.outage_proxy.OutageProxy in front of it rather than stopping and restarting it."""
    yield from _running_fakeai(tmp_path)


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


class AppServer:
    """A Dash app served by werkzeug on a port the OS picked at bind time.

    dash's ThreadedRunner needs a port number before it binds (Dash.run refuses port 0),
    so a port picked "free" earlier can be taken by someone else in between. Binding port 0
    here and reading the port back leaves no such window.
    """

    def __init__(self, app, host: str = "127.0.0.1"):
        from werkzeug.serving import make_server

        # What dash's ThreadedRunner does before app.run: local assets, no version check.
        app.scripts.config.serve_locally = True
        app.css.config.serve_locally = True
        app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True)
        self._httpd = make_server(host, 0, app.server, threaded=True)
        self.host, self.port = host, self._httpd.server_port
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"dash-app-{self.port}",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def serve_app(dash_duo):
    """Serve a Dash app on an OS-picked port and open it in dash_duo's browser; returns dash_duo.

    dash_duo keeps working as after ``start_server``: ``server_url`` points at the app (and
    ``dash_duo.server.url`` too), and every ``wait_for_*`` works as usual.
    """
    servers: list[AppServer] = []

    def serve(app, path: str = "/"):
        server = AppServer(app)
        servers.append(server)
        dash_duo.server.host, dash_duo.server.port = server.host, server.port
        dash_duo.server_url = server.url  # navigates and waits for Dash's entry point
        if path != "/":
            dash_duo.driver.get(server.url + path)
        return dash_duo

    yield serve
    for server in servers:
        server.close()


@pytest.fixture
def start_dash(serve_app, make_app):
    """Serve a fresh app for ``api_base`` in the dash_duo browser; returns dash_duo."""

    def start(api_base: str, path: str = "/", **overrides):
        return serve_app(make_app(api_base, **overrides), path)

    return start


# -- evidence of browser failures ------------------------------------------------------------

ARTIFACTS_DIR = "screenshots"


def _artifact_stem(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")


def save_browser_artifacts(browser, nodeid: str, folder) -> list[str]:
    """A screenshot, the page source and the browser console of ``browser``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / _artifact_stem(nodeid)
    saved = []
    driver = browser.driver
    shot = stem.with_name(stem.name + ".png")
    if driver.save_screenshot(str(shot)):
        saved.append(str(shot))
    source = stem.with_name(stem.name + ".html")
    source.write_text(driver.page_source, encoding="utf-8")
    saved.append(str(source))
    console = stem.with_name(stem.name + ".console.log")
    entries = driver.get_log("browser")
    console.write_text("".join(f"{e.get('level')} {e.get('message')}\n" for e in entries), encoding="utf-8")
    saved.append(str(console))
    return saved


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a browser test's failure, keep what the browser showed, so the failure explains itself."""
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("dash_duo")
    if report.when != "call" or not report.failed or browser is None:
        return
    folder = item.config.rootpath / ARTIFACTS_DIR
    try:
        paths = save_browser_artifacts(browser, item.nodeid, folder)
    except Exception as error:  # noqa: BLE001 - evidence is best effort; the failure itself stands
        paths = [f"(could not save browser artifacts: {type(error).__name__}: {error})"]
    text = "\n".join(paths)
    report.sections.append(("browser artifacts", text))
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line("")
        for path in paths:
            terminal.write_line(f"browser artifact: {path}")


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
                 "--disable-extensions", "--lang=en-US"):
        options.add_argument(flag)
    # The app follows Accept-Language on a first visit (fakeai_dash/i18n.py) and most tests read
    # English: pin the browser's languages rather than inherit the machine's locale.
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    return options


os.environ.setdefault("DASH_TESTING_NO_PERCY", "1")
# CI must not fail on an input nobody has seen before: there the property tests replay a fixed
# sequence; on developers' machines they keep exploring (and found real bugs that way).
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
# One line per request from the threaded test servers buries the failures that matter.
logging.getLogger("werkzeug").setLevel(logging.WARNING)
