"""Lenient parsing of the wire models (fakeai_dash.api.models), one shape at a time.

The models must read FakeAI, OpenAI and Azure OpenAI bodies alike: unknown statuses and
fields pass through or are ignored, an empty or all-null ``error`` means none, nested
``method.<type>.hyperparameters`` count, metric names are normalised, and a null where a
value was expected reads as "not sent" instead of making a whole list unreadable.
"""

from __future__ import annotations

import pytest

from fakeai_dash.api.models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    Checkpoint,
    Event,
    FileObject,
    Job,
    Page,
    normalise_metrics,
)

FAKEAI_JOB = {
    "id": "ftjob-e52d", "object": "fine_tuning.job", "created_at": 1795666214, "finished_at": None,
    "model": "meta-llama/Llama-3.1-8B-Instruct", "fine_tuned_model": None, "organization_id": "org-fakeai",
    "status": "validating_files", "hyperparameters": {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.1},
    "training_file": "file-3b49", "validation_file": None, "result_files": [], "trained_tokens": None,
    "error": None, "integrations": None, "seed": None, "estimated_finish": 1795666249,
}


# -- jobs ---------------------------------------------------------------------------------


def test_models001_fakeai_job_parses_with_top_level_hyperparameters():
    job = Job.model_validate(FAKEAI_JOB)

    assert (job.id, job.status, job.model) == ("ftjob-e52d", "validating_files", "meta-llama/Llama-3.1-8B-Instruct")
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size,
            job.hyperparameters.learning_rate_multiplier) == (3, 4, 0.1)
    assert job.method_type == "supervised"
    assert job.error is None
    assert job.is_active and not job.is_finished


def test_models002_extra_fields_ignored():
    job = Job.model_validate({**FAKEAI_JOB, "integrations": [{"type": "wandb"}], "brand_new": {"x": 1},
                              "user_provided_suffix": "abc"})

    assert not hasattr(job, "brand_new")
    assert "brand_new" not in job.model_dump()


@pytest.mark.parametrize("status", ["paused", "pending", "whatever_comes_next", "", "RUNNING"])
def test_models003_any_status_is_kept_as_sent(status):
    assert Job.model_validate({**FAKEAI_JOB, "status": status}).status == status


def test_models004_missing_or_null_status_reads_unknown():
    assert Job.model_validate({"id": "j"}).status == "unknown"
    assert Job.model_validate({"id": "j", "status": None}).status == "unknown"


def test_models005_active_and_finished_sets():
    assert {"paused", "pending", "running", "queued", "validating_files"} <= ACTIVE_STATUSES
    assert FINISHED_STATUSES == {"succeeded", "failed", "cancelled"}
    assert not ACTIVE_STATUSES & FINISHED_STATUSES


@pytest.mark.parametrize("error", [None, {}, {"code": None, "message": None, "param": None},
                                   "a string", [], {"unrelated": "x"}])
def test_models006_empty_or_odd_error_is_none(error):
    assert Job.model_validate({**FAKEAI_JOB, "error": error}).error is None


def test_models007_real_error_kept_even_with_only_a_message():
    job = Job.model_validate({**FAKEAI_JOB, "status": "failed", "error": {"message": "OOM", "code": None}})

    assert job.error is not None
    assert (job.error.message, job.error.code, job.error.param) == ("OOM", None, None)


def test_models008_method_nested_hyperparameters_used_when_top_level_missing():
    raw = {"id": "j", "method": {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 0.3}}}}

    job = Job.model_validate(raw)

    assert job.method_type == "supervised"
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size,
            job.hyperparameters.learning_rate_multiplier) == (2, "auto", 0.3)


