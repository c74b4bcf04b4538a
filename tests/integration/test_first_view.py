"""A job opened by its URL arrives drawn (server/first_view.py): the page's layout, asked for
with that page as its Referer, holds the job's stores, its upper panels and its charts; the list
page and anything that is not a job the picture holds get the ordinary empty layout; a job's page
loads plotly.js (and dcc.Graph's code) before Dash's own scripts.

Real parts: the scale simulator (OpenAI-shaped) with a finished 300-step job, the app with its
sync loop, Dash's own routes through Flask's test client."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from fakeai_dash import ids
from fakeai_dash.components import job_details
from fakeai_dash.server import first_view
from fakeai_dash.data import NotReady, current_source
from tests.support.scale_sim import ScaleSimulator
from tests.support.waiting import wait_until

SECRET = "sk-first-view-secret-0123456789"
ASSETS = Path(__file__).resolve().parents[2] / "assets"


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=5, big=["300:finished"], api_key=SECRET) as server:
        yield server


@pytest.fixture
def app(make_app, sim):
    return make_app(sim.url, api_key=SECRET)


def components(layout) -> dict[str, dict]:
    """Every component of a layout's JSON, by id."""
    found = {}

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                walk(value)

    walk(layout)
    return found


def held(app, job_id):
    """Wait until the sync loop's picture holds the job (the page of a job someone watched)."""
    def ready():
        with app.server.test_request_context():
            try:
                return current_source().job_detail(job_id)
            except NotReady:
                return None
    return wait_until(ready, 30, f"the picture holding {job_id}")


def layout_for(client, page: str, **headers) -> dict[str, dict]:
    response = client.get("/_dash-layout", headers={"Referer": f"http://localhost{page}", **headers})
    assert response.status_code == 200
    assert SECRET not in response.get_data(as_text=True)  # the API key never reaches the browser
    return components(response.get_json())


def test_first001_a_jobs_page_layout_holds_the_job_its_panels_and_its_drawn_charts(app, sim):
    job_id = sim.big_job_ids[0]
    held(app, job_id)
    page = layout_for(app.server.test_client(), f"/jobs/{job_id}")
    assert page[ids.JobDetails.SELECTED]["data"] == job_id
    store = page[ids.JobDetails.STORE]["data"]
    assert store["job_id"] == job_id and store["job"]["status"] == "succeeded"
    assert page[ids.JobDetails.SUMMARY]["data"] == job_details.summary_slice(store)
    # Shown at once, with the panels above the charts filled in.
    assert page[ids.JobDetails.BODY]["style"] == {} and page[ids.JobDetails.PLACEHOLDER_CARD]["style"] == {"display": "none"}
    assert page[ids.JobDetails.JOB_ID]["children"] == job_id
    assert page[ids.Hyperparameters.BODY].get("children") and page[ids.StatusTimeline.BODY].get("children")
    # Every panel drawn from the job's stores alone is drawn here: on load, Dash runs none of their
    # callbacks (the fetch, finding the stores in place, changes nothing they depend on).
    assert page[ids.Checkpoints.COUNT]["children"] == f"({len(store['checkpoints'])})" and store["checkpoints"]
    assert page[ids.ModelComparison.BODY].get("children") and page[ids.CostTracker.BODY].get("children")
    assert "300" in json.dumps(page[ids.TrainingProgress.BAR_TEXT]["children"])
    # The graphs are in the layout, drawn from every step of the history (from step 1 to 300).
    loss = page[ids.TrainingProgress.LOSS]["figure"]
    raw = next(trace for trace in loss["data"] if trace.get("name") in ("train_loss (raw)", "train_loss"))
    steps = raw["x"] if isinstance(raw["x"], list) else None
    assert steps is not None and steps[0] == 1 and steps[-1] == 300 and len(steps) == 300
    assert page[ids.TrainingProgress.ACCURACY]["figure"]["data"]
    assert page[ids.TrainingProgress.MOUNTED]["data"] is True
    # ... and their drawn-state store says what they hold, in the theme the page named.
    assert page[ids.TrainingProgress.DRAWN]["data"]["key"] == {"job": job_id, "x": "step", "log": False, "theme": "dark"}


def test_first002_the_fetch_and_the_charts_find_the_first_view_in_place(app, sim):
    """No second start: the detail fetch, given the layout's signature, sends nothing."""
    job_id = sim.big_job_ids[0]
    held(app, job_id)
    page = layout_for(app.server.test_client(), f"/jobs/{job_id}")
    signature = page[ids.JobDetails.SIGNATURE]["data"]
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{ids.JobDetails.SELECTED}.data"}]))
    try:
        with app.server.test_request_context():
            answer = job_details.fetch_job_detail(None, job_id, None, None, signature)
    finally:
        context_value.reset(token)
    assert answer == (no_update, no_update, no_update)


