"""The jobs list's logic tested as plain functions: filters, URL parsing, stats, banner, fetch."""

from __future__ import annotations

import pytest
from dash import no_update

from fakeai_dash import ids
from fakeai_dash.components import api_banner, header, jobs_list

pytestmark = pytest.mark.usefixtures("no_callback_context_left_behind")


def test_list001_status_filter_model():
    # The status part of the grid's one filter model (models and period: test_jobs_filters).
    assert jobs_list.grid_filter_model("all") == {}
    assert jobs_list.grid_filter_model(None) == {}
    assert jobs_list.grid_filter_model("failed") == {
        "status": {"filterType": "text", "type": "equals", "filter": "failed"}}
    active = jobs_list.grid_filter_model("active")["status"]
    assert active["operator"] == "OR"
    assert {c["filter"] for c in active["conditions"]} == {
        "validating_files", "queued", "running", "paused", "pending"}
    # The grid column must allow as many conditions as the largest group sends.
    status_col = next(c for c in jobs_list.COLUMN_DEFS if c["field"] == "status")
    assert status_col["filterParams"]["maxNumConditions"] >= len(active["conditions"])


@pytest.mark.parametrize("path, expected", [
    ("/jobs/ftjob-abc", "ftjob-abc"), ("/jobs/ftjob-abc/", "ftjob-abc"), ("/", None),
    ("/jobs/", None), ("/other/x", None), (None, None),
])
def test_list002_job_id_from_path(path, expected):
    assert jobs_list.job_id_from_path(path) == expected


def test_list003_header_stats_count_groups_and_unknown_statuses():
    rows = [{"status": s} for s in
            ("running", "queued", "succeeded", "failed", "cancelled", "paused", "mystery")]
    assert jobs_list.job_stats(rows) == {"total": 7, "active": 3, "succeeded": 1, "failed": 2}
    assert jobs_list.job_stats(None)["total"] == 0


def test_list004_banner_only_when_unhealthy():
    assert api_banner.banner_text(None) is None
    assert api_banner.banner_text({"ok": True}) is None
    children = api_banner.banner_text({"ok": False, "message": "HTTP 503: down", "last_good": 1000.0},
                                      now=1042.0)
    text = " ".join(str(getattr(c, "children", c)) for c in children)
    assert "HTTP 503: down" in text and "42 s ago" in text
    never = api_banner.banner_text({"ok": False, "message": "x", "last_good": None})
    assert "No data could be loaded yet" in str(never[-1].children)


@pytest.fixture
def app_ctx(httpserver, make_app):
    app = make_app(httpserver.url_for("").rstrip("/"))
    with app.server.test_request_context():
        yield httpserver




def _job(job_id, status="running"):
    return {"id": job_id, "object": "fine_tuning.job", "model": "m", "status": status, "created_at": 1}


def test_list005_fetch_returns_no_update_when_snapshot_unchanged(app_ctx, trigger):
    app_ctx.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [_job("a"), _job("b", "succeeded")], "has_more": False})
    trigger(f"{ids.Page.INTERVAL}.n_intervals")
    rows, signature, stats, status, live = jobs_list.fetch_jobs(1, None, None, None, None, None)
    assert [r["id"] for r in rows] == ["a", "b"] and status["ok"]
    assert stats == {"total": 2, "active": 1, "succeeded": 1, "failed": 0}
    assert set(live) == {"a"}  # the active job's moving fields travel beside the rows
    again = jobs_list.fetch_jobs(2, None, None, signature, status, live)
    assert again == (no_update,) * 5


def test_list006_fetch_keeps_rows_and_reports_error(app_ctx, trigger):
    app_ctx.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                   "param": None, "code": "invalid_api_key"}}, status=401)
    trigger(f"{ids.Page.INTERVAL}.n_intervals")
    rows, signature, stats, status, _live = jobs_list.fetch_jobs(1, None, None, "sig", {"ok": True}, None)
    assert rows is no_update and signature is no_update and stats is no_update
    assert status["ok"] is False and "Incorrect API key provided" in status["message"]
    assert "401" in status["message"]


