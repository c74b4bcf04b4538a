"""Signed in through a real browser: a viewer sees who they are and no write controls (and why),
an operator cancels a job and sees it in the job's history; OIDC through the provider's form.

Basic credentials travel as Chrome's own Authorization header (DevTools'
Network.setExtraHTTPHeaders), as if typed into its prompt. Screenshots of the header are saved
under screenshots/ for a person to look at.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from fakeai_dash import ids
from tests.support.browser_support import LOAD_TICKS, prop, ticks, wait_until
from tests.integration.test_auth_gate import OPERATOR, VIEWER, write_users
from tests.support.oidc_provider import OIDCProvider, OIDCUser
from tests.support.scale_sim import ScaleSimulator

pytestmark = pytest.mark.browser

TICK = 1.0
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=6, running_jobs=3) as server:
        yield server


def running_job(sim) -> str:
    return next(j for j in sim.job_ids() if sim._job(j).status == "running")


def sign_in_basic(dash_duo, user: tuple[str, str]) -> None:
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    dash_duo.driver.execute_cdp_cmd("Network.enable", {})
    dash_duo.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})


def header_shot(dash_duo, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / name
    path.write_bytes(dash_duo.find_element(".app-header").screenshot_as_png)
    return path


def open_job(dash_duo, url: str, job_id: str) -> None:
    dash_duo.driver.get(f"{url}/jobs/{job_id}")
    dash_duo.wait_for_text_to_equal(f"#{ids.JobDetails.JOB_ID}", job_id, timeout=ticks(LOAD_TICKS, TICK))


@pytest.fixture
def basic_app(make_app, sim, tmp_path):
    users = write_users(tmp_path / "users.json")
    return make_app(sim.url, auth="basic", users_file=users, data_dir=str(tmp_path / "data"),
                    refresh_interval=TICK)


def test_authb001_viewer_sees_who_they_are_and_no_write_controls(dash_duo, serve_app, basic_app, sim):
    sign_in_basic(dash_duo, VIEWER)
    serve_app(basic_app)
    dash_duo.wait_for_contains_text("#header-user", "Signed in as bob", timeout=ticks(LOAD_TICKS, TICK))
    assert "viewer · read-only" in dash_duo.find_element("#header-user").text
    # The signed-in name is drawn in the theme's text colour (it was white on the light header,
    # which axe reports only as "incomplete": it cannot tell the header's background).
    name_color, text_color = dash_duo.driver.execute_script(
        "return [getComputedStyle(document.getElementById('header-user-name')).color,"
        " getComputedStyle(document.body).color];")
    assert name_color == text_color, (name_color, text_color)
    assert dash_duo.find_element("#header-user-sign-out").get_attribute("href").endswith("/auth/signed-out")
    create = dash_duo.find_element(f"#{ids.Header.CREATE}")
    # The c shortcut (assets/shortcuts.js) goes through that button, so it opens nothing for a viewer.
    ActionChains(dash_duo.driver).send_keys("c").perform()
    assert prop(dash_duo, ids.Header.CREATE, "n_clicks") is None
    assert not create.is_enabled() and "Read-only: your role is viewer." in create.get_attribute("title")
    open_job(dash_duo, dash_duo.server_url, running_job(sim))
    dash_duo.wait_for_contains_text(f"#{ids.JobDetails.ACTION_HELP}", "Read-only: your role is viewer.",
                                    timeout=ticks(10, TICK))
    for button in (ids.JobDetails.CANCEL, ids.JobDetails.PAUSE, ids.JobDetails.RESUME):
        assert not dash_duo.find_element(f"#{button}").is_displayed()
    header_shot(dash_duo, "auth_header_viewer.png")
    dash_duo.find_element(f"#{ids.JobDetails.HEADER}").screenshot(str(SHOTS / "auth_job_viewer.png"))
    assert sim.stats()["by_kind"].get("writes", 0) == 0
    assert dash_duo.get_logs() == []


def test_authb002_operator_cancels_and_the_job_shows_who_did(dash_duo, serve_app, basic_app, sim):
    sign_in_basic(dash_duo, OPERATOR)
    serve_app(basic_app)
    dash_duo.wait_for_contains_text("#header-user", "Signed in as alice", timeout=ticks(LOAD_TICKS, TICK))
    assert "operator" in dash_duo.find_element("#header-user").text
    assert dash_duo.find_element(f"#{ids.Header.CREATE}").is_enabled()
    header_shot(dash_duo, "auth_header_operator.png")
    job_id = running_job(sim)
    open_job(dash_duo, dash_duo.server_url, job_id)
    cancel = dash_duo.wait_for_element(f"#{ids.JobDetails.CANCEL}", timeout=ticks(10, TICK))
    wait_until(cancel.is_displayed, ticks(10, TICK), "the Cancel button")
    cancel.click()
    dash_duo.wait_for_element(f"#{ids.JobDetails.CONFIRM_YES}", timeout=ticks(5, TICK)).click()
    dash_duo.wait_for_contains_text(f"#{ids.JobDetails.ACTION_RESULT}", "Cancel requested.", timeout=ticks(10, TICK))
    dash_duo.wait_for_contains_text("#detail-audit", "Cancelled by alice at", timeout=ticks(10, TICK))
    assert sim._job(job_id).status == "cancelled"
    dash_duo.find_element(f"#{ids.JobDetails.HEADER}").screenshot(str(SHOTS / "auth_job_history.png"))
    assert dash_duo.get_logs() == []


def test_authb003_oidc_sign_in_through_the_provider_form_and_sign_out(dash_duo, make_app, sim, tmp_path):
    from tests.conftest import AppServer

    people = {"carol": OIDCUser("carol-secret-pw", "carol@example.com", ["fakeai-operators"]),
              "dave": OIDCUser("dave-secret-pw", "dave@example.com", [])}
    with OIDCProvider(people) as idp:
        app = make_app(sim.url, auth="oidc", oidc_issuer=idp.issuer, oidc_client_id=idp.client_id,
                       oidc_client_secret=idp.client_secret, oidc_operators=["fakeai-operators"],
                       data_dir=str(tmp_path / "data"), refresh_interval=TICK)
        server = AppServer(app)
        try:
            driver = dash_duo.driver
            for name, password, role_text in (("dave", "dave-secret-pw", "viewer · read-only"),
                                              ("carol", "carol-secret-pw", "operator")):
                driver.get(server.url + "/")
                wait_until(lambda: driver.current_url.startswith(idp.issuer), ticks(10, TICK),
                           "the provider's sign-in form")
                driver.find_element(By.ID, "username").send_keys(name)
                driver.find_element(By.ID, "password").send_keys(password)
                driver.find_element(By.ID, "sign-in").click()
                dash_duo.wait_for_contains_text("#header-user", f"Signed in as {name}@example.com",
                                                timeout=ticks(LOAD_TICKS, TICK))
                assert role_text in dash_duo.find_element("#header-user").text
                assert dash_duo.find_element(f"#{ids.Header.CREATE}").is_enabled() is (name == "carol")
                dash_duo.find_element("#header-user-sign-out").click()
                dash_duo.wait_for_contains_text("h1", "Signed out", timeout=ticks(5, TICK))
            assert idp.logins == ["dave", "carol"]
            assert dash_duo.get_logs() == []
        finally:
            server.close()
