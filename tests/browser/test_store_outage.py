"""Redis (the shared store) goes away under open live job pages: they keep their last data with a
banner, poll, take a cancel all the same, and go live again once Redis is back — with no HTTP 5xx,
no console error, and the cancel's audit record in Redis afterwards."""

from __future__ import annotations

import json
import logging
import threading
import time

import redis

from fakeai_dash import ids
from tests.browser.test_push import shown_step
from tests.support.browser_support import LOAD_TICKS, click, pending_callbacks, prop, ticks, wait_until
from tests.support.redis_server import redis_server
from tests.support.scale_sim import ScaleSimulator

TICK = 1.0
OUTAGE_S = 12.0
SCREENSHOT = "screenshots/store_outage_banner.png"  # kept for a human to look at (not a check)


class StatusRecorder:
    """WSGI middleware: every status the app answered (the test app runs in this process)."""

    def __init__(self, app):
        self.app = app
        self.statuses: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")

        def recording(status, headers, *exc_info):
            with self._lock:
                self.statuses.append((int(status.split()[0]), path))
            return start_response(status, headers, *exc_info)

        return self.app(environ, recording)

    def server_errors(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(code, path) for code, path in self.statuses if code >= 500]




def banner(dash_duo) -> str:
    # Read in one script: the banner re-renders under selenium's feet between calls.
    return dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.textContent : '';", ids.Page.API_BANNER)


def push_state(dash_duo) -> str:
    return dash_duo.driver.execute_script("return window.fakeaiPush ? window.fakeaiPush.stats().state : '';")


def audit_targets(url: str) -> list[tuple[str, str]]:
    client = redis.Redis.from_url(url)
    try:
        return [(json.loads(fields[b"record"])["action"], json.loads(fields[b"record"])["target"])
                for _id, fields in client.xrange("fakeai-dash:audit")]
    finally:
        client.close()


def test_outage_browser001_redis_down_keeps_pages_working_and_recovers(make_app, serve_app, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with redis_server() as store, ScaleSimulator(jobs=4, big=["5000:live", "5000:live"], rate=2.0) as sim:
        watched, cancelled = sim.big_job_ids
        app = make_app(sim.url, cache_url=store.url, refresh_interval=TICK, data_dir=str(tmp_path / "data"))
        recorder = StatusRecorder(app.server.wsgi_app)
        app.server.wsgi_app = recorder
        # Tab 1: the job that will be cancelled during the outage.
        dash_duo = serve_app(app, f"/jobs/{cancelled}")
        driver = dash_duo.driver
        cancel_tab = driver.current_window_handle
        dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=ticks(LOAD_TICKS, TICK))
        # Tab 2: the live job whose steps we watch.
        driver.switch_to.new_window("tab")
        watch_tab = driver.current_window_handle
        driver.get(f"{dash_duo.server_url}/jobs/{watched}")
        wait_until(lambda: push_state(dash_duo) == "live", ticks(LOAD_TICKS, TICK), "never live")
        step = wait_until(lambda: shown_step(dash_duo), ticks(10, TICK), "no step shown")

        store.stop()
        down_at = time.monotonic()
        # The page falls back to polling, keeps its last data and says why live updates stopped.
        wait_until(lambda: "Live updates paused" in banner(dash_duo), ticks(15, TICK), "no outage banner")
        assert "shared store is unreachable since" in banner(dash_duo)
        wait_until(lambda: push_state(dash_duo) == "polling", ticks(10, TICK), "no fallback to polling")
        wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "disabled") is False, ticks(5, TICK),
                   "the Interval did not take over")
        assert (shown_step(dash_duo) or 0) >= step, "the last data stays on screen"
        polled_from = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
        wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "n_intervals") >= polled_from + 3,
                   ticks(10, TICK), "the page stopped polling")
        driver.save_screenshot(SCREENSHOT)

        # A cancel during the outage reaches the API (the other tab, its page drawn before).
        driver.switch_to.window(cancel_tab)
        wait_until(lambda: "Live updates paused" in banner(dash_duo), ticks(15, TICK), "no banner (tab 1)")
        wait_until(lambda: pending_callbacks(dash_duo) == 0, ticks(5, TICK))
        click(dash_duo, "#detail-cancel-button")
        dash_duo.wait_for_element("#detail-cancel-confirm-yes", timeout=ticks(5, TICK))
        click(dash_duo, "#detail-cancel-confirm-yes")
        dash_duo.wait_for_contains_text("#detail-action-result", "now cancelled", timeout=ticks(10, TICK))
        assert sim._job(cancelled).status == "cancelled"
        assert not audit_targets_safe(store.url), "Redis is down: nothing can be in it yet"

        # Down for at least OUTAGE_S (the measured outage was 25 s): the pages keep polling.
        driver.switch_to.window(watch_tab)
        wait_until(lambda: time.monotonic() - down_at >= OUTAGE_S
                   and prop(dash_duo, ids.Page.INTERVAL, "n_intervals") >= polled_from + 5,
                   ticks(OUTAGE_S + 10, TICK), "polling through the outage")
        assert "Live updates paused" in banner(dash_duo) and (shown_step(dash_duo) or 0) >= step

        # Redis is back (empty, on the same socket): the page goes live again on its own.
        store.start()
        wait_until(lambda: "Live updates paused" not in banner(dash_duo), ticks(15, TICK),
                   "the outage banner stayed")
        wait_until(lambda: push_state(dash_duo) == "live", ticks(45, TICK), "never live again")
        resumed = shown_step(dash_duo) or 0
        wait_until(lambda: (shown_step(dash_duo) or 0) >= resumed + 4, ticks(15, TICK),
                   "no new steps after the outage")
        # The cancel's audit record, kept on disk during the outage, reached Redis (once).
        records = wait_until(lambda: audit_targets(store.url), ticks(10, TICK), "the spooled audit record")
        assert records.count(("cancel", cancelled)) == 1, records

        assert recorder.server_errors() == []
        # The server's log: no traceback, one warning when the store went away and one when it was back.
        records = [r for r in caplog.records if r.name.startswith("fakeai_dash")]
        assert not [r.getMessage() for r in records if r.exc_info or r.levelno >= logging.ERROR]
        warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
        assert [w.split(" (")[0] for w in warnings if "shared store" in w] == \
            ["The shared store", "The shared store"], warnings
        logs = dash_duo.get_logs()
        driver.switch_to.window(cancel_tab)
        assert logs == [] and dash_duo.get_logs() == []


def audit_targets_safe(url: str) -> list:
    try:
        return audit_targets(url)
    except redis.ConnectionError:
        return []
