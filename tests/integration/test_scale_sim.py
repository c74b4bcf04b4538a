"""The scale simulator (tests/support/scale_sim.py) read by the project's real client: OpenAI's shapes
and paging at real size, lazy 20,000-step histories, result files, a live job, stats, latency."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading

import pytest
import requests

from fakeai_dash.api.client import ApiError, FineTuningClient
from fakeai_dash.series import rows_from_result_csv
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

SPIKE = 10_000


@pytest.fixture(scope="module")
def sim():
    """3,000 jobs; the two newest are finished 20,000-step jobs with a spike (plain and base64)."""
    with ScaleSimulator(jobs=3000, big=[f"20000:finished:spike={SPIKE}", f"20000:finished:spike={SPIKE}:b64"]) as s:
        yield s


@pytest.fixture
def fresh():
    """A small simulator of the test's own, for tests that change state."""
    with ScaleSimulator(jobs=30, big=["1000:live:done=400"]) as s:
        yield s


def walk_events(session: requests.Session, url: str, job_id: str) -> tuple[list[dict], int]:
    """Every event of a job, as sent (newest first), following ``after`` to the end; and the page count."""
    events, after, pages = [], None, 0
    while pages < 1000:
        params = {"limit": 100, **({"after": after} if after else {})}
        page = session.get(f"{url}/v1/fine_tuning/jobs/{job_id}/events", params=params, timeout=10).json()
        pages += 1
        events.extend(page["data"])
        if not page["has_more"]:
            return events, pages
        after = page["data"][-1]["id"]
    raise AssertionError("events paging did not end")


def spike_ratio(rows: dict[int, float], step: int) -> float:
    """The loss at ``step`` over the median of its 20 neighbours."""
    around = [rows[s] for s in range(step - 10, step + 11) if s != step]
    return rows[step] / statistics.median(around)


