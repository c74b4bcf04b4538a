"""Sentences the gate writes once and shows in each reader's language.

A refusal ("Not allowed: …", "Too many …") is decided where the reader's language may not be the
one it is shown in, and is also written to the audit trail, which stays English (a record, read by
admins and tests). So it is kept, like the alerts (alerts.py), as English text plus
``[msgid, {name: value}]`` parts: ``Wording`` is that English text (a ``str``: logs, comparisons
and the audit trail use it as before) carrying its parts; ``localized`` renders the parts in the
page's language where a page shows it. A value that is itself a list of parts (a word such as
"viewer", "10 per minute") is rendered the same way; any other value is data, shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fakeai_dash.i18n import gettext

Parts = list  # [[msgid, {name: value | Parts}], ...]


def render(parts: Parts, translate: Callable[[str], str]) -> str:
    text = []
    for msgid, args in parts:
        values = {name: render(value, translate) if isinstance(value, list) else value
                  for name, value in (args or {}).items()}
        text.append(translate(msgid).format(**values))
    return "".join(text)


class Wording(str):
    """English text (what the ``str`` is) that also keeps its ``parts`` for translation."""

    parts: Parts

    def __new__(cls, parts: Parts) -> Wording:
        text = super().__new__(cls, render(parts, lambda msgid: msgid))
        text.parts = parts
        return text

    def __getnewargs__(self) -> tuple[Parts]:  # pickled (a cache, a queue) and back: rebuilt from its parts
        return (self.parts,)


def words(msgid: str, **args: Any) -> Wording:
    """One sentence: ``words(N_("Too many {what}."), what=…)``."""
    return Wording([[msgid, args]])


def localized(value: Any, parts: Parts | None = None) -> str:
    """``value`` in the current request's language: from its parts (``value.parts``, or ``parts``
    as stored next to it in an audit record); anything without parts as it is (an API's message)."""
    parts = parts if parts is not None else getattr(value, "parts", None)
    if parts:
        try:
            return render(parts, gettext)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            pass  # parts from an older or damaged record: the English text still says it
    return "" if value is None else str(value)


def error_text(error: Exception) -> str:
    """An ApiError's text for the page: a refusal of the gate translated, the API's own as it came."""
    parts = getattr(getattr(error, "message", None), "parts", None)
    return localized(error.message, parts) if parts else str(error)


__all__ = ["Wording", "error_text", "localized", "render", "words"]
