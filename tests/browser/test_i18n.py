"""Languages in the browser: the list, a job's details and the create dialog in German and
Chinese show no English UI string; ?lang= switches and is remembered; a first visit follows
Accept-Language. One app start for everything (CI time is tight).

"English UI string" means: a msgid of the catalog's template (fakeai_dash/translations/
messages.pot) found in the page's visible text (innerText, plus visible placeholders and the
title), with the page's data hidden first (job ids, model names, file names, event messages and
data, metric names: they stay as they came). A msgid whose translation is the msgid itself by
nature ("Job", "Status", "Checkpoints" in German) is allowed only if listed in IDENTICAL, so a
string left untranslated cannot hide there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from selenium.webdriver.common.by import By

from fakeai_dash import i18n, ids
from fakeai_dash.components import language_switch
from tests.support.browser_support import LOAD_TICKS, ROWS, ticks, wait_until

pytestmark = pytest.mark.browser

TICK = 1.0
SHOTS = Path("/tmp/shots-issue10-i18n")
POT = i18n.TRANSLATIONS_DIR / "messages.pot"

# Identical in translation by nature: loanwords, product terms and values typed as they are.
IDENTICAL = {
    "de": {".", "Budget", "Checkpoints", "Checkpoints ", "Code", "Dashboard", "Job", "Job ", "Jobs ", "Seed",
           "Seed (optional)", "Status", "Suffix", "Suffix (optional)", "Tokens", "auto", "live",
           "Zoom"},  # plotly.js's own German for its toolbar's "Zoom" (plotly-locale-de.js)
    "zh": {"DPO beta", "auto", "my-experiment"},
}
# Where the page shows data, never our words: hidden before the text is read.
DATA_SELECTORS = ", ".join([
    ".job-cell-id", ".job-cell-model", ".job-cell-output", ".detail-job-id", ".detail-model strong", ".detail-ft-name",
    ".checkpoint-name", ".event-message", ".event-data-cell", ".event-level", ".event-type", "dd.auto",
    "#comparison-table td:first-child", ".error-message", ".api-error-message", "#api-banner-message",
    ".legendtext", ".header-user strong", ".compare-job", ".model-filter .Select-value-label",
    ".language-switch",  # each language in its own name, on every page
])


def english_patterns(code: str) -> dict[str, re.Pattern]:
    """One pattern per English msgid that must not show on a page in ``code``: placeholders
    match any text on the line; a msgid with fewer than three letters outside placeholders
    ("{spent} / {budget}") says nothing and is skipped."""
    with POT.open("rb") as handle:
        template = read_po(handle)
    patterns = {}
    for message in template:
        if not message.id:
            continue
        for msgid in (message.id if isinstance(message.id, tuple) else (message.id,)):
            if msgid in IDENTICAL[code]:
                continue
            parts = re.split(r"\{\w+\}", msgid.strip())
            if sum(ch.isalpha() for part in parts for ch in part) < 3:
                continue
            body = "[^\\n]+?".join(re.escape(part) for part in parts)
            patterns[msgid] = re.compile(rf"(?<![\w-]){body}(?![\w-])" if msgid.strip()[-1:].isalnum()
                                         else rf"(?<![\w-]){body}")
    return patterns


def visible_text(dash_duo) -> str:
    """The page's visible words, with the data hidden: innerText skips visibility:hidden."""
    page = dash_duo.driver.execute_script("""
        const style = document.createElement('style');
        style.textContent = arguments[0] + ' { visibility: hidden !important; }';
        document.head.appendChild(style);
        const text = document.body.innerText;
        const placeholders = [...document.querySelectorAll('input[placeholder]')]
            .filter((input) => input.offsetParent !== null).map((input) => input.placeholder);
        style.remove();
        return [document.title, text, ...placeholders].join('\\n');
    """, f"{DATA_SELECTORS}, " + ", ".join(f"{s} *" for s in DATA_SELECTORS.split(", ")))
    return page


def english_left(text: str, code: str) -> list[str]:
    """The catalog's English msgids found in ``text`` (a page in ``code``)."""
    return sorted(msgid for msgid, pattern in english_patterns(code).items() if pattern.search(text))


def same_as_english(text: str, english: str, code: str) -> list[str]:
    """Lines of ``text`` that the English page shows word for word: catches a string nobody marked
    for translation (so not in the catalog either), once its words are not identical by nature."""
    english_lines = {line.strip() for line in english.splitlines()}
    # Compared in lower case: labels drawn with text-transform: uppercase read "SUFFIX (OPTIONAL)".
    natural = sorted((msgid.strip().lower() for msgid in IDENTICAL[code] if msgid.strip()), key=len, reverse=True)

    def says_something(line: str) -> bool:
        line = line.lower()
        for word in natural:
            line = line.replace(word, " ")
        return sum(ch.isalpha() for ch in line) >= 3

    return sorted({line.strip() for line in text.splitlines()
                   if line.strip() in english_lines and says_something(line.strip())})


def lang_cookie(dash_duo) -> str | None:
    return next((c["value"] for c in dash_duo.driver.get_cookies() if c["name"] == i18n.COOKIE), None)


def page_lang(dash_duo) -> str:
    return dash_duo.driver.execute_script("return document.documentElement.lang")


def wait_page(dash_duo, lang: str, words: str):
    """The page in ``lang`` with its header drawn and the jobs list filled."""
    wait_until(lambda: page_lang(dash_duo) == lang, ticks(LOAD_TICKS, TICK), f"html lang is not {lang}")
    wait_until(lambda: words in dash_duo.find_element("header").text, ticks(LOAD_TICKS, TICK),
               f"the header does not say {words!r}")
    wait_until(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, ROWS), ticks(LOAD_TICKS, TICK),
               "the jobs list has no rows")


