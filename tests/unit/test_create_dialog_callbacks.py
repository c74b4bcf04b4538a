"""The create-job dialog's callback logic as plain functions: upload checks, outcomes, one job per token."""

from __future__ import annotations

import base64
import json
import threading
import uuid

import pytest
from dash import Dash, _get_app, _get_paths, _pages, no_update

from fakeai_dash import ids
from fakeai_dash.api.client import FineTuningClient
from fakeai_dash.components import create_job_dialog as dialog
from fakeai_dash.components import create_job_form as form
from fakeai_dash.config import Settings
from fakeai_dash.data import build_source
from fakeai_dash.dataset import validate_jsonl

C = ids.CreateJob
MB = 1024 * 1024


def data_url(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


def chat_jsonl(n: int) -> bytes:
    line = {"messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello!"}]}
    return ("\n".join(json.dumps(line) for _ in range(n)) + "\n").encode()


def text_of(component) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def dash_globals() -> tuple:
    """What constructing a Dash app changes for everyone: dash.get_app() and the path config
    dash.get_relative_path and dash.page_registry read."""
    return _get_app.APP, _get_paths.CONFIG, _pages.CONFIG


@pytest.fixture(autouse=True)
def dash_globals_left_as_found():
    """No test here leaves another app as Dash's current one (later tests would use its prefix)."""
    before = dash_globals()
    yield
    assert all(a is b for a, b in zip(dash_globals(), before, strict=True)), \
        "a test left its Dash app installed as the global one"


@pytest.fixture
def restore_dash_globals(monkeypatch):
    """For a test that builds a Dash app: puts Dash's global app and path config back afterwards."""
    for module, name in ((_get_app, "APP"), (_get_paths, "CONFIG"), (_pages, "CONFIG")):
        monkeypatch.setattr(module, name, getattr(module, name))  # undone at teardown: the old value


@pytest.fixture
def source(fakeai, tmp_path):
    """A real DataSource on the session FakeAI, with a picture store of its own."""
    settings = Settings(_env_file=None, api_base=fakeai.url, cache_ttl=1, data_dir=str(tmp_path))
    return build_source(settings, FineTuningClient(fakeai.url))


# -- upload ------------------------------------------------------------------------------------

def test_decode_upload_round_trips_bytes():
    assert form.decode_upload(data_url(b'{"a": 1}\n'), MB) == b'{"a": 1}\n'


