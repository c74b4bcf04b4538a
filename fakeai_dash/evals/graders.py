"""Grade one answer: ``grade(config, item, output_text)`` -> a Grade with a score in [0, 1].

The similarity metrics come from the libraries people compare against, never re-implemented:
rapidfuzz (fuzzy_match, as OpenAI's own grader uses), sacrebleu (BLEU), rouge-score (ROUGE-N and
ROUGE-L), NLTK (Google BLEU, which rouge-score already brings). The JSON checks use jsonschema.
Model graders need an API call and live in fakeai_dash/evals/model_grader.py.

The metric libraries are imported when first used: NLTK alone takes a good part of a second,
which a web worker that never grades must not pay at start-up.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema.validators import validator_for

from fakeai_dash.evals.grader_config import (
    DEFAULT_GRADER,
    GraderConfig,
    JsonSchemaGrader,
    JsonValidGrader,
    ScoreModelGrader,
    StringCheckGrader,
    TextSimilarityGrader,
)
from fakeai_dash.evals.templates import render, sample_namespace


@dataclass(frozen=True)
class Grade:
    score: float  # in [0, 1]
    passed: bool | None  # None: the grader sets no pass mark
    reason: str = ""  # why it did not pass, where there is more to say than the score


class GraderError(ValueError):
    """An answer that could not be graded at all (a template naming nothing, a judge with no score)."""


def grade(config: GraderConfig, item: dict[str, Any], output_text: str) -> Grade:
    """Grade ``output_text`` for the example ``item`` (an EvalExample's ``item``)."""
    if isinstance(config, ScoreModelGrader):
        raise GraderError("A score_model grader calls a model: use model_grader.grade_with_model")
    sample = sample_namespace(output_text)
    try:
        text = render(config.input, item, sample)
        reference = render(config.reference, item, sample) if hasattr(config, "reference") else ""
    except ValueError as error:  # TemplateError
        raise GraderError(f"{config.name}: {error}") from None
    if isinstance(config, StringCheckGrader):
        return string_check(config.operation, text, reference, trim=config.trim)
    if isinstance(config, TextSimilarityGrader):
        score = similarity(config.evaluation_metric, text, reference)
        return Grade(score, score >= config.pass_threshold)
    if isinstance(config, JsonSchemaGrader):
        return json_schema_check(text, config.json_schema)
    if isinstance(config, JsonValidGrader):
        return json_valid(text)
    raise GraderError(f"No grader for {type(config).__name__}")


def default_grade(item: dict[str, Any], output_text: str) -> Grade:
    """The issue's default: the answer against the reference answer, trimmed and exact."""
    return grade(DEFAULT_GRADER, item, output_text)


# -- string_check ----------------------------------------------------------------------------

def string_check(operation: str, text: str, reference: str, *, trim: bool = False) -> Grade:
    if trim:
        text, reference = text.strip(), reference.strip()
    if operation == "eq":
        ok = text == reference
    elif operation == "ne":
        ok = text != reference
    elif operation == "like":
        ok = reference in text
    elif operation == "ilike":
        # casefold, not lower: "ß" and "ss" are one letter ignoring case, as a person reads them.
        ok = reference.casefold() in text.casefold()
    else:
        raise GraderError(f"operation: unknown string_check operation {operation!r}")
    return Grade(1.0 if ok else 0.0, ok)


# -- text_similarity -------------------------------------------------------------------------

def similarity(metric: str, text: str, reference: str) -> float:
    """``metric``'s score of ``text`` against ``reference``, in [0, 1].

    Both are NFC-normalised first: "café" typed with a combining accent is the same text. A text
    is identical to itself (1.0) and an empty one shares nothing with another (0.0), whatever the
    metric: the libraries disagree on these edges (rapidfuzz scores two empty texts 1, sacrebleu 0;
    rouge-score gives 0 to a one-word answer equal to a one-word reference under ROUGE-2), and one
    rule for every metric is clearer.
    """
    text, reference = unicodedata.normalize("NFC", text), unicodedata.normalize("NFC", reference)
    if text.strip() == reference.strip():
        return 1.0
    if not text.strip() or not reference.strip():
        return 0.0
    score = _METRICS[metric](text, reference) if metric in _METRICS else _rouge(metric, text, reference)
    return min(1.0, max(0.0, float(score)))  # BLEU's float sum can land at 1.0000000000000004


def _fuzzy(text: str, reference: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(text, reference) / 100  # normalised Indel similarity, symmetric


# Han ideographs, kana and other scripts written without spaces: each character is a word for
# BLEU and ROUGE. Without this a whole Japanese sentence is one token and any difference scores 0.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\U00020000-\U0002fa1f]")
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\U00020000-\U0002fa1f]|[^\W_]+")


def words(text: str) -> list[str]:
    """Case-folded words of any script, for ROUGE and GLEU. rouge-score's own tokenizer keeps
    only [a-z0-9]: it turns "café" into "caf" and a Chinese answer into nothing at all."""
    return _WORDS.findall(text.casefold())


def _bleu(text: str, reference: str) -> float:
    # sacrebleu's standard 13a tokenizer for spaced scripts; its "zh" tokenizer (13a plus one
    # token per CJK character) where either text has characters written without spaces.
    tokenize = "zh" if _UNSPACED.search(text) or _UNSPACED.search(reference) else "13a"
    return _bleu_metric(tokenize).sentence_score(text, [reference]).score / 100


@lru_cache(maxsize=2)
def _bleu_metric(tokenize: str) -> Any:
    from sacrebleu.metrics import BLEU

    # effective_order: a sentence shorter than 4 words is not zeroed for lacking 4-grams.
    return BLEU(tokenize=tokenize, effective_order=True)


def _gleu(text: str, reference: str) -> float:
    from nltk.translate.gleu_score import sentence_gleu

    return sentence_gleu([words(reference)], words(text))


class _Words:
    """rouge-score's tokenizer interface over :func:`words`."""

    def tokenize(self, text: str) -> list[str]:
        return words(text)


@lru_cache(maxsize=8)
def _rouge_scorer(rouge_type: str) -> Any:
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer([rouge_type], tokenizer=_Words())


def _rouge(metric: str, text: str, reference: str) -> float:
    if not re.fullmatch(r"rouge_[1-5l]", metric):
        raise GraderError(f"evaluation_metric: {metric!r} is not computed here")
    rouge_type = "rougeL" if metric == "rouge_l" else "rouge" + metric[-1]
    return _rouge_scorer(rouge_type).score(reference, text)[rouge_type].fmeasure


_METRICS: dict[str, Callable[[str, str], float]] = {"fuzzy_match": _fuzzy, "bleu": _bleu, "gleu": _gleu}


# -- JSON ------------------------------------------------------------------------------------

def json_valid(text: str) -> Grade:
    try:
        json.loads(text)
    except (ValueError, RecursionError) as error:
        return Grade(0.0, False, f"not JSON: {error}")
    return Grade(1.0, True)


def json_schema_check(text: str, schema: dict[str, Any]) -> Grade:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        return Grade(0.0, False, f"not JSON: {error}")
    error = next(iter(_schema_validator(json.dumps(schema, sort_keys=True)).iter_errors(value)), None)
    if error is None:
        return Grade(1.0, True)
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return Grade(0.0, False, f"at {where}: {error.message}")


@lru_cache(maxsize=32)
def _schema_validator(schema_json: str) -> Any:
    # One validator per schema, not per answer: building it resolves the schema's draft and refs.
    schema = json.loads(schema_json)
    return validator_for(schema)(schema)
