"""HTTP hardening on the real app (fakeai_dash.server.security): headers on every kind of response, a
CSP that names exactly the inline scripts the page carries, forged cross-site writes refused
before any API call, the request size cap, cookie attributes, HSTS and the proxy setting."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from flask import make_response, session

from fakeai_dash.server.security import request_limit_bytes

UPLOAD = "create-job-upload-report.children"
PAGE = "http://127.0.0.1:8050"


def chat_lines(count: int, pad: int = 0) -> bytes:
    line = {"messages": [{"role": "user", "content": "q" + "x" * pad}, {"role": "assistant", "content": "a"}]}
    return (json.dumps(line) + "\n").encode() * count


def data_url(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


def upload_body(app, contents, filename="d.jsonl") -> dict:
    """The body Dash's renderer posts when a file is dropped on the create dialog."""
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if UPLOAD in d["output"])
    values = {"create-job-upload.contents": contents, "create-job-upload.filename": filename,
              "create-job-method.value": "supervised"}
    return {
        "output": spec["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in spec["output"].strip(".").split("...")],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in spec["state"]],
        "changedPropIds": ["create-job-upload.contents"],
    }


def file_posts(api) -> list:
    return [r for r, _ in api.log if r.method == "POST" and r.path.endswith("/files")]


@pytest.fixture
def api(httpserver):
    httpserver.expect_request("/v1/fine_tuning/jobs").respond_with_json({"object": "list", "data": [],
                                                                          "has_more": False})
    httpserver.expect_request("/v1/files", method="POST").respond_with_json(
        {"id": "file-up1", "object": "file", "bytes": 1, "created_at": 1, "filename": "d.jsonl",
         "purpose": "fine-tune"})
    return httpserver


@pytest.fixture
def app(api, make_app):
    # Served as dash.example too (the HTTPS tests' host): every other name is refused (server/hosts.py).
    return make_app(api.url_for("").rstrip("/"), refresh_interval=3600, upload_limit_mb=0.5,
                    allowed_hosts=["dash.example"])


# -- headers -----------------------------------------------------------------------------------

def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_sec_http001_every_response_carries_the_headers_and_the_csp_names_the_pages_inline_scripts(app):
    client = app.server.test_client()
    page = client.get("/")
    responses = {"page": page, "job page": client.get("/jobs/ftjob-1"), "layout": client.get("/_dash-layout"),
                 "healthz": client.get("/healthz"), "asset": client.get("/assets/theme.css"),
                 "404": client.get("/nope/x.js")}
    for name, response in responses.items():
        csp = csp_of(response)
        assert csp["script-src"][0] == "'self'", name
        assert "'unsafe-eval'" not in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"], name
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], name
        assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'self'"], name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "same-origin", name
        assert "Strict-Transport-Security" not in response.headers, name  # plain http
    # Every executable inline script of the page is allowed by its hash, and nothing more is.
    html = page.get_data(as_text=True)
    inline = [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
              if "src=" not in attrs and "application/json" not in attrs]
    assert len(inline) >= 2  # the renderer and the clientside callbacks
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'" for body in inline}
    assert hashes == set(csp_of(page)["script-src"][1:])


# -- forged requests ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},  # a sandboxed frame or a data: page
    {"Origin": "http://127.0.0.1:8051"},  # another port is another site
    {"Origin": "http://127.0.0.1.evil.example:8050"},
    {"Referer": "https://evil.example/attack.html"},  # no Origin: the Referer decides
    {"Origin": "https://evil.example", "Referer": f"{PAGE}/"},  # Origin wins over a copied Referer
])
def test_sec_http002_a_cross_site_upload_is_refused_and_reaches_no_api(app, api, headers):
    client = app.server.test_client()
    body = upload_body(app, data_url(chat_lines(12)))
    response = client.post("/_dash-update-component", json=body, headers={"Host": "127.0.0.1:8050", **headers})
    assert response.status_code == 403
    assert response.mimetype == "application/json"
    message = response.get_json()["message"]
    assert message.startswith("Refused: this request came from another site (") and "Traceback" not in message
    assert file_posts(api) == []


@pytest.mark.parametrize("headers", [
    {"Origin": PAGE},
    {"Referer": f"{PAGE}/jobs/ftjob-1?x=1"},
    {"Origin": "https://127.0.0.1:8050"},  # behind a TLS proxy this server is not told about
    {},  # no browser page: an API client, not a forgery riding on a user's cookies
])
def test_sec_http003_a_same_origin_upload_goes_through(app, api, headers):
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=upload_body(app, data_url(chat_lines(12))),
                           headers={"Host": "127.0.0.1:8050", **headers})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "file-up1" in response.get_data(as_text=True)
    assert len(file_posts(api)) == 1


def test_sec_http004_an_http_page_may_not_post_to_the_https_site(app, api):
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=upload_body(app, data_url(chat_lines(12))),
                           base_url="https://dash.example", headers={"Origin": "http://dash.example"})
    assert response.status_code == 403 and file_posts(api) == []
    same = client.post("/_dash-update-component", json=upload_body(app, data_url(chat_lines(12))),
                       base_url="https://dash.example", headers={"Origin": "https://dash.example"})
    assert same.status_code == 200 and len(file_posts(api)) == 1