def test_models009_dpo_beta_read_from_method():
    raw = {"id": "j", "hyperparameters": {"n_epochs": "auto"},
           "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.25, "n_epochs": 3}}}}

    job = Job.model_validate(raw)

    assert job.method_type == "dpo"
    assert job.hyperparameters.beta == 0.25
    assert job.hyperparameters.n_epochs == 3


@pytest.mark.parametrize("method", [None, "supervised", {"type": None}, {"type": 5},
                                    {"type": "dpo", "dpo": None}, {"type": "dpo", "dpo": {"hyperparameters": []}},
                                    {"type": "reinforcement", "reinforcement": {"grader": {}}}])
def test_models010_odd_method_shapes_do_not_break_the_job(method):
    job = Job.model_validate({**FAKEAI_JOB, "method": method})

    assert job.hyperparameters.n_epochs == 3
    assert job.method_type is None or isinstance(job.method_type, str)


def test_models011_null_hyperparameters_read_as_empty():
    job = Job.model_validate({"id": "j", "hyperparameters": None})

    assert job.hyperparameters.n_epochs is None
    assert job.method_type is None


def test_models012_suffix_derived_from_fine_tuned_model():
    job = Job.model_validate({**FAKEAI_JOB, "fine_tuned_model": "ft:gpt-4o-mini:org-1:support-bot:abc123"})

    assert job.suffix == "support-bot"
    assert Job.model_validate({**FAKEAI_JOB, "fine_tuned_model": "ft:m:org-fakeai::123"}).suffix is None
    assert Job.model_validate({**FAKEAI_JOB, "suffix": "given"}).suffix == "given"


@pytest.mark.parametrize("field", ["result_files", "created_at", "model", "hyperparameters", "metadata"])
def test_models013_null_where_a_value_is_expected_reads_as_absent(field):
    job = Job.model_validate({**FAKEAI_JOB, field: None})

    assert job.id == "ftjob-e52d"


def test_models014_metadata_must_be_an_object():
    assert Job.model_validate({**FAKEAI_JOB, "metadata": "x"}).metadata is None
    assert Job.model_validate({**FAKEAI_JOB, "metadata": {"team": "nlp"}}).metadata == {"team": "nlp"}


def test_models015_job_without_id_is_rejected():
    with pytest.raises(ValueError):
        Job.model_validate({"status": "running"})


# -- events, checkpoints, files, pages ----------------------------------------------------


def test_models016_metric_names_normalised():
    assert normalise_metrics({"train_mean_token_accuracy": 0.5, "valid_mean_token_accuracy": 0.4,
                              "full_valid_mean_token_accuracy": 0.3, "train_loss": 1.0,
                              "full_valid_loss": 1.2}) == {
        "train_accuracy": 0.5, "valid_accuracy": 0.4, "full_valid_accuracy": 0.3,
        "train_loss": 1.0, "full_valid_loss": 1.2}
    assert normalise_metrics({"train_accuracy": 0.5}) == {"train_accuracy": 0.5}
    assert normalise_metrics(None) is None
    assert normalise_metrics([1, 2]) is None


def test_models017_event_with_unknown_level_and_missing_fields():
    event = Event.model_validate({"id": "e1", "created_at": 5, "level": "warn", "message": "Careful",
                                  "data": None, "type": "something"})

    assert (event.level, event.type, event.data) == ("warn", "something", None)
    assert Event.model_validate({}).message == ""
    assert Event.model_validate({"message": 42}).message == "42"


def test_models018_event_data_metrics_normalised():
    event = Event.model_validate({"id": "e", "data": {"step": 3, "train_mean_token_accuracy": 0.7}})

    assert event.data == {"step": 3, "train_accuracy": 0.7}


def test_models019_checkpoint_metrics_normalised_and_null_tolerated():
    checkpoint = Checkpoint.model_validate({"id": "c", "step_number": 50,
                                            "metrics": {"full_valid_mean_token_accuracy": 0.8}})
    assert checkpoint.metrics == {"full_valid_accuracy": 0.8}
    assert Checkpoint.model_validate({"id": "c", "metrics": None, "step_number": None}).metrics == {}


def test_models020_file_with_nulls():
    file = FileObject.model_validate({"id": "f", "bytes": None, "created_at": None, "filename": None,
                                      "purpose": "fine-tune", "status_details": None})

    assert (file.id, file.created_at, file.filename) == ("f", 0, "")


def test_models021_page_keeps_only_objects_and_reads_has_more():
    page = Page.model_validate({"object": "list", "data": [{"id": "a"}, 3, None, "x", {"id": "b"}],
                                "has_more": True, "first_id": "a", "last_id": "b"})

    assert page.data == [{"id": "a"}, {"id": "b"}]
    assert page.has_more is True
    assert page.last_id == "b"
    assert Page.model_validate({"object": "list"}).data == []
    assert Page.model_validate({"data": [], "has_more": None}).has_more is False


@pytest.mark.parametrize("data", ["nope", {"id": "a"}, 3])
def test_models022_page_data_must_be_a_list(data):
    with pytest.raises(ValueError):
        Page.model_validate({"data": data})