def test_scale001_lists_3000_jobs_across_pages_once_each_newest_first(sim):
    sim.reset_stats()
    client = FineTuningClient(sim.url)
    jobs = client.list_jobs()
    assert len(jobs) == 3000
    assert [job.id for job in jobs] == sim.job_ids()
    assert [job.id for job in jobs[:2]] == sim.big_job_ids
    created = [job.created_at for job in jobs]
    assert created == sorted(created, reverse=True)
    assert sim.stats()["by_kind"]["jobs_list"] == 30  # 100 per page, no more

    # The raw pages themselves, without the client's de-duplication: no id twice, none missing.
    ids, after, session = [], None, requests.Session()
    for _ in range(40):
        page = session.get(f"{sim.url}/v1/fine_tuning/jobs", params={"limit": 100, **({"after": after} if after else {})},
                           timeout=10).json()
        ids += [job["id"] for job in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert len(ids) == len(set(ids)) == 3000

    azure = FineTuningClient(sim.url, "key", api_type="azure")
    assert [job.id for job in azure.list_jobs(cap=150)] == sim.job_ids()[:150]


def test_scale002_events_newest_first_and_after_reaches_the_first_event(sim):
    job_id = sim.big_job_ids[0]
    sim.reset_stats()
    events, pages = walk_events(requests.Session(), sim.url, job_id)
    positions = [int(event["id"].rsplit("-", 1)[1]) for event in events]
    assert positions == list(range(len(events) - 1, -1, -1))  # newest first, none skipped or repeated
    assert events[0]["message"] == "The job has successfully completed"
    assert events[-1]["message"] == f"Created fine-tuning job: {job_id}"
    steps = [event["data"]["step"] for event in events if event["type"] == "metrics"]
    assert steps == list(range(20_000, 0, -1))
    created = [event["created_at"] for event in events]
    assert created == sorted(created, reverse=True)
    assert sum("Checkpoint created" in event["message"] for event in events) == 4
    assert pages == -(-len(events) // 100)
    assert sim.stats()["by_kind"]["events"] == pages

    losses = {event["data"]["step"]: event["data"]["train_loss"] for event in events if event["type"] == "metrics"}
    assert spike_ratio(losses, SPIKE) > 4
    assert max(spike_ratio(losses, s) for s in (5_000, 15_000, 19_000)) < 1.5  # a spike only where configured
    valid_steps = {event["data"]["step"] for event in events if "valid_loss" in (event["data"] or {})}
    assert valid_steps == set(range(10, 20_001, 10))
    metric = next(event for event in events if event["type"] == "metrics")
    assert metric["object"] == "fine_tuning.job.event" and metric["level"] == "info"
    assert metric["message"].startswith("Step 20000/20000: training loss=")
    assert metric["data"]["total_steps"] == 20_000


def test_scale003_client_reads_a_whole_ordinary_history_oldest_first(sim):
    job_id = sim.job_ids()[-1]  # the oldest job: an ordinary, finished 100-step job
    events = FineTuningClient(sim.url).list_events(job_id)
    assert len(events) == 4 + 100 + 4 + 2  # headers, steps, checkpoints, completion
    assert events[0].message.startswith("Created fine-tuning job")
    assert [e.data["step"] for e in events if e.type == "metrics"] == list(range(1, 101))
    checkpoints = FineTuningClient(sim.url).list_checkpoints(job_id)
    assert [c.step_number for c in checkpoints] == [100, 75, 50, 25]
    older = requests.get(f"{sim.url}/v1/fine_tuning/jobs/{job_id}/checkpoints",
                         params={"limit": 2, "after": checkpoints[1].id}, timeout=10).json()
    assert [c["step_number"] for c in older["data"]] == [50, 25] and older["has_more"] is False


@pytest.mark.parametrize("which", [0, 1], ids=["plain", "base64"])
def test_scale004_result_csv_has_every_step_and_the_spike(sim, which):
    job_id = sim.big_job_ids[which]
    job = FineTuningClient(sim.url).retrieve_job(job_id)
    raw = requests.get(f"{sim.url}/v1/files/{job.result_files[0]}/content", timeout=10).content
    assert raw.startswith(b"step,") is (which == 0)
    rows = rows_from_result_csv(raw)
    assert [row["step"] for row in rows] == list(range(1, 20_001))
    losses = {int(row["step"]): row["train_loss"] for row in rows}
    assert spike_ratio(losses, SPIKE) > 4
    assert {int(row["step"]) for row in rows if "valid_loss" in row} == set(range(10, 20_001, 10))
    # The file and the events tell the same story.
    page = requests.get(f"{sim.url}/v1/fine_tuning/jobs/{job_id}/events", params={"limit": 20}, timeout=10).json()
    for event in (e for e in page["data"] if e["type"] == "metrics"):
        assert losses[event["data"]["step"]] == event["data"]["train_loss"]


def test_scale005_live_job_advances_and_finishes_with_a_result_file(fresh):
    client = FineTuningClient(fresh.url)
    job_id = fresh.big_job_ids[0]
    assert client.retrieve_job(job_id).status == "running"

    def newest_step() -> int:
        page = requests.get(f"{fresh.url}/v1/fine_tuning/jobs/{job_id}/events", params={"limit": 1}, timeout=10).json()
        return page["data"][0]["data"]["step"]

    assert newest_step() == 400
    fresh.advance(job_id, 50)
    assert newest_step() == 450
    assert requests.post(f"{fresh.url}/_sim/advance", params={"job": job_id, "steps": 10_000}, timeout=10).ok
    job = client.retrieve_job(job_id)
    assert job.status == "succeeded" and job.finished_at and job.result_files
    assert job.fine_tuned_model
    events = walk_events(requests.Session(), fresh.url, job_id)[0]
    assert events[0]["message"] == "The job has successfully completed"
    assert [e["data"]["step"] for e in events if e["type"] == "metrics"] == list(range(1000, 0, -1))
    rows = rows_from_result_csv(requests.get(f"{fresh.url}/v1/files/{job.result_files[0]}/content", timeout=10).content)
    assert len(rows) == 1000
    refused = requests.post(f"{fresh.url}/_sim/advance", params={"job": job_id, "steps": 1}, timeout=10)
    assert refused.status_code == 409


def test_scale006_writes_and_errors_in_openai_shapes(fresh):
    client = FineTuningClient(fresh.url)
    added = requests.post(f"{fresh.url}/_sim/add-job", params={"steps": 20}, timeout=10).json()
    created = client.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": "file-sim-train-0001"})
    listed = client.list_jobs()
    assert [job.id for job in listed[:2]] == [created.id, added["id"]]
    assert [job.created_at for job in listed] == sorted((job.created_at for job in listed), reverse=True)
    assert created.status == "validating_files"
    assert client.cancel_job(created.id).status == "cancelled"

    live = fresh.big_job_ids[0]
    assert client.pause_job(live).status == "paused"
    assert client.resume_job(live).status == "running"
    fresh.advance(added["id"], 20)
    assert client.retrieve_job(added["id"]).status == "succeeded"

    with pytest.raises(ApiError) as finished:
        client.cancel_job(added["id"])
    assert finished.value.status == 400
    with pytest.raises(ApiError) as missing:
        client.retrieve_job("ftjob-nope")
    assert missing.value.status == 404 and missing.value.code == "fine_tuning_job_not_found"
    too_many = requests.get(f"{fresh.url}/v1/fine_tuning/jobs", params={"limit": 101}, timeout=10)
    assert too_many.status_code == 400
    assert set(too_many.json()["error"]) == {"message", "type", "param", "code"}
    assert too_many.json()["error"]["param"] == "limit"

    fresh.delete_job(added["id"])
    assert added["id"] not in [job.id for job in client.list_jobs()]
    assert fresh.stats()["by_kind"]["writes"] == 5  # create, cancel, pause, resume and the refused cancel


def test_scale007_stats_count_requests_by_kind(fresh):
    client = FineTuningClient(fresh.url)
    job_id = fresh.big_job_ids[0]
    client.list_jobs()
    fresh.reset_stats()
    assert fresh.stats()["total"] == 0
    client.list_jobs()
    for _ in range(3):
        client.retrieve_job(job_id)
    client.list_checkpoints(job_id)
    client.list_models()
    client.list_files()
    stats = requests.get(f"{fresh.url}/_sim/stats", timeout=10).json()
    assert stats["by_kind"] == {"jobs_list": 1, "job_retrieve": 3, "events": 0, "checkpoints": 1,
                                "file_content": 0, "files": 1, "models": 1, "writes": 0}
    assert stats["total"] == 7
    assert stats["by_job"][job_id] == {"job_retrieve": 3, "checkpoints": 1}
    requests.post(f"{fresh.url}/_sim/reset-stats", timeout=10)
    assert requests.get(f"{fresh.url}/_sim/stats", timeout=10).json()["total"] == 0


def test_scale008_latency_delays_every_answer_and_concurrent_answers_overlap():
    with ScaleSimulator(jobs=10, latency=0.2) as sim:
        job_id = sim.job_ids()[0]
        client = FineTuningClient(sim.url)
        barrier = threading.Barrier(8)

        def one() -> None:
            barrier.wait(timeout=5)
            client.retrieve_job(job_id)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        stats = sim.stats()
        assert stats["delayed_requests"] == stats["total"] == 8
        assert stats["delay_seconds"] >= 8 * 0.2 * 0.95
        assert stats["max_in_flight"] == 8  # served side by side, not queued
        requests.post(f"{sim.url}/_sim/latency", params={"seconds": 0}, timeout=10)
        client.list_models()
        assert sim.stats()["delayed_requests"] == 8


def test_scale009_stall_holds_answers_until_released(fresh):
    client = FineTuningClient(fresh.url, read_timeout=0.3)
    requests.post(f"{fresh.url}/_sim/stall", params={"seconds": 30}, timeout=10)
    with pytest.raises(ApiError, match="did not answer"):
        client.list_models()
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(requests.get(f"{fresh.url}/v1/models", timeout=30)))
    waiting.start()
    wait_until(lambda: fresh.stats()["in_flight"] >= 1, 5.0)
    requests.post(f"{fresh.url}/_sim/stall", params={"seconds": 0}, timeout=10)
    waiting.join(timeout=10)
    assert answers and answers[0].status_code == 200
    assert FineTuningClient(fresh.url, read_timeout=5).list_models()


def test_scale010_runs_as_a_process_and_prints_its_url_first():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.scale_sim", "--jobs", "50", "--big", "300:finished:spike=150",
         "--big", "200:live", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        jobs = FineTuningClient(url).list_jobs()
        assert len(jobs) == 50
        assert [job.status for job in jobs[:2]] == ["succeeded", "running"]
        info = requests.get(f"{url}/_sim/info", timeout=10).json()
        assert info["big_job_ids"] == [job.id for job in jobs[:2]]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
