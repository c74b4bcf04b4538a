"""Browser tests of charts and the events log at real size, against an OpenAI-shaped API (pytest-httpserver).

A finished 20,000-step job with a one-step loss spike at step 10,000, and a live job that
advances when the test says so. Events are served as OpenAI does: JSON pages, newest first,
walked towards older events with ``after``.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading

import pytest
from werkzeug import Response

from tests.support.browser_support import click
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

T0 = 1_790_000_000
MODEL = "gpt-4o-mini-2024-07-18"
BIG_STEPS = 20_000
SPIKE_STEP = 10_000
SPIKE_LOSS = 12.0
LIVE_START = 300
TICK = 1.0  # the app's refresh interval in these tests (conftest's settings_for)
# Reading 20,000 events is 200 API pages through the data layer: allow it that many ticks.
BIG_LOAD_TICKS = 90
LOAD_TICKS = 20
SCREENSHOTS = os.environ.get("CHART_SCREENSHOTS", "/tmp/fakeai-dash-screenshots")


def loss_at(step: int) -> float:
    """A decaying, wiggling loss (deterministic) with one spike."""
    if step == SPIKE_STEP:
        return SPIKE_LOSS
    return round(2.4 * math.exp(-step / 6000) + 0.25 + 0.08 * math.sin(step * 0.7) + 0.03 * math.sin(step * 0.013), 5)


def metrics_event(job: str, step: int, total: int) -> dict:
    loss = loss_at(step)
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{job}-{step:06d}", "created_at": T0 + 60 + step,
            "level": "info", "type": "metrics", "message": f"Step {step}/{total}: training loss={loss}",
            "data": {"step": step, "train_loss": loss, "total_steps": total,
                     "train_mean_token_accuracy": round(min(0.95, 0.35 + step / (total * 1.6)), 5)}}


def message_event(job: str, n: str, at: int, text: str, level: str = "info") -> dict:
    return {"object": "fine_tuning.job.event", "id": f"ftevent-{job}-{n}", "created_at": at, "level": level,
            "message": text, "type": "message", "data": {}}


def openai_job(job_id: str, status: str, **extra) -> dict:
    job = {"object": "fine_tuning.job", "id": job_id, "model": MODEL, "created_at": T0, "finished_at": None,
           "fine_tuned_model": None, "organization_id": "org-test", "result_files": [], "status": status,
           "validation_file": None, "training_file": "file-train", "trained_tokens": None, "error": None,
           "seed": 7, "estimated_finish": None, "integrations": [], "metadata": None, "user_provided_suffix": None,
           "method": {"type": "supervised", "supervised": {"hyperparameters": {
               "n_epochs": 2, "batch_size": 1, "learning_rate_multiplier": 1.0}}}}
    job.update(extra)
    return job


class ScaleApi:
    """The jobs, their events (oldest first) and a lock: the live job grows while pages are read."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {
            "ftjob-big": openai_job("ftjob-big", "succeeded", finished_at=T0 + 60 + BIG_STEPS + 30,
                                    trained_tokens=9_000_000, fine_tuned_model=f"ft:{MODEL}:org-test::big"),
            "ftjob-live": openai_job("ftjob-live", "running"),
        }
        big = [message_event("big", "a", T0, "Validating training file: file-train"),
               message_event("big", "b", T0 + 30, "Fine-tuning job started")]
        big += [metrics_event("big", step, BIG_STEPS) for step in range(1, BIG_STEPS + 1)]
        big.insert(SPIKE_STEP + 2, message_event("big", "spike", T0 + 60 + SPIKE_STEP,
                                                 "Loss spiked at step 10000", level="warn"))
        big.append(message_event("big", "z", T0 + 60 + BIG_STEPS + 30, "The job has successfully completed"))
        live = [message_event("live", "a", T0, "Fine-tuning job started")]
        live += [metrics_event("live", step, 5000) for step in range(1, LIVE_START + 1)]
        self.events = {"ftjob-big": big, "ftjob-live": live}
        self.checkpoints = {"ftjob-big": [
            {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{step}", "created_at": T0 + 60 + step,
             "fine_tuned_model_checkpoint": f"ft:{MODEL}:org-test::big:ckpt-step-{step}",
             "fine_tuning_job_id": "ftjob-big", "step_number": step,
             "metrics": {"step": step, "train_loss": loss_at(step)}} for step in (5000, 15000, 20000)]}

    def advance(self, steps: int) -> int:
        """The live job trains ``steps`` more steps; returns its last step."""
        with self.lock:
            events = self.events["ftjob-live"]
            last = events[-1]["data"]["step"]
            events.extend(metrics_event("live", step, 5000) for step in range(last + 1, last + steps + 1))
            return last + steps

    def events_page(self, job_id: str, after: str | None, limit: int) -> dict:
        with self.lock:
            newest_first = list(reversed(self.events.get(job_id, [])))
        start = 0
        if after:
            start = next((i + 1 for i, e in enumerate(newest_first) if e["id"] == after), len(newest_first))
        data = newest_first[start:start + limit]
        return {"object": "list", "data": data, "has_more": start + limit < len(newest_first)}

    def handle(self, request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            return _json({"object": "list", "data": list(self.jobs.values()), "has_more": False})
        if path == "/files":
            return _json({"object": "list", "has_more": False, "data": [
                {"object": "file", "id": "file-train", "bytes": 4_000_000, "created_at": T0,
                 "filename": "train.jsonl", "purpose": "fine-tune"}]})
        match = re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path)
        if not match or match.group(1) not in self.jobs:
            return _json({"error": {"message": "Unknown route", "type": "invalid_request_error",
                                    "param": None, "code": None}}, 404)
        job_id, part = match.groups()
        if part is None:
            return _json(self.jobs[job_id])
        if part == "events":
            limit = min(int(request.args.get("limit", 20)), 100)
            return _json(self.events_page(job_id, request.args.get("after"), limit))
        if part == "checkpoints":
            return _json({"object": "list", "data": list(reversed(self.checkpoints.get(job_id, []))),
                          "has_more": False})
        return _json({"error": {"message": "Unknown route", "type": "invalid_request_error"}}, 404)


