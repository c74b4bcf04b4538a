"""The languages on the web side: the ``lang`` cookie, the page's ``<html lang>`` and title, and
the strings the browser's scripts (assets/*.js) show, handed to them from the catalog.

Scripts mark their strings ``T("…")``; the same marks are what ``pybabel extract`` reads
(babel.cfg), and here Babel's own JavaScript extractor lists them at start-up, so the page
carries exactly their translations (a JSON block in the page head: no second dictionary).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from babel.messages.extract import extract
from dash import Dash
from flask import Response, request

from fakeai_dash import i18n

# One year: the choice stays until the user makes another.
COOKIE_MAX_AGE = 365 * 24 * 3600
SCRIPT_ID = "fakeai-i18n"
JS_KEYWORD = "T"


def localize_running(callbacks: list, translate) -> list:
    """Dash's callback list with the words of ``running=`` outputs translated: the renderer
    shows them itself ("Cancelling…", "Create job") while a callback runs and after."""
    def words(value):
        if isinstance(value, str):
            return translate(value)
        if isinstance(value, list):
            return [words(item) for item in value]
        return value

    for spec in callbacks:
        running = spec.get("running")
        if not isinstance(running, dict):
            continue
        for key in ("running", "runningOff"):  # {"running": {"id.prop": value}, "runningOff": {...}}
            if isinstance(running.get(key), dict):
                running[key] = {target: words(value) for target, value in running[key].items()}
    return callbacks


@functools.cache  # bound: one per assets directory (one per app)
def script_messages(assets_dir: str) -> tuple[str, ...]:
    """Every ``T("…")`` msgid of the scripts in ``assets_dir`` (vendored files excluded)."""
    found: list[str] = []
    for path in sorted(Path(assets_dir).glob("*.js")):
        with path.open("rb") as handle:
            for _line, message, _comments, _context in extract("javascript", handle, keywords={JS_KEYWORD: None}):
                if isinstance(message, str) and message not in found:
                    found.append(message)
    return tuple(found)


def script_catalog(assets_dir: str, code: str) -> str:
    """The JSON the page head carries for the scripts: ``<`` escaped so it cannot end the block."""
    catalog = i18n.catalog_for([*script_messages(assets_dir), *i18n.SCRIPT_MESSAGES], code)
    return json.dumps({"locale": code, "messages": catalog}, ensure_ascii=False).replace("<", "\\u003c")


def localize_index(html: str, code: str, assets_dir: str) -> str:
    """The index page in ``code``: its ``lang`` attribute and the scripts' catalog."""
    html = html.replace('<html lang="en"', f'<html lang="{"zh-Hans" if code == "zh" else code}"', 1)
    block = f'<script id="{SCRIPT_ID}" type="application/json">{script_catalog(assets_dir, code)}</script>'
    return html.replace("</head>", block + "</head>", 1)


def configure_i18n(app: Dash, assets_dir: str) -> None:
    """A language link (?lang=xx) is remembered for the next visit without it. (The index page and
    the callbacks' list in the request's language: server/dashboard.py.)"""

    @app.server.after_request
    def _remember_language(response: Response) -> Response:
        chosen = i18n.supported(request.args.get(i18n.QUERY))
        if chosen and request.cookies.get(i18n.COOKIE) != chosen:
            response.set_cookie(i18n.COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
        return response


__all__ = ["configure_i18n", "localize_index", "localize_running", "script_catalog", "script_messages"]
