"""The API key stays on the server: nothing the dashboard sends to a browser contains it."""

from __future__ import annotations

import json

import pytest

from tests.support.waiting import wait_until

SECRET = "sk-test-DO-NOT-LEAK-4242"


def _job(job_id="ftjob-1", status="running"):
    return {"object": "fine_tuning.job", "id": job_id, "model": "gpt-4o-mini-2024-07-18",
            "status": status, "created_at": 1_790_000_000, "error": None}


def _callback_body(app, output_fragment: str, inputs: dict[str, object]) -> dict:
    """The request body Dash's renderer sends for the callback whose output names ``output_fragment``."""
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if output_fragment in d["output"])
    return {
        "output": spec["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                    for o in spec["output"].strip(".").split("...") if o],
        "inputs": [{"id": i["id"], "property": i["property"], "value": inputs.get(i["id"])}
                   for i in spec["inputs"]],
        "state": [{"id": s["id"], "property": s["property"], "value": None} for s in spec["state"]],
        "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
    }


@pytest.mark.parametrize("api_type", ["openai", "azure"])
def test_secret001_key_never_sent_to_the_browser(httpserver, make_app, api_type):
    # The backend echoes the key in an error, as a careless proxy might.
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json(
        {"object": "list", "data": [_job()], "has_more": False})
    httpserver.expect_request("/openai/fine_tuning/jobs").respond_with_json(
        {"error": {"message": f"Key {SECRET} is over quota", "type": "rate_limit", "param": None,
                   "code": "quota"}}, status=429, headers={"Retry-After": "0"})
    app = make_app(httpserver.url_for("").rstrip("/"), api_key=SECRET, api_type=api_type)
    client = app.server.test_client()

    bodies = [client.get(path).get_data(as_text=True)
              for path in ("/", "/jobs/ftjob-1", "/_dash-layout", "/_dash-dependencies", "/healthz")]
    tick = _callback_body(app, "jobs-store.data", {"refresh-interval": 1})

    def answered() -> str | None:
        # Ticks read the sync loop's picture: poll until its first round (or error) shows.
        response = client.post("/_dash-update-component", json=tick)
        assert response.status_code in (200, 204)
        text = response.get_data(as_text=True)
        return text if response.status_code == 200 and json.loads(text).get("response") else None

    bodies.append(wait_until(answered, 15, "the first jobs tick with data or a banner"))

    assert all(SECRET not in body for body in bodies)
    # The key did go to the API, on the server side: the test would be empty otherwise.
    sent = [dict(request.headers) for request, _ in httpserver.log]
    header = "Authorization" if api_type == "openai" else "Api-Key"
    assert any(SECRET in h.get(header, "") for h in sent)
    if api_type == "azure":
        assert "over quota" in bodies[-1] and "***" in bodies[-1]  # the error reached the banner, redacted
    else:
        assert json.loads(bodies[-1])["response"]["jobs-store"]["data"][0]["id"] == "ftjob-1"
