"""The model grader: its request to the judge, and the reading of the judge's score."""

from __future__ import annotations

import pytest

from fakeai_dash.evals.grader_config import parse_grader
from fakeai_dash.evals.graders import GraderError
from fakeai_dash.evals.model_grader import grade_with_model, judge_messages, judge_sampling, parse_judge_score

JUDGE = parse_grader({
    "type": "score_model", "name": "judge", "model": "gpt-4o-mini", "range": [0, 10], "pass_threshold": 7,
    "input": [{"role": "developer", "content": "Compare with: {{item.reference_answer}}"},
              {"role": "user", "content": [{"type": "input_text", "text": "Answer: "},
                                           {"type": "input_text", "text": "{{sample.output_text}}"}]}],
    "sampling_params": {"temperature": 0, "seed": 3, "max_completions_tokens": 20},
})
ITEM = {"reference_answer": "東京", "messages": []}


def test_the_request_fills_templates_and_asks_for_the_format_last():
    messages = judge_messages(JUDGE, ITEM, "Tokyo 🗼")
    assert messages[0] == {"role": "system", "content": "Compare with: 東京"}  # developer -> system
    assert messages[1] == {"role": "user", "content": "Answer: Tokyo 🗼"}
    assert messages[-1]["role"] == "system" and '"result"' in messages[-1]["content"] and "0 to 10" in messages[-1]["content"]
    assert judge_sampling(JUDGE) == {"temperature": 0.0, "seed": 3, "max_tokens": 20}


@pytest.mark.parametrize(("reply", "expected"), [
    ('{"result": 7}', 7), ('{"score": 2.5}', 2.5), ("8", 8), (" 0 ", 0),
    ('```json\n{"result": 9, "steps": []}\n```', 9),
    ('I think so. {"result": 6} Done.', 6), ('{"result": 10.0}', 10),
])
def test_the_score_is_read_from_the_reply(reply, expected):
    assert parse_judge_score(reply, (0, 10)) == expected


@pytest.mark.parametrize(("reply", "says"), [
    ("", "holds no score"), ("great answer!", "holds no score"), ('{"result": "high"}', "holds no score"),
    ('{"result": true}', "holds no score"), ("NaN", "holds no score"), ("11", "outside the range"),
    ('{"result": -1}', "outside the range"),
])
def test_a_reply_without_a_usable_score_is_an_error(reply, says):
    with pytest.raises(GraderError, match=says):
        parse_judge_score(reply, (0, 10))


def test_grade_with_model_scales_to_zero_one_and_passes_at_the_threshold():
    calls = []

    def judge(model, messages, sampling):
        calls.append((model, messages, sampling))
        return '{"result": 8}' if "Tokyo" in messages[1]["content"] else '{"result": 3}'

    good = grade_with_model(JUDGE, ITEM, "Tokyo", judge)
    bad = grade_with_model(JUDGE, ITEM, "Osaka", judge)
    assert (good.score, good.passed) == (pytest.approx(0.8), True)
    assert (bad.score, bad.passed) == (pytest.approx(0.3), False)
    assert calls[0][0] == "gpt-4o-mini" and calls[0][2]["seed"] == 3


def test_no_threshold_no_verdict():
    grader = parse_grader({"type": "score_model", "name": "j", "model": "m",
                           "input": [{"role": "user", "content": "{{sample.output_text}}"}]})
    assert grade_with_model(grader, ITEM, "x", lambda *_: "0.25").passed is None


def test_a_template_naming_nothing_fails_before_any_call():
    grader = parse_grader({"type": "score_model", "name": "j", "model": "m",
                           "input": [{"role": "user", "content": "{{item.nope}}"}]})

    def judge(*_):
        raise AssertionError("the judge must not be called")

    with pytest.raises(GraderError, match="item has no 'nope'"):
        grade_with_model(grader, ITEM, "x", judge)
