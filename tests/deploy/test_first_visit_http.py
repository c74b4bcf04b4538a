"""A light first visit, over real HTTP from the CLI's gunicorn: compressed answers, long-cached fingerprinted files."""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest
import requests

from fakeai_dash.app import create_app
from fakeai_dash.config import Settings
from fakeai_dash.server.web import IMMUTABLE, NEVER_STORE, REVALIDATE, CompressedStatic, StaticPaths, compressed_cache_key
from tests.deploy.test_server import running_cli, wait_until

YEAR = 31536000


@pytest.fixture(scope="module")
def job_ids(fakeai):
    return [fakeai.create_job()["id"] for _ in range(3)]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, fakeai, job_ids):
    """The dashboard as `make run` serves it, on the session's FakeAI with a few jobs in the list."""
    with running_cli(tmp_path_factory.mktemp("cli"), "--api-base", fakeai.url) as cli:
        yield cli.base


def fetch(url: str, encoding: str, method: str = "GET", **kwargs) -> requests.Response:
    """The response as it travelled: body left compressed (``.raw_body``)."""
    response = requests.request(method, url, headers={"Accept-Encoding": encoding, **kwargs.pop("headers", {})},
                                stream=True, timeout=30, **kwargs)
    response.raw_body = response.raw.read(decode_content=False)
    return response


def decoded(response: requests.Response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    body = response.raw_body
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, lambda b: b)(body)


def page_links(base: str) -> dict[str, list[str]]:
    html = requests.get(f"{base}/", timeout=30).text
    return {"scripts": re.findall(r'<script src="([^"]+)"', html),
            "styles": re.findall(r'<link rel="stylesheet" href="([^"]+)"', html),
            "icons": re.findall(r'<link rel="icon"[^>]* href="([^"]+)"', html)}


def first(links: list[str], pattern: str) -> str:
    return next(link for link in links if re.search(pattern, link))


def jobs_list_callback(base: str) -> dict:
    """The request the page makes first for the jobs list, built from the app's own callback map."""
    deps = requests.get(f"{base}/_dash-dependencies", timeout=30).json()
    callback = next(c for c in deps if ".jobs-store.data." in f".{c['output']}.")
    outputs = [dict(zip(("id", "property"), spec.rsplit(".", 1), strict=True))
               for spec in callback["output"].strip(".").split("...")]
    return {"output": callback["output"], "outputs": outputs, "changedPropIds": [],
            "inputs": [{**spec, "value": None} for spec in callback["inputs"]],
            "state": [{**spec, "value": None} for spec in callback["state"]]}


# -- compression ---------------------------------------------------------------------------------

def test_first_visit001_page_scripts_styles_and_json_travel_brotli(dashboard):
    links = page_links(dashboard)
    urls = {
        "page": "/",
        "renderer": first(links["scripts"], r"dash_renderer\.v"),
        "grid": first(links["scripts"], r"dash_ag_grid\.v"),
        "our scripts": first(links["scripts"], r"/assets/_bundle\.js\?m="),
        "bootstrap": first(links["styles"], r"bootstrap\.min\.css"),
        "our styles": first(links["styles"], r"/assets/_bundle\.css\?m="),
        "layout": "/_dash-layout",
        "dependencies": "/_dash-dependencies",
    }
    for name, path in urls.items():
        plain = fetch(dashboard + path, "identity")
        packed = fetch(dashboard + path, "br, gzip")
        assert plain.ok and packed.ok, name
        assert "Content-Encoding" not in plain.headers, name
        assert packed.headers["Content-Encoding"] == "br", name
        assert "Accept-Encoding" in packed.headers["Vary"], name
        assert len(packed.raw_body) < 0.5 * len(plain.raw_body), name
        if name != "page":  # the page carries a fresh token per load
            assert decoded(packed) == plain.raw_body, name


def test_first_visit002_gzip_for_a_client_without_brotli(dashboard):
    links = page_links(dashboard)
    for path in ("/", first(links["scripts"], r"dash_ag_grid\.v"), first(links["styles"], r"/assets/_bundle\.css\?m="),
                 "/_dash-layout"):
        packed = fetch(dashboard + path, "gzip, deflate")
        assert packed.headers.get("Content-Encoding") == "gzip", path
        assert len(decoded(packed)) > len(packed.raw_body), path


