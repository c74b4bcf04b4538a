"""The model grader (``score_model``, LLM as judge): its request and the reading of its score.

The call itself is a callable handed in, ``judge(model, messages, sampling) -> reply text``, so
the same code runs against a real API (fakeai_dash/api/chat.py) and in tests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from fakeai_dash.evals.grader_config import ScoreModelGrader
from fakeai_dash.evals.graders import Grade, GraderError
from fakeai_dash.evals.templates import TemplateError, render, sample_namespace

Judge = Callable[[str, list[dict[str, str]], dict[str, Any]], str]

# OpenAI asks its judges for structured output; over plain chat completions (FakeAI, Azure
# deployments without it) the format is asked for in words, last, so it is what the judge reads last.
SCORE_FORMAT = ('Answer with only a JSON object {{"result": <score>}}, where <score> is a number '
                'from {low:g} to {high:g}.')
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)
_OBJECT = re.compile(r"\{[^{}]*\}")


def judge_messages(grader: ScoreModelGrader, item: dict[str, Any], output_text: str) -> list[dict[str, str]]:
    """The chat messages sent to the judge: the grader's prompt with its templates filled in,
    then the answer format."""
    sample = sample_namespace(output_text)
    messages = []
    for message in grader.input:
        texts = [message.content] if isinstance(message.content, str) else [p.text for p in message.content]
        try:
            content = "".join(render(text, item, sample) for text in texts)
        except TemplateError as error:
            raise GraderError(f"{grader.name}: {error}") from None
        # "developer" is the newer name for "system"; chat servers that predate it (FakeAI,
        # older Azure api-versions) refuse it, and every one takes "system".
        messages.append({"role": "system" if message.role == "developer" else message.role, "content": content})
    low, high = grader.range
    messages.append({"role": "system", "content": SCORE_FORMAT.format(low=low, high=high)})
    return messages


def judge_sampling(grader: ScoreModelGrader) -> dict[str, Any]:
    """The grader's sampling settings under chat-completion names (OpenAI's grader schema says
    ``max_completions_tokens``; chat completions says ``max_tokens``)."""
    params = grader.sampling_params.model_dump(exclude_none=True) if grader.sampling_params else {}
    if "max_completions_tokens" in params:
        params["max_tokens"] = params.pop("max_completions_tokens")
    return params


def parse_judge_score(reply: str, score_range: tuple[float, float]) -> float:
    """The score in the judge's reply: ``{"result": x}`` (or ``"score"``), possibly inside a
    code fence or a sentence, or a bare number. GraderError when there is none, or it is outside
    ``score_range``: a judge that cannot keep to the scale is not to be averaged in."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    text = fenced.group(1) if fenced else text
    score = _number(text)
    if score is None:
        for candidate in _OBJECT.findall(text):
            score = _number(candidate)
            if score is not None:
                break
    if score is None:
        shown = reply.strip()[:120] or "(empty)"
        raise GraderError(f"The judge's reply holds no score: {shown!r}")
    low, high = score_range
    if not low <= score <= high:
        raise GraderError(f"The judge's score {score:g} is outside the range [{low:g}, {high:g}]")
    return score


def _number(text: str) -> float | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        value = value.get("result", value.get("score"))
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def grade_with_model(grader: ScoreModelGrader, item: dict[str, Any], output_text: str, judge: Judge) -> Grade:
    """Ask ``judge`` for a score; the Grade's score is it scaled to [0, 1] (so means compare
    across graders); ``passed`` compares the judge's own number with ``pass_threshold``."""
    reply = judge(grader.model, judge_messages(grader, item, output_text), judge_sampling(grader))
    raw = parse_judge_score(reply, grader.range)
    low, high = grader.range
    passed = None if grader.pass_threshold is None else raw >= grader.pass_threshold
    return Grade((raw - low) / (high - low), passed, f"judge scored {raw:g}")
