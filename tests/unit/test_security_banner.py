"""When the API refuses the key (401/403), the banner says so and names the setting to fix;
any other trouble keeps "not answering"."""

from __future__ import annotations

import pytest

from fakeai_dash.components.api_banner import banner_text


def text(children) -> str:
    return " ".join(str(getattr(child, "children", "")) if hasattr(child, "children") else str(child)
                    for child in children)


@pytest.mark.parametrize("code", [401, 403])
def test_sec_banner001_a_refused_key_names_the_settings_to_fix(code):
    status = {"ok": False, "message": f"HTTP {code}: Incorrect API key provided: sk-***", "last_good": None}
    shown = text(banner_text(status, api_type="openai"))
    assert shown.startswith("The fine-tuning API refused the dashboard's API key.")
    assert "not answering" not in shown
    assert f"HTTP {code}: Incorrect API key provided" in shown  # the API's own words stay
    assert "FAKEAI_DASH_API_KEY (or the file named by FAKEAI_DASH_API_KEY_FILE)" in shown
    assert ("may not use fine-tuning here" in shown) == (code == 403)


def test_sec_banner002_azure_is_told_about_the_resources_api_key():
    status = {"ok": False, "message": "HTTP 401: Access denied due to invalid subscription key", "last_good": 1.0}
    shown = text(banner_text(status, now=61.0, api_type="azure"))
    assert "Azure OpenAI resource's api-key in FAKEAI_DASH_API_KEY" in shown and "Keys and Endpoint" in shown
    assert "(60 s ago)" in shown


@pytest.mark.parametrize("message", ["HTTP 503: down", "Cannot reach the API at http://x", "HTTP 404: nope",
                                     "The API said HTTP 401: in passing"])
def test_sec_banner003_other_trouble_still_reads_not_answering(message):
    shown = text(banner_text({"ok": False, "message": message, "last_good": None}))
    assert shown.startswith("The fine-tuning API is not answering.") and "FAKEAI_DASH_API_KEY" not in shown
