"""In the browser: an API that refuses the key (OpenAI's and Azure's 401, a 403) gets a banner
that says so and names the setting to fix, not "not answering"; the key itself never shows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from werkzeug import Response

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, ticks

pytestmark = pytest.mark.browser

TICK = 1.0
SHOTS = os.environ.get("FAKEAI_DASH_SHOTS")  # a directory: keep a screenshot of each banner
KEY = "sk-wrong-key-0000-7777"
REFUSALS = {  # what each API answers a bad key, as documented and seen
    "openai": (401, {"error": {"message": f"Incorrect API key provided: {KEY}. You can find your API key at "
                                          "https://platform.openai.com/account/api-keys.",
                               "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}),
    "azure": (401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong "
                                                        "API endpoint. Make sure to provide a valid key for an "
                                                        "active subscription and use a correct regional API "
                                                        "endpoint for your resource."}}),
    "openai-403": (403, {"error": {"message": "You are not allowed to sample from this model", "type":
                                   "invalid_request_error", "param": None, "code": None}}),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_sec_banner_b001_a_refused_key_is_named_in_the_banner(httpserver, start_dash, case):
    status, body = REFUSALS[case]
    api_type = case.split("-")[0]
    httpserver.expect_request(f"/{'openai' if api_type == 'azure' else 'v1'}/fine_tuning/jobs").respond_with_response(
        Response(json.dumps(body), status=status, content_type="application/json"))
    dash_duo = start_dash(httpserver.url_for("").rstrip("/"), refresh_interval=TICK, api_type=api_type, api_key=KEY)
    banner = f"#{ids.Page.API_BANNER}"
    dash_duo.wait_for_contains_text(banner, "refused the dashboard's API key", timeout=ticks(LOAD_TICKS, TICK))
    shown = dash_duo.find_element(banner).text
    assert "not answering" not in shown
    assert f"HTTP {status}:" in shown
    fix = dash_duo.find_element("#api-banner-fix").text
    assert "FAKEAI_DASH_API_KEY (or the file named by FAKEAI_DASH_API_KEY_FILE)" in fix
    assert ("Azure OpenAI resource's api-key" in fix) == (api_type == "azure")
    assert KEY not in dash_duo.driver.page_source
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dash_duo.driver.save_screenshot(str(Path(SHOTS) / f"banner-{case}.png"))
    assert dash_duo.get_logs() == []