def test_first_visit003_callback_answers_travel_compressed(dashboard, job_ids):
    request = jobs_list_callback(dashboard)

    def answer_with_jobs():
        response = fetch(f"{dashboard}/_dash-update-component", "br, gzip", method="POST", json=request)
        listed = response.status_code == 200 and all(job_id.encode() in decoded(response) for job_id in job_ids)
        return response if listed else None

    # The list may still be loading on the very first call: a bounded wait for the rows.
    response = wait_until(answer_with_jobs, 30, "the jobs list answer")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.raw_body) < len(decoded(response))
    json.loads(decoded(response))


# -- caching -------------------------------------------------------------------------------------

def test_first_visit004_fingerprinted_files_are_cached_a_year_and_pages_never(dashboard):
    links = page_links(dashboard)
    assert links["scripts"] and links["styles"] and links["icons"]
    # Everything the page links (Dash's bundles, our assets' bundles, the vendored Bootstrap, the
    # list's chunks, the icon) carries a fingerprint, so a repeat visit asks for none of it.
    for path in links["scripts"] + links["styles"] + links["icons"]:
        response = requests.get(dashboard + path, timeout=30)
        assert response.ok, path
        assert response.headers["Cache-Control"] == IMMUTABLE, path
        assert f"max-age={YEAR}" in IMMUTABLE
    assert any("bootstrap.min.css?m=" in path for path in links["styles"])
    for path in ("/", "/_dash-layout", "/_dash-dependencies", "/healthz"):
        assert requests.get(dashboard + path, timeout=30).headers["Cache-Control"] == NEVER_STORE, path


def test_first_visit005_unfingerprinted_files_are_revalidated(dashboard):
    # Dash's on-demand chunks (AG Grid's, plotly.js) and an asset asked without ?m= keep their
    # URL across versions: the browser must ask each time, and gets a 304 while unchanged.
    for path in ("/_dash-component-suites/dash_ag_grid/async-community.js", "/assets/theme.css"):
        response = fetch(dashboard + path, "br, gzip")
        assert response.ok, path
        assert response.headers["Cache-Control"] == REVALIDATE, path
        etag = response.headers["ETag"]
        again = fetch(dashboard + path, "br, gzip", headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.raw_body == b"", path


# -- the compressed-body cache -------------------------------------------------------------------

def test_first_visit006_compressed_static_bodies_are_kept_within_a_byte_bound():
    cache = CompressedStatic(max_bytes=100)
    cache.set("br;/a.js?m=1", b"a" * 40)
    cache.set("br;/b.js?m=1", b"b" * 40)
    assert cache.get("br;/a.js?m=1") == b"a" * 40  # a is now the most recently used
    cache.set("gzip;/c.js?m=1", b"c" * 40)  # 120 bytes > 100: the least recently used (b) goes
    assert cache.get("br;/b.js?m=1") is None
    assert cache.get("br;/a.js?m=1") and cache.get("gzip;/c.js?m=1")
    assert cache.size == 80
    cache.set("br;/a.js?m=1", b"a" * 10)  # replacing an entry counts its new size only
    assert cache.size == 50
    cache.set("br;/huge.js", b"h" * 101)  # larger than the whole bound: never stored
    assert cache.get("br;/huge.js") is None and cache.size == 50
    cache.set("br;-", b"a dynamic answer")  # what the key function gives non-static responses
    assert cache.get("br;-") is None


def test_first_visit007_compressed_bodies_are_reused_by_file_not_by_made_up_query():
    from flask import request as current

    app = create_app(Settings(_env_file=None, api_base="http://127.0.0.1:9"))
    paths = StaticPaths(app)
    keys = {}
    for url in ("/_dash-component-suites/plotly/package_data/plotly.min.js?x=1",
                "/_dash-component-suites/plotly/package_data/plotly.min.js?x=2",
                "/assets/theme.css?m=1", "/assets/theme.css?m=2&x=3", "/assets/theme.css",
                "/_dash-layout", "/"):
        with app.server.test_request_context(url):
            keys[url] = compressed_cache_key(paths, current)
    assert keys["/_dash-component-suites/plotly/package_data/plotly.min.js?x=1"] == \
        keys["/_dash-component-suites/plotly/package_data/plotly.min.js?x=2"]
    assert keys["/assets/theme.css?m=1"] != keys["/assets/theme.css?m=2&x=3"] == "/assets/theme.css?m=2"
    assert {keys["/assets/theme.css"], keys["/_dash-layout"], keys["/"]} == {"-"}
    with app.server.test_request_context("/_dash-component-suites/dash/dcc/async-graph.js", method="POST"):
        assert compressed_cache_key(paths, current) == "-"
