"""Push in the browser: a live page is updated without polling, falls back to polling (and says
so) when the push channel is blocked or drops, and comes back live when the channel does."""

from __future__ import annotations

import re

import pytest

from fakeai_dash import ids
from fakeai_dash.data import EXTENSION_KEY
from fakeai_dash.sync.changes import ChangeFeed
from tests.support.browser_support import LOAD_TICKS, prop, row_selector, ticks, turn_off_polling, wait_until
from tests.support.outage_proxy import OutageProxy
from tests.support.scale_sim import ScaleSimulator

TICK = 1.0
BLOCKED = ["*/_push*"]


@pytest.fixture
def sim():
    # A live job that advances two steps a second, and a few finished ones (OpenAI-shaped).
    with ScaleSimulator(jobs=4, big=["5000:live"], rate=2.0) as server:
        yield server


def indicator(dash_duo) -> str:
    return dash_duo.find_element(f"#{ids.Push.INDICATOR}").text.strip().lower()


def shown_step(dash_duo) -> int | None:
    text = dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.textContent : '';",
        ids.TrainingProgress.BAR_TEXT) or ""
    match = re.search(r"Step (\d+)", text)
    return int(match.group(1)) if match else None


def push_stats(dash_duo) -> dict:
    return dash_duo.driver.execute_script("return window.fakeaiPush.stats();")


def block_push(dash_duo, blocked: bool) -> None:
    dash_duo.driver.execute_cdp_cmd("Network.enable", {})
    dash_duo.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED if blocked else []})


def only_blocked_push_errors(dash_duo) -> None:
    """The console may name the blocked stream (the test blocked it), and nothing else."""
    for entry in dash_duo.get_logs():
        assert "/_push" in entry["message"] and "ERR_BLOCKED_BY_CLIENT" in entry["message"], entry


def test_push_browser001_a_live_page_updates_without_polling(sim, start_dash):
    job = sim.big_job_ids[0]
    dash_duo = start_dash(sim.url, path=f"/jobs/{job}", refresh_interval=TICK)
    wait_until(lambda: indicator(dash_duo) == "live", ticks(LOAD_TICKS, TICK), "the page never went live")
    # Live: the Interval is off, and the job's steps still move on screen.
    wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "disabled") is True, ticks(5, TICK),
               "the refresh Interval still runs while live")
    ticks_at = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
    first = wait_until(lambda: shown_step(dash_duo), ticks(10, TICK), "no step shown")
    wait_until(lambda: (shown_step(dash_duo) or 0) >= first + 4, ticks(10, TICK),
               "new steps did not reach the live page")
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == ticks_at, "the update came by polling"
    assert push_stats(dash_duo)["changes"] >= 4
    # A new job reaches the list by push too.
    created = sim.add_job(status="running")
    dash_duo.wait_for_element(row_selector(created["id"]), timeout=ticks(6, TICK))
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == ticks_at
    # Auto-refresh off: the stream closes, and the indicator says so.
    turn_off_polling(dash_duo, TICK)
    wait_until(lambda: indicator(dash_duo) == "off", ticks(5, TICK), "the indicator did not say off")
    stopped = shown_step(dash_duo)
    changes = push_stats(dash_duo)["changes"]
    wait_until(lambda: sim._job(job).done >= (stopped or 0) + 4, ticks(10, TICK), "the job advancing")
    assert shown_step(dash_duo) == stopped and push_stats(dash_duo)["changes"] == changes
    assert dash_duo.get_logs() == []


def test_push_browser002_blocked_channel_falls_back_to_polling_and_recovers(sim, make_app, serve_app):
    job = sim.big_job_ids[0]
    app = make_app(sim.url, refresh_interval=TICK)
    source = app.server.extensions[EXTENSION_KEY]
    dash_duo = serve_app(app, f"/jobs/{job}")
    wait_until(lambda: indicator(dash_duo) == "live", ticks(LOAD_TICKS, TICK), "the page never went live")

    # The channel drops (the server ends it) and cannot be opened again: the page polls.
    block_push(dash_duo, True)
    old_feed, source.feed = source.feed, ChangeFeed(source.store, source.engine.keys)
    old_feed.close()
    wait_until(lambda: indicator(dash_duo) == "polling", ticks(10, TICK), "no fallback to polling")
    assert "polling" in dash_duo.find_element(f"#{ids.Push.INDICATOR}").get_attribute("class")
    wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "disabled") is False, ticks(5, TICK),
               "the Interval did not take over")
    polled_from = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
    step = wait_until(lambda: shown_step(dash_duo), ticks(5, TICK), "no step shown")
    wait_until(lambda: (shown_step(dash_duo) or 0) >= step + 4, ticks(10, TICK),
               "polling did not keep the page current")
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") > polled_from, "updates while blocked come by polling"
    attempts = push_stats(dash_duo)["attempt"]
    assert attempts >= 1, "the page keeps trying to reconnect"
    only_blocked_push_errors(dash_duo)

    # The channel is back: the page reconnects (backoff) and is live again, updated by push.
    block_push(dash_duo, False)
    backoff_max = 30
    wait_until(lambda: indicator(dash_duo) == "live", backoff_max + ticks(5, TICK), "no recovery")
    wait_until(lambda: prop(dash_duo, ids.Page.INTERVAL, "disabled") is True, ticks(5, TICK),
               "polling did not stop once live again")
    ticks_at = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
    step = shown_step(dash_duo) or 0
    wait_until(lambda: (shown_step(dash_duo) or 0) >= step + 4, ticks(10, TICK), "no pushed updates")
    assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == ticks_at
    assert push_stats(dash_duo)["opened"] >= 2
    only_blocked_push_errors(dash_duo)
    assert dash_duo.get_logs() == []