def test_list007_header_stats_render_the_snapshot_counts():
    waiting = header.render_stats(None)
    assert [card.children[0].children for card in waiting] == ["…"] * 4
    cards = header.render_stats({"total": 9, "active": 2, "succeeded": 5, "failed": 2})
    assert {card.id: card.children[0].children for card in cards} == {
        "stat-total": 9, "stat-active": 2, "stat-succeeded": 5, "stat-failed": 2}


def test_list008_recovery_clears_the_banner_even_when_the_jobs_did_not_change(app_ctx, trigger):
    app_ctx.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [_job("a")], "has_more": False})
    trigger(f"{ids.Page.INTERVAL}.n_intervals")
    _rows, signature, _stats, healthy, live = jobs_list.fetch_jobs(1, None, None, None, None, None)
    # The browser still shows the banner from an outage; the snapshot is the same as before it.
    down = {"ok": False, "message": "Cannot reach the API", "last_good": 1.0}
    rows, sig, stats, status, _live = jobs_list.fetch_jobs(2, None, None, signature, down, live)
    assert rows is no_update and sig is no_update and stats is no_update
    assert status["ok"] is True
    # Once healthy, a quiet tick reads only the signature and sends nothing at all.
    assert jobs_list.fetch_jobs(3, None, None, signature, healthy, live) == (no_update,) * 5


def _running(step_messages: list[int], total: int = 200) -> tuple[dict, list[dict]]:
    job = {"id": "ftjob-rule", "status": "running", "created_at": 1000, "estimated_finish": 2000}
    events = [{"id": f"e{s}", "created_at": 1000 + s, "type": "metrics", "message": f"Step {s}/{total} completed",
               "data": {"step": s, "train_loss": 1.0}} for s in step_messages]
    return job, events


@pytest.mark.parametrize("fraction, shown", [(0.125, 13), (0.124, 12), (0.135, 14), (0.99, 99), (1.0, 100),
                                             (0.0, 0), (None, None)])
def test_list009_whole_percents_round_halves_up(fraction, shown):
    from fakeai_dash.metrics import whole_percent

    # As Math.floor(x * 100 + 0.5) does in assets/dashAgGridFunctions.js (Babel rounds half to even).
    assert whole_percent(fraction) == shown


@pytest.mark.parametrize("summary_steps, history_steps", [
    ([25], [25]),            # 12.5%: the details said 12%, the list 13%
    ([10], [10, 20, 30]),    # the summary's newest metric event lags the history (the sync read only it)
    ([], [5, 60]),           # no metric event in the summary at all
])
def test_list010_the_list_and_the_details_show_one_percent(summary_steps, history_steps):
    """What the sync loop publishes for the list is the details' bar label, from the same inputs."""
    from fakeai_dash.components.training_progress import progress_view
    from fakeai_dash.series import history_event, history_from_events
    from fakeai_dash.sync.job_sync import job_steps
    from fakeai_dash.sync.list_sync import list_steps

    job, summary = _running(summary_steps)
    history = history_from_events(_running(history_steps)[1]).with_total(200)
    published = list_steps(job_steps(job, summary, history))
    _bar, label, _caption = progress_view(job, [*summary, *history_event(history)], now=1500)
    assert label == f"{published['percent']}%"
    assert published == {"step": history_steps[-1], "total_steps": 200,
                         "percent": int(100 * history_steps[-1] / 200 + 0.5)}


def test_list011_the_live_map_carries_the_published_percent(tmp_path):
    from fakeai_dash.sync.list_sync import live_updates
    from fakeai_dash.sync.store import LocalStore

    from fakeai_dash.sync.picture import PictureKeys

    store = LocalStore(str(tmp_path))
    keys = PictureKeys("test")
    store.set(keys.job("ftjob-a"), {"progress": {"step": 25, "total_steps": 200, "percent": 13}})
    rows = [{"id": "ftjob-a", "status": "running", "estimated_finish": 2000, "trained_tokens": None},
            {"id": "ftjob-b", "status": "running", "estimated_finish": 3000, "trained_tokens": None},
            {"id": "ftjob-c", "status": "succeeded", "estimated_finish": None, "trained_tokens": 7}]
    assert live_updates(store, keys, rows) == {
        "ftjob-a": {"estimated_finish": 2000, "trained_tokens": None, "step": 25, "total_steps": 200, "percent": 13},
        "ftjob-b": {"estimated_finish": 3000, "trained_tokens": None}}
