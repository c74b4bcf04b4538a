"""An eval set: the examples of a chat-format fine-tuning JSONL, each split into a prompt and a
reference answer.

The prompt is every message before the example's last assistant message; the reference is that
last assistant message's text. Each line goes through the same checks as an upload
(fakeai_dash/dataset.py), plus the two an eval needs: a prompt to send and a reference with text.
A bad line is an error, never skipped: which examples a run scores must not depend on which lines
happened to parse, or two runs over "the first 50" would not compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakeai_dash.dataset import MAX_LINE_CHARS, LineError, check_example_line

DEFAULT_N = 50
# The error message lists this many bad lines; EvalSetError.errors has them all (up to MAX_ERRORS).
ERRORS_IN_MESSAGE = 5
MAX_ERRORS = 100
_BOM = "\ufeff"


@dataclass(frozen=True)
class EvalExample:
    """One example of the set, in file order."""

    index: int  # 0-based among the set's examples
    line: int  # 1-based line of the file, for messages a person can find
    prompt: list[dict[str, Any]]  # the messages sent to each target
    reference: str  # the last assistant message's text, as written (graders trim if they choose)
    # What graders see as {{item.*}}: the line's other top-level fields, the prompt as
    # "messages" and the reference as "reference_answer".
    item: dict[str, Any] = field(default_factory=dict)


class EvalSetError(ValueError):
    """The file cannot serve as an eval set; ``errors`` names each bad line."""

    def __init__(self, message: str, errors: list[LineError] | None = None):
        super().__init__(message)
        self.errors = errors or []


def read_eval_set(content: bytes | str, n: int | None = DEFAULT_N) -> list[EvalExample]:
    """The first ``n`` examples of ``content`` (all of them when ``n`` is None), in file order.

    Raises EvalSetError when a line among those read is bad (every bad line up to the n-th good
    example is named with its line number), when the file is not UTF-8, or when it holds no example.
    """
    if n is not None and n < 1:
        raise EvalSetError(f"n must be at least 1 (got {n})")
    examples: list[EvalExample] = []
    errors: list[LineError] = []
    for number, line in _lines(content):
        if n is not None and len(examples) >= n:
            break
        example, problems = _example(line, number, len(examples))
        if problems:
            errors.extend(LineError(number, problem) for problem in problems)
            if len(errors) >= MAX_ERRORS:
                break
        elif example is not None:
            examples.append(example)
    if errors:
        shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:ERRORS_IN_MESSAGE])
        more = f" (and {len(errors) - ERRORS_IN_MESSAGE} more)" if len(errors) > ERRORS_IN_MESSAGE else ""
        raise EvalSetError(f"The eval set has bad lines: {shown}{more}", errors)
    if not examples:
        raise EvalSetError("The eval set holds no examples")
    return examples


def _lines(content: bytes | str):
    """(1-based number, text) of each non-blank line. Split on "\\n" only: JSON strings may hold
    U+2028, which str.splitlines would split on (as dataset.py does)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EvalSetError(f"The eval set is not UTF-8 text (bad byte at offset {exc.start}); "
                               "save it as UTF-8") from None
    content = content.removeprefix(_BOM)
    for index, line in enumerate(content.split("\n")):
        if line.strip():
            yield index + 1, line


def _example(line: str, number: int, index: int) -> tuple[EvalExample | None, list[str]]:
    if len(line) > MAX_LINE_CHARS:
        return None, [f"line is longer than {MAX_LINE_CHARS // (1024 * 1024)} MB"]
    parsed, problems = check_example_line(line, "supervised")
    if parsed is None:
        return None, problems
    messages = parsed["messages"]
    last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
    prompt = messages[:last]
    if not prompt:
        return None, ["the last assistant message has no message before it to send as the prompt"]
    reference = message_text(messages[last])
    if not reference:
        return None, ["the last assistant message has no text to compare answers with"]
    item = {key: value for key, value in parsed.items() if key != "messages"}
    item.update(messages=prompt, reference_answer=reference)
    return EvalExample(index=index, line=number, prompt=prompt, reference=reference, item=item), []


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text: its string content, or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content
                       if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str))
    return ""
