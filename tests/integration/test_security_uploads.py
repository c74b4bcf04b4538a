"""Hostile upload bodies at the boundary: the upload callback's HTTP endpoint of the real app,
fed by hypothesis with data URLs of hostile files (the benchmark's shapes, random bytes, broken
JSON lines, over-limit sizes, bad base64) and with forged values of every type in place of the
file, its name, the method, the model and the epochs. Every one is answered (200 with a
refusal, or 413 over the size cap), none costs the API a request, and memory stays bounded.
"""

from __future__ import annotations

import base64
import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from tests.bench import hostile_upload as hostile

UPLOAD = "create-job-upload-report.children"
LIMIT_MB = 0.25
LIMIT = int(LIMIT_MB * 1024 * 1024)
# The callback's whole request: JSON parsing of a body of up to ~0.35 MB, the decoded file and
# the dataset check. With the caps the costliest shape measured 5.2 MB; before them the issue's
# line of empty messages cost 19 MB at this size.
MAX_PEAK_MB = 8


@pytest.fixture(scope="module")
def api():
    server = HTTPServer()
    server.expect_request("/v1/fine_tuning/jobs").respond_with_json({"object": "list", "data": [],
                                                                      "has_more": False})
    server.expect_request("/v1/files", method="POST").respond_with_json({"id": "file-x", "object": "file"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(api, tmp_path_factory):
    from fakeai_dash.app import create_app
    from fakeai_dash.config import Settings
    from fakeai_dash.data import EXTENSION_KEY

    app = create_app(Settings(_env_file=None, api_base=api.url_for("").rstrip("/"), refresh_interval=3600,
                              upload_limit_mb=LIMIT_MB, data_dir=str(tmp_path_factory.mktemp("d")),
                              rate_limit_writes="1000000/minute"))  # every example must reach the check
    # tracemalloc counts every thread: the sync loop's rounds (the list, once a page has shown
    # it) would be charged to whichever body is measured meanwhile (9-11 MB seen). The callback
    # is measured alone: its reads of the picture need no loop.
    app.server.extensions[EXTENSION_KEY].engine.stop()
    yield app
    app.server.extensions[EXTENSION_KEY].close()


@pytest.fixture(scope="module")
def spec(app):
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    return next(d for d in deps if UPLOAD in d["output"])


def body(spec, contents, filename, method, model, n_epochs) -> dict:
    values = {"create-job-upload.contents": contents, "create-job-upload.filename": filename,
              "create-job-method.value": method, "create-job-model.value": model,
              "create-job-n-epochs.value": n_epochs}
    return {
        "output": spec["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in spec["output"].strip(".").split("...")],
        "inputs": [{**i, "value": values[f"{i['id']}.{i['property']}"]} for i in spec["inputs"]],
        "state": [{**s, "value": values[f"{s['id']}.{s['property']}"]} for s in spec["state"]],
        "changedPropIds": ["create-job-upload.contents"],
    }


def data_url(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


# -- what a forger can put in a body ----------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
few_lines = st.lists(json_values.map(json.dumps) | st.text(max_size=60), max_size=9)  # never 10 good examples
hostile_files = st.one_of(
    st.sampled_from(sorted(hostile.SHAPES)).flatmap(
        lambda shape: st.integers(LIMIT // 8, LIMIT).map(lambda size: hostile.SHAPES[shape](size)[:LIMIT])
    ).filter(lambda content: shape_is_hostile(content)),
    st.binary(max_size=4_000),
    few_lines.map(lambda lines: "\n".join(lines).encode()),
    st.integers(LIMIT + 1, 2 * LIMIT).map(lambda size: b"{}\n" * (size // 3 + 1)),  # over the upload limit
)
contents = st.one_of(
    hostile_files.map(data_url),
    st.text(max_size=200),  # not a data URL
    st.builds(lambda junk: "data:application/octet-stream;base64," + junk, st.text(max_size=200)),  # bad base64
    json_values,  # not even a string
)


def shape_is_hostile(content: bytes) -> bool:
    # A cut of "tiny valid examples" can be a valid file: that one is an upload, not an attack.
    from fakeai_dash.dataset import validate_jsonl

    return not validate_jsonl(content[:LIMIT]).valid


def at_limit(shape: str) -> dict:
    """An explicit example: ``shape`` as big as the upload limit lets it be."""
    return {"contents": data_url(hostile.SHAPES[shape](LIMIT)[:LIMIT]), "filename": f"{shape}.jsonl",
            "method": "supervised", "model": None, "n_epochs": None}


def every_shape_at_the_limit(test):
    for shape in sorted(hostile.SHAPES):
        if shape != "tiny_valid_examples":  # valid: an upload, not an attack
            test = example(**at_limit(shape))(test)
    return test


FIVE_GOOD_LINES = (json.dumps({"messages": [{"role": "user", "content": "q"},
                                             {"role": "assistant", "content": "a"}]}) + "\n").encode() * 5


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@every_shape_at_the_limit
# Too few examples to upload, but enough to be priced: with a model that is not a name.
@example(contents=data_url(FIVE_GOOD_LINES), filename=["x"], method="supervised", model=[1], n_epochs={"a": 1})
@given(contents=contents, filename=json_values, method=json_values | st.sampled_from(["supervised", "dpo"]),
       model=json_values, n_epochs=json_values)
def test_sec_upload001_hostile_bodies_reach_no_api_and_stay_bounded(app, spec, api, contents, filename, method,
                                                                    model, n_epochs):
    client = app.server.test_client()
    request = json.dumps(body(spec, contents, filename, method, model, n_epochs))
    api.clear_log()
    tracemalloc.start()
    try:
        response = client.post("/_dash-update-component", data=request, content_type="application/json")
        peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()
    target(peak, label="tracemalloc peak (MB)")  # steer the search towards the costliest bodies
    text = response.get_data(as_text=True)
    assert response.status_code in (200, 204, 413), text[:500]
    assert "Traceback" not in text
    if response.status_code == 200 and contents:  # empty contents: the callback leaves the dialog as it is
        answer = json.loads(text)["response"]
        assert "create-job-upload-report" in answer  # a report or a refusal, in words
        assert "create-job-training-file" not in answer  # no file id: nothing was uploaded
    assert [r for r, _ in api.log if r.method != "GET"] == []
    assert peak < MAX_PEAK_MB, f"{peak:.1f} MB for a {len(request) / 1024:.0f} KB request"
