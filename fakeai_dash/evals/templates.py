"""OpenAI's grader templates: ``{{ namespace.variable }}`` in a grader's strings.

Two namespaces, as OpenAI defines them: ``item`` (the eval set's example: its fields, and here
``reference_answer`` and ``messages``) and ``sample`` (the model's answer: ``output_text``, and
``output_json`` when that text is JSON). Nested values are reached with dots and ``[n]``
(``{{item.messages[0].content}}``); a value that is not a string is inserted as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

NAMESPACES = ("item", "sample")
_PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")
_NAME = re.compile(r"([A-Za-z_][\w-]*)")


class TemplateError(ValueError):
    """A placeholder that names nothing: its text says which one and why."""


def _path(reference: str) -> tuple[str, list[str | int]]:
    """``"item.messages[0].content"`` -> ``("item", ["messages", 0, "content"])``."""
    head = _NAME.match(reference)
    if head is None:
        raise TemplateError(f"{{{{{reference}}}}} is not a namespace.variable reference")
    namespace, steps, at = head.group(1), [], head.end()
    while at < len(reference):
        step = _STEP.match(reference, at)
        if step is None:
            raise TemplateError(f"{{{{{reference}}}}}: cannot read the path from {reference[at:]!r}")
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        at = step.end()
    if namespace not in NAMESPACES:
        raise TemplateError(f"{{{{{reference}}}}}: unknown namespace {namespace!r}; use item or sample")
    if not steps:
        raise TemplateError(f"{{{{{reference}}}}}: name a variable of {namespace}, e.g. {{{{{namespace}.x}}}}")
    return namespace, steps


def check_template(text: str) -> None:
    """Raise TemplateError when a placeholder of ``text`` could never be filled."""
    for match in _PLACEHOLDER.finditer(text):
        _path(match.group(1))


def sample_namespace(output_text: str) -> dict[str, Any]:
    """What ``{{sample.*}}`` holds for one answer."""
    sample: dict[str, Any] = {"output_text": output_text}
    try:
        sample["output_json"] = json.loads(output_text)
    except (ValueError, RecursionError):
        pass  # not JSON: {{sample.output_json}} then says so when used
    return sample


def render(text: str, item: dict[str, Any], sample: dict[str, Any]) -> str:
    """``text`` with each placeholder replaced by its value; TemplateError for one that is missing."""
    scopes = {"item": item, "sample": sample}

    def value_of(match: re.Match[str]) -> str:
        namespace, steps = _path(match.group(1))
        value: Any = scopes[namespace]
        for depth, step in enumerate(steps):
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                where = namespace + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps[:depth])
                raise TemplateError(f"{{{{{match.group(1)}}}}}: {where} has no {step!r}") from None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return _PLACEHOLDER.sub(value_of, text)