# -- size --------------------------------------------------------------------------------------

def test_sec_http005_a_file_at_the_upload_limit_passes_and_a_bigger_request_gets_a_clear_413(app, api):
    limit = int(0.5 * 1024 * 1024)
    client = app.server.test_client()
    # A file of exactly the limit: base64 makes it 4/3 bigger in the callback's body, and it passes.
    line = chat_lines(1)
    at_limit = chat_lines(limit // len(line))
    at_limit += b" " * (limit - len(at_limit))
    assert len(at_limit) == limit
    response = client.post("/_dash-update-component", json=upload_body(app, data_url(at_limit)))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert len(file_posts(api)) == 1
    # A body over the cap is refused before anything reads it.
    too_big = b"x" * (request_limit_bytes(0.5) + 1)
    response = client.post("/_dash-update-component", data=too_big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"message": "The request is larger than this dashboard accepts: files up to "
                                              "0.5 MB can be uploaded from the browser. Upload larger files with "
                                              "the API and type their id."}
    assert len(file_posts(api)) == 1
    # The cap is "a little over" the upload: its base64 plus 1 MB, at any limit.
    for mb in (0.5, 50, 1024):
        assert 4 / 3 * mb * 1024 * 1024 < request_limit_bytes(mb) <= 4 / 3 * mb * 1024 * 1024 + 1024 * 1024 + 1


def test_sec_http006_a_file_over_the_limit_but_under_the_cap_is_refused_in_words(app, api):
    limit = int(0.5 * 1024 * 1024)
    over = chat_lines(limit // len(chat_lines(1)) + 100)
    response = app.server.test_client().post("/_dash-update-component", json=upload_body(app, data_url(over)))
    assert response.status_code == 200
    assert "files up to 0.5 MB can be uploaded from the browser" in response.get_data(as_text=True)
    assert file_posts(api) == []


# -- cookies, HSTS, proxies --------------------------------------------------------------------

@pytest.fixture
def cookie_app(app):
    server = app.server
    server.secret_key = "test-secret"

    def set_cookies():
        session["who"] = "alice"  # Flask's session cookie is written after the after_request hooks
        response = make_response("ok")
        response.set_cookie("plain", "1")
        response.set_cookie("strict", "1", samesite="Strict")
        return response

    server.add_url_rule("/_test/cookies", "test_cookies", set_cookies)
    return app


def set_cookies(response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.getlist("Set-Cookie")}


def test_sec_http007_every_cookie_is_samesite_and_httponly_and_secure_over_https(cookie_app):
    client = cookie_app.server.test_client()
    plain = set_cookies(client.get("/_test/cookies"))
    assert set(plain) == {"session", "plain", "strict"}
    for name, cookie in plain.items():
        assert "HttpOnly" in cookie and "Secure" not in cookie, cookie
    assert "SameSite=Lax" in plain["session"] and "SameSite=Lax" in plain["plain"]
    assert "SameSite=Strict" in plain["strict"] and "SameSite=Lax" not in plain["strict"]
    secure = set_cookies(client.get("/_test/cookies", base_url="https://dash.example"))
    assert all("Secure" in cookie for cookie in secure.values()), secure


def test_sec_http008_hsts_only_on_requests_known_to_be_https(app):
    client = app.server.test_client()
    assert client.get("/healthz", base_url="https://dash.example").headers["Strict-Transport-Security"] \
        == "max-age=31536000; includeSubDomains"
    # A client's own X-Forwarded-Proto is not believed without FAKEAI_DASH_TRUSTED_PROXIES.
    forged = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_sec_http009_behind_a_trusted_proxy_the_forwarded_scheme_and_host_count(api, make_app):
    app = make_app(api.url_for("").rstrip("/"), refresh_interval=3600, trusted_proxies=1,
                   allowed_hosts=["dash.example"])
    app.server.secret_key = "test-secret"
    app.server.add_url_rule("/_test/cookie", "test_cookie", lambda: (session.update(x=1), "ok")[1])
    client = app.server.test_client()
    proxied = {"Host": "127.0.0.1:8050", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "dash.example",
               "X-Forwarded-For": "203.0.113.9"}
    response = client.get("/_test/cookie", headers=proxied)
    assert "Strict-Transport-Security" in response.headers
    assert "Secure" in response.headers["Set-Cookie"]
    ok = client.post("/_dash-update-component", json=upload_body(app, data_url(chat_lines(12))),
                     headers={**proxied, "Origin": "https://dash.example"})
    assert ok.status_code == 200 and len(file_posts(api)) == 1
    # The public name is the site; the inner address the proxy talks to is not.
    inner = client.post("/_dash-update-component", json=upload_body(app, data_url(chat_lines(12))),
                        headers={**proxied, "Origin": "http://127.0.0.1:8050"})
    assert inner.status_code == 403 and len(file_posts(api)) == 1