def test_first003_the_url_sets_the_view_and_the_theme_cookie_the_figures_theme(app, sim):
    job_id = sim.big_job_ids[0]
    held(app, job_id)
    client = app.server.test_client()
    client.set_cookie(first_view.THEME_COOKIE, "light")
    page = layout_for(client, f"/jobs/{job_id}?smoothing=0.9&log=1&x=elapsed")
    assert page[ids.TrainingProgress.SMOOTHING]["value"] == 0.9
    assert page[ids.TrainingProgress.LOG_Y]["value"] is True
    assert page[ids.TrainingProgress.X_AXIS]["value"] == "elapsed"
    key = page[ids.TrainingProgress.DRAWN]["data"]["key"]
    assert key == {"job": job_id, "x": "elapsed", "log": True, "theme": "light"}
    loss = page[ids.TrainingProgress.LOSS]["figure"]
    assert loss["layout"]["yaxis"]["type"] == "log"


def test_first004_other_pages_get_the_ordinary_empty_layout(app, sim):
    held(app, sim.big_job_ids[0])
    client = app.server.test_client()
    unknown = "ftjob-" + "0" * 24  # an id, of no job anyone watched: not in the picture
    for page in ("/", "/jobs/", f"/jobs/{unknown}", "/jobs/%3Cscript%3E", "/jobs/a..b%2F..%2Fx", None):
        headers = {} if page is None else {"Referer": f"http://localhost{page}"}
        response = client.get("/_dash-layout", headers=headers)
        assert response.status_code == 200, page
        found = components(response.get_json())
        assert found[ids.JobDetails.SELECTED].get("data") is None, page
        assert ids.TrainingProgress.LOSS not in found, page
        assert found[ids.JobDetails.BODY]["style"] == {"display": "none"}, page


def test_first005_a_jobs_page_loads_plotly_and_the_graph_code_before_dash(app, sim):
    client = app.server.test_client()
    job_page = client.get(f"/jobs/{sim.big_job_ids[0]}").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', job_page)
    names = [source.split("?")[0].rsplit("/", 1)[-1] for source in scripts]
    assert names.index("plotly-basic.min.js") < names.index("async-graph.js") < min(
        i for i, name in enumerate(names) if name.startswith("dash_renderer"))
    assert not any("plotly-locale" in name for name in names)  # English: plotly.js's own words
    german = client.get(f"/jobs/{sim.big_job_ids[0]}?lang=de").get_data(as_text=True)
    assert re.search(r'plotly-locale-de\.js\?m=[^"]+" data-plotly-locale="de"', german)
    listing = client.get("/").get_data(as_text=True)
    assert "plotly-basic" not in listing and "async-graph" not in listing  # the list draws no chart


def test_first006_chart_loader_names_the_files_first_view_names():
    """assets/chart_loader.js and first_view.py load the same vendored files at the same version."""
    script = (ASSETS / "chart_loader.js").read_text()
    assert re.search(r'const VERSION = "([^"]+)"', script).group(1) == first_view.PLOTLY_VERSION
    assert set(re.findall(r'file: "([^"]+)"', script)) == set(first_view.PLOTLY_LOCALE_FILES.values())
    assert f'"{first_view.PLOTLY_BUNDLE}"' in script
    for name in (first_view.PLOTLY_BUNDLE, *first_view.PLOTLY_LOCALE_FILES.values()):
        assert (ASSETS / "vendor" / name).is_file()


def test_first007_a_german_jobs_page_is_drawn_in_german(app, sim):
    """The layout is built in the page's language (?lang= of the Referer): panels, figures and
    plotly.js's own words (its locale, loaded first on that page: test_first005)."""
    job_id = sim.big_job_ids[0]
    held(app, job_id)
    page = layout_for(app.server.test_client(), f"/jobs/{job_id}?lang=de")
    assert page[ids.TrainingProgress.BAR_TEXT]["children"].startswith("Schritt 300 / 300")
    loss = page[ids.TrainingProgress.LOSS]
    assert loss["figure"]["layout"]["xaxis"]["title"]["text"] == "Schritt"
    assert loss["config"]["locale"] == "de"
    english = layout_for(app.server.test_client(), f"/jobs/{job_id}")
    assert english[ids.TrainingProgress.LOSS]["figure"]["layout"]["xaxis"]["title"]["text"] == "Step"
    assert english[ids.TrainingProgress.LOSS]["config"]["locale"] == "en"
