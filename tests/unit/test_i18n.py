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
from plotly.utils import PlotlyJSONEncoder

from fakeai_dash import format as fmt
from fakeai_dash import i18n, ids
from fakeai_dash.app import ASSETS_DIR
from fakeai_dash.components.training_progress import progress_outputs
from fakeai_dash.i18n_web import localize_index, localize_running, script_catalog, script_messages
from fakeai_dash.series import MetricHistory
from tests.integration.test_auth_gate import basic_app, sim  # noqa: F401 - fixtures

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


# -- pages the server writes itself, and the gate's refusals (the real app, Flask's test client) --

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def page_text(response) -> str:
    """A server-written page's title and visible words (its tags dropped)."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_i18n_unit013_sign_in_pages_speak_the_requests_language(basic_app):
    from tests.integration.test_auth_gate import VIEWER, basic

    client = basic_app(rate_limit_signin="2/minute").server.test_client()
    english = client.get("/")
    assert english.status_code == 401 and '<html lang="en"' in english.text
    assert page_text(english).startswith("Sign-in required · Fine-Tuning Dashboard Sign-in required Sign in with")
    german = client.get("/", headers=GERMAN)  # Accept-Language
    assert german.status_code == 401 and '<html lang="de"' in german.text
    assert page_text(german) == ("Anmeldung erforderlich · Fine-Tuning-Dashboard Anmeldung erforderlich Melden Sie "
                                 "sich mit dem Benutzernamen und dem Passwort an, die Sie von einem Administrator "
                                 "erhalten haben.")
    chinese = client.get("/?lang=zh", headers=GERMAN)  # ?lang= beats Accept-Language
    assert '<html lang="zh-Hans"' in chinese.text and page_text(chinese).startswith("需要登录 · 微调仪表板 需要登录 请使用")
    signed_out = client.get("/auth/signed-out")  # the choice ?lang=zh left in the cookie
    assert signed_out.status_code == 401
    assert page_text(signed_out) == ("已退出登录 · 微调仪表板 已退出登录 您已退出微调仪表板。请关闭此标签页，或重新登录"
                                     "（浏览器会要求输入用户名和密码）。 重新登录")
    # Past the free failed sign-ins: the page and its wait in German.
    wrong = basic(("bob", "not-the-password"))
    assert [client.get("/", headers=wrong).status_code for _ in range(2)] == [401, 401]
    blocked = client.get("/?lang=de", headers=basic(VIEWER))
    assert blocked.status_code == 429
    assert re.fullmatch(r"Zu viele Anmeldeversuche · Fine-Tuning-Dashboard Zu viele Anmeldeversuche Zu viele "
                        r"fehlgeschlagene Anmeldungen mit diesem Benutzernamen von Ihrer Adresse\. Versuchen Sie es "
                        r"in \d+ s erneut\.", page_text(blocked)), page_text(blocked)


def test_i18n_unit014_no_access_and_oidc_pages_speak_the_requests_language(make_app, sim, tmp_path):
    from fakeai_dash.auth import state

    app = make_app(sim.url, auth="oidc", oidc_issuer="http://127.0.0.1:9", oidc_client_id="dash",
                   oidc_client_secret="s" * 32, oidc_viewers=["group:staff"], data_dir=str(tmp_path / "data"))
    client = app.server.test_client()
    # Signed in through the provider (a server-side session; the cookie holds its id), in no group.
    session_id = state(app.server).authenticator.sessions.create({"sub": "erin", "email": None, "groups": []})
    with client.session_transaction() as session:
        session["sid"] = session_id
    english = client.get("/")
    assert english.status_code == 403 and "No access" in page_text(english) and "erin" in page_text(english)
    chinese = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 403 and '<html lang="zh-Hans"' in chinese.text
    assert page_text(chinese) == ("无访问权限 · 微调仪表板 无访问权限 您已以 erin 身份登录，但此账户无权访问微调仪表板。"
                                  "请联系管理员为您添加权限。 退出登录")
    # The provider does not answer (nothing listens on port 9): said in German, no traceback.
    unavailable = client.get("/oidc/sso/login", headers=GERMAN)
    assert unavailable.status_code == 502
    assert page_text(unavailable) == ("Anmeldung nicht verfügbar · Fine-Tuning-Dashboard Anmeldung nicht verfügbar "
                                      "Der Anmeldeanbieter (http://127.0.0.1:9) hat nicht geantwortet. Versuchen "
                                      "Sie es in einer Minute erneut.")


def test_i18n_unit015_refusals_are_recorded_in_english_and_shown_in_the_pages_language(basic_app, sim):
    from fakeai_dash.auth import gate
    from fakeai_dash.components.job_audit import history_view
    from tests.integration.test_auth_gate import (
        OPERATOR, VIEWER, basic, callback_body, cancel_body, create_body, dependencies, running_job, text_of,
        upload_body,
    )

    app = basic_app(rate_limit_writes="1/minute", rate_limit_refresh="1/minute")
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))
    job_id = running_job(sim)
    on_german_page = {"Referer": f"http://localhost/jobs/{job_id}?lang=de"}

    def post(user, body, headers):
        response = client.post("/_dash-update-component", json=body, headers={**basic(user), **headers})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()["response"]

    refused = text_of(post(VIEWER, cancel_body(deps, job_id), on_german_page))
    assert ("Nicht erlaubt: Zum Abbrechen von Jobs ist die Rolle Operator nötig, und bob ist Betrachter."
            in refused), refused
    assert "Not allowed" not in refused
    # The create dialog's refusals (an upload, a job) too.
    upload = text_of(post(VIEWER, upload_body(deps), on_german_page))
    assert "Nicht erlaubt: Zum Hochladen von Dateien ist die Rolle Operator nötig, und bob ist Betrachter." in upload
    create = text_of(post(VIEWER, create_body(deps, "file-sim-train-0001"), {"Accept-Language": "zh-CN"}))
    assert "不允许：创建任务需要操作员角色，而 bob 是查看者。" in create and "Not allowed" not in upload + create
    # The audit trail keeps the English (a record), and the parts to show it in any language.
    record = next(r for r in app.server.extensions[gate.EXTENSION].trail.recent(10) if r["action"] == "cancel")
    assert record["message"] == "Not allowed: cancelling jobs needs the operator role, and bob is a viewer."
    with i18n.use_locale("zh"):
        history = text_of(json.loads(json.dumps(history_view([record]), cls=PlotlyJSONEncoder)))
    assert "不允许：取消任务需要操作员角色，而 bob 是查看者。" in history and "Not allowed" not in history
    assert "bob（查看者）" in history  # the role's name too, not "viewer"
    with i18n.use_locale("en"):
        assert record["message"] in text_of(json.loads(json.dumps(history_view([record]), cls=PlotlyJSONEncoder)))
    # The header: the read-only reason on the disabled Create button, in Chinese.
    header = post(VIEWER, callback_body(deps, "header-user", {"header-user": "header-user"}, "id"),
                  {"Accept-Language": "zh-CN"})
    assert header[ids.Header.CREATE]["title"] == "只读：您的角色是查看者。上传、创建、取消、暂停和恢复任务需要操作员角色。"
    assert header["auth-session-store"]["data"]["reason"] == header[ids.Header.CREATE]["title"]
    # Over the write limit (an operator's second write) and the refresh limit, in German.
    others = [j for j in sim.job_ids() if sim._job(j).status == "running"]
    post(OPERATOR, cancel_body(deps, others[0]), on_german_page)
    too_many = text_of(post(OPERATOR, cancel_body(deps, others[1]), on_german_page))
    assert re.search(r"Zu viele Änderungen \(Hochladen, Erstellen, Abbrechen, Pausieren, Fortsetzen\): Die Grenze "
                     r"liegt bei 1 pro Minute\. Versuchen Sie es in \d+ s erneut\.", too_many), too_many
    assert app.server.extensions[gate.EXTENSION].trail.recent(1)[0]["message"].startswith("Too many changes (")
    refresh = callback_body(deps, ids.Header.REFRESH, {ids.Header.REFRESH: 1}, "n_clicks", "header-refresh-note")
    post(VIEWER, callback_body(deps, ids.Header.REFRESH, {ids.Header.REFRESH: 1}, "n_clicks", "jobs-store.data"), {})
    note = text_of(post(VIEWER, refresh, on_german_page))
    assert re.fullmatch(r"Zu viele erzwungene Aktualisierungen: Die Grenze liegt bei 1 pro Minute\. Versuchen Sie "
                        r"es in \d+ s erneut\. .+", note), note
    assert "Too many" not in note


def test_i18n_unit016_security_refusals_speak_the_requests_language(make_app, sim):
    app = make_app(sim.url, upload_limit_mb=0.5)
    client = app.server.test_client()
    too_big = client.post("/_dash-update-component", data=b"x" * (2 * 1024 * 1024), content_type="application/json",
                          headers=GERMAN)
    assert too_big.status_code == 413
    assert too_big.get_json() == {"message": "Die Anfrage ist größer, als dieses Dashboard annimmt: Im Browser können "
                                             "Dateien bis 0,5 MB hochgeladen werden. Laden Sie größere Dateien über "
                                             "die API hoch und geben Sie ihre ID ein."}
    forged = client.post("/_dash-update-component", json={}, headers={"Origin": "https://evil.example",
                                                                      "Accept-Language": "zh-CN"})
    assert forged.status_code == 403
    assert forged.get_json() == {"message": "已拒绝：此请求来自其他网站（https://evil.example），而不是仪表板自己的页面。"}


def test_i18n_unit017_plotly_locales_are_vendored_with_plotly_and_not_served_on_the_list(make_app, sim):
    vendor = ASSETS_DIR / "vendor"
    bundle = (vendor / "plotly-basic.min.js").read_text()[:200]
    loader = (ASSETS_DIR / "chart_loader.js").read_text()
    version = re.search(r'const VERSION = "([\d.]+)"', loader).group(1)
    assert f"v{version}\n" in bundle  # the loader's ?m= is the bundle's version
    for name, code in (("plotly-locale-de.js", "de"), ("plotly-locale-zh-cn.js", "zh-CN")):
        text = (vendor / name).read_text()
        assert f'name:"{code}"' in text and "Plotly.register(locale)" in text and name in loader
    # Loaded by chart_loader.js for a job's charts only: the list page (in German too) names neither.
    page = make_app(sim.url).server.test_client().get("/", headers=GERMAN).get_data(as_text=True)
    assert "chart_loader.js" in page and "plotly-locale" not in page and "plotly-basic" not in page


def test_i18n_unit018_a_wording_is_its_english_survives_pickling_and_falls_back_on_bad_parts():
    import pickle

    from fakeai_dash.auth.wording import localized, words

    refusal = words("Not allowed: {action} is not an action this dashboard performs.", action="'x'")
    assert refusal == "Not allowed: 'x' is not an action this dashboard performs." and isinstance(refusal, str)
    copy = pickle.loads(pickle.dumps(refusal))
    assert copy == refusal and copy.parts == refusal.parts
    with i18n.use_locale("de"):
        assert localized(copy) == "Nicht erlaubt: 'x' ist keine Aktion, die dieses Dashboard ausführt."
        assert localized("stored text", [["Not allowed: {action} is not…", {}]]) == "stored text"  # a damaged record
        assert localized("an API's message") == "an API's message" and localized(None) == ""


def test_i18n_unit019_a_missing_or_stale_mo_gives_way_to_its_po(tmp_path):
    # A deployment installs from the lock and runs from the source tree: `make compile` never runs
    # there, and a .mo left from an older compile must not hide a newer translation.
    import os

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)

    def save(kind: str, translation: str, mtime: float) -> None:
        catalog = Catalog(locale="de")
        catalog.add("Jobs", translation)
        path = folder / f"messages.{kind}"
        with path.open("wb") as handle:
            (write_po if kind == "po" else write_mo)(handle, catalog)
        os.utime(path, (mtime, mtime))

    assert i18n.load_catalog(folder, "de").gettext("Jobs") == "Jobs"  # neither: the msgid
    save("po", "Aufträge", 1_000)
    assert i18n.load_catalog(folder, "de").gettext("Jobs") == "Aufträge"  # no .mo: the .po, compiled in memory
    save("mo", "Jobs (mo)", 2_000)
    assert i18n.load_catalog(folder, "de").gettext("Jobs") == "Jobs (mo)"  # an up-to-date .mo is used
    save("po", "Trainingsjobs", 3_000)
    assert i18n.load_catalog(folder, "de").gettext("Jobs") == "Trainingsjobs"  # a stale .mo is not
    (folder / "messages.po").unlink()
    assert i18n.load_catalog(folder, "de").gettext("Jobs") == "Jobs (mo)"  # a .mo alone still counts
