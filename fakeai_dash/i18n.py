"""Languages: which locale a request is in, and its gettext catalog (English, German, Chinese).

The locale of a request, first match wins:

1. ``?lang=xx`` on the request itself (the page a language link opened);
2. ``?lang=xx`` on the page that sent it (the Referer: callbacks and ``/_dash-layout`` are
   same-origin fetches from the page, whose URL keeps ``?lang=``; server/security.py's
   ``referrer-policy: same-origin`` sends the full URL), so two tabs in two languages each keep theirs;
3. the ``lang`` cookie a language link left (the choice is remembered without ``?lang=``);
4. the browser's ``Accept-Language`` (a first visit);
5. English.

Messages come from Babel's catalogs (``fakeai_dash/translations``): the ``.mo`` that
``make compile`` builds, or, where it is missing or older than its ``.po`` (a deployment, which
never runs make), the ``.po`` compiled in memory once per process. No Dash imports here, only
Flask's request.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

# Code -> the language's own name (what the header's switch shows).
LOCALES = {"en": "English", "de": "Deutsch", "zh": "中文"}
DEFAULT = "en"
COOKIE = "lang"
QUERY = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

# Set by use_locale (tests, and code that renders for a locale outside a request).
_forced: contextvars.ContextVar[str | None] = contextvars.ContextVar("fakeai_dash_locale", default=None)


def supported(code: object) -> str | None:
    """``code`` if it names one of our locales ("de", "DE"), else None: query strings and
    cookies are untrusted text."""
    if not isinstance(code, str):
        return None
    code = code.strip().lower()
    return code if code in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The best of our locales for an ``Accept-Language`` header ("de-DE,de;q=0.9" -> "de",
    "zh-CN" -> "zh"), or None when it names none of them."""
    if not header:
        return None
    # By quality, each tag by its primary language: "de-CH, en;q=0.5" is German. (werkzeug's
    # best_match prefers any exact match, so it would answer English there.)
    accept = parse_accept_header(header[:1000], LanguageAccept)
    for tag, _quality in accept:  # sorted by quality, highest first
        primary = supported(tag.replace("_", "-").split("-")[0])
        if primary:
            return primary
    return None


def lang_in_url(url: str | None) -> str | None:
    """The ``?lang=`` of a URL, if it is one of ours."""
    if not url:
        return None
    try:
        values = parse_qs(urlsplit(url[:4000]).query).get(QUERY) or [None]
    except ValueError:
        return None
    return supported(values[-1])


def resolve(query: str | None, referer: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The locale for a request with these parts (see the module's docstring for the order)."""
    return (supported(query) or lang_in_url(referer) or supported(cookie)
            or from_accept_language(accept_language) or DEFAULT)


def request_locale() -> str:
    """The current Flask request's locale (English outside a request: the sync loop, startup)."""
    from flask import g, has_request_context, request

    if not has_request_context():
        return DEFAULT
    locale = g.get("fakeai_locale")
    if locale is None:
        locale = resolve(request.args.get(QUERY), request.headers.get("Referer"), request.cookies.get(COOKIE),
                         request.headers.get("Accept-Language"))
        g.fakeai_locale = locale
    return locale


def current_locale() -> str:
    return _forced.get() or request_locale()


@contextlib.contextmanager
def use_locale(code: str) -> Iterator[str]:
    """Render in ``code`` inside the block, whatever the request says."""
    token = _forced.set(supported(code) or DEFAULT)
    try:
        yield _forced.get()
    finally:
        _forced.reset(token)


@functools.cache  # bound: one catalog per supported language (callers pass current_locale())
def translations(code: str) -> NullTranslations:
    """The catalog of ``code`` (English is the msgids themselves: no catalog needed)."""
    if code == DEFAULT:
        return NullTranslations()
    return load_catalog(TRANSLATIONS_DIR / code / "LC_MESSAGES", code)


def load_catalog(folder: Path, code: str) -> NullTranslations:
    """``folder``'s compiled ``messages.mo`` when it is at least as new as its ``.po``; otherwise
    the ``.po`` compiled in memory. A deployment installs from the lock and runs from the source
    tree, never `make compile` (the .mo files are not committed): it still speaks the language, and
    a .mo left behind by an older `make compile` never hides a newer translation."""
    compiled_path, source = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if compiled_path.is_file() and (not source.is_file() or compiled_path.stat().st_mtime >= source.stat().st_mtime):
        with compiled_path.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.cache  # bound: one per supported language (callers pass current_locale())
def babel_locale(code: str) -> Locale:
    # zh is Simplified Chinese as spoken in mainland China; en formats as en_US (the API's dollars).
    return Locale.parse({"en": "en_US", "de": "de_DE", "zh": "zh_Hans_CN"}.get(code, code))


def locale() -> Locale:
    """The Babel Locale of the current request, for number and date formatting."""
    return babel_locale(current_locale())


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks a module-level constant for extraction; translate it with ``_()`` where it is shown."""
    return message


_ = gettext

def options(choices: list[dict]) -> list[dict]:
    """Select/Dropdown/RadioItems options with their (N_-marked) labels translated."""
    return [{**choice, "label": gettext(choice["label"])} if isinstance(choice.get("label"), str) else choice
            for choice in choices]


def column_defs(columns: list[dict]) -> list[dict]:
    """AG Grid columnDefs with their (N_-marked) headerName translated."""
    return [{**column, "headerName": gettext(column["headerName"])} if "headerName" in column else column
            for column in columns]


# Messages the browser translates itself (clientside callbacks written in Python): the page
# carries their translations with those of assets/*.js (i18n_web.py).
SCRIPT_MESSAGES: list[str] = []


def for_scripts(message: str) -> str:
    """Marks ``message`` for extraction and for the page's script catalog; returns it unchanged
    (the script looks it up with ``T(…)``)."""
    if message not in SCRIPT_MESSAGES:
        SCRIPT_MESSAGES.append(message)
    return message


def catalog_for(messages: list[str], code: str) -> dict[str, str]:
    """``{msgid: translation}`` of ``messages`` in ``code``: what the browser's scripts show."""
    table = translations(code)
    return {message: table.gettext(message) for message in messages}


__all__ = ["COOKIE", "DEFAULT", "LOCALES", "N_", "QUERY", "_", "babel_locale", "catalog_for", "column_defs", "current_locale",
           "for_scripts", "from_accept_language", "gettext", "lang_in_url", "locale", "ngettext", "options", "request_locale", "resolve",
           "supported", "translations", "use_locale"]