def test_push_browser003_a_live_page_shows_an_outage_and_the_recovery_without_polling(sim, start_dash):
    job = sim.big_job_ids[0]
    with OutageProxy(sim.url) as proxy:
        dash_duo = start_dash(proxy.url, path=f"/jobs/{job}", refresh_interval=TICK)
        wait_until(lambda: indicator(dash_duo) == "live", ticks(LOAD_TICKS, TICK), "never live")
        step = wait_until(lambda: shown_step(dash_duo), ticks(10, TICK), "no step shown")
        ticks_at = prop(dash_duo, ids.Page.INTERVAL, "n_intervals")
        proxy.down()
        # The sync loop's failed round is pushed: the banner shows without a single poll.
        dash_duo.wait_for_contains_text(f"#{ids.Page.API_BANNER}", "Cannot reach the API", timeout=ticks(10, TICK))
        assert (shown_step(dash_duo) or 0) >= step, "the last good data stays on screen"
        assert indicator(dash_duo) == "live"
        proxy.up()
        dash_duo.wait_for_no_elements(f"#{ids.Page.API_BANNER}", timeout=ticks(10, TICK))
        wait_until(lambda: (shown_step(dash_duo) or 0) >= step + 4, ticks(10, TICK), "updates resumed")
        assert prop(dash_duo, ids.Page.INTERVAL, "n_intervals") == ticks_at
    assert dash_duo.get_logs() == []


def test_push_browser004_job_changes_merge_while_the_page_is_busy_and_list_changes_never_wait(sim, start_dash):
    """A page too slow for its live job (the CPU throttled 4x) does not queue a fetch per step: the
    job's and the live fields' changes that arrive while callbacks are pending merge into one
    fetch (assets/push.js), the chart still reaches the newest steps, and the list's own changes
    are never held (issue #22 item 7: a new row queued behind the steps' backlog)."""
    job = sim.big_job_ids[0]
    dash_duo = start_dash(sim.url, path=f"/jobs/{job}", refresh_interval=TICK)
    wait_until(lambda: indicator(dash_duo) == "live", ticks(LOAD_TICKS, TICK), "the page never went live")
    wait_until(lambda: shown_step(dash_duo), ticks(10, TICK), "no step shown")
    before = push_stats(dash_duo)
    dash_duo.driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 4})
    try:
        wait_until(lambda: push_stats(dash_duo)["heard"]["job"] >= before["heard"]["job"] + 12,
                   ticks(20, TICK), "the job's changes reaching the page")
        busy = push_stats(dash_duo)
    finally:
        dash_duo.driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
    heard = {kind: busy["heard"][kind] - before["heard"][kind] for kind in ("job", "progress")}
    bumped = {kind: busy["bumps"][kind] - before["bumps"][kind] for kind in ("job", "progress")}
    assert busy["holds"] > before["holds"], (heard, bumped)
    assert bumped["job"] < heard["job"] and bumped["progress"] < heard["progress"], (heard, bumped)
    # Merged, not lost: the chart catches up with the job.
    target = sim._job(job).done
    wait_until(lambda: (shown_step(dash_duo) or 0) >= target, ticks(10, TICK), "the newest steps shown")
    # The list's changes go out as they come, whatever the job's chain is doing.
    created = sim.add_job(status="running")
    dash_duo.wait_for_element(row_selector(created["id"]), timeout=ticks(6, TICK))
    after = push_stats(dash_duo)
    assert after["heard"]["list"] > before["heard"]["list"]
    assert after["bumps"]["list"] - before["bumps"]["list"] >= after["heard"]["list"] - before["heard"]["list"]
    assert dash_duo.get_logs() == []
