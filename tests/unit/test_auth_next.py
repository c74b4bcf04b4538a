"""Where a sign-in sends the browser back (auth/redirects.local_path), over hostile ``next`` values
(#17, finding 2): a same-site path or "/", also as the Location header Werkzeug emits and as a
browser's URL parser reads it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask, redirect, request
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeai_dash.auth.redirects import local_path

PIECES = ["/", "//", "\\", "\\\\", "%09", "%0a", "%0D", "%2F", "%2f", "%5C", "%5c", "%00", "%25", "%", "\t", "\n",
          "\r", "\x0b", "\x0c", "\x00", "\x7f", "\x85", "\xa0", "\u2028", "\u200b", "\u202e", "\u3000", " ", "@", ":",
          "http:", "https:", "javascript:", "//evil.example", "evil.example", "?", "#", "&next=", "[", "]", ".", "..",
          "ü", "jobs", "ftjob-abc", "／", "。"]
HOSTILE = st.builds(lambda start, rest: start + "".join(rest), st.sampled_from(["/", "", "//", "/\\", "\\", " /"]),
                    st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=10))

def browser_reads(location: str) -> str:
    """A relative Location as a browser's URL parser reads it (WHATWG): leading and trailing C0
    controls and spaces stripped, tabs and newlines removed anywhere, "\\" read as "/"."""
    text = location.strip("".join(map(chr, range(0x21))))
    return "".join(ch for ch in text if ch not in "\t\n\r").replace("\\", "/")

def assert_same_site(location: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    seen = browser_reads(location)
    assert seen.startswith("/") and not seen.startswith("//"), location

@pytest.fixture(scope="module")
def emitted():
    """The Location Werkzeug sends for ``redirect(local_path(next))``, as the callback answers it."""
    app = Flask(__name__)

    @app.get("/back")
    def back():
        return redirect(local_path(request.args.get("next")))

    client = app.test_client()

    def location(value: str) -> str:
        response = client.get("/back", query_string={"next": value})
        assert response.status_code == 302, (value, response.status_code)
        return response.headers["Location"]

    return location

@settings(max_examples=400, deadline=None)
@given(HOSTILE)
def test_next001_next_is_a_same_site_path_or_home(emitted, value):
    path = local_path(value)
    assert path == "/" or (path.startswith("/") and not path.startswith("//") and "\\" not in path), (value, path)
    assert_same_site(path)
    assert_same_site(emitted(value))

@pytest.mark.parametrize("value", ["/\t/evil.example", "/%09/evil.example", "/\n/x", "/x\r\nSet-Cookie: a=b",
                                   "/%2F/evil.example", "/\\evil.example", "/%5Cevil.example", "//evil.example",
                                   "https://evil.example/", "/\u3000/evil.example", "/\u200b/x", " //evil.example",
                                   "javascript:alert(1)", "/" + "a" * 3000])
def test_next002_the_reported_redirects_go_home(emitted, value):
    assert local_path(value) == "/"
    assert emitted(value) == "/"

@pytest.mark.parametrize("value", ["/", "/jobs/ftjob-abc", "/jobs/ftjob-abc?tab=metrics&x=1", "/compare?ids=a,b",
                                   "/jobs/ü", "/a:b@c"])
def test_next003_a_local_path_survives(value):
    assert local_path(value) == value
