"""Tests for the create-job form model, its bounds, payload and API error mapping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeai_dash.job_request import FORM_FIELDS, CreateJobForm, api_param_to_field, validate_form

BASE = {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-abc123"}


def check(**fields):
    return validate_form({**BASE, **fields})


def accepted(**fields) -> CreateJobForm:
    form, errors = check(**fields)
    assert errors == {} and form is not None
    return form


def rejected(field: str, **fields) -> str:
    form, errors = check(**fields)
    assert form is None
    assert list(errors) == [field], errors
    assert errors[field].startswith(f"{field}: ")
    return errors[field]


# --- required and defaults ------------------------------------------------------------


def test_minimal_form_defaults_to_auto_supervised():
    form = accepted()
    assert form.method == "supervised"
    assert (form.n_epochs, form.batch_size, form.learning_rate_multiplier) == ("auto", "auto", "auto")
    assert form.validation_file is form.suffix is form.seed is form.metadata is None


@pytest.mark.parametrize("field", ["model", "training_file"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_required_text_fields(field, value):
    assert rejected(field, **{field: value}) == f"{field}: is required"


@pytest.mark.parametrize("field", ["model", "training_file"])
def test_missing_required_field(field):
    raw = {k: v for k, v in BASE.items() if k != field}
    form, errors = validate_form(raw)
    assert form is None and errors == {field: f"{field}: is required"}


def test_any_non_blank_file_id_is_accepted_and_stripped():
    assert accepted(training_file="  my-upload  ").training_file == "my-upload"


def test_blank_validation_file_is_none():
    assert accepted(validation_file="  ").validation_file is None
    assert accepted(validation_file="file-v").validation_file == "file-v"


def test_several_bad_fields_give_one_message_each():
    form, errors = validate_form({"model": "", "n_epochs": "0", "seed": "x"})
    assert form is None
    assert set(errors) == {"model", "training_file", "n_epochs", "seed"}
    assert errors["n_epochs"] == "n_epochs: must be between 1 and 50, or auto"


def test_unknown_keys_are_ignored():
    assert accepted(colour="blue").model == BASE["model"]


def test_non_mapping_input_is_an_error_not_a_crash():
    form, errors = validate_form(None)  # type: ignore[arg-type]
    assert form is None and "form" in errors


# --- method and beta ------------------------------------------------------------------


@pytest.mark.parametrize("raw, method", [("supervised", "supervised"), ("DPO", "dpo"), (" dpo ", "dpo"), ("", "supervised"), (None, "supervised")])
def test_method_values(raw, method):
    assert accepted(method=raw).method == method


def test_unknown_method():
    assert rejected("method", method="reinforcement") == "method: must be supervised or dpo"


@pytest.mark.parametrize("beta", ["0", "-1", "2.01", "abc", "nan", "inf"])
def test_beta_out_of_bounds(beta):
    assert rejected("beta", method="dpo", beta=beta) == "beta: must be greater than 0 and at most 2, or auto"


@pytest.mark.parametrize("beta, expected", [("0.0001", 0.0001), (2, 2.0), ("2", 2.0), ("", "auto"), (None, "auto"), ("Auto", "auto")])
def test_beta_in_bounds(beta, expected):
    assert accepted(method="dpo", beta=beta).beta == expected


def test_stale_beta_is_ignored_for_supervised():
    form = accepted(method="supervised", beta="99")
    assert form.beta == "auto" and "beta" not in form.to_payload()["method"]["supervised"]["hyperparameters"]


# --- hyperparameter bounds ------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("1", 1), (1, 1), ("50", 50), (50, 50), (3.0, 3), (" 7 ", 7), ("auto", "auto"), ("AUTO", "auto"), ("", "auto"), (None, "auto")])
def test_n_epochs_accepted(value, expected):
    assert accepted(n_epochs=value).n_epochs == expected


@pytest.mark.parametrize("value", ["0", 0, "51", 51, "2.5", "three", True, -1])
def test_n_epochs_rejected(value):
    assert rejected("n_epochs", n_epochs=value) == "n_epochs: must be between 1 and 50, or auto"


@pytest.mark.parametrize("value, expected", [("1", 1), ("256", 256), (256, 256), ("Auto", "auto")])
def test_batch_size_accepted(value, expected):
    assert accepted(batch_size=value).batch_size == expected


@pytest.mark.parametrize("value", ["0", "257", 257, "1.5", "big"])
def test_batch_size_rejected(value):
    assert rejected("batch_size", batch_size=value) == "batch_size: must be between 1 and 256, or auto"


@pytest.mark.parametrize("value, expected", [("0.0001", 0.0001), ("10", 10.0), (10, 10.0), ("1e-3", 0.001), ("auto", "auto"), ("", "auto")])
def test_learning_rate_multiplier_accepted(value, expected):
    assert accepted(learning_rate_multiplier=value).learning_rate_multiplier == expected


@pytest.mark.parametrize("value", ["0", 0, "10.01", 10.01, "-0.5", "fast", "nan", "inf"])
def test_learning_rate_multiplier_rejected(value):
    message = rejected("learning_rate_multiplier", learning_rate_multiplier=value)
    assert message == "learning_rate_multiplier: must be greater than 0 and at most 10, or auto"


# --- suffix, seed, metadata -----------------------------------------------------------


def test_suffix_bounds():
    assert accepted(suffix="a" * 40).suffix == "a" * 40
    assert "at most 40" in rejected("suffix", suffix="a" * 41)


@pytest.mark.parametrize("suffix", ["My_model-2", "  trimmed  ", "X"])
def test_suffix_good(suffix):
    assert accepted(suffix=suffix).suffix == suffix.strip()


@pytest.mark.parametrize("suffix", ["has space", "dot.ted", "slash/", "émoji", "colon:"])
def test_suffix_bad_characters(suffix):
    assert rejected("suffix", suffix=suffix) == "suffix: may only contain letters, digits, - and _"


def test_blank_suffix_is_none():
    assert accepted(suffix="   ").suffix is None


@pytest.mark.parametrize("seed, expected", [("0", 0), (0, 0), ("2147483647", 2147483647), ("", None), (None, None)])
def test_seed_accepted(seed, expected):
    assert accepted(seed=seed).seed == expected


@pytest.mark.parametrize("seed", ["-1", -1, "2147483648", 2147483648, "1.5", "auto", "x"])
def test_seed_rejected(seed):
    assert rejected("seed", seed=seed) == "seed: must be a whole number from 0 to 2147483647"


def pairs(n: int) -> list[dict]:
    return [{"key": f"k{i}", "value": f"v{i}"} for i in range(n)]


def test_metadata_sixteen_pairs_ok_seventeen_not():
    assert len(accepted(metadata=pairs(16)).metadata) == 16
    assert "at most 16" in rejected("metadata", metadata=pairs(17))


def test_metadata_key_length():
    assert accepted(metadata={"k" * 64: "v"}).metadata == {"k" * 64: "v"}
    assert "64" in rejected("metadata", metadata={"k" * 65: "v"})


def test_metadata_value_length():
    assert accepted(metadata=[["k", "v" * 512]]).metadata == {"k": "v" * 512}
    assert "512" in rejected("metadata", metadata=[["k", "v" * 513]])


def test_metadata_duplicate_keys():
    message = rejected("metadata", metadata=[{"key": "team", "value": "a"}, {"key": " team ", "value": "b"}])
    assert "duplicate" in message and "team" in message


def test_metadata_value_without_key():
    assert "key" in rejected("metadata", metadata=[{"key": "", "value": "orphan"}])


def test_metadata_blank_rows_are_skipped_and_empty_is_none():
    form = accepted(metadata=[{"key": "", "value": ""}, {"key": "a", "value": None}, {"key": None, "value": None}])
    assert form.metadata == {"a": ""}
    assert accepted(metadata=[{"key": "", "value": ""}]).metadata is None
    assert accepted(metadata="").metadata is None


@pytest.mark.parametrize("metadata", ["team=a", [1, 2, 3], 5])
def test_metadata_wrong_shape(metadata):
    assert rejected("metadata", metadata=metadata) == "metadata: must be key/value pairs"


# --- payload --------------------------------------------------------------------------


def test_supervised_payload_shape():
    form = accepted(n_epochs="4", batch_size="auto", learning_rate_multiplier="0.5", suffix="demo", seed="42",
                    validation_file="file-val", metadata=[{"key": "team", "value": "ml"}])
    hyper = {"n_epochs": 4, "batch_size": "auto", "learning_rate_multiplier": 0.5}
    assert form.to_payload() == {
        "model": BASE["model"],
        "training_file": "file-abc123",
        "validation_file": "file-val",
        "suffix": "demo",
        "seed": 42,
        "metadata": {"team": "ml"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
        "hyperparameters": hyper,
    }


def test_dpo_payload_shape_and_omitted_optionals():
    payload = accepted(method="dpo", beta="0.1", n_epochs=2).to_payload()
    assert payload == {
        "model": BASE["model"],
        "training_file": "file-abc123",
        "method": {"type": "dpo", "dpo": {"hyperparameters": {
            "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto", "beta": 0.1}}},
        # FakeAI's legacy hyperparameters know nothing of beta.
        "hyperparameters": {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto"},
    }


def test_payload_is_a_copy():
    form = accepted(metadata={"a": "b"})
    form.to_payload()["metadata"]["a"] = "changed"
    assert form.metadata == {"a": "b"}


# --- API param mapping ----------------------------------------------------------------


@pytest.mark.parametrize("param, field", [
    ("training_file", "training_file"),
    ("validation_file", "validation_file"),
    ("model", "model"),
    ("suffix", "suffix"),
    ("seed", "seed"),
    ("hyperparameters.n_epochs", "n_epochs"),
    ("hyperparameters.learning_rate_multiplier", "learning_rate_multiplier"),
    ("method.supervised.hyperparameters.batch_size", "batch_size"),
    ("method.dpo.hyperparameters.beta", "beta"),
    ("method.type", "method"),
    ("method", "method"),
    ("metadata", "metadata"),
    ("metadata.n_epochs", "metadata"),
    ("metadata[team]", "metadata"),
    ("hyperparameters", None),
    ("integrations[0].wandb.project", None),
    ("unknown", None),
    ("", None),
    (None, None),
])
def test_api_param_to_field(param, field):
    assert api_param_to_field(param) == field


def test_every_mapped_field_is_a_form_field():
    for param in ("hyperparameters.batch_size", "method.dpo.hyperparameters.n_epochs", "suffix"):
        assert api_param_to_field(param) in FORM_FIELDS


# --- never raises ---------------------------------------------------------------------


form_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "auto", "AUTO", "0", "1", "50", "51", "-1", "1e400", "nan", "2147483648", "dpo", "supervised"]),
)


@settings(max_examples=400, deadline=None)
@given(raw=st.dictionaries(st.sampled_from(FORM_FIELDS) | st.text(max_size=8), form_values, max_size=14))
def test_validate_form_never_raises(raw):
    form, errors = validate_form(raw)
    assert (form is None) == bool(errors)
    assert all(message.startswith(f"{field}: ") for field, message in errors.items())
    if form is not None:
        form.to_payload()
