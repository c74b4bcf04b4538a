"""Check a JSONL fine-tuning dataset (chat or DPO format) before upload and estimate its tokens and cost."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fakeai_dash.pricing import training_cost

# OpenAI rejects training files with fewer examples than this.
MIN_EXAMPLES = 10
# Longest example OpenAI's current chat models train on; smaller models use less.
DEFAULT_MAX_EXAMPLE_TOKENS = 65536
# OpenAI's "auto" n_epochs is 3 for typical dataset sizes; we cannot know its exact choice.
DEFAULT_EPOCHS = 3
# The report keeps only this many errors so a broken 100k-line file stays a small JSON blob.
MAX_ERRORS_KEPT = 20

# Token estimate constants, after the OpenAI cookbook's tiktoken counting
# (3 tokens per message + the role token, 3 tokens priming each reply).
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_EXAMPLE = 3

ROLES = ("system", "user", "assistant", "tool")
METHODS = ("supervised", "dpo")
_MB = 1024 * 1024


@dataclass
class LineError:
    """One problem, at a 1-based file line (None for whole-file problems)."""

    line: int | None
    message: str


@dataclass
class DatasetReport:
    """Outcome of :func:`validate_jsonl`; ``to_dict`` gives JSON for a ``dcc.Store``."""

    valid: bool
    method: str
    size_bytes: int
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    n_examples: int = 0
    n_valid_examples: int = 0
    n_over_limit: int = 0
    token_limit: int = DEFAULT_MAX_EXAMPLE_TOKENS
    estimated_tokens: int = 0
    example_tokens_min: int | None = None
    example_tokens_mean: float | None = None
    example_tokens_max: int | None = None
    epochs: int = DEFAULT_EPOCHS
    epochs_assumed: bool = True
    estimated_billed_tokens: int = 0
    estimated_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetReport:
        values = dict(data)
        values["errors"] = [LineError(**e) for e in values.get("errors", [])]
        return cls(**values)


class _Errors:
    """Collects errors, counting all but keeping only the first few."""

    def __init__(self) -> None:
        self.kept: list[LineError] = []
        self.count = 0

    def add(self, line: int | None, message: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append(LineError(line, message))


def estimate_text_tokens(text: str) -> int:
    """Rough token count of ``text``: one token per 4 characters, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def validate_jsonl(
    content: bytes | str,
    method: str = "supervised",
    *,
    model: str | None = None,
    n_epochs: int | str | None = None,
    price_table: Mapping[str, float] | None = None,
    max_example_tokens: int = DEFAULT_MAX_EXAMPLE_TOKENS,
    max_bytes: int | None = None,
) -> DatasetReport:
    """Validate a JSONL training file and estimate its size in tokens and dollars.

    ``method`` is ``"supervised"`` (chat ``messages`` per line) or ``"dpo"`` (``input``,
    ``preferred_output``, ``non_preferred_output``). Token counts are an *estimate*, not
    tiktoken: ceil(characters / 4) for each message's text (content, name, tool calls)
    plus 4 tokens per message and 3 per example, mirroring the OpenAI cookbook's
    counting; images and audio parts are not counted, and lines with format errors add no
    tokens. ``estimated_cost`` prices ``estimated_tokens * epochs`` via
    :func:`fakeai_dash.pricing.training_cost`, with 3 epochs assumed when ``n_epochs``
    is None or ``"auto"`` (``epochs_assumed`` says so). A file larger than ``max_bytes``
    is refused without being parsed. Never raises on bad input.
    """
    method = method if method in METHODS else "supervised"
    size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "surrogatepass"))
    epochs, epochs_assumed = _resolve_epochs(n_epochs)
    report = DatasetReport(
        valid=False, method=method, size_bytes=size, token_limit=max_example_tokens,
        epochs=epochs, epochs_assumed=epochs_assumed,
    )
    errors = _Errors()
    if max_bytes is not None and size > max_bytes:
        errors.add(None, f"File is {size / _MB:.1f} MB; the limit for browser upload is {max_bytes / _MB:g} MB")
        return _finish(report, errors, [], model, price_table)
    text = _decode(content, errors)
    if text is None:
        return _finish(report, errors, [], model, price_table)
    example_tokens = _check_lines(text, method, max_example_tokens, report, errors)
    if report.n_examples < MIN_EXAMPLES:
        errors.add(None, f"File has {report.n_examples} example(s); at least {MIN_EXAMPLES} are required")
    return _finish(report, errors, example_tokens, model, price_table)


def _resolve_epochs(n_epochs: int | float | str | None) -> tuple[int, bool]:
    """The epoch count to price with, and whether it was assumed rather than given."""
    try:
        value = float(str(n_epochs).strip()) if not isinstance(n_epochs, bool) else 0.0
    except ValueError:  # None, "auto", "" and other non-numbers
        value = 0.0
    if value >= 1 and value.is_integer():
        return int(value), False
    return DEFAULT_EPOCHS, True


def _decode(content: bytes | str, errors: _Errors) -> str | None:
    """UTF-8 text with any BOM removed, or None after recording why it is not UTF-8."""
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        errors.add(line, f"File is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8")
        return None


