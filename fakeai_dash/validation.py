"""Ids from the browser or the API are untrusted: checked before they reach an API path.

An id is one path segment of letters, digits and ``_ . : -`` (OpenAI's ``ftjob-…``,
``file-…``, ``ftckpt-…``; Azure's and FakeAI's look the same), at most 128 characters,
never ``..``. The client also URL-quotes every segment, so a slash can never move a request
to another endpoint even if a check were missed.
"""

from __future__ import annotations

import re

from fakeai_dash.api.client import ApiError
from fakeai_dash.i18n import N_, _

# The kinds of id the dashboard checks, as the message names them.
ID_KINDS = {"job": N_("job"), "event": N_("event"), "file": N_("file")}

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


class InvalidId(ApiError):
    """A clear message for the person, and no request for the API. An ApiError, so every
    callback that already shows API trouble shows this too."""


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and ".." not in value


def checked_id(value: object, kind: str = "job") -> str:
    if not is_valid_id(value):
        shown = repr(value)[:60]
        raise InvalidId(_("That is not a valid {kind} id ({shown}): ids are letters, digits and _ . : - only.").format(
            kind=_(ID_KINDS[kind]) if kind in ID_KINDS else kind, shown=shown))
    return value
