"""Text from the API is shown, never rendered, where Plotly reads markup: a job whose suffix, a
metric's name and a checkpoint's model carry links and styled spans draws them as plain text in
the loss chart's and the comparison chart's legends (an OpenAI-shaped API on pytest-httpserver).
"""

from __future__ import annotations

import json
import re
import time

import pytest
from werkzeug import Response

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, ticks, wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
MODEL = "gpt-4o-mini-2024-07-18"
LINK = '<a href="https://evil.example/">click</a>'
BIG = '<span style="font-size:90px">BIG</span>'
METRIC = "train_loss<b>%{y}</b>"  # markup and a hovertemplate field in an API metric key


def job(job_id: str, suffix: str, now: float) -> dict:
    return {"object": "fine_tuning.job", "id": job_id, "model": MODEL, "created_at": int(now) - 3600,
            "finished_at": int(now) - 60, "status": "succeeded", "suffix": suffix,
            "fine_tuned_model": f"ft:{MODEL}:org:x:{job_id}", "organization_id": "org-test", "result_files": [],
            "training_file": "file-train", "validation_file": None, "trained_tokens": 30_000, "error": None,
            "seed": 7, "estimated_finish": None, "metadata": None,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {
                "n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 2}}}}


def events(now: float, extra_metric: bool) -> list[dict]:
    out = []
    for i, loss in enumerate([2.0, 1.5, 1.1, 0.9]):
        data = {"step": 10 * (i + 1), "train_loss": loss, "total_steps": 40}
        if extra_metric:
            data[METRIC] = loss + 0.1
        out.append({"object": "fine_tuning.job.event", "id": f"ftevent-{i}", "created_at": int(now) - 3000 + 60 * i,
                    "level": "info", "message": f"Step {10 * (i + 1)}", "type": "metrics", "data": data})
    return list(reversed(out))


@pytest.fixture
def hostile_api(httpserver):
    now = time.time()
    jobs = {"ftjob-evil": job("ftjob-evil", LINK + BIG, now), "ftjob-peer": job("ftjob-peer", "peer", now)}
    checkpoints = [{"object": "fine_tuning.job.checkpoint", "id": "ftckpt-1", "created_at": int(now) - 100,
                    "fine_tuning_job_id": "ftjob-evil", "step_number": 40,
                    "fine_tuned_model_checkpoint": f"ft:{MODEL}:{LINK}",
                    "metrics": {"step": 40, "train_loss": 0.9}}]

    def listing(items):
        return {"object": "list", "data": items, "has_more": False}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs":
            body = listing(list(jobs.values()))
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path):
            job_id, part = match.groups()
            if part is None:
                body = jobs[job_id]
            elif part == "events":
                body = listing(events(now, extra_metric=job_id == "ftjob-evil"))
            else:
                body = listing(checkpoints if job_id == "ftjob-evil" else [])
        else:
            body = listing([])
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    return httpserver.url_for("/").rstrip("/")


LEGEND = """
const graph = document.getElementById(arguments[0]);
if (!graph) { return null; }
const texts = [...graph.querySelectorAll('.legend .legendtext')];
return {
  texts: texts.map(t => t.textContent),
  links: graph.querySelectorAll('.legend a').length,
  styled: [...graph.querySelectorAll('.legend tspan')].map(t => t.getAttribute('style') || '').filter(s => s.includes('90px')).length,
  bold: [...graph.querySelectorAll('.legend tspan')].filter(t => (t.getAttribute('style') || '').includes('bold')).length,
};
"""


def legend(dash_duo, graph_id):
    return dash_duo.driver.execute_script(LEGEND, graph_id)


def test_sec_text001_api_markup_is_drawn_as_text_in_legends(hostile_api, start_dash):
    dash_duo = start_dash(hostile_api, path="/jobs/ftjob-evil?compare=ftjob-peer", refresh_interval=TICK)
    dash_duo.driver.set_window_size(1440, 3200)
    dash_duo.wait_for_text_to_equal("#detail-job-id", "ftjob-evil", timeout=ticks(LOAD_TICKS, TICK))

    loss = wait_until(lambda: (l := legend(dash_duo, ids.TrainingProgress.LOSS)) and
                      any(METRIC in t for t in l["texts"]) and l, ticks(15, TICK),
                      "the loss chart never showed the API's metric name as text")
    assert loss["links"] == 0 and loss["bold"] == 0

    compared = wait_until(lambda: (l := legend(dash_duo, ids.JobComparison.GRAPH)) and
                          any(LINK in t for t in l["texts"]) and l, ticks(15, TICK),
                          "the comparison legend never showed the suffix as text")
    assert compared["links"] == 0 and compared["styled"] == 0
    assert any(LINK + BIG in text for text in compared["texts"])
    assert dash_duo.get_logs() == []