def _check_lines(
    text: str, method: str, max_tokens: int, report: DatasetReport, errors: _Errors
) -> list[int]:
    """Validate every non-blank line, filling counts on ``report``; returns tokens per valid example."""
    tokens: list[int] = []
    # Split on "\n" only: str.splitlines would also split on U+2028 etc., which JSON allows inside strings.
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue
        report.n_examples += 1
        example, problems = _parse_example(line, method)
        for problem in problems:
            errors.add(number, problem)
        if example is None:
            continue
        report.n_valid_examples += 1
        count = _example_tokens(example, method)
        tokens.append(count)
        if count > max_tokens:
            report.n_over_limit += 1
            errors.add(number, f"Example is about {count} tokens; the limit is {max_tokens} and longer examples are truncated")
    return tokens


def _parse_example(line: str, method: str) -> tuple[dict[str, Any] | None, list[str]]:
    """One JSONL line as a well-formed example, or None and the problems found."""
    try:
        example = json.loads(line)
    except (ValueError, RecursionError) as exc:  # ValueError covers JSONDecodeError and huge ints
        return None, [f"Invalid JSON: {exc}"]
    if not isinstance(example, dict):
        return None, [f"Each line must be a JSON object, not {_json_type(example)}"]
    problems = _check_dpo(example) if method == "dpo" else _check_chat(example)
    return (None if problems else example), problems


def _check_chat(example: dict[str, Any]) -> list[str]:
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        return ['"messages" must be a non-empty list of messages']
    problems = _check_messages(messages, "messages")
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        problems.append('"messages" has no assistant message to learn from')
    return problems


def _check_dpo(example: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    given = example.get("input")
    messages = given.get("messages") if isinstance(given, dict) else None
    if not isinstance(messages, list) or not messages:
        problems.append('"input" must be an object with a non-empty "messages" list')
    else:
        problems += _check_messages(messages, "input.messages")
    for key in ("preferred_output", "non_preferred_output"):
        output = example.get(key)
        if not isinstance(output, list) or not output:
            problems.append(f'"{key}" must be a non-empty list of assistant messages')
            continue
        problems += _check_messages(output, key)
        # Bad roles are already reported by _check_messages; here only valid non-assistant ones.
        if any(isinstance(m, dict) and m.get("role") in ROLES and m["role"] != "assistant" for m in output):
            problems.append(f'"{key}" may only contain assistant messages')
    return problems


def _check_messages(messages: list[Any], where: str) -> list[str]:
    problems: list[str] = []
    for index, message in enumerate(messages):
        problem = _check_message(message)
        if problem:
            problems.append(f"{where}[{index}]: {problem}")
    return problems


def _check_message(message: Any) -> str | None:
    """The first problem with one chat message, or None."""
    if not isinstance(message, dict):
        return f"message must be an object, not {_json_type(message)}"
    role = message.get("role")
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)} (got {json.dumps(role)})"
    if "weight" in message and message["weight"] not in (0, 1):
        return "weight must be 0 or 1"
    content = message.get("content")
    tool_calls = message.get("tool_calls")
    # An assistant turn that only calls tools legitimately has no text.
    if role == "assistant" and isinstance(tool_calls, list) and tool_calls and content in (None, "", []):
        return None
    if isinstance(content, str):
        return None if content else "content is empty"
    if isinstance(content, list):
        return _check_content_parts(content)
    return "content is missing" if content is None else f"content must be a string or a list of parts, not {_json_type(content)}"


def _check_content_parts(parts: list[Any]) -> str | None:
    """OpenAI's list-of-parts content: objects with a "type"; text parts need non-empty text."""
    if not parts:
        return "content is empty"
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return 'each content part must be an object with a "type"'
        if part["type"] == "text" and not (isinstance(part.get("text"), str) and part["text"]):
            return "a text content part has empty text"
    return None


def _example_tokens(example: dict[str, Any], method: str) -> int:
    """Estimated tokens in one well-formed example (see validate_jsonl for the formula)."""
    if method == "dpo":
        messages = example["input"]["messages"] + example["preferred_output"] + example["non_preferred_output"]
    else:
        messages = example["messages"]
    total = TOKENS_PER_EXAMPLE + sum(TOKENS_PER_MESSAGE + estimate_text_tokens(_message_text(m)) for m in messages)
    if example.get("tools"):
        # Tool schemas are part of the prompt the model sees, so they are billed too.
        total += estimate_text_tokens(_dump(example["tools"]))
    return total


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text") or "" for p in content if isinstance(p.get("text"), str))
    text = content if isinstance(content, str) else ""
    if isinstance(message.get("name"), str):
        text += message["name"]
    if message.get("tool_calls"):
        text += _dump(message["tool_calls"])
    return text


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"))
    except (ValueError, RecursionError):
        return ""


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number", dict: "an object"}
    return names.get(type(value), "null")


def _finish(
    report: DatasetReport,
    errors: _Errors,
    example_tokens: list[int],
    model: str | None,
    price_table: Mapping[str, float] | None,
) -> DatasetReport:
    report.errors = errors.kept
    report.error_count = errors.count
    report.valid = errors.count == 0
    report.estimated_tokens = sum(example_tokens)
    if example_tokens:
        report.example_tokens_min = min(example_tokens)
        report.example_tokens_mean = round(report.estimated_tokens / len(example_tokens), 1)
        report.example_tokens_max = max(example_tokens)
    report.estimated_billed_tokens = report.estimated_tokens * report.epochs
    report.estimated_cost = round(training_cost(report.estimated_billed_tokens, model, price_table), 6)
    return report
