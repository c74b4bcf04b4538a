"""The "create fine-tuning job" form: parse raw Dash input values, check bounds, and build the API payload."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from fakeai_dash.i18n import _

Auto = Literal["auto"]
AUTO: Auto = "auto"

N_EPOCHS_RANGE = (1, 50)
BATCH_SIZE_RANGE = (1, 256)
MAX_LEARNING_RATE_MULTIPLIER = 10.0
MAX_BETA = 2.0
SUFFIX_MAX_LENGTH = 40
SEED_RANGE = (0, 2_147_483_647)
# OpenAI's limits on the metadata object of any resource.
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX_LENGTH = 64
METADATA_VALUE_MAX_LENGTH = 512

FORM_FIELDS = (
    "model", "training_file", "validation_file", "method", "beta", "n_epochs", "batch_size",
    "learning_rate_multiplier", "suffix", "seed", "metadata",
)
HYPERPARAMETER_FIELDS = ("n_epochs", "batch_size", "learning_rate_multiplier", "beta")
_SUFFIX_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_auto(value: Any) -> bool:
    return _blank(value) or (isinstance(value, str) and value.strip().lower() == AUTO)


def _parse_number(value: Any) -> float:
    """A finite number from a Dash input value (number or numeric string); ValueError otherwise."""
    if isinstance(value, bool):  # bool is an int subclass, but True is not a count
        raise ValueError
    number = float(value.strip()) if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _parse_int(value: Any, low: int, high: int) -> int:
    """A whole number in [low, high]; ValueError otherwise (also for 3.5 or "abc")."""
    number = _parse_number(value)
    if not number.is_integer() or not low <= number <= high:
        raise ValueError
    return int(number)


def _optional_text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


class CreateJobForm(BaseModel):
    """A validated create-job form. Auto hyperparameters hold the string ``"auto"``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str
    training_file: str
    validation_file: str | None = None
    method: Literal["supervised", "dpo"] = "supervised"
    beta: float | Auto = AUTO
    n_epochs: int | Auto = AUTO
    batch_size: int | Auto = AUTO
    learning_rate_multiplier: float | Auto = AUTO
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_beta_unless_dpo(cls, data: Any) -> Any:
        # The dialog only hides the beta input for supervised jobs, so a stale value must not block them.
        if isinstance(data, Mapping) and str(data.get("method") or "supervised").strip().lower() != "dpo":
            return {k: v for k, v in data.items() if k != "beta"}
        return data

    @field_validator("model", "training_file", mode="before")
    @classmethod
    def _required_text(cls, value: Any) -> str:
        if _blank(value):
            raise ValueError(_("is required"))
        return str(value).strip()

    @field_validator("validation_file", mode="before")
    @classmethod
    def _validation_file(cls, value: Any) -> str | None:
        return _optional_text(value)

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> str:
        method = "supervised" if _blank(value) else str(value).strip().lower()
        if method not in ("supervised", "dpo"):
            raise ValueError(_("must be supervised or dpo"))
        return method

    @field_validator("n_epochs", mode="before")
    @classmethod
    def _n_epochs(cls, value: Any) -> int | str:
        return _auto_or_int(value, *N_EPOCHS_RANGE)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> int | str:
        return _auto_or_int(value, *BATCH_SIZE_RANGE)

    @field_validator("learning_rate_multiplier", mode="before")
    @classmethod
    def _learning_rate_multiplier(cls, value: Any) -> float | str:
        return _auto_or_positive(value, MAX_LEARNING_RATE_MULTIPLIER)

    @field_validator("beta", mode="before")
    @classmethod
    def _beta(cls, value: Any) -> float | str:
        return _auto_or_positive(value, MAX_BETA)

    @field_validator("suffix", mode="before")
    @classmethod
    def _suffix(cls, value: Any) -> str | None:
        suffix = _optional_text(value)
        if suffix is None:
            return None
        if len(suffix) > SUFFIX_MAX_LENGTH:
            raise ValueError(_("must be at most {max} characters (got {count})").format(max=SUFFIX_MAX_LENGTH, count=len(suffix)))
        if not _SUFFIX_PATTERN.fullmatch(suffix):
            raise ValueError(_("may only contain letters, digits, - and _"))
        return suffix

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> int | None:
        if _blank(value):
            return None
        try:
            return _parse_int(value, *SEED_RANGE)
        except (ValueError, TypeError, OverflowError):
            raise ValueError(_("must be a whole number from {low} to {high}").format(low=SEED_RANGE[0], high=SEED_RANGE[1])) from None

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> dict[str, str] | None:
        return _parse_metadata(value)

    def hyperparameters(self) -> dict[str, Any]:
        """The method's hyperparameters; auto ones are sent as ``"auto"`` rather than omitted."""
        params: dict[str, Any] = {
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": self.learning_rate_multiplier,
        }
        if self.method == "dpo":
            params["beta"] = self.beta
        return params

    def to_payload(self) -> dict[str, Any]:
        """The POST /v1/fine_tuning/jobs body.

        Carries both OpenAI's ``method`` object and the legacy top-level ``hyperparameters``
        (FakeAI reads only the latter; OpenAI accepts both when they agree). Auto values are
        explicit ``"auto"`` strings so both backends see the same request; optional fields
        that are None are omitted.
        """
        hyperparameters = self.hyperparameters()
        legacy = {k: v for k, v in hyperparameters.items() if k != "beta"}
        payload: dict[str, Any] = {
            "model": self.model,
            "training_file": self.training_file,
            "method": {"type": self.method, self.method: {"hyperparameters": hyperparameters}},
            "hyperparameters": legacy,
        }
        for key in ("validation_file", "suffix", "seed", "metadata"):
            value = getattr(self, key)
            if value is not None:
                payload[key] = dict(value) if key == "metadata" else value
        return payload


