"""The first visit's HTTP side on the real app: the layout carries the jobs list (first_list.py),
our scripts and styles travel as two bundles (server/bundles.py), and the list page names its chunks
(server/preload.py). Real parts: a FakeAI server and the app's own Flask server (test client)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from fakeai_dash import ids
from fakeai_dash.server.web import IMMUTABLE
from tests.support.waiting import wait_until


def find(component: dict, component_id: str) -> dict | None:
    """The component ``component_id`` in a serialised Dash layout."""
    if isinstance(component, dict):
        if component.get("props", {}).get("id") == component_id:
            return component
        children = component.get("props", {}).get("children")
        for child in children if isinstance(children, list) else [children]:
            found = find(child, component_id)
            if found:
                return found
    return None


def test_firstlisthttp001_the_layout_carries_the_rows_once_the_picture_holds_them(fakeai, make_app):
    job = fakeai.create_job()
    client = make_app(fakeai.url, refresh_interval=1).server.test_client()

    def rows_in_layout():
        layout = client.get("/_dash-layout", headers={"Referer": "http://localhost/"}).get_json()
        grid = find(layout, ids.JobsList.GRID)["props"]
        return layout if any(row["id"] == job["id"] for row in grid.get("rowData") or []) else None

    layout = wait_until(rows_in_layout, 30, "the layout never carried the new job's row")
    stored = find(layout, ids.JobsList.STORE)["props"]["data"]
    assert job["id"] in {row["id"] for row in stored}
    assert find(layout, ids.JobsList.SIGNATURE)["props"]["data"]
    assert find(layout, ids.Page.API_STATUS)["props"]["data"]["ok"] is True
    assert find(layout, ids.JobsList.LOADING)["props"]["style"] == {"display": "none"}
    total = find(layout, "stat-total")["props"]["children"][0]["props"]["children"]
    assert total == len(stored)


def test_firstlisthttp002_the_page_links_two_bundles_and_no_separate_asset(fakeai, make_app):
    client = make_app(fakeai.url).server.test_client()
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    # theme_boot.js runs in <head>; every other file of ours comes in the bundles.
    ours = [url for url in scripts + styles if "/assets/" in url and not re.search(r"theme_boot|bootstrap", url)]
    bundles = [url for url in ours if re.search(r"/assets/_bundle\.(css|js)\?m=[0-9a-f]{16}$", url)]
    assert len(bundles) == 2 and ours == bundles
    for url in bundles:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.mimetype == ("text/css" if ".css?" in url else "text/javascript")
    assert b"assets/push.js" in client.get(next(u for u in bundles if ".js?" in u)).data
    # A script finds files relative to its own URL (chart_loader.js: plotly.js in vendor/), and the
    # assets folder's own files are still served (the bundles' rules take only their names).
    script = next(u for u in bundles if ".js?" in u)
    assert client.get(urljoin(script, "vendor/plotly-basic.min.js")).status_code == 200
    assert client.get("/assets/theme.css").status_code == 200


def test_firstlisthttp003_the_list_page_names_its_chunks_and_a_jobs_page_does_not(fakeai, make_app):
    client = make_app(fakeai.url).server.test_client()
    listed = re.findall(r'<script src="([^"]*async-[^"]+)"', client.get("/").get_data(as_text=True))
    assert any("dash_ag_grid/async-community.v" in url for url in listed)
    assert any("dcc/async-dropdown.v" in url for url in listed)
    for url in listed:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
    on_job = client.get("/jobs/ftjob-abc").get_data(as_text=True)
    assert "async-community" not in on_job