def test_decode_upload_refuses_oversize_before_decoding():
    # Not valid base64 at all: a refusal naming the size proves nothing was decoded.
    with pytest.raises(form.UploadRefused, match=r"2\.0 MB; files up to 1 MB"):
        form.decode_upload("data:application/jsonl;base64," + "!" * (2 * MB * 4 // 3 + 8), MB)


def test_decode_upload_at_the_limit_is_accepted():
    assert len(form.decode_upload(data_url(b"x" * 1000), 1000)) == 1000
    with pytest.raises(form.UploadRefused):
        form.decode_upload(data_url(b"x" * 1001), 1000)


@pytest.mark.parametrize("contents", ["no comma here", "data:text/plain,plain", "data:;base64,@@@@"])
def test_decode_upload_refuses_what_it_cannot_read(contents):
    with pytest.raises(form.UploadRefused):
        form.decode_upload(contents, MB)


def test_invalid_dataset_is_reported_and_never_uploaded(fakeai, source):
    files_before = len(fakeai.files())
    content = chat_jsonl(12) + b'{"messages": [}\n'
    view, dataset, file_id = dialog.check_and_upload(source, data_url(content), "bad.jsonl", "supervised",
                                                     None, None, limit_bytes=MB, price_table=None)
    assert file_id is None and dataset["file_id"] is None and not dataset["report"]["valid"]
    assert "Line 13" in text_of(view) and "was not uploaded" in text_of(view)
    assert len(fakeai.files()) == files_before


def test_oversize_dataset_is_refused_without_a_report(fakeai, source):
    files_before = len(fakeai.files())
    view, dataset, file_id = dialog.check_and_upload(source, data_url(chat_jsonl(50)), "big.jsonl", "supervised",
                                                     None, None, limit_bytes=1000, price_table=None)
    assert (dataset, file_id) == (None, None)
    assert "big.jsonl" in text_of(view) and "MB" in text_of(view)
    assert len(fakeai.files()) == files_before


def test_valid_dataset_is_uploaded_and_its_id_returned(fakeai, source):
    before = {f["id"] for f in fakeai.files()}
    view, dataset, file_id = dialog.check_and_upload(source, data_url(chat_jsonl(10)), "ok.jsonl", "supervised",
                                                     "gpt-4o-mini", "2", limit_bytes=MB, price_table=None)
    assert {f["id"] for f in fakeai.files()} - before == {file_id}
    assert dataset == {"filename": "ok.jsonl", "file_id": file_id, "report": dataset["report"]}
    assert dataset["report"]["valid"] and dataset["report"]["n_examples"] == 10
    assert file_id in text_of(view)


def test_dpo_method_checks_the_dpo_format(fakeai, source):
    # A chat file uploaded while DPO is chosen is the wrong format for the job.
    _view, dataset, file_id = dialog.check_and_upload(source, data_url(chat_jsonl(10)), "chat.jsonl", "dpo",
                                                      None, None, limit_bytes=MB, price_table=None)
    assert file_id is None and dataset["report"]["method"] == "dpo" and not dataset["report"]["valid"]


# -- report and estimate -------------------------------------------------------------------------

def test_report_view_counts_errors_beyond_those_shown():
    report = validate_jsonl(b"nope\n" * 30).to_dict()
    text = text_of(form.report_view(report, "x.jsonl"))
    assert "Line 1: Invalid JSON" in text and "Line 20:" in text and "Line 21:" not in text
    assert "Showing the first 20 of 30 errors" in text
    assert "(estimate)" in text


def test_estimate_uses_tokens_epochs_and_price():
    report = validate_jsonl(chat_jsonl(10)).to_dict()
    dataset = {"filename": "a.jsonl", "file_id": "file-1", "report": report}
    tokens = report["estimated_tokens"]
    text = text_of(form.estimate_view(dataset, "4", "gpt-x", "file-1", {"gpt-x": 0.5, "default": 9}))
    expected = tokens * 4 / 1000 * 0.5
    assert f"${expected:.4f}" in text or f"${expected:,.2f}" in text
    assert "4 epochs" in text and "$0.5 per 1K" in text and "estimated" in text.lower()


def test_estimate_assumes_three_epochs_for_auto():
    report = validate_jsonl(chat_jsonl(10)).to_dict()
    text = text_of(form.estimate_view({"file_id": "file-1", "report": report}, "auto", None, "file-1", None))
    assert "3 epochs (auto: 3 assumed)" in text


@pytest.mark.parametrize("training_file", ["file-other", "", None])
def test_estimate_is_unknown_for_a_file_not_validated_here(training_file):
    report = validate_jsonl(chat_jsonl(10)).to_dict()
    text = text_of(form.estimate_view({"file_id": "file-1", "report": report}, "2", None, training_file, None))
    assert "unknown" in text


def test_file_options_newest_first_with_name_size_and_age():
    files = [{"id": "file-old", "filename": "a.jsonl", "bytes": 2048, "created_at": 1000},
             {"id": "file-new", "filename": "b.jsonl", "bytes": 3 * MB, "created_at": 2000}]
    options = form.file_options(files, now=2060)
    assert [o.value for o in options] == ["file-new", "file-old"]
    assert options[0].label.startswith("b.jsonl · 3.0 MB · ") and "2.0 KB" in options[1].label


# -- metadata rows --------------------------------------------------------------------------------

def test_add_appends_a_row_until_the_cap():
    patch = dialog.metadata_rows_patch(C.METADATA_ADD, 1, 1, [])
    assert patch._operations[0]["operation"] == "Append"
    full = [{"type": C.METADATA_KEY, "index": i} for i in range(16)]
    assert dialog.metadata_rows_patch(C.METADATA_ADD, 17, 17, full) is no_update


def test_remove_deletes_the_clicked_row_by_position():
    rows = [{"type": C.METADATA_KEY, "index": i} for i in (3, 7, 9)]
    patch = dialog.metadata_rows_patch({"type": C.METADATA_REMOVE, "index": 7}, 1, 3, rows)
    assert patch._operations[0]["operation"] == "Delete" and patch._operations[0]["location"] == [1]


def test_a_new_remove_button_is_not_a_click():
    rows = [{"type": C.METADATA_KEY, "index": 3}]
    assert dialog.metadata_rows_patch({"type": C.METADATA_REMOVE, "index": 3}, None, 3, rows) is no_update


# -- submit ----------------------------------------------------------------------------------------

def test_invalid_form_never_reaches_the_source():
    # None as the source: any attempt to send would fail loudly.
    outcome = dialog.submit_form(None, {"model": "", "training_file": "f", "n_epochs": "51"}, "t")
    assert outcome == {"errors": {"model": "is required", "n_epochs": "must be between 1 and 50, or auto"}}


def test_raw_form_pairs_metadata_rows():
    raw = dialog.raw_form({"model": "m"}, "dpo", ["k1", "k2"], ["v1", None])
    assert raw["method"] == "dpo" and raw["metadata"] == [{"key": "k1", "value": "v1"}, {"key": "k2", "value": None}]


def test_outputs_for_field_errors_keep_the_dialog_open():
    out = dialog.submit_outputs({"errors": {"seed": "bad seed", "metadata": "bad pairs"}})
    n = len(form.TEXT_FIELDS)
    seed = form.TEXT_FIELDS.index("seed")
    assert out[:n] == [i == seed for i in range(n)]
    assert out[n + seed] == "bad seed" and out[2 * n + 1] == "bad pairs"
    assert "2 highlighted fields" in text_of(out[2 * n + 2]) and out[2 * n + 3] is True
    assert out[-3:] == [no_update] * 3


def test_outputs_for_an_api_error_name_the_field_and_show_the_message():
    out = dialog.submit_outputs({"api_error": "HTTP 400: Training file x not found", "field": "training_file"})
    n = len(form.TEXT_FIELDS)
    index = form.TEXT_FIELDS.index("training_file")
    assert out[index] is True and out[n + index] == "HTTP 400: Training file x not found"
    assert "Training file x not found" in text_of(out[2 * n + 2])
    assert out[-3:] == [no_update] * 3


def test_outputs_for_success_close_refresh_and_select(restore_dash_globals):
    Dash(__name__, url_base_pathname="/dash/")  # the URL is relative to the app's path prefix
    out = dialog.submit_outputs({"job_id": "ftjob-1"})
    assert out[-3] is False and isinstance(out[-2], float) and out[-1] == "/dash/jobs/ftjob-1"
    assert not any(out[: len(form.TEXT_FIELDS)])


@pytest.mark.parametrize(("message", "field"), [
    ("Training file file-x not found", "training_file"),
    ("Validation file file-y not found", "validation_file"),
    ("Model not available", None),
    (None, None),
])
def test_fakeai_prose_errors_point_at_the_file_field(message, field):
    assert dialog._field_named_in(message) == field


def test_api_error_from_the_server_is_an_outcome_not_an_exception(fakeai, source):
    jobs_before = len(fakeai.jobs())
    outcome = dialog.submit_form(source, {"model": "m", "training_file": "file-missing"}, uuid.uuid4().hex)
    assert outcome == {"api_error": "HTTP 400: Training file file-missing not found", "field": "training_file"}
    assert len(fakeai.jobs()) == jobs_before


# -- one job per token -------------------------------------------------------------------------------

def test_concurrent_submits_with_one_token_create_one_job(fakeai, source):
    before = {j["id"] for j in fakeai.jobs()}
    payload = {"model": "meta-llama/Llama-3.1-8B-Instruct", "training_file": fakeai.files()[0]["id"]}
    token = uuid.uuid4().hex
    results: list[str] = []
    start = threading.Barrier(4)

    def submit():
        start.wait()
        results.append(dialog.create_once(source, token, payload))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    created = {j["id"] for j in fakeai.jobs()} - before
    assert len(created) == 1 and results == [created.pop()] * 4
    # A later repeat (a retried request) still answers with the same job and sends nothing.
    assert dialog.create_once(source, token, payload) == results[0]
    assert len({j["id"] for j in fakeai.jobs()} - before) == 1


def test_a_failed_create_releases_the_token(fakeai, source):
    from fakeai_dash.api.client import ApiError

    token = uuid.uuid4().hex
    with pytest.raises(ApiError):
        dialog.create_once(source, token, {"model": "m", "training_file": "file-missing"})
    job_id = dialog.create_once(source, token, {"model": "m", "training_file": fakeai.files()[0]["id"]})
    assert fakeai.job(job_id)["id"] == job_id


def test_a_token_claimed_elsewhere_is_refused(fakeai, source):
    # Another worker holding the claim in the shared cache: this one must not create.
    token = uuid.uuid4().hex
    source.set_claim(f"create-job-token:{token}", {"pending": True}, 60)
    jobs_before = len(fakeai.jobs())
    with pytest.raises(dialog.DuplicateSubmit):
        dialog.create_once(source, token, {"model": "m", "training_file": fakeai.files()[0]["id"]})
    assert len(fakeai.jobs()) == jobs_before


# -- the submit callback over HTTP -------------------------------------------------------------------

def submit_request(app, values: dict, token: str) -> dict:
    """The body Dash's renderer POSTs when the submit button is clicked (no metadata rows)."""
    (key,) = [k for k, v in app.callback_map.items() if v["inputs"] == [{"id": C.SUBMIT, "property": "n_clicks"}]]
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in key.strip(".").split("...")]
    state = []
    for dep in app.callback_map[key]["state"]:
        field = next((f for f, i in C.FIELDS.items() if i == dep["id"]), None)
        value = (values.get(field) if field else "supervised" if dep["id"] == C.METHOD
                 else token if dep["id"] == C.TOKEN else [])
        state.append({"id": json.loads(dep["id"]) if dep["id"].startswith("{") else dep["id"],
                      "property": dep["property"], "value": value})
    return {"output": key, "outputs": outputs, "changedPropIds": [f"{C.SUBMIT}.n_clicks"],
            "inputs": [{"id": C.SUBMIT, "property": "n_clicks", "value": 1}], "state": state}


def test_two_racing_submit_requests_with_one_token_create_one_job(fakeai, make_app, restore_dash_globals):
    # What a double click becomes if both clicks leave the browser: two requests, one token.
    app = make_app(fakeai.url)
    app.server.test_client().get("/")  # the first request installs the callbacks
    values = {"model": "meta-llama/Llama-3.1-8B-Instruct", "training_file": fakeai.files()[0]["id"]}
    body = submit_request(app, values, uuid.uuid4().hex)
    before = {j["id"] for j in fakeai.jobs()}
    start = threading.Barrier(2)
    answers: list[dict] = []

    def post():
        client = app.server.test_client()
        start.wait()
        answers.append(client.post("/_dash-update-component", json=body).get_json())

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    (job_id,) = {j["id"] for j in fakeai.jobs()} - before
    # Both answers close the dialog and select the one job, whichever the browser keeps.
    for answer in answers:
        assert answer["response"]["url"]["pathname"] == f"/jobs/{job_id}"
        assert answer["response"][C.MODAL]["is_open"] is False
    assert len(answers) == 2
