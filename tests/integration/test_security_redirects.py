"""No redirect is followed with the key: a 3xx from the API ends in a clear error and no request
reaches where it points (requests would have re-sent a Bearer header to a same-host target and
Azure's api-key header to any host)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from fakeai_dash.api.client import ApiError, FineTuningClient

KEY = "sk-redirect-test-5150"


@pytest.fixture
def elsewhere():
    """Where the redirect points: a server of its own that records every request."""
    server = HTTPServer()
    server.expect_request("/", method="GET").respond_with_data("stolen")
    server.start()
    yield server
    server.stop()


def paths(api_type: str) -> tuple[str, str]:
    prefix = "/openai" if api_type == "azure" else "/v1"
    return f"{prefix}/fine_tuning/jobs", f"{prefix}/fine_tuning/jobs/ftjob-1/cancel"


@pytest.mark.parametrize("api_type", ["openai", "azure"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_sec_redirect001_a_redirect_is_an_error_and_nothing_reaches_its_target(httpserver, elsewhere, api_type,
                                                                                 status):
    listing, cancel = paths(api_type)
    target = elsewhere.url_for("/steal")
    for path, method in ((listing, "GET"), (cancel, "POST")):
        httpserver.expect_request(path, method=method).respond_with_data("", status=status,
                                                                          headers={"Location": target})
    client = FineTuningClient(httpserver.url_for("").rstrip("/"), KEY, api_type=api_type)

    for call in (client.list_jobs, lambda: client.cancel_job("ftjob-1")):
        with pytest.raises(ApiError) as caught:
            call()
        assert str(caught.value) == (f"HTTP {status}: The API answered with a redirect (HTTP {status}); "
                                     "set the API base to the address it redirects to")
        assert KEY not in str(caught.value)

    assert elsewhere.log == []
    # Each call went to the API once: a redirect is not retried either.
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("GET", listing), ("POST", cancel)]
