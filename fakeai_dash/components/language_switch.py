"""The header's language switch: a link per language to this page with ``?lang=xx``.

A link, not a callback: the whole page is built in one language (app.layout is a function of
the request), so a switch reloads it; the server remembers the choice in a cookie (i18n_web.py).
The links keep the page's other query keys (filters, chart view) as the URL changes.
"""

from __future__ import annotations

from dash import Input, Output, html

from fakeai_dash.server.blueprint import Blueprint
from fakeai_dash import i18n, ids
from fakeai_dash.i18n import _

# This component's callbacks: create_app registers them on the app it builds (server/blueprint.py).
blueprint = Blueprint()



def link_id(code: str) -> str:
    return f"{ids.Header.LANGUAGE_SWITCH}-{code}"


def layout() -> html.Nav:
    current = i18n.current_locale()
    links = [html.A(name, href=f"?{i18n.QUERY}={code}", id=link_id(code), lang=code, hrefLang=code,
                    className="language-link" + (" active" if code == current else ""),
                    **({"aria-current": "true"} if code == current else {}))
             for code, name in i18n.LOCALES.items()]
    return html.Nav(links, id=ids.Header.LANGUAGE_SWITCH, className="language-switch me-2", **{"aria-label": _("Language")})


blueprint.clientside_callback(
    """function (search) {
        const query = new URLSearchParams(search || "");
        return %s.map((code) => { query.set("lang", code); return "?" + query.toString(); });
    }""" % list(i18n.LOCALES),
    [Output(link_id(code), "href") for code in i18n.LOCALES],
    Input(ids.Page.LOCATION, "search"),
)
