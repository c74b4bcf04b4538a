"""Check a JSONL fine-tuning dataset (chat or DPO format) before upload and estimate its tokens and cost.

Over 400 lines for one concern: a bounded parser of hostile input (sizes, depth, encodings) and
the checks OpenAI documents for each method, read line by line in one pass.
"""

from __future__ import annotations

import json
import math
import re
from json.scanner import make_scanner
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fakeai_dash.i18n import N_, _
from fakeai_dash.pricing import training_cost

# OpenAI rejects training files with fewer examples than this.
MIN_EXAMPLES = 10
# Longest example OpenAI's current chat models train on; smaller models use less.
DEFAULT_MAX_EXAMPLE_TOKENS = 65536
# OpenAI's "auto" n_epochs is 3 for typical dataset sizes; we cannot know its exact choice.
DEFAULT_EPOCHS = 3
# The report keeps only this many errors so a broken 100k-line file stays a small JSON blob.
MAX_ERRORS_KEPT = 20
# Bounds that keep a hostile upload cheap (the check runs in a web worker): a 50 MB file
# costs at most a few tens of MB and a few seconds, whatever its shape (tests/bench/hostile_upload.py).
# Stop listing a line's problems after this many, and stop reading the file after this many in all.
MAX_PROBLEMS_PER_LINE = 5
MAX_PROBLEMS_PER_FILE = 1_000
# A line longer than this is reported, never parsed. OpenAI's longest trainable example is
# 65,536 tokens (about 256 KiB of text); 4 MiB leaves room for tool schemas and inline images.
MAX_LINE_CHARS = 4 * 1024 * 1024
# json.loads turns each "{}" of a line into a 64-byte dict: a line with more objects and arrays
# than this ("{" and "[" counted before parsing) is reported, never parsed.
MAX_CONTAINERS_PER_LINE = 50_000
# One error text at most this long: a 4 MB role value must not travel into the report.
MAX_MESSAGE_CHARS = 300

# Token estimate constants, after the OpenAI cookbook's tiktoken counting
# (3 tokens per message + the role token, 3 tokens priming each reply).
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_EXAMPLE = 3

ROLES = ("system", "user", "assistant", "tool")
_ROLE_SET = frozenset(ROLES)
METHODS = ("supervised", "dpo")
_MB = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
# A line from its first non-whitespace character to its end; blank lines never match.
_NON_BLANK_BYTES = re.compile(rb"\S[^\n]*")
_NON_BLANK_TEXT = re.compile(r"\S[^\n]*")
_SCAN_JSON = make_scanner(json.JSONDecoder())


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
    """Collects errors, counting all but keeping only the first few line errors (and every
    whole-file one: there are at most three, and "checking stopped" must never be hidden)."""

    def __init__(self) -> None:
        self.kept: list[LineError] = []
        self.count = 0

    def add(self, line: int | None, message: str) -> None:
        self.count += 1
        if line is None or len(self.kept) < MAX_ERRORS_KEPT:
            if len(message) > MAX_MESSAGE_CHARS:
                message = message[: MAX_MESSAGE_CHARS - 1] + "…"
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
    is refused without being parsed. Never raises on bad input, and stays bounded on
    hostile input: see MAX_PROBLEMS_PER_LINE, MAX_PROBLEMS_PER_FILE, MAX_LINE_CHARS and
    MAX_CONTAINERS_PER_LINE.
    """
    method = method if method in METHODS else "supervised"
    size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "surrogatepass"))
    epochs, epochs_assumed = _resolve_epochs(n_epochs)
    report = DatasetReport(
        valid=False, method=method, size_bytes=size, token_limit=max_example_tokens,
        epochs=epochs, epochs_assumed=epochs_assumed,
    )
    errors, tokens = _Errors(), _TokenStats()
    if max_bytes is not None and size > max_bytes:
        errors.add(None, _("File is {size} MB; the limit for browser upload is {limit} MB").format(
            size=f"{size / _MB:.1f}", limit=f"{max_bytes / _MB:g}"))
        return _finish(report, errors, tokens, model, price_table)
    finished = _check_lines(content, method, max_example_tokens, report, errors, tokens)
    if finished and report.n_examples < MIN_EXAMPLES:
        errors.add(None, _("File has {count} example(s); at least {minimum} are required").format(
            count=report.n_examples, minimum=MIN_EXAMPLES))
    return _finish(report, errors, tokens, model, price_table)


def _resolve_epochs(n_epochs: int | float | str | None) -> tuple[int, bool]:
    """The epoch count to price with, and whether it was assumed rather than given."""
    try:
        value = float(str(n_epochs).strip()) if not isinstance(n_epochs, bool) else 0.0
    except ValueError:  # None, "auto", "" and other non-numbers
        value = 0.0
    if value >= 1 and value.is_integer():
        return int(value), False
    return DEFAULT_EPOCHS, True


class _LineNumbers:
    """The 1-based line number of an offset, counted forward only when asked (errors need it)."""

    def __init__(self, content: bytes | str) -> None:
        self.content = content
        self.newline = b"\n" if isinstance(content, bytes) else "\n"
        self.number, self.counted_to = 1, 0

    def at(self, offset: int) -> int:
        self.number += self.content.count(self.newline, self.counted_to, offset)
        self.counted_to = offset
        return self.number


def _line_text(content: bytes | str, start: int, end: int) -> str:
    """One line as text without BOM or surrounding whitespace; raises UnicodeDecodeError."""
    raw = content[start:end]
    if isinstance(raw, str):
        return (raw.removeprefix("\ufeff") if start == 0 else raw).strip()
    if start == 0 and raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    return raw.decode("utf-8").strip()


class _TokenStats:
    """Running count, sum, min and max of the examples' token estimates (memory stays flat)."""

    def __init__(self) -> None:
        self.count = self.total = 0
        self.low: int | None = None
        self.high: int | None = None

    def add(self, tokens: int) -> None:
        self.count += 1
        self.total += tokens
        if self.low is None or tokens < self.low:
            self.low = tokens
        if self.high is None or tokens > self.high:
            self.high = tokens


