"""Languages without a browser: which locale a request gets, locale-aware formatting (real Babel,
real catalogs), the catalogs' completeness, and the pieces i18n_web.py hands the page."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from babel.messages.pofile import read_po
from flask import Flask

from fakeai_dash import format as fmt
from fakeai_dash import i18n
from fakeai_dash.app import ASSETS_DIR
from fakeai_dash.components.training_progress import progress_outputs
from fakeai_dash.i18n_web import localize_index, localize_running, script_catalog, script_messages
from fakeai_dash.series import MetricHistory

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
PLACEHOLDER = re.compile(r"\{\w+\}")


def catalog(code: str):
    path = i18n.TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=code)


# -- which locale ------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "referer", "cookie", "accept", "expected"), [
    (None, None, None, None, "en"),
    (None, None, None, "de-DE,de;q=0.9,en;q=0.8", "de"),
    (None, None, None, "zh-CN,zh;q=0.9", "zh"),
    (None, None, None, "fr-FR, de;q=0.5", "de"),  # the best of ours, not the first asked for
    (None, None, None, "en;q=0.4, zh;q=0.9", "zh"),  # quality counts, not order
    (None, None, None, "fr-FR,ja", "en"),  # none of ours: English
    (None, None, None, "de-CH, en;q=0.5", "de"),  # a regional tag counts for its language, by quality
    (None, None, None, "zh-Hans-CN", "zh"),
    (None, None, "zh", "de-DE", "zh"),  # a remembered choice beats the browser's languages
    (None, "http://h/jobs/ftjob-1?x=step&lang=de", "zh", "en-US", "de"),  # the sending page's URL beats the cookie
    ("en", "http://h/?lang=de", "zh", "de-DE", "en"),  # the request's own ?lang= beats everything
    ("DE", None, None, None, "de"),
])
def test_i18n_unit001_resolution_order(query, referer, cookie, accept, expected):
    assert i18n.resolve(query, referer, cookie, accept) == expected


@pytest.mark.parametrize(("query", "referer", "cookie"), [
    ("de<script>", "http://h/?lang=../../etc", "xx"),
    ("", "not a url at all ?lang", "zh-TW-extra"),
    ("fr", "http://h/?lang=fr", "en_US"),
])
def test_i18n_unit002_untrusted_values_fall_through_to_accept_language(query, referer, cookie):
    assert i18n.resolve(query, referer, cookie, "zh-CN") == "zh"
    assert i18n.resolve(query, referer, cookie, None) == "en"


def test_i18n_unit003_a_flask_request_resolves_once_and_outside_a_request_is_english():
    app = Flask(__name__)
    assert i18n.current_locale() == "en"
    with app.test_request_context("/_dash-update-component", method="POST",
                                  headers={"Referer": "http://h/", "Accept-Language": "de-DE",
                                           "Cookie": f"{i18n.COOKIE}=zh"}):
        assert i18n.current_locale() == "zh"
        assert i18n.gettext("Cancel job") == "取消任务"
        with i18n.use_locale("de"):
            assert i18n.gettext("Cancel job") == "Job abbrechen"
        assert i18n.current_locale() == "zh"
    with app.test_request_context("/", headers={"Accept-Language": "de-CH, en;q=0.5"}):
        assert i18n.gettext("Cancel job") == "Job abbrechen"


# -- formatting ------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("en", ["3 min ago", "2027-01-15 08:00:00 UTC", "2027-01-15 08:00 UTC", "08:00:00", "1 h 02 min", "3 min 5 s",
            "3–4 min", "1.2M", "$0.1234", "$1,234.50", "12.3%", "+12.3%", "12,345"]),
    ("de", ["vor 3 Min.", "15.01.2027, 08:00:00 UTC", "15.01.27, 08:00 UTC", "08:00:00", "1 Std. 2 Min.",
            "3 Min. 5 Sek.", "3–4 Min.", "1,2\xa0Mio.", "0,1234\xa0$", "1.234,50\xa0$", "12,3\xa0%", "+12,3\xa0%",
            "12.345"]),
    ("zh", ["3分钟前", "2027年1月15日 08:00:00 UTC", "2027/1/15 08:00 UTC", "08:00:00", "1小时2分钟", "3分钟5秒",
            "3–4分钟", "123.5万", "US$0.1234", "US$1,234.50", "12.3%", "+12.3%", "12,345"]),
])
def test_i18n_unit004_format_speaks_the_locale(code, expected):
    with i18n.use_locale(code):
        got = [fmt.relative_time(T0, T0 + 200), fmt.absolute_time(T0), fmt.short_time(T0), fmt.clock(T0),
               fmt.duration(3725), fmt.duration(185), fmt.duration_range(180, 240), fmt.tokens(1_234_567),
               fmt.money(0.1234), fmt.money(1234.5), fmt.percent(0.123), fmt.percent(0.123, signed=True),
               fmt.number(12345)]
    assert got == expected


def test_i18n_unit005_small_counts_and_words_from_the_catalog():
    with i18n.use_locale("de"):
        assert fmt.tokens(1234) == "1.234"  # German abbreviates from 10,000 on ("Tsd." is not used)
        assert fmt.duration_range(0, 30) == "unter 1 Min."
        assert fmt.relative_time(T0, T0 + 10) == "gerade eben"
    with i18n.use_locale("zh"):
        assert fmt.tokens(1234) == "1,234"
        assert fmt.duration_range(120, 120) == "约 2分钟"


# -- catalogs ----------------------------------------------------------------------------------

def template():
    with (i18n.TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("code", ["de", "zh"])
def test_i18n_unit006_every_msgid_is_translated_with_the_same_placeholders(code):
    translations = catalog(code)
    problems = []
    for message in template():
        if not message.id:
            continue
        entry = translations.get(message.id)
        strings = entry.string if entry else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not entry or not all(strings) or "fuzzy" in entry.flags:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        problems += [f"placeholders differ: {ids[0]!r} -> {s!r}" for s in strings if set(PLACEHOLDER.findall(s)) != wanted]
    assert problems == []


def test_i18n_unit007_the_template_holds_every_marked_string_of_the_code(tmp_path):
    """messages.pot is what `make messages` extracts now: a string wrapped in _() without
    running it (so without a translation) fails here, not on a German user's screen."""
    fresh = tmp_path / "messages.pot"
    root = i18n.TRANSLATIONS_DIR.parent.parent
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "T",
                    "-k", "for_scripts", "--no-location", "--omit-header", "-o", str(fresh), "."],
                   cwd=root, check=True, capture_output=True)
    with fresh.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    assert extracted == {m.id for m in template() if m.id}