def _auto_or_int(value: Any, low: int, high: int) -> int | str:
    if _is_auto(value):
        return AUTO
    try:
        return _parse_int(value, low, high)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(_("must be between {low} and {high}, or auto").format(low=low, high=high)) from None


def _auto_or_positive(value: Any, high: float) -> float | str:
    if _is_auto(value):
        return AUTO
    try:
        number = _parse_number(value)
    except (ValueError, TypeError, OverflowError):
        number = math.nan
    if not 0 < number <= high:  # also false for NaN
        raise ValueError(_("must be greater than 0 and at most {high}, or auto").format(high=f"{high:g}"))
    return number


def _metadata_pairs(value: Any) -> list[tuple[Any, Any]]:
    """Key/value pairs from a dict, a list of {"key", "value"} rows, or a list of 2-item lists."""
    if isinstance(value, Mapping):
        return list(value.items())
    if not isinstance(value, (list, tuple)):
        raise ValueError(_("must be key/value pairs"))
    pairs = []
    for row in value:
        if isinstance(row, Mapping):
            pairs.append((row.get("key"), row.get("value")))
        elif isinstance(row, (list, tuple)) and len(row) == 2:
            pairs.append((row[0], row[1]))
        else:
            raise ValueError(_("must be key/value pairs"))
    return pairs


def _parse_metadata(value: Any) -> dict[str, str] | None:
    if _blank(value):
        return None
    result: dict[str, str] = {}
    # Fully blank rows are the dialog's empty "add a pair" lines, not mistakes.
    pairs = [(k, v) for k, v in _metadata_pairs(value) if not (_blank(k) and _blank(v))]
    if len(pairs) > METADATA_MAX_PAIRS:
        raise ValueError(_("at most {max} pairs (got {count})").format(max=METADATA_MAX_PAIRS, count=len(pairs)))
    for raw_key, raw_value in pairs:
        key = "" if _blank(raw_key) else str(raw_key).strip()
        text = "" if raw_value is None else str(raw_value)
        if not key:
            raise ValueError(_("every value needs a key"))
        if len(key) > METADATA_KEY_MAX_LENGTH:
            raise ValueError(_('key "{key}…" is longer than {max} characters').format(key=key[:20], max=METADATA_KEY_MAX_LENGTH))
        if len(text) > METADATA_VALUE_MAX_LENGTH:
            raise ValueError(_('value for "{key}" is longer than {max} characters').format(key=key, max=METADATA_VALUE_MAX_LENGTH))
        if key in result:
            raise ValueError(_('duplicate key "{key}"').format(key=key))
        result[key] = text
    return result or None


def validate_form(raw: Mapping[str, Any]) -> tuple[CreateJobForm | None, dict[str, str]]:
    """The validated form, or None and one message per bad field (``{"n_epochs": "n_epochs: must be ..."}``)."""
    if not isinstance(raw, Mapping):
        return None, {"form": "form: " + _("expected a mapping of field values")}
    data = {key: raw[key] for key in FORM_FIELDS if key in raw}
    try:
        return CreateJobForm.model_validate(data), {}
    except ValidationError as exc:
        return None, _field_messages(exc)


def _field_messages(exc: ValidationError) -> dict[str, str]:
    messages: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        if field in messages:
            continue  # one clear message per field is enough
        if error["type"] == "missing":
            text = _("is required")
        elif error["type"] == "value_error":
            text = str(error["ctx"]["error"])
        else:
            text = error["msg"]
        messages[field] = f"{field}: {text}"
    return messages


def api_param_to_field(param: str | None) -> str | None:
    """The form field an API error's ``param`` refers to, or None when none matches.

    Handles plain names ("suffix"), legacy ("hyperparameters.n_epochs") and method-scoped
    ("method.dpo.hyperparameters.beta") paths, and any "metadata..." key path.
    """
    if not param or not isinstance(param, str):
        return None
    parts = [p for p in re.split(r"[.\[\]]+", param.strip()) if p]
    if not parts:
        return None
    head, last = parts[0], parts[-1]
    if head == "metadata":
        return "metadata"
    if head == "method":
        if len(parts) == 1 or last in ("type", "supervised", "dpo"):
            return "method"
        return last if last in HYPERPARAMETER_FIELDS else None
    if head == "hyperparameters":
        return last if last in HYPERPARAMETER_FIELDS else None
    return head if head in FORM_FIELDS else None