def shoot(dash_duo, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def shoot_full_page(dash_duo, name: str) -> None:
    """The whole page, below the fold too (the charts and events of a job's details)."""
    import base64

    size = dash_duo.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = dash_duo.driver.execute_cdp_cmd("Page.captureScreenshot", {
        "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def check_screens(dash_duo, code: str, job_id: str) -> dict[str, list[str]]:
    """The visible text (data hidden) of the list, the job's details and the create dialog."""
    left = {}
    left["list"] = visible_text(dash_duo)
    shoot(dash_duo, f"{code}-list")
    dash_duo.find_element(f"{ROWS}[row-id='{job_id}']").click()
    # The details are drawn: header, progress caption, events and the charts' axes.
    wait_until(lambda: dash_duo.find_element(f"#{ids.JobDetails.JOB_ID}").text == job_id,
               ticks(LOAD_TICKS, TICK), "the job's details did not open")
    wait_until(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#loss-graph .xtitle"),
               ticks(LOAD_TICKS, TICK), "the loss chart was not drawn")
    wait_until(lambda: dash_duo.find_element("#events-log-count").text, ticks(LOAD_TICKS, TICK),
               "the events log did not load")
    # plotly.js's toolbar (shown on hover) says its buttons' names in the page's language too.
    toolbar = [button.get_attribute("data-title")
               for button in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#loss-graph .modebar-btn")]
    assert len(toolbar) >= 5, toolbar
    left["details"] = visible_text(dash_duo) + "\n" + "\n".join(toolbar)
    shoot(dash_duo, f"{code}-details")
    shoot_full_page(dash_duo, f"{code}-details-full")
    # A script's click: the scrolled page leaves the header where selenium's click lands on another element.
    dash_duo.driver.execute_script("arguments[0].click()", dash_duo.find_element(f"#{ids.Header.CREATE}"))
    dash_duo.wait_for_element(f".create-job-dialog.show #{ids.CreateJob.SUBMIT}", timeout=ticks(10, TICK))
    dash_duo.wait_for_element(f"#{ids.CreateJob.FILE_OPTIONS} option", timeout=ticks(10, TICK))
    # An empty form sent: the validation messages and the "nothing was sent" alert show, nothing leaves.
    dash_duo.find_element(f"#{ids.CreateJob.SUBMIT}").click()
    dash_duo.wait_for_element(f"#{ids.CreateJob.FIELDS['model']}.is-invalid", timeout=ticks(10, TICK))
    left["dialog"] = visible_text(dash_duo)
    shoot(dash_duo, f"{code}-dialog")
    dash_duo.find_element(f"#{ids.CreateJob.CANCEL}").click()
    wait_until(lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".create-job-dialog.show"),
               ticks(10, TICK), "the dialog did not close")
    return left


def test_i18n001_pages_in_german_and_chinese_show_no_english_ui_string(fakeai, start_dash):
    job_id = fakeai.create_job(suffix="i18n")["id"]  # running by the time its details are opened
    dash_duo = start_dash(fakeai.url)
    # English by default: headless Chromium asks for en-US (tests/conftest.py).
    wait_page(dash_duo, "en", "Auto-refresh")
    assert lang_cookie(dash_duo) is None
    english = check_screens(dash_duo, "en", job_id)  # what each screen says in English, to compare with

    # A first visit follows Accept-Language (no cookie yet, no ?lang=).
    dash_duo.driver.execute_cdp_cmd("Network.enable", {})
    dash_duo.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": "de-DE,de;q=0.9"}})
    dash_duo.driver.refresh()
    wait_page(dash_duo, "de", "Automatisch aktualisieren")
    assert lang_cookie(dash_duo) is None  # followed, not remembered
    dash_duo.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": "en-US,en"}})

    # ?lang= switches and is remembered: a visit without it stays in Chinese.
    dash_duo.driver.get(f"{dash_duo.server_url}/?lang=zh")
    wait_page(dash_duo, "zh-Hans", "自动刷新")
    assert lang_cookie(dash_duo) == "zh"
    dash_duo.driver.get(dash_duo.server_url)
    wait_page(dash_duo, "zh-Hans", "自动刷新")
    zh_texts = check_screens(dash_duo, "zh", job_id)

    # The header's switch: a link to ?lang=de that keeps the page's path.
    dash_duo.find_element(f"#{language_switch.link_id('de')}").click()
    wait_until(lambda: "lang=de" in dash_duo.driver.current_url, ticks(LOAD_TICKS, TICK))
    wait_page(dash_duo, "de", "Automatisch aktualisieren")
    assert f"/jobs/{job_id}" in dash_duo.driver.current_url
    assert lang_cookie(dash_duo) == "de"
    de_texts = check_screens(dash_duo, "de", job_id)

    assert "Download plot as a PNG" in english["details"].splitlines()
    assert "Graphen als PNG herunterladen" in de_texts["details"].splitlines()
    assert "下载图表为PNG格式" in zh_texts["details"].splitlines()
    for code, texts in (("zh", zh_texts), ("de", de_texts)):
        assert {screen: english_left(text, code) for screen, text in texts.items()} == \
            {"list": [], "details": [], "dialog": []}, f"English msgids on the {code} pages"
        assert {screen: same_as_english(text, english[screen], code) for screen, text in texts.items()} == \
            {"list": [], "details": [], "dialog": []}, f"lines of the {code} pages the English pages show too"
    assert dash_duo.get_logs() == []
