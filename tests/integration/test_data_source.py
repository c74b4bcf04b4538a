"""The DataSource callbacks use: reads from the picture through the real Dash callback endpoint,
writes shown at once, and backends that share a store but never an entry."""

from __future__ import annotations

import threading

import pytest

from fakeai_dash.data import EXTENSION_KEY, NotReady
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import observe, wait_until

SESSIONS = 5


def fetch_jobs_request(app) -> dict:
    """The body dash-renderer posts when the refresh interval ticks the fetch_jobs callback."""
    dependencies = app.server.test_client().get("/_dash-dependencies").get_json()
    [spec] = [d for d in dependencies if d["output"].startswith("..jobs-store.data")]
    outputs = [dict(zip(("id", "property"), part.split("."), strict=True))
               for part in spec["output"].strip(".").split("...")]
    return {
        "output": spec["output"], "outputs": outputs,
        "inputs": [{**item, "value": 1 if item["property"] == "n_intervals" else None} for item in spec["inputs"]],
        "changedPropIds": ["refresh-interval.n_intervals"],
        "state": [{**item, "value": None} for item in spec["state"]],
    }


def poll_from_sessions(app, body: dict, duration: float) -> list:
    """SESSIONS threads, each its own client, posting ``body`` back to back for ``duration`` seconds."""
    answers: list = []
    lock = threading.Lock()
    stop = threading.Event()

    def session():
        client = app.server.test_client()
        while not stop.is_set():
            response = client.post("/_dash-update-component", json=body)
            with lock:
                answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=session) for _ in range(SESSIONS)]
    for thread in threads:
        thread.start()
    observe(duration)  # the counting window
    stop.set()
    for thread in threads:
        thread.join(30)
    return answers


def source_of(app):
    return app.server.extensions[EXTENSION_KEY]


def ready(read):
    try:
        return read()
    except NotReady:
        return None


def test_source001_five_sessions_through_the_callback_cost_one_round_per_interval(make_app):
    with ScaleSimulator(jobs=120) as sim:
        app = make_app(sim.url, refresh_interval=1.0)
        body = fetch_jobs_request(app)
        answers = poll_from_sessions(app, body, duration=3.0)
        rows = [a["response"]["jobs-store"]["data"] for code, a in answers if code == 200 and a]
        # The newest page first (100 jobs) while the rest loads, then all 120.
        assert rows and {len(r) for r in rows} <= {100, 120} and len(rows[-1]) == 120
        # The first full walk is 2 pages; then one newest page per 1 s round, whatever 5 sessions ask.
        assert sim.stats()["by_kind"]["jobs_list"] <= 2 + 3 + 1
        assert len(answers) > 50


def test_source002_a_failing_api_is_polled_once_per_interval_and_the_banner_says_why(httpserver, make_app):
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"error": {"message": "upstream exploded", "type": "server_error", "param": None, "code": None}}, status=500)
    app = make_app(httpserver.url_for("").rstrip("/"), refresh_interval=1.0)
    body = fetch_jobs_request(app)
    client = app.server.test_client()

    def banner():
        answer = client.post("/_dash-update-component", json=body).get_json() or {}
        return (answer.get("response", {}).get("api-status-store", {}) or {}).get("data")

    status = wait_until(banner, 15, "the banner status")
    assert status["ok"] is False and "upstream exploded" in status["message"]
    poll_from_sessions(app, body, duration=3.0)
    # Each round tries once plus urllib3's retries of a 500 (3): never once per session.
    assert len(httpserver.log) <= (3 + 3) * 4


def test_source003_two_backends_on_one_store_never_share_an_entry(make_app, tmp_path):
    with ScaleSimulator(jobs=7) as first, ScaleSimulator(jobs=11) as second:
        a = make_app(first.url, data_dir=str(tmp_path))
        b = make_app(second.url, data_dir=str(tmp_path))
        rows_a = wait_until(lambda: ready(lambda: source_of(a).jobs_snapshot()["rows"]), 10, "backend A")
        rows_b = wait_until(lambda: ready(lambda: source_of(b).jobs_snapshot()["rows"]), 10, "backend B")
        assert [r["id"] for r in rows_a] == first.job_ids()
        assert [r["id"] for r in rows_b] == second.job_ids()


@pytest.mark.parametrize(("action", "before", "after"), [
    ("cancel_job", "running", "cancelled"),
    ("pause_job", "running", "paused"),
    ("resume_job", "paused", "running"),
])
def test_source004_a_job_action_shows_at_once_in_the_list_and_the_details(make_app, action, before, after):
    with ScaleSimulator(jobs=3, big=[f"200:{before}:done=50"]) as sim:
        job_id = sim.big_job_ids[0]
        # A 60 s interval: no scheduled round can explain what the test sees after the write.
        app = make_app(sim.url, refresh_interval=60.0)
        source = source_of(app)
        wait_until(lambda: ready(source.jobs_snapshot), 10, "the list")
        assert wait_until(lambda: ready(lambda: source.job_detail(job_id)), 10, "the job")["job"]["status"] == before

        answer = getattr(source, action)(job_id)

        assert answer["status"] == after
        assert source.job_detail(job_id)["job"]["status"] == after
        assert {r["id"]: r["status"] for r in source.jobs_snapshot()["rows"]}[job_id] == after


def test_source005_create_shows_at_once_and_upload_drops_the_files_list(make_app):
    with ScaleSimulator(jobs=3) as sim:
        app = make_app(sim.url, refresh_interval=60.0, cache_ttl=60.0)
        source = source_of(app)
        wait_until(lambda: ready(source.jobs_snapshot), 10, "the list")
        files_before = [f["id"] for f in source.files()]
        source.files()  # kept: no second request
        assert sim.stats()["by_kind"]["files"] == 1

        uploaded = source.upload_file("train.jsonl", b'{"messages": []}\n')
        assert [f["id"] for f in source.files()] == [uploaded["id"], *files_before]
        assert sim.stats()["by_kind"]["files"] == 2

        created = source.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": uploaded["id"]})
        assert source.jobs_snapshot()["rows"][0]["id"] == created["id"]


def test_source006_the_signature_tracks_the_snapshot_and_costs_no_request(make_app):
    with ScaleSimulator(jobs=30) as sim:
        source = source_of(make_app(sim.url, refresh_interval=60.0))
        snapshot = wait_until(lambda: ready(source.jobs_snapshot), 10, "the list")
        wait_until(lambda: snapshot["complete"] or ready(source.jobs_snapshot)["complete"], 10, "complete")
        sim.reset_stats()
        for _ in range(100):
            assert source.signature() == source.jobs_snapshot()["signature"]
        assert sim.stats()["total"] == 0