def _check_lines(content: bytes | str, method: str, max_tokens: int, report: DatasetReport,
                 errors: _Errors, tokens: _TokenStats) -> bool:
    """Validate every non-blank line, filling counts on ``report`` and ``tokens``.

    Returns False when checking stopped early: a line that is not UTF-8, or more than
    MAX_PROBLEMS_PER_FILE problems (the rest of the file is not looked at). The regex skips
    blank lines in C (fifty million newlines cost no Python loop) and a line over
    MAX_LINE_CHARS is measured, never copied. Lines split on "\n" only: str.splitlines would
    also split on U+2028, which JSON allows inside strings.
    """
    numbers = _LineNumbers(content)
    pattern = _NON_BLANK_BYTES if isinstance(content, bytes) else _NON_BLANK_TEXT
    for match in pattern.finditer(content):
        start, end = match.span()
        if errors.count >= MAX_PROBLEMS_PER_FILE:
            errors.add(None, _("Checking stopped at line {line} after {count} problems; fix these and choose the file "
                               "again").format(line=numbers.at(start), count=f"{MAX_PROBLEMS_PER_FILE:,}"))
            return False
        report.n_examples += 1
        if end - start > MAX_LINE_CHARS:
            errors.add(numbers.at(start), _("Line is {size} MB; lines longer than {limit} MB are not checked (an "
                                            "example that long cannot be trained on)").format(
                size=f"{(end - start) / _MB:.1f}", limit=f"{MAX_LINE_CHARS / _MB:g}"))
            continue
        try:
            line = _line_text(content, start, end)
        except UnicodeDecodeError as exc:
            report.n_examples -= 1
            bom = len(_BOM) if start == 0 and content.startswith(_BOM) else 0
            errors.add(numbers.at(start), _("File is not UTF-8 text (bad byte at offset {offset}); save it as "
                                            "UTF-8").format(offset=start + bom + exc.start))
            return False
        if not line:  # only Unicode whitespace (a no-break space, say)
            report.n_examples -= 1
            continue
        example, problems = _parse_example(line, method)
        if problems:
            number = numbers.at(start)
            for problem in problems[:MAX_PROBLEMS_PER_LINE]:
                errors.add(number, problem)
            if len(problems) > MAX_PROBLEMS_PER_LINE:
                errors.add(number, _("More than {count} problems on this line; the rest are not listed").format(
                    count=MAX_PROBLEMS_PER_LINE))
        if example is None:
            continue
        report.n_valid_examples += 1
        count = _example_tokens(example, method)
        tokens.add(count)
        if count > max_tokens:
            report.n_over_limit += 1
            errors.add(numbers.at(start), _("Example is about {count} tokens; the limit is {limit} and longer "
                                            "examples are truncated").format(count=count, limit=max_tokens))
    return True


def _parse_example(line: str, method: str) -> tuple[dict[str, Any] | None, list[str]]:
    """One JSONL line as a well-formed example, or None and the problems found."""
    # Each object or array takes at least two characters: only a long line can hold too many.
    containers = line.count("{") + line.count("[") if len(line) > 2 * MAX_CONTAINERS_PER_LINE else 0
    if containers > MAX_CONTAINERS_PER_LINE:
        return None, [_("Line holds {count} JSON objects and arrays; more than {limit} are not checked (an example "
                        "that large cannot be trained on)").format(count=f"{containers:,}",
                                                                   limit=f"{MAX_CONTAINERS_PER_LINE:,}")]
    try:
        example = _parse_json(line)
    except (ValueError, RecursionError) as exc:  # ValueError covers JSONDecodeError and huge ints
        return None, [_("Invalid JSON: {error}").format(error=exc)]
    if not isinstance(example, dict):
        return None, [_("Each line must be a JSON object, not {type}").format(type=_json_type(example))]
    problems = _check_dpo(example) if method == "dpo" else _check_chat(example)
    return (None if problems else example), problems