def _json(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def scale_api(httpserver):
    api = ScaleApi()
    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(api.handle)
    api.url = httpserver.url_for("/").rstrip("/")
    return api


# -- browser reads -----------------------------------------------------------------------------

def graph_traces(dash_duo, graph_id):
    """{name: {"x", "y"}} of what Plotly draws in ``graph_id``, read in one script."""
    return dash_duo.driver.execute_script("""
        const gd = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');
        if (!gd || !gd.data) { return null; }
        const out = {};
        for (const t of gd.data) { out[t.name] = {x: Array.from(t.x || []), y: Array.from(t.y || [])}; }
        return out;
    """, graph_id)


def raw_loss(dash_duo):
    traces = graph_traces(dash_duo, "loss-graph") or {}
    return traces.get("train_loss (raw)")


def relayout(dash_duo, graph_id, update):
    dash_duo.driver.execute_script("""
        const gd = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');
        window.Plotly.relayout(gd, arguments[1]);
    """, graph_id, update)




def screenshot(dash_duo, name, element_id):
    """A picture of the page scrolled to ``element_id``, for a person to look at (not compared)."""
    # Instant: Bootstrap makes scrolling smooth, and a picture taken mid-scroll shows the wrong panel.
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center', behavior: 'instant'})", element_id)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    dash_duo.driver.save_screenshot(path)
    return path


# -- tests -------------------------------------------------------------------------------------

def test_charts001_20k_step_job_from_step_1_spike_kept_zoom_full_resolution(scale_api, start_dash):
    dash_duo = start_dash(scale_api.url, path="/jobs/ftjob-big")
    dash_duo.wait_for_text_to_equal("#detail-status", "Succeeded", timeout=BIG_LOAD_TICKS * TICK)

    # The whole run, thinned: from step 1 to 20,000 in at most 2,000 points, the spike kept.
    def whole_run():
        raw = raw_loss(dash_duo)
        return raw if raw and raw["x"] and raw["x"][0] == 1 and raw["x"][-1] == BIG_STEPS else None

    raw = wait_until(whole_run, BIG_LOAD_TICKS * TICK, "the loss chart never showed steps 1..20,000")
    assert len(raw["x"]) <= 2000
    assert SPIKE_STEP in raw["x"] and raw["y"][raw["x"].index(SPIKE_STEP)] == SPIKE_LOSS
    smoothed = graph_traces(dash_duo, "loss-graph")["train_loss"]
    assert len(smoothed["x"]) <= 2000 and smoothed["x"][-1] == BIG_STEPS
    # OpenAI's train_mean_token_accuracy is read as train_accuracy (api.models: one name).
    accuracy = wait_until(lambda: (graph_traces(dash_duo, "accuracy-graph") or {}).get("train_accuracy"),
                        LOAD_TICKS * TICK, "the accuracy chart was never drawn")
    assert accuracy["x"][0] == 1 and accuracy["x"][-1] == BIG_STEPS and len(accuracy["x"]) <= 2000
    screenshot(dash_duo, "charts001-big-job", "training-charts")

    # Zoom (as a drag does): the range comes back at full resolution, every step.
    relayout(dash_duo, "loss-graph", {"xaxis.range[0]": 9900.4, "xaxis.range[1]": 10100.6})
    zoomed = wait_until(lambda: (r := raw_loss(dash_duo)) and r["x"][0] == 9900 and r,
                      LOAD_TICKS * TICK, "the zoom never re-read the range")
    assert zoomed["x"] == list(range(9900, 10102))  # 9,901..10,100 inside, one neighbour each side
    assert zoomed["y"][zoomed["x"].index(SPIKE_STEP)] == SPIKE_LOSS
    assert zoomed["y"][zoomed["x"].index(9950)] == pytest.approx(loss_at(9950), rel=1e-5)
    layout_range = dash_duo.driver.execute_script(
        "return document.getElementById('loss-graph').querySelector('.js-plotly-plot').layout.xaxis.range")
    assert layout_range == pytest.approx([9900.4, 10100.6])  # the user's zoom is kept, not reset
    screenshot(dash_duo, "charts001-zoomed", "training-charts")

    # Double-click (autorange): the whole run again.
    relayout(dash_duo, "loss-graph", {"xaxis.autorange": True, "yaxis.autorange": True})
    wait_until(whole_run, LOAD_TICKS * TICK, "autorange never brought the whole run back")

    # Events: the newest page in a virtualised grid, older pages on request.
    dash_duo.wait_for_text_to_equal("#events-log-count", "(200 of 200 shown)", timeout=LOAD_TICKS * TICK)
    dash_duo.wait_for_contains_text("#events-log-grid", "The job has successfully completed")
    drawn_rows = len(dash_duo.driver.find_elements("css selector", "#events-log-grid .ag-center-cols-container .ag-row"))
    assert 0 < drawn_rows < 60  # only about a screenful is in the DOM
    assert "newest 200 events" in dash_duo.find_element("#events-log-held").text
    click(dash_duo, "#events-log-load-older")
    dash_duo.wait_for_text_to_equal("#events-log-count", "(400 of 400 shown)", timeout=LOAD_TICKS * TICK)
    # The oldest row now is 400 events back: step 19,600 (the newest is the completion message).
    oldest = dash_duo.driver.execute_script("""
        const api = window.dash_ag_grid.getApi('events-log-grid');
        let last = null; api.forEachNode(node => { last = node.data; }); return last;""")
    assert oldest["data"]["step"] == BIG_STEPS - 398
    screenshot(dash_duo, "charts001-events", "events-log-count")
    # Level filter in the grid: nothing in the newest 400 is a warning or an error.
    click(dash_duo, "#events-log-levels input[value='info']")
    dash_duo.wait_for_text_to_equal("#events-log-count", "(0 of 400 shown)", timeout=LOAD_TICKS * TICK)
    dash_duo.wait_for_contains_text("#events-log-list", "No events match the filters")
    assert dash_duo.get_logs() == []


SPY = """
    window.__answers = [];
    const original = window.fetch;
    window.fetch = function (input, init) {
        const url = typeof input === 'string' ? input : input.url;
        const answer = original.apply(this, arguments);
        if (url.includes('_dash-update-component')) {
            answer.then(r => r.clone().text()).then(text => window.__answers.push(text)).catch(() => {});
        }
        return answer;
    };
    const gd = document.getElementById('loss-graph').querySelector('.js-plotly-plot');
    gd.__probe = 'still the same plot';
"""


def test_charts002_live_job_grows_by_appending_only_new_points(scale_api, start_dash):
    dash_duo = start_dash(scale_api.url, path="/jobs/ftjob-live")
    dash_duo.wait_for_text_to_equal("#detail-status", "Running", timeout=LOAD_TICKS * TICK)
    wait_until(lambda: (r := raw_loss(dash_duo)) and r["x"] and r["x"][-1] == LIVE_START,
             LOAD_TICKS * TICK, "the live chart never drew its first 300 steps")
    dash_duo.driver.execute_script(SPY)

    last = scale_api.advance(40)
    wait_until(lambda: (r := raw_loss(dash_duo)) and r["x"][-1] == last,
             LOAD_TICKS * TICK, "the live chart never grew")
    raw = raw_loss(dash_duo)
    assert raw["x"] == list(range(1, last + 1))
    assert dash_duo.driver.execute_script(
        "return document.getElementById('loss-graph').querySelector('.js-plotly-plot').__probe") == "still the same plot"

    # What travelled for the loss graph: Patch operations appending the 40 new points, never a figure.
    texts = dash_duo.driver.execute_script("return window.__answers")
    answers = [json.loads(text)["response"] for text in texts]
    loss_updates = [answer["loss-graph"]["figure"] for answer in answers if "loss-graph" in answer]
    assert loss_updates, "no loss-graph update was seen"
    appended = 0
    for update in loss_updates:
        assert update.get("__dash_patch_update") == "__dash_patch_update", f"a whole figure was sent: {list(update)}"
        operations = update["operations"]
        assert {op["operation"] for op in operations} == {"Extend"}
        appended += sum(len(op["params"]["value"]) for op in operations if op["location"] == ["data", 0, "x"])
    assert appended == 40
    assert max(len(text) for text in texts if '"loss-graph"' in text) < 10_000  # 40 points, not 340

    # The events log took the new events on top, without sending the rows it already had.
    dash_duo.wait_for_contains_text("#events-log-grid", f"Step {last}/5000", timeout=LOAD_TICKS * TICK)
    screenshot(dash_duo, "charts002-live", "training-charts")
    assert dash_duo.get_logs() == []
