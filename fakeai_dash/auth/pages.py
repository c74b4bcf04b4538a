"""The few pages sign-in answers with itself: signed out, no access, sign-in needed.

Plain HTML with the dashboard's stylesheets (public, so these pages look right before
sign-in), no inline script or style: they pass a strict Content-Security-Policy.
"""

from __future__ import annotations

from html import escape

from flask import Response

from fakeai_dash import i18n


def page(title: str, lines: list[str], links: list[tuple[str, str]] = (), status: int = 200,
         css: list[str] = (), headers: dict[str, str] | None = None) -> Response:
    styles = "".join(f'<link rel="stylesheet" href="{escape(href)}">' for href in css)
    body = "".join(f"<p class=\"text-secondary\">{escape(line)}</p>" for line in lines)
    buttons = "".join(f'<a class="btn btn-primary btn-sm me-2" href="{escape(href)}">{escape(label)}</a>'
                      for label, href in links)
    # In the request's language (i18n.py: ?lang=, cookie, Accept-Language); callers translate theirs.
    code = i18n.current_locale()
    html = (f'<!DOCTYPE html><html lang="{"zh-Hans" if code == "zh" else code}" data-bs-theme="dark"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            # Dash's favicon is public: without a link the browser asks for /favicon.ico, gated.
            f'<link rel="icon" href="/_favicon.ico">'
            f"<title>{escape(title)} · {escape(i18n.gettext('Fine-Tuning Dashboard'))}</title>{styles}</head>"
            f'<body><main class="container py-5"><h1 class="h4 mb-3">{escape(title)}</h1>{body}'
            f"<div class=\"mt-3\">{buttons}</div></main></body></html>")
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