def _parse_json(line: str) -> Any:
    """json.loads for one stripped line, a third of its cost: the C scanner called directly
    (a 50 MB file of tiny examples is a million calls). json.loads words any error."""
    try:
        value, end = _SCAN_JSON(line, 0)
    except StopIteration:
        end = -1
    return value if end == len(line) else json.loads(line)


def _check_chat(example: dict[str, Any]) -> list[str]:
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        return [_('"messages" must be a non-empty list of messages')]
    problems = _check_messages(messages, "messages")
    if not _has_assistant(messages):
        problems.append(_('"messages" has no assistant message to learn from'))
    return problems


def _has_assistant(messages: list[Any]) -> bool:
    for message in messages:  # a plain loop: any() over a generator costs twice as much per example
        if isinstance(message, dict) and message.get("role") == "assistant":
            return True
    return False


def _check_dpo(example: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    given = example.get("input")
    messages = given.get("messages") if isinstance(given, dict) else None
    if not isinstance(messages, list) or not messages:
        problems.append(_('"input" must be an object with a non-empty "messages" list'))
    else:
        problems += _check_messages(messages, "input.messages")
    for key in ("preferred_output", "non_preferred_output"):
        output = example.get(key)
        if not isinstance(output, list) or not output:
            problems.append(_('"{key}" must be a non-empty list of assistant messages').format(key=key))
            continue
        problems += _check_messages(output, key)
        # Bad roles are already reported by _check_messages; here only valid non-assistant ones.
        if any(isinstance(m, dict) and m.get("role") in ROLES and m["role"] != "assistant" for m in output):
            problems.append(_('"{key}" may only contain assistant messages').format(key=key))
    return problems


def _check_messages(messages: list[Any], where: str) -> list[str]:
    problems: list[str] = []
    for index, message in enumerate(messages):
        problem = _check_message(message)
        if problem:
            problems.append(f"{where}[{index}]: {problem}")
            if len(problems) > MAX_PROBLEMS_PER_LINE:
                break  # enough to say the line has more than the report lists
    return problems


def _check_message(message: Any) -> str | None:
    """The first problem with one chat message, or None."""
    if not isinstance(message, dict):
        return _("message must be an object, not {type}").format(type=_json_type(message))
    role = message.get("role")
    if not (isinstance(role, str) and role in _ROLE_SET):
        return _("role must be one of {roles} (got {role})").format(roles=", ".join(ROLES), role=_short(role))
    if "weight" in message and message["weight"] not in (0, 1):
        return _("weight must be 0 or 1")
    content = message.get("content")
    tool_calls = message.get("tool_calls")
    # An assistant turn that only calls tools legitimately has no text.
    if role == "assistant" and isinstance(tool_calls, list) and tool_calls and content in (None, "", []):
        return None
    if isinstance(content, str):
        return None if content else _("content is empty")
    if isinstance(content, list):
        return _check_content_parts(content)
    return _("content is missing") if content is None else _("content must be a string or a list of parts, not {type}").format(type=_json_type(content))


def _check_content_parts(parts: list[Any]) -> str | None:
    """OpenAI's list-of-parts content: objects with a "type"; text parts need non-empty text."""
    if not parts:
        return _("content is empty")
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return _('each content part must be an object with a "type"')
        if part["type"] == "text" and not (isinstance(part.get("text"), str) and part["text"]):
            return _("a text content part has empty text")
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
    if isinstance(content, str) and "name" not in message and "tool_calls" not in message:
        return content  # the common case, first: a big file is mostly this
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


def _short(value: Any) -> str:
    """A value for an error text: a string quoted and cut short, anything else by its JSON type."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "…")
    return "null" if value is None else _json_type(value)


def _json_type(value: Any) -> str:
    names = {list: N_("an array"), str: N_("a string"), bool: N_("a boolean"), int: N_("a number"),
             float: N_("a number"), dict: N_("an object")}
    return _(names[type(value)]) if type(value) in names else "null"


def _finish(
    report: DatasetReport,
    errors: _Errors,
    tokens: _TokenStats,
    model: str | None,
    price_table: Mapping[str, float] | None,
) -> DatasetReport:
    report.errors = errors.kept
    report.error_count = errors.count
    report.valid = errors.count == 0
    report.estimated_tokens = tokens.total
    if tokens.count:
        report.example_tokens_min = tokens.low
        report.example_tokens_mean = round(tokens.total / tokens.count, 1)
        report.example_tokens_max = tokens.high
    report.estimated_billed_tokens = report.estimated_tokens * report.epochs
    report.estimated_cost = round(training_cost(report.estimated_billed_tokens, model, price_table), 6)
    return report


def check_example_line(line: str, method: str = "supervised") -> tuple[dict[str, Any] | None, list[str]]:
    """One JSONL line as a well-formed example, or None and its problems: the checks
    :func:`validate_jsonl` applies to each line, for readers that need the examples themselves
    (fakeai_dash/evals/eval_set.py). The caller bounds the line's length (MAX_LINE_CHARS)."""
    return _parse_example(line.strip(), method if method in METHODS else "supervised")
