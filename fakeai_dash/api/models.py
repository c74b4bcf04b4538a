"""Pydantic models at the wire: jobs, events, checkpoints, files and their list envelopes.

Parsing is lenient on purpose (see DESIGN.md): unknown statuses, levels and fields pass
through as they came, and the shapes of FakeAI, OpenAI and Azure OpenAI all fit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Statuses the API documents; anything else is shown as it came, never rejected.
KNOWN_STATUSES = ("validating_files", "queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATUSES = frozenset({"validating_files", "queued", "running", "paused", "pending"})
FINISHED_STATUSES = frozenset({"succeeded", "failed", "cancelled"})

# OpenAI reports token accuracy as *_mean_token_accuracy, FakeAI as *_accuracy: one name.
METRIC_ALIASES = {
    "train_mean_token_accuracy": "train_accuracy",
    "valid_mean_token_accuracy": "valid_accuracy",
    "full_valid_mean_token_accuracy": "full_valid_accuracy",
}


def normalise_metrics(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    return {METRIC_ALIASES.get(key, key): value for key, value in data.items()}


class _Lenient(BaseModel):
    # A numeric id or model name is still readable text: show it as it came.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_absent(cls, raw: Any) -> Any:
        # A null where a value is expected (result_files, created_at, step_number...) reads as
        # "not sent": one odd job must not make the whole list unreadable.
        if isinstance(raw, dict):
            return {key: value for key, value in raw.items() if value is not None}
        return raw


class JobError(_Lenient):
    code: str | None = None
    message: str | None = None
    param: str | None = None


class Hyperparameters(_Lenient):
    # "auto" stays "auto": the UI shows it as such.
    n_epochs: int | float | str | None = None
    batch_size: int | float | str | None = None
    learning_rate_multiplier: float | str | None = None
    beta: float | str | None = None


class Job(_Lenient):
    id: str
    model: str = ""
    status: str = "unknown"
    created_at: int = 0
    finished_at: int | None = None
    fine_tuned_model: str | None = None
    organization_id: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    trained_tokens: int | None = None
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    method_type: str | None = None
    suffix: str | None = None
    seed: int | None = None
    estimated_finish: int | None = None
    error: JobError | None = None
    metadata: dict[str, Any] | None = None
    result_files: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_wire(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        method = raw.get("method")
        if isinstance(method, dict):
            method_type = method.get("type")
            raw.setdefault("method_type", method_type if isinstance(method_type, str) else None)
            nested = method.get(method_type) if isinstance(method_type, str) else None
            nested_hp = nested.get("hyperparameters") if isinstance(nested, dict) else None
            # OpenAI's newer shape nests hyperparameters under method.<type>; it wins when set.
            if isinstance(nested_hp, dict) and nested_hp:
                merged = dict(raw.get("hyperparameters") or {})
                merged.update({k: v for k, v in nested_hp.items() if v is not None})
                raw["hyperparameters"] = merged
        if not isinstance(raw.get("hyperparameters"), dict):
            raw["hyperparameters"] = {}
        if raw.get("method_type") is None and raw["hyperparameters"]:
            raw["method_type"] = "supervised"
        if raw.get("suffix") is None:
            raw["suffix"] = _suffix_from_model(raw.get("fine_tuned_model"))
        return raw

    @field_validator("error", mode="before")
    @classmethod
    def _empty_error_is_none(cls, value: Any) -> Any:
        # A healthy OpenAI job may send error: {} or all-null fields.
        if not isinstance(value, dict) or not any(value.get(k) for k in ("code", "message", "param")):
            return None
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status_text(cls, value: Any) -> str:
        return str(value) if value is not None else "unknown"

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_dict(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


def _suffix_from_model(name: Any) -> str | None:
    # ft:<base>:<org>:<suffix>:<id> — the suffix is the 4th part when present.
    if isinstance(name, str) and name.startswith("ft:"):
        parts = name.split(":")
        if len(parts) >= 5 and parts[3]:
            return parts[3]
    return None


class Event(_Lenient):
    id: str = ""
    created_at: int = 0
    level: str = "info"
    message: str = ""
    type: str = "message"
    data: dict[str, Any] | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return normalise_metrics(value)

    @field_validator("level", "type", "message", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)


class Checkpoint(_Lenient):
    id: str
    created_at: int = 0
    fine_tuned_model_checkpoint: str | None = None
    fine_tuning_job_id: str | None = None
    step_number: int = 0
    metrics: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metrics", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return normalise_metrics(value) or {}


class FileObject(_Lenient):
    id: str
    bytes: int | None = None
    created_at: int = 0
    filename: str = ""
    purpose: str | None = None
    status: str | None = None


class Model(_Lenient):
    id: str
    owned_by: str | None = None


class Page(_Lenient):
    """A list envelope: ``{"object": "list", "data": [...], "has_more": bool}``."""

    data: list[dict[str, Any]] = Field(default_factory=list)
    has_more: bool = False
    last_id: str | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _only_objects(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("data must be a list")
        return [item for item in value if isinstance(item, dict)]

    @field_validator("has_more", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> bool:
        return bool(value)
