"""local_path: where a sign-in may send the browser back to — a path on this site, never elsewhere.

A ``next`` value is hostile until rebuilt. Browsers drop tabs and newlines from a Location and
read "\\" as "/", Werkzeug drops tabs too (``/<tab>/evil.example`` left as ``//evil.example``) and
answers a newline with a server error; a proxy may decode ``%2F`` or ``%5C`` once more. So a value
with any control, format or whitespace character or a backslash — as given or percent-decoded
once — is refused, and what passes is split and rebuilt from its path and query alone: no scheme,
no host, a path starting with exactly one "/".
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit, urlunsplit

HOME = "/"
MAX_LENGTH = 2048


def _plain(text: str) -> bool:
    # C*: C0/C1 controls, DEL, format (zero-width, bidi), surrogates, unassigned; Z*: every space.
    return "\\" not in text and all(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def local_path(value: object) -> str:
    """``value`` rebuilt as a same-site path ("/jobs/x?tab=y") when it is one, else "/"."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_LENGTH:
        return HOME
    decoded = unquote(value, errors="replace")
    if not (_plain(value) and _plain(decoded)) or value.startswith("//") or decoded.startswith("//"):
        return HOME
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return HOME
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return HOME
    # The fragment stays in the browser (it never reaches the server): nothing to send back.
    return urlunsplit(("", "", parts.path, parts.query, "")) or HOME