# -- what the page is handed ---------------------------------------------------------------------

def test_i18n_unit008_the_scripts_get_their_strings_translated():
    messages = script_messages(str(ASSETS_DIR))
    assert {"just now", "Fine-tuning job failed", "Step {step} of {total}", "Dismiss"} <= set(messages)
    payload = json.loads(script_catalog(str(ASSETS_DIR), "de"))
    assert payload["locale"] == "de"
    assert payload["messages"]["just now"] == "gerade eben"
    assert payload["messages"]["Loading jobs…"] == "Jobs werden geladen…"  # a clientside callback's (for_scripts)
    assert all(payload["messages"][m] != m for m in messages if m not in {"live"})


def test_i18n_unit009_index_gets_lang_and_a_catalog_that_cannot_close_its_script():
    page = '<!DOCTYPE html>\n<html lang="en" data-bs-theme="dark">\n<head><title>x</title></head><body></body></html>'
    hostile = "</script><script>alert(1)</script>"
    i18n.for_scripts(hostile)  # a message with markup in it (none has, today): it must stay inside the block
    try:
        html = localize_index(page, "zh", str(ASSETS_DIR))
    finally:
        i18n.SCRIPT_MESSAGES.remove(hostile)
    assert '<html lang="zh-Hans"' in html
    block = re.search(r'<script id="fakeai-i18n" type="application/json">(.*?)</script>', html, re.S).group(1)
    assert "</" not in block and json.loads(block)["messages"]["just now"] == "刚刚"
    assert json.loads(block)["messages"][hostile] == hostile  # still the same text once parsed


def test_i18n_unit010_running_outputs_are_translated():
    spec = [{"output": "a.children", "running": {
        "running": {"create-job-submit.children": [{"type": "Spinner"}, "Creating…"], "create-job-submit.disabled": True},
        "runningOff": {"create-job-submit.children": "Create job"}}}]
    with i18n.use_locale("de"):
        out = localize_running(spec, i18n.gettext)
    running = out[0]["running"]
    assert running["running"]["create-job-submit.children"] == [{"type": "Spinner"}, "Wird erstellt…"]
    assert running["running"]["create-job-submit.disabled"] is True
    assert running["runningOff"]["create-job-submit.children"] == "Job erstellen"


def test_i18n_unit011_shared_figures_are_kept_per_locale():
    """The figure cache shares one figure per history version between viewers: a German viewer
    must not get the English figure an English viewer built a moment before."""
    xs = np.arange(1, 51, dtype=np.float64)
    series = MetricHistory(xs, T0 + xs, {"train_loss": 2 - xs / 100}, version="v-i18n")
    store = {"job_id": "ftjob-i18n", "job": {"id": "ftjob-i18n", "status": "running", "created_at": T0},
             "checkpoints": []}
    view = {"smoothing": 0.6, "log": False, "x": "step"}
    titles = {}
    for code in ("en", "de", "zh"):
        with i18n.use_locale(code):
            figure = progress_outputs(store, view, None, series)[3]
        titles[code] = (figure.layout.title.text, figure.layout.xaxis.title.text)
    assert titles == {"en": ("Loss", "Step"), "de": ("Verlust", "Schritt"), "zh": ("损失", "步数")}


def test_i18n_unit012_alert_sentences_are_stored_in_english_and_shown_in_the_page_language():
    """The sync loop writes alerts with no reader: English text for logs and old readers, and the
    parts each page translates (training_alerts.alert_text, notifications.js alertText)."""
    from fakeai_dash.alerts import budget_alert
    from fakeai_dash.components.training_alerts import alert_text

    alert = budget_alert(12.5, 10.0, 5, finished=False)
    assert alert["message"] == "This job is projected to cost $12.50, over its budget of $10.00."
    assert alert_text(alert) == alert["message"]
    with i18n.use_locale("de"):
        assert alert_text(alert) == ("Dieser Job wird voraussichtlich $12.50 kosten und damit sein Budget von "
                                     "$10.00 überschreiten.")
    with i18n.use_locale("zh"):
        assert alert_text(alert) == "此任务预计花费 $12.50，超出其 $10.00 的预算。"
    assert alert_text({"message": "an old alert without parts"}) == "an old alert without parts"
    assert "This job cost {cost}, over its budget of {budget}." in i18n.SCRIPT_MESSAGES
