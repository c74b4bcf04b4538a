"""Browser tests of the create-job dialog against a real FakeAI server: upload, validation, submit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from fakeai_dash import ids
from fakeai_dash.server.security import request_limit_bytes
from tests.support.browser_support import LOAD_TICKS, ticks

pytestmark = pytest.mark.browser

F = ids.CreateJob.FIELDS
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
# Set FAKEAI_DASH_SHOTS=/tmp/shots to keep screenshots of the dialog for a human to look at.
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")
TICK = 1.0  # the app's refresh interval (seconds) in these tests; every wait is a number of ticks
# A cache lifetime far longer than any wait below: a list or file picker that shows a write
# within the wait was refetched because the write invalidated the cache, not because it expired.
LONG_TTL = 120 * TICK


def start(start_dash, api_base: str, **overrides):
    return start_dash(api_base, refresh_interval=TICK, **overrides)


def shot(dash_duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dash_duo.driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def chat_line(i: int) -> str:
    return json.dumps({"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": f"What is {i} + {i}?"},
        {"role": "assistant", "content": str(2 * i)},
    ]})


def write_jsonl(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def open_dialog(dash_duo):
    # The first page load: the header renders with the layout.
    dash_duo.wait_for_element(f"#{ids.Header.CREATE}", timeout=ticks(LOAD_TICKS, TICK)).click()
    dash_duo.wait_for_element(f".create-job-dialog.show #{ids.CreateJob.SUBMIT}", timeout=ticks(10, TICK))
    # The file list arrives with the dialog; later assertions rely on the picker being filled.
    dash_duo.wait_for_element(f"#{ids.CreateJob.FILE_OPTIONS} option", timeout=ticks(10, TICK))


def fill(dash_duo, field: str, value: str) -> None:
    element = dash_duo.find_element(f"#{F[field]}")
    element.clear()
    element.send_keys(value)


def field_value(dash_duo, field: str) -> str:
    return dash_duo.find_element(f"#{F[field]}").get_attribute("value")


def feedback(dash_duo, field: str) -> str:
    return dash_duo.find_element(f"#{F[field]}-feedback").text


def wait_closed(dash_duo):
    WebDriverWait(dash_duo.driver, ticks(15, TICK)).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".create-job-dialog.show"))


def wait_selected_path(dash_duo) -> str:
    WebDriverWait(dash_duo.driver, ticks(15, TICK)).until(lambda d: "/jobs/ftjob-" in d.current_url)
    return dash_duo.driver.current_url.rsplit("/jobs/", 1)[1]


def test_create001_uploaded_dataset_creates_a_selected_running_job(fakeai, start_dash, tmp_path):
    files_before = {f["id"] for f in fakeai.files()}
    jobs_before = {j["id"] for j in fakeai.jobs()}
    # The file picker and the jobs list are read at open and then kept LONG_TTL: the upload and
    # the new job can only show up within the waits below because the writes invalidated them.
    dash_duo = start(start_dash, fakeai.url, cache_ttl=LONG_TTL)
    open_dialog(dash_duo)
    shot(dash_duo, "01-empty-dialog")
    fill(dash_duo, "model", MODEL)
    dash_duo.find_element(f"#{ids.CreateJob.UPLOAD} input[type=file]").send_keys(
        write_jsonl(tmp_path, "arith.jsonl", [chat_line(i) for i in range(12)]))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "was uploaded as", timeout=ticks(15, TICK))
    report = dash_duo.find_element("#create-job-dataset-report").text
    assert "arith.jsonl" in report and "12 examples" in report and "(estimate)" in report
    file_id = field_value(dash_duo, "training_file")
    assert file_id.startswith("file-") and file_id in report
    new_files = {f["id"] for f in fakeai.files()} - files_before
    assert new_files == {file_id}
    # The picker lists the upload (the file list was refetched: the upload invalidated it) and
    # names it as the user did, not as FakeAI invented it.
    dash_duo.wait_for_element(f"#{ids.CreateJob.FILE_OPTIONS} option[value='{file_id}'][label^='arith.jsonl']",
                              timeout=ticks(10, TICK))
    fill(dash_duo, "n_epochs", "2")
    fill(dash_duo, "suffix", "arith-v1")
    dash_duo.wait_for_contains_text(f"#{ids.CreateJob.ESTIMATE}", "2 epochs", timeout=ticks(10, TICK))
    assert dash_duo.find_element("#create-job-estimate-value").text.startswith("$")
    shot(dash_duo, "02-valid-upload")
    dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").click()
    wait_closed(dash_duo)
    job_id = wait_selected_path(dash_duo)
    assert {j["id"] for j in fakeai.jobs()} - jobs_before == {job_id}
    job = fakeai.job(job_id)
    assert job["training_file"] == file_id and job["model"] == MODEL
    assert job["hyperparameters"]["n_epochs"] == 2
    # The list refetched at once (the create invalidated it) and highlights the new job.
    dash_duo.wait_for_element(f"#jobs-grid .ag-row-selected[row-id='{job_id}']", timeout=ticks(10, TICK))
    WebDriverWait(dash_duo.driver, ticks(20, TICK), poll_frequency=0.5).until(
        lambda _: fakeai.job(job_id)["status"] in ("running", "succeeded"))
    assert dash_duo.get_logs() == []


def test_create002_invalid_fields_show_inline_messages_and_send_nothing(fakeai, start_dash):
    jobs_before = len(fakeai.jobs())
    dash_duo = start(start_dash, fakeai.url)
    open_dialog(dash_duo)
    # Beta belongs to DPO only: hidden for supervised, shown once DPO is picked.
    assert not dash_duo.find_element(f"#{F['beta']}").is_displayed()
    dash_duo.find_element(f"#{ids.CreateJob.METHOD} input[value='dpo']").click()
    WebDriverWait(dash_duo.driver, ticks(5, TICK)).until(
        lambda _: dash_duo.find_element(f"#{F['beta']}").is_displayed(), "the beta field never showed for DPO")
    bad = {"n_epochs": "0", "batch_size": "257", "learning_rate_multiplier": "0", "beta": "2.5",
           "suffix": "no spaces allowed", "seed": "2147483648"}
    for field, value in bad.items():
        fill(dash_duo, field, value)
    dash_duo.find_element(f"#{ids.CreateJob.METADATA_ADD}").click()
    dash_duo.wait_for_element(f"#{ids.CreateJob.METADATA_ROWS} .metadata-row input[placeholder='value']",
                              timeout=ticks(5, TICK)).send_keys("orphan")
    dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").click()
    dash_duo.wait_for_contains_text(f"#{F['model']}-feedback", "is required", timeout=ticks(10, TICK))
    for field in ("model", "training_file", *bad):
        assert "is-invalid" in dash_duo.find_element(f"#{F[field]}").get_attribute("class"), field
    assert "between 1 and 50" in feedback(dash_duo, "n_epochs")
    assert "between 1 and 256" in feedback(dash_duo, "batch_size")
    assert "greater than 0" in feedback(dash_duo, "learning_rate_multiplier")
    assert "at most 2" in feedback(dash_duo, "beta")
    assert "letters, digits" in feedback(dash_duo, "suffix")
    assert "2147483647" in feedback(dash_duo, "seed")
    assert "needs a key" in dash_duo.find_element(f"#{ids.CreateJob.METADATA_FEEDBACK}").text
    alert = dash_duo.find_element(f"#{ids.CreateJob.API_ERROR}").text
    assert "Nothing was sent" in alert and "9 highlighted fields" in alert
    assert "is-invalid" not in dash_duo.find_element(f"#{F['validation_file']}").get_attribute("class")
    # Typed values stay for the user to fix.
    assert field_value(dash_duo, "suffix") == "no spaces allowed"
    shot(dash_duo, "03-invalid-fields")
    assert len(fakeai.jobs()) == jobs_before
    assert dash_duo.get_logs() == []


def test_create003_bad_jsonl_reports_line_numbers_and_uploads_nothing(fakeai, start_dash, tmp_path):
    files_before = len(fakeai.files())
    lines = [
        chat_line(1),
        '{"messages": [{"role": "user", "content": "unterminated"}',                          # 2: bad JSON
        chat_line(3),
        json.dumps({"messages": [{"role": "user", "content": "no answer"}]}),               # 4: no assistant
        json.dumps({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}),  # 5
        json.dumps({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "y"}]}),    # 6
        *["not json at all"] * 20,                                                            # 7-26
    ]
    dash_duo = start(start_dash, fakeai.url)
    open_dialog(dash_duo)
    dash_duo.find_element(f"#{ids.CreateJob.UPLOAD} input[type=file]").send_keys(
        write_jsonl(tmp_path, "broken.jsonl", lines))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "was not uploaded", timeout=ticks(15, TICK))
    report = dash_duo.find_element("#create-job-dataset-report").text
    assert "broken.jsonl" in report
    assert "Line 2: Invalid JSON" in report
    assert "Line 4:" in report and "assistant" in report
    assert "Line 5:" in report and "robot" in report
    assert "Line 6:" in report and "content is empty" in report
    assert "Showing the first 20 of 24 errors" in report
    assert field_value(dash_duo, "training_file") == ""
    shot(dash_duo, "04-validation-report")
    assert len(fakeai.files()) == files_before
    assert dash_duo.get_logs() == []


def test_create004_too_few_examples_and_oversize_files_are_refused(fakeai, start_dash, tmp_path):
    files_before = len(fakeai.files())
    dash_duo = start(start_dash, fakeai.url, upload_limit_mb=0.002)  # about 2 KB
    open_dialog(dash_duo)
    upload = f"#{ids.CreateJob.UPLOAD} input[type=file]"
    dash_duo.find_element(upload).send_keys(write_jsonl(tmp_path, "few.jsonl", [chat_line(i) for i in range(3)]))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "at least 10 are required", timeout=ticks(15, TICK))
    dash_duo.find_element(upload).send_keys(write_jsonl(tmp_path, "big.jsonl", [chat_line(i) for i in range(40)]))
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "MB can be uploaded", timeout=ticks(15, TICK))
    assert "big.jsonl" in dash_duo.find_element("#create-job-dataset-report").text
    assert len(fakeai.files()) == files_before
    assert dash_duo.get_logs() == []


def test_create011_a_file_over_the_request_cap_is_refused_in_the_browser_unsent(fakeai, start_dash, tmp_path):
    # Bigger than the server's request cap (the limit's base64 plus 1 MB): sent, it would meet a
    # 413 the page cannot show. The browser refuses it first, in the server's own words.
    files_before = len(fakeai.files())
    dash_duo = start(start_dash, fakeai.url, upload_limit_mb=0.002)
    open_dialog(dash_duo)
    size_mb = (request_limit_bytes(0.002) + 256 * 1024) / (1024 * 1024)
    lines = [chat_line(i) for i in range(int(size_mb * 1024 * 1024 / len(chat_line(0))) + 1)]
    path = write_jsonl(tmp_path, "huge.jsonl", lines)
    dash_duo.find_element(f"#{ids.CreateJob.UPLOAD} input[type=file]").send_keys(path)
    dash_duo.wait_for_contains_text("#create-job-dataset-report", "files up to 0.002 MB can be uploaded",
                                    timeout=ticks(15, TICK))
    assert "huge.jsonl" in dash_duo.find_element("#create-job-dataset-report").text
    assert len(fakeai.files()) == files_before
    assert dash_duo.get_logs() == []  # no request the server refused


def test_create005_double_click_creates_exactly_one_job(fakeai, start_dash):
    jobs_before = {j["id"] for j in fakeai.jobs()}
    # The list is kept LONG_TTL: the new row can only appear at once because the create invalidated it.
    dash_duo = start(start_dash, fakeai.url, cache_ttl=LONG_TTL)
    open_dialog(dash_duo)
    fill(dash_duo, "model", MODEL)
    fill(dash_duo, "training_file", fakeai.files()[0]["id"])
    ActionChains(dash_duo.driver).double_click(dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}")).perform()
    wait_closed(dash_duo)
    job_id = wait_selected_path(dash_duo)
    dash_duo.wait_for_element(f"#jobs-grid .ag-row-selected[row-id='{job_id}']", timeout=ticks(10, TICK))
    assert {j["id"] for j in fakeai.jobs()} - jobs_before == {job_id}
    assert dash_duo.get_logs() == []


def test_create006_api_error_is_shown_with_the_input_kept(fakeai, start_dash):
    jobs_before = len(fakeai.jobs())
    dash_duo = start(start_dash, fakeai.url)
    open_dialog(dash_duo)
    fill(dash_duo, "model", MODEL)
    fill(dash_duo, "training_file", "file-doesnotexist")
    fill(dash_duo, "suffix", "keep-me")
    dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").click()
    dash_duo.wait_for_contains_text(f"#{ids.CreateJob.API_ERROR}", "Training file file-doesnotexist not found",
                                    timeout=ticks(10, TICK))
    assert "HTTP 400" in dash_duo.find_element(f"#{ids.CreateJob.API_ERROR}").text
    assert "is-invalid" in dash_duo.find_element(f"#{F['training_file']}").get_attribute("class")
    assert (field_value(dash_duo, "model"), field_value(dash_duo, "suffix")) == (MODEL, "keep-me")
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, ".create-job-dialog.show")
    shot(dash_duo, "05-api-error")
    assert len(fakeai.jobs()) == jobs_before
    # Fixing the field and submitting again works: the failed attempt did not use up the token.
    fill(dash_duo, "training_file", fakeai.files()[0]["id"])
    dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").click()
    wait_closed(dash_duo)
    wait_selected_path(dash_duo)
    assert len(fakeai.jobs()) == jobs_before + 1
    assert dash_duo.get_logs() == []
