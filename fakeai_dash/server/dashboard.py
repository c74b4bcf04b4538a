"""Dashboard: the Dash app class. It owns the index page and the callbacks' list, the two answers
that depend on the request (its path and its language), in one place instead of patches.

- ``interpolate_index`` (the hook Dash documents for changing the index page): the title in the
  request's language, the preload links of the renderer's first requests (server/preload.py), plotly.js
  first on a job's URL (first_view.py), the jobs list's chunks on other pages (server/preload.py), then
  ``<html lang>`` and the scripts' strings (i18n_web.py).
- ``dependencies`` (``/_dash-dependencies``): the words of ``running=`` outputs ("Cancelling…")
  in the request's language; the renderer shows them itself.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from dash import Dash
from dash._utils import to_json
from flask import request

from fakeai_dash import i18n
from fakeai_dash.i18n import N_
from fakeai_dash.server.first_view import plotly_first
from fakeai_dash.i18n_web import localize_index, localize_running
from fakeai_dash.server.preload import LIST_CHUNKS, chunk_url, fetch_preloads, list_chunk_scripts

TITLE = N_("Fine-Tuning Dashboard")  # marked: pybabel extracts it


class Dashboard(Dash):
    def __init__(self, *args: Any, assets_dir: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assets_dir = assets_dir

    @functools.cached_property
    def list_chunk_urls(self) -> list[str]:
        return [chunk_url(self, package, path) for package, path in LIST_CHUNKS]

    def interpolate_index(self, **kwargs: Any) -> str:
        path, code = request.path, i18n.current_locale()
        with i18n.use_locale(code):
            kwargs["title"] = i18n.gettext(TITLE)
        kwargs["css"] = fetch_preloads(self.config.requests_pathname_prefix) + kwargs["css"]
        kwargs["scripts"] = plotly_first(self, path, code) + kwargs["scripts"]
        kwargs["renderer"] = kwargs["renderer"] + list_chunk_scripts(self.list_chunk_urls, path)
        return localize_index(super().interpolate_index(**kwargs), code, self.assets_dir)

    def dependencies(self):
        if i18n.current_locale() == i18n.DEFAULT:
            return super().dependencies()
        # A copy per request: the app's own list stays in the default language.
        callbacks = localize_running(json.loads(to_json(self._callback_list)), i18n.gettext)
        return self.backend.make_response(to_json(callbacks), content_type="application/json")
