"""The graders on crafted answers: exact checks, similarity metrics, JSON checks, configs.

Unicode is where graders quietly go wrong: "café" with a combining accent, CJK with no spaces
between words, emoji outside the Basic Multilingual Plane, and empty answers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeai_dash.evals.grader_config import (
    DEFAULT_GRADER,
    GraderConfigError,
    JsonSchemaGrader,
    StringCheckGrader,
    TextSimilarityGrader,
    parse_grader,
)
from fakeai_dash.evals.graders import (
    GraderError,
    default_grade,
    grade,
    json_schema_check,
    json_valid,
    similarity,
    string_check,
    words,
)
from fakeai_dash.evals.templates import TemplateError, render

COMPOSED, DECOMPOSED = "café", "cafe\u0301"  # one string to a reader, two to a computer
METRICS = ("fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l")
ITEM = {"reference_answer": "Paris", "messages": [{"role": "user", "content": "Capital of France?"}],
        "meta": {"tags": ["geo", "europe"]}}


def check(operation: str, text: str, reference: str, **kwargs) -> float:
    return string_check(operation, text, reference, **kwargs).score


# -- string_check ----------------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "text", "reference", "expected"), [
    ("eq", "Paris", "Paris", 1), ("eq", "Paris", "paris", 0), ("eq", "Paris ", "Paris", 0),
    ("ne", "Paris", "Lyon", 1), ("ne", "Paris", "Paris", 0),
    ("like", "The capital is Paris.", "Paris", 1), ("like", "The capital is paris.", "Paris", 0),
    ("ilike", "THE CAPITAL IS PARIS.", "paris", 1), ("ilike", "Lyon", "paris", 0),
    # casefold, not lower: ß folds to ss
    ("ilike", "STRASSE", "straße", 1),
    ("eq", COMPOSED, DECOMPOSED, 0),  # exact means code points, like OpenAI's eq
    ("eq", "東京", "東京", 1), ("like", "首都は東京です", "東京", 1),
    ("eq", "👍🏽", "👍🏽", 1), ("eq", "👍🏽", "👍", 0), ("like", "ok 👍🏽!", "👍🏽", 1),
    ("eq", "", "", 1), ("eq", "", "Paris", 0), ("like", "", "Paris", 0),
    ("like", "anything", "", 1),  # the empty string is in every string
])
def test_string_check(operation, text, reference, expected):
    assert check(operation, text, reference) == expected


def test_trim_strips_both_sides_and_only_whitespace():
    assert check("eq", "  Paris\n", "Paris", trim=True) == 1
    assert check("eq", "Paris.", "Paris", trim=True) == 0
    assert check("eq", "\u3000東京\u3000", "東京", trim=True) == 1  # ideographic space is whitespace


def test_default_grader_is_trimmed_exact_match_on_the_reference_answer():
    assert DEFAULT_GRADER.operation == "eq" and DEFAULT_GRADER.trim
    assert default_grade(ITEM, "Paris\n").score == 1
    assert default_grade(ITEM, "paris").score == 0
    assert default_grade(ITEM, "").score == 0
    assert default_grade({**ITEM, "reference_answer": " Paris "}, "Paris").score == 1
    # OpenAI's API gets OpenAI's fields only
    assert "trim" not in DEFAULT_GRADER.openai_dict()


@given(st.text())
def test_eq_is_reflexive_and_ne_its_opposite(text):
    assert check("eq", text, text) == 1 and check("ne", text, text) == 0
    assert check("like", text, text) == 1 and check("ilike", text, text) == 1


@given(st.text(), st.text())
def test_eq_and_ne_always_disagree(a, b):
    assert check("eq", a, b) + check("ne", a, b) == 1


# -- text_similarity -------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRICS)
def test_identical_texts_score_one_in_every_script(metric):
    for text in ("the cat sat on the mat today", "東京は日本の首都です", "café au lait 👍🏽", "x"):
        assert similarity(metric, text, text) == pytest.approx(1.0), text


@pytest.mark.parametrize("metric", METRICS)
def test_empty_answers(metric):
    assert similarity(metric, "", "Paris") == 0.0
    assert similarity(metric, "   ", "Paris") == 0.0
    assert similarity(metric, "Paris", "") == 0.0
    assert similarity(metric, "", "") == 1.0


@pytest.mark.parametrize("metric", METRICS)
def test_composed_and_decomposed_accents_are_the_same_text(metric):
    assert similarity(metric, f"un {COMPOSED} noir", f"un {DECOMPOSED} noir") == pytest.approx(1.0)


@pytest.mark.parametrize("metric", ["fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_l"])
def test_a_near_answer_scores_between_a_wrong_one_and_the_right_one(metric):
    reference = "the quick brown fox jumps over the lazy dog"
    near = similarity(metric, "the quick brown fox jumped over the lazy dog", reference)
    wrong = similarity(metric, "an entirely unrelated sentence about spreadsheets", reference)
    assert wrong < near < 1.0


@pytest.mark.parametrize("metric", ["bleu", "rouge_1", "rouge_l", "gleu"])
def test_cjk_partial_answers_get_partial_credit(metric):
    # Without per-character words a whole sentence is one token and this scores 0.
    assert 0.3 < similarity(metric, "東京は日本の首都です", "東京は日本の首都だ") < 1.0


def test_library_values_are_the_libraries_own():
    """Pinned against the libraries called directly, so a wrong wiring (a swapped argument, a
    metric mapped to the wrong ROUGE type) shows as a number, not a vibe."""
    from rapidfuzz import fuzz
    from rouge_score.rouge_scorer import RougeScorer
    from sacrebleu.metrics import BLEU

    text, reference = "the cat is on the mat", "there is a cat on the mat"
    assert similarity("fuzzy_match", text, reference) == pytest.approx(fuzz.ratio(text, reference) / 100)
    expected_bleu = BLEU(effective_order=True).sentence_score(text, [reference]).score / 100
    assert similarity("bleu", text, reference) == pytest.approx(expected_bleu)
    for metric, rouge_type in (("rouge_2", "rouge2"), ("rouge_l", "rougeL")):
        expected = RougeScorer([rouge_type]).score(reference, text)[rouge_type].fmeasure
        assert similarity(metric, text, reference) == pytest.approx(expected)
    assert similarity("rouge_2", text, reference) != similarity("rouge_1", text, reference)


def test_words_keep_every_script():
    assert words("Café au LAIT") == ["café", "au", "lait"]
    assert words("東京です") == ["東", "京", "で", "す"]
    assert words("naïve_test 42") == ["naïve", "test", "42"]


@given(st.sampled_from(METRICS), st.text(max_size=60), st.text(max_size=60))
def test_every_similarity_is_within_zero_and_one(metric, a, b):
    assert 0.0 <= similarity(metric, a, b) <= 1.0


@given(st.text(max_size=80), st.text(max_size=80))
def test_fuzzy_match_is_symmetric(a, b):
    assert similarity("fuzzy_match", a, b) == pytest.approx(similarity("fuzzy_match", b, a))


def test_text_similarity_passes_at_its_threshold():
    config = TextSimilarityGrader(name="f", input="{{sample.output_text}}", reference="{{item.reference_answer}}",
                                  evaluation_metric="fuzzy_match", pass_threshold=0.8)
    close = grade(config, ITEM, "Pariss")  # 10/11
    assert close.passed and close.score == pytest.approx(10 / 11)
    assert not grade(config, ITEM, "Lyon").passed


# -- JSON ------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
          "required": ["city"], "additionalProperties": False}


@pytest.mark.parametrize(("text", "ok"), [('{"a": 1}', True), ("[1, 2]", True), ('"東京"', True), ("null", True),
                                          ("", False), ("{'a': 1}", False), ('{"a": 1', False), ("```json\n{}\n```", False)])
def test_json_valid(text, ok):
    assert json_valid(text).passed is ok


def test_json_schema_names_the_failing_path():
    assert json_schema_check('{"city": "東京", "rank": 1}', SCHEMA).passed
    wrong = json_schema_check('{"city": "Paris", "rank": "first"}', SCHEMA)
    assert not wrong.passed and "rank" in wrong.reason and wrong.score == 0
    assert "not JSON" in json_schema_check("", SCHEMA).reason
    assert "city" in json_schema_check("{}", SCHEMA).reason


def test_json_schema_grader_reads_the_answer_through_its_template():
    config = parse_grader({"type": "json_schema", "name": "shape", "schema": SCHEMA})
    assert isinstance(config, JsonSchemaGrader)
    assert grade(config, ITEM, '{"city": "Paris"}').score == 1
    assert grade(config, ITEM, '{"town": "Paris"}').score == 0


# -- templates -------------------------------------------------------------------------------

def test_templates_fill_item_and_sample_values():
    sample = {"output_text": "Lyon", "output_json": {"k": [1, 2]}}
    text = "{{ item.reference_answer }}/{{sample.output_text}}/{{item.meta.tags[1]}}/{{item.messages[0].content}}"
    assert render(text, ITEM, sample) == "Paris/Lyon/europe/Capital of France?"
    assert render("{{sample.output_json.k}}", ITEM, sample) == "[1, 2]"
    assert render("no placeholders {x}", ITEM, sample) == "no placeholders {x}"


@pytest.mark.parametrize(("template", "says"), [
    ("{{item.missing}}", "item has no 'missing'"), ("{{item.meta.tags[5]}}", "item.meta.tags has no 5"),
    ("{{other.x}}", "unknown namespace"), ("{{item}}", "name a variable"),
])
def test_a_template_naming_nothing_says_what(template, says):
    with pytest.raises(TemplateError, match=says.replace("[", r"\[")):
        render(template, ITEM, {"output_text": ""})


def test_output_json_is_missing_when_the_answer_is_not_json():
    config = StringCheckGrader(name="j", input="{{sample.output_json.city}}", reference="Paris", operation="eq")
    assert grade(config, ITEM, '{"city": "Paris"}').score == 1
    with pytest.raises(GraderError, match="output_json"):
        grade(config, ITEM, "Paris")


# -- configurations --------------------------------------------------------------------------

BASE = {"name": "g", "input": "{{sample.output_text}}", "reference": "{{item.reference_answer}}"}


@pytest.mark.parametrize(("raw", "field", "says"), [
    ({"type": "string_check", **BASE, "operation": "contains"}, "operation", "'eq', 'ne', 'like' or 'ilike'"),
    ({"type": "string_check", **BASE}, "operation", "Field required"),
    ({"type": "string_check", **BASE, "operation": "eq", "name": ""}, "name", "at least 1"),
    ({"type": "string_check", **BASE, "operation": "eq", "input": "{{answer}}"}, "input", "unknown namespace"),
    ({"type": "text_similarity", **BASE, "evaluation_metric": "bleu", "pass_treshold": 0.5}, "pass_treshold",
     "unknown field"),
    ({"type": "text_similarity", **BASE, "evaluation_metric": "bleu", "pass_threshold": 1.5}, "pass_threshold",
     "less than or equal to 1"),
    ({"type": "text_similarity", **BASE, "evaluation_metric": "meteor", "pass_threshold": 0.5}, "evaluation_metric",
     "WordNet"),
    ({"type": "text_similarity", **BASE, "evaluation_metric": "cosine", "pass_threshold": 0.5}, "evaluation_metric",
     "embeddings"),
    ({"type": "json_schema", "name": "s", "schema": {"type": "strnig"}}, "schema", "not a valid JSON Schema"),
    ({"type": "score_model", "name": "j", "model": "m", "input": []}, "input", "at least 1"),
    ({"type": "score_model", "name": "j", "model": "m", "input": [{"role": "judge", "content": "x"}]}, "input.0.role",
     "'system', 'developer', 'user' or 'assistant'"),
    ({"type": "score_model", "name": "j", "model": "m", "input": [{"role": "user", "content": "x"}], "range": [1, 1]},
     "range", "low end must be below"),
    ({"type": "score_model", "name": "j", "model": "m", "input": [{"role": "user", "content": "x"}],
      "sampling_params": {"temperature": 3}}, "sampling_params.temperature", "less than or equal to 2"),
    ({"type": "regex", "name": "r"}, "type", "must be one of"),
])
def test_a_bad_config_names_its_field(raw, field, says):
    with pytest.raises(GraderConfigError) as caught:
        parse_grader(raw)
    message = str(caught.value)
    assert f"{field}:" in message and says in message, message


def test_openai_configs_read_as_written_and_write_back_the_same():
    raws = [
        {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "operation": "ilike"},
        {"type": "text_similarity", "name": "rouge", "input": "{{sample.output_text}}",
         "reference": "{{item.reference_answer}}", "evaluation_metric": "rouge_l", "pass_threshold": 0.6},
        {"type": "score_model", "name": "judge", "model": "gpt-4o-mini", "range": [0.0, 10.0], "pass_threshold": 7.0,
         "input": [{"type": "message", "role": "system", "content": "Grade it."},
                   {"type": "message", "role": "user", "content": "{{sample.output_text}}"}],
         "sampling_params": {"temperature": 0.0, "seed": 7}},
    ]
    for raw in raws:
        assert parse_grader(raw).openai_dict() == raw
