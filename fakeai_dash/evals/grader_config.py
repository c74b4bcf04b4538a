"""Grader configurations, in OpenAI's grader schema (plus two JSON checks of ours).

``string_check``, ``text_similarity`` and ``score_model`` take the fields OpenAI documents for
its evals and reinforcement fine-tuning graders, so that a grader written here serves there too.
``json_valid`` and ``json_schema`` are ours (OpenAI would run them as a python grader).
Unknown fields are refused rather than ignored: a misspelt ``pass_treshold`` must not silently
grade with no threshold. parse_grader's error names the field at fault.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from fakeai_dash.evals.templates import TemplateError, check_template

OUTPUT_TEXT = "{{sample.output_text}}"
REFERENCE_ANSWER = "{{item.reference_answer}}"

# OpenAI's metrics, all of them, so a config copied from OpenAI reads; those this server cannot
# compute are refused with the reason (see TextSimilarityGrader).
EvaluationMetric = Literal["cosine", "fuzzy_match", "bleu", "gleu", "meteor",
                           "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l"]
UNSUPPORTED_METRICS = {
    "cosine": "it needs an embeddings model (OpenAI uses text-embedding-3-large), which this server does not call",
    "meteor": "it needs the WordNet corpus, which this server cannot download",
}


class GraderConfigError(ValueError):
    """A grader configuration that cannot be used; the text names the field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)

    def openai_dict(self) -> dict[str, Any]:
        """The configuration as OpenAI's API takes it (our own extension fields left out)."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"trim"} & set(type(self).model_fields))


def _template(value: str) -> str:
    try:
        check_template(value)
    except TemplateError as error:
        raise ValueError(str(error)) from None
    return value


class StringCheckGrader(_Config):
    """1 when ``input`` and ``reference`` compare as ``operation`` says, else 0.

    eq and ne compare exactly (code point for code point, as OpenAI's do); like is "input
    contains reference", ilike the same ignoring case (Unicode case folding: "STRASSE" ilike
    "straße").
    """

    type: Literal["string_check"] = "string_check"
    input: str
    reference: str
    operation: Literal["eq", "ne", "like", "ilike"]
    # Ours, not OpenAI's (openai_dict leaves it out): strip surrounding whitespace from both sides
    # first. The default grader uses it: a model's trailing newline is not a wrong answer.
    trim: bool = False

    check_templates = field_validator("input", "reference")(_template)


class TextSimilarityGrader(_Config):
    """A similarity score in [0, 1] between ``input`` and ``reference``; passes at ``pass_threshold``."""

    type: Literal["text_similarity"] = "text_similarity"
    input: str
    reference: str
    evaluation_metric: EvaluationMetric
    pass_threshold: float = Field(ge=0, le=1)

    check_templates = field_validator("input", "reference")(_template)

    @field_validator("evaluation_metric")
    @classmethod
    def _computable(cls, metric: str) -> str:
        if metric in UNSUPPORTED_METRICS:
            raise ValueError(f"{metric} is not available here: {UNSUPPORTED_METRICS[metric]}; use fuzzy_match, "
                             "bleu, gleu, rouge_1 to rouge_5 or rouge_l")
        return metric


class JsonValidGrader(_Config):
    """Ours: 1 when ``input`` parses as JSON, else 0."""

    type: Literal["json_valid"] = "json_valid"
    input: str = OUTPUT_TEXT

    check_templates = field_validator("input")(_template)


class JsonSchemaGrader(_Config):
    """Ours: 1 when ``input`` parses as JSON and is valid against ``schema`` (any JSON Schema
    draft, chosen by its ``$schema``), else 0."""

    type: Literal["json_schema"] = "json_schema"
    input: str = OUTPUT_TEXT
    # "schema" is how OpenAI's response_format names it; it shadows nothing on a pydantic model
    # with this alias.
    json_schema: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    check_templates = field_validator("input")(_template)

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise ValueError(f"not a valid JSON Schema at {where}: {error.message}") from None
        return schema

    def openai_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["input_text", "output_text"]
    text: str


class JudgeMessage(BaseModel):
    """One message of a model grader's prompt; its text may hold templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["message"] = "message"
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    @field_validator("content")
    @classmethod
    def _templates(cls, content: str | list[TextPart]) -> str | list[TextPart]:
        for text in [content] if isinstance(content, str) else [part.text for part in content]:
            _template(text)
        return content


class SamplingParams(BaseModel):
    """The judge's sampling settings, as OpenAI names them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = None
    max_completions_tokens: int | None = Field(None, ge=1)
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None


class ScoreModelGrader(_Config):
    """LLM as judge: ``model`` reads ``input`` (the prompt, with templates) and answers a score
    within ``range``; passes at ``pass_threshold`` when one is given."""

    type: Literal["score_model"] = "score_model"
    model: str = Field(min_length=1)
    input: list[JudgeMessage] = Field(min_length=1)
    range: tuple[float, float] = (0.0, 1.0)
    pass_threshold: float | None = None
    sampling_params: SamplingParams | None = None

    @model_validator(mode="after")
    def _range_and_threshold(self) -> ScoreModelGrader:
        low, high = self.range
        if not low < high:
            raise ValueError(f"range: the low end must be below the high end (got [{low:g}, {high:g}])")
        if self.pass_threshold is not None and not low <= self.pass_threshold <= high:
            raise ValueError(f"pass_threshold: {self.pass_threshold:g} is outside the range [{low:g}, {high:g}]")
        return self


GraderConfig = Annotated[
    Union[StringCheckGrader, TextSimilarityGrader, JsonValidGrader, JsonSchemaGrader, ScoreModelGrader],
    Field(discriminator="type"),
]
GRADER_TYPES = ("string_check", "text_similarity", "json_valid", "json_schema", "score_model")
_ADAPTER: TypeAdapter[Any] = TypeAdapter(GraderConfig)

# The default: the answer against the eval set's reference (the last assistant
# message), trimmed, and exact.
DEFAULT_GRADER = StringCheckGrader(name="exact_match", input=OUTPUT_TEXT, reference=REFERENCE_ANSWER,
                                   operation="eq", trim=True)


def parse_grader(raw: Any) -> GraderConfig:
    """A grader configuration from its JSON shape; GraderConfigError naming the field otherwise."""
    if not isinstance(raw, dict):
        raise GraderConfigError(f"A grader must be a JSON object, not {type(raw).__name__}")
    if raw.get("type") not in GRADER_TYPES:
        raise GraderConfigError(f"type: must be one of {', '.join(GRADER_TYPES)} (got {raw.get('type')!r})")
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise GraderConfigError(_describe(exc, raw["type"])) from None


def _describe(exc: ValidationError, grader_type: str) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = [str(p) for p in error["loc"]]
        loc = loc[1:] if loc and loc[0] == grader_type else loc  # the union's tag is not a field
        field = ".".join(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field for a {grader_type} grader"
        parts.append(f"{field}: {message}" if field and not message.startswith(f"{field}:") else message)
    return f"Bad {grader_type} grader: " + "; ".join(parts)
