"""Basic sign-in and the write gate on the real app: every route closed without credentials,
viewers refused before any API call, operators' writes on the audit trail, rate limits per user.

The API is the scale simulator, which counts every write it receives; the requests are the ones
Dash's renderer sends, built from the app's own /_dash-dependencies.
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from fakeai_dash import ids
from fakeai_dash.auth import gate
from fakeai_dash.auth.users import add_user
from fakeai_dash.data import EXTENSION_KEY
from fakeai_dash.sync import LIST
from tests.support.scale_sim import ScaleSimulator

OPERATOR = ("alice", "alice-password-1")
VIEWER = ("bob", "bob-password-123")
C = ids.CreateJob
CHAT_LINE = {"messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello!"}]}
DATASET_URL = "data:application/octet-stream;base64," + base64.b64encode(
    ("\n".join(json.dumps(CHAT_LINE) for _ in range(12)) + "\n").encode()).decode()


# -- helpers (the OIDC, audit and deploy tests use them too) ------------------------------------

def basic(user: tuple[str, str]) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()}


def write_users(path) -> str:
    add_user(str(path), *OPERATOR[:1], "operator", OPERATOR[1])
    add_user(str(path), *VIEWER[:1], "viewer", VIEWER[1])
    return str(path)


def dependencies(get) -> list[dict]:
    """The app's callbacks, as the renderer reads them (``get`` is a signed-in GET)."""
    response = get("/_dash-dependencies")
    assert response.status_code == 200
    return response.json() if hasattr(response, "json") and callable(response.json) else response.get_json()


def _outputs(spec: dict):
    output = spec["output"]
    if not output.startswith(".."):
        ident, prop = output.rsplit(".", 1)
        return {"id": ident, "property": prop}
    return [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in output.strip(".").split("...") if part]


def _entry(item: dict, values: dict):
    if item["id"].startswith("{"):
        return []  # a pattern-matching (ALL) input: no rows on screen
    value = values.get(f"{item['id']}.{item['property']}", values.get(item["id"]))
    return {"id": item["id"], "property": item["property"], "value": value}


def callback_body(deps: list[dict], trigger: str, values: dict | None = None, trigger_prop: str | None = None,
                  output: str = "") -> dict:
    """The body the renderer posts when ``trigger`` (a component id) fires its callback (the one
    whose output names ``output``, when several listen to ``trigger``).

    ``values`` holds every input's and state's value by "id.property" or by component id
    (missing ones are None).
    """
    values = values or {}
    spec = next(d for d in deps if any(i["id"] == trigger and (trigger_prop in (None, i["property"]))
                                       for i in d["inputs"])
                and d.get("clientside_function") is None and output in d["output"])
    fired = next(i for i in spec["inputs"] if i["id"] == trigger)
    return {"output": spec["output"], "outputs": _outputs(spec),
            "inputs": [_entry(i, values) for i in spec["inputs"]],
            "state": [_entry(s, values) for s in spec["state"]],
            "changedPropIds": [f"{trigger}.{fired['property']}"]}


def cancel_body(deps, job_id: str) -> dict:
    return callback_body(deps, ids.JobDetails.CONFIRM_YES, {ids.JobDetails.CONFIRM_YES: 1,
                                                            ids.JobDetails.SELECTED: job_id})


def pause_body(deps, job_id: str) -> dict:
    return callback_body(deps, ids.JobDetails.PAUSE, {ids.JobDetails.PAUSE: 1, ids.JobDetails.SELECTED: job_id})


def create_body(deps, training_file: str, token: str = "token-1") -> dict:
    return callback_body(deps, C.SUBMIT, {C.SUBMIT: 1, C.FIELDS["model"]: "gpt-4o-mini-2024-07-18",
                                          C.FIELDS["training_file"]: training_file, C.METHOD: "supervised",
                                          C.TOKEN: token})


def upload_body(deps) -> dict:
    return callback_body(deps, C.UPLOAD, {f"{C.UPLOAD}.contents": DATASET_URL, f"{C.UPLOAD}.filename": "chat.jsonl",
                                          C.METHOD: "supervised"}, "contents")


def text_of(node) -> str:
    """The text a callback's answer shows: a component's children read in order, and every other
    value (titles, store data) separated by spaces."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(text_of(item) for item in node)
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            return text_of(node["props"].get("children"))
        return " ".join(text_of(value) for value in node.values())
    return ""


def writes(sim) -> int:
    return sim.stats()["by_kind"].get("writes", 0)


def trail(app) -> list[dict]:
    return app.server.extensions[gate.EXTENSION].trail.recent(100)


def concrete_paths(app) -> list[tuple[str, str]]:
    """(method, path) for every route the server has, its variables filled with plausible values."""
    found = []
    for rule in app.server.url_map.iter_rules():
        path = re.sub(r"<path:[^>]+>", "dash/dash.v4m1.min.js", rule.rule)
        path = re.sub(r"<[^>]+>", "sso", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def sim():
    with ScaleSimulator(jobs=6, running_jobs=4) as server:
        yield server


@pytest.fixture
def basic_app(make_app, sim, tmp_path):
    def make(**overrides):
        users = write_users(tmp_path / "users.json")
        return make_app(sim.url, auth="basic", users_file=users, data_dir=str(tmp_path / "data"), **overrides)

    return make


def running_job(sim) -> str:
    return next(job_id for job_id in sim.job_ids() if sim._job(job_id).status == "running")


# -- without credentials nothing but /healthz answers ---------------------------------------------

# The styles' bundle (server/bundles.py) is public as every stylesheet of the assets folder is (the
# sign-in pages' look); the scripts' bundle is not.
PUBLIC = {"/healthz", "/_favicon.ico", "/auth/signed-out", "/assets/_bundle.css"}


def test_auth001_without_credentials_every_route_and_callback_is_refused(basic_app):
    app = basic_app()
    client = app.server.test_client()
    paths = concrete_paths(app)
    assert len(paths) >= 8 and ("POST", "/_dash-update-component") in paths
    for method, path in paths:
        response = client.open(path, method=method, json={} if method == "POST" else None)
        if path in PUBLIC:
            continue
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert client.get("/healthz").status_code == 200
    assert client.get("/auth/signed-out").status_code == 401  # signing out refuses the cached credentials
    # Every callback, with the body the renderer would send: 401 before Dash runs anything.
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))
    assert len(deps) > 30
    for spec in deps:
        if spec.get("clientside_function"):
            continue
        body = callback_body(deps, spec["inputs"][0]["id"], trigger_prop=spec["inputs"][0]["property"])
        assert client.post("/_dash-update-component", json=body).status_code == 401, spec["output"]
    # The sign-in page's stylesheets stay public; scripts do not.
    assert client.get("/assets/theme.css").status_code == 200
    assert client.get("/assets/dashAgGridFunctions.js").status_code == 401
    assert client.get("/assets/_bundle.js").status_code == 401


@pytest.mark.parametrize("header", ["Bearer abc", "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Basic " + "A" * 5000,
                                    "Basic " + base64.b64encode(b"bob:wrong-password").decode(),
                                    "Basic " + base64.b64encode(b"nobody:bob-password-123").decode()])
def test_auth002_bad_credentials_get_401_never_a_server_error(basic_app, header):
    client = basic_app(rate_limit_signin="100/minute").server.test_client()
    response = client.get("/", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Traceback" not in response.get_data(as_text=True)


def test_auth003_a_public_pathname_in_a_forged_body_opens_nothing(basic_app, sim):
    # dash-auth's own check lets a callback through when any input named "pathname" holds a
    # public route; ours never reads the body.
    app = basic_app()
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))
    body = cancel_body(deps, running_job(sim))
    body["inputs"].insert(0, {"id": ids.Page.LOCATION, "property": "pathname", "value": "/assets/theme.css"})
    assert client.post("/_dash-update-component", json=body).status_code == 401
    assert writes(sim) == 0


# -- roles ----------------------------------------------------------------------------------------

def test_auth004_viewer_forged_writes_are_refused_and_reach_no_api(basic_app, sim):
    app = basic_app()
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))
    job_id = running_job(sim)
    answers = {}
    for action, body in (("cancel", cancel_body(deps, job_id)), ("pause", pause_body(deps, job_id)),
                         ("create", create_body(deps, "file-sim-train-0001")), ("upload", upload_body(deps))):
        response = client.post("/_dash-update-component", json=body, headers=basic(VIEWER))
        assert response.status_code == 200, (action, response.get_data(as_text=True)[:300])
        answers[action] = text_of(response.get_json()["response"])
    assert writes(sim) == 0  # the API saw nothing
    assert "Not allowed: cancelling jobs needs the operator role, and bob is a viewer." in answers["cancel"]
    assert "Not allowed: pausing jobs needs the operator role" in answers["pause"]
    assert "Nothing was sent." in answers["create"] and "creating jobs needs the operator role" in answers["create"]
    assert "was not uploaded: Not allowed: uploading files needs the operator role" in answers["upload"]
    records = trail(app)
    assert [(r["action"], r["outcome"], r["user"], r["role"]) for r in reversed(records)] == [
        ("cancel", "refused", "bob", "viewer"), ("pause", "refused", "bob", "viewer"),
        ("create", "refused", "bob", "viewer"), ("upload", "refused", "bob", "viewer")]
    assert records[-1]["target"] == job_id and records[-1]["auth"] == "basic"


def test_auth005_operator_writes_go_through_and_each_is_on_the_trail(basic_app, sim):
    app = basic_app()
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(OPERATOR)))
    job_id = running_job(sim)

    def post(body):
        response = client.post("/_dash-update-component", json=body, headers=basic(OPERATOR))
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()["response"]

    assert "Cancel requested." in text_of(post(cancel_body(deps, job_id)))
    assert sim._job(job_id).status == "cancelled"
    uploaded = post(upload_body(deps))
    file_id = uploaded[C.FIELDS["training_file"]]["value"]
    assert file_id.startswith("file-sim-upload-")
    created = post(create_body(deps, file_id))
    new_job = created[ids.Page.LOCATION]["pathname"].rsplit("/", 1)[1]
    assert new_job in sim.job_ids()
    assert writes(sim) == 3
    records = list(reversed(trail(app)))
    assert [(r["action"], r["outcome"], r["target"], r["user"]) for r in records] == [
        ("cancel", "allowed", job_id, "alice"), ("upload", "allowed", file_id, "alice"),
        ("create", "allowed", new_job, "alice")]
    assert records[2]["detail"]["training_file"] == file_id and records[1]["detail"]["filename"] == "chat.jsonl"
    # The job's details show its history, read back through the history callback.
    history = post(callback_body(deps, ids.JobDetails.SELECTED, {ids.JobDetails.SELECTED: job_id}, "data",
                                 "detail-audit"))
    assert re.search(r"Cancelled by alice at \d\d:\d\d:\d\d UTC", text_of(history))


def test_auth006_an_api_failure_is_on_the_trail_with_the_api_message(basic_app, sim):
    app = basic_app()
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(OPERATOR)))
    finished = next(j for j in sim.job_ids() if sim._job(j).status == "succeeded")
    response = client.post("/_dash-update-component", json=cancel_body(deps, finished), headers=basic(OPERATOR))
    assert "Could not cancel the job." in text_of(response.get_json()["response"])
    record = trail(app)[0]
    assert (record["action"], record["outcome"], record["target"]) == ("cancel", "failed", finished)
    assert "Cannot cancel a job that is succeeded" in record["message"]


def test_auth007_viewer_page_hides_writes_and_says_why(basic_app, sim):
    app = basic_app()
    client = app.server.test_client()
    for user, can_write in ((VIEWER, False), (OPERATOR, True)):
        deps = dependencies(lambda p, u=user: client.get(p, headers=basic(u)))
        body = callback_body(deps, "header-user", {"header-user": "header-user"}, "id")
        answer = client.post("/_dash-update-component", json=body, headers=basic(user)).get_json()["response"]
        assert answer["auth-session-store"]["data"]["can_write"] is can_write
        assert answer[ids.Header.CREATE]["disabled"] is (not can_write)
        text = text_of(answer)
        assert f"Signed in as {user[0]}" in text.replace("  ", " ") and "Sign out" in text
        assert ("viewer · read-only" in text) is (not can_write)
        if not can_write:
            assert "Read-only: your role is viewer." in answer[ids.Header.CREATE]["title"]


# -- rate limits ------------------------------------------------------------------------------------

def test_auth008_writes_over_the_per_user_limit_are_refused_with_a_clear_message(basic_app, sim):
    app = basic_app(rate_limit_writes="2/minute")
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(OPERATOR)))
    jobs = [j for j in sim.job_ids() if sim._job(j).status == "running"][:3]
    texts = [text_of(client.post("/_dash-update-component", json=cancel_body(deps, job_id),
                                 headers=basic(OPERATOR)).get_json()["response"]) for job_id in jobs]
    assert "Cancel requested." in texts[0] and "Cancel requested." in texts[1]
    assert re.search(r"Too many changes .*: the limit is 2 per minute\. Try again in \d+ s\.", texts[2])
    assert "Traceback" not in texts[2]
    assert writes(sim) == 2
    assert sim._job(jobs[2]).status == "running"
    assert trail(app)[0]["outcome"] == "refused" and "Too many changes" in trail(app)[0]["message"]


def test_auth009_forced_refreshes_over_the_limit_do_not_nudge_the_sync_loop(basic_app):
    app = basic_app(rate_limit_refresh="2/minute")
    source = app.server.extensions[EXTENSION_KEY]
    source.engine.stop()  # nobody consumes the nudges: each one stays visible in the store
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(VIEWER)))
    nudges = source.engine.keys.nudge()

    def refresh(clicks: int, user=VIEWER) -> float | None:
        body = callback_body(deps, ids.Header.REFRESH, {ids.Header.REFRESH: clicks}, "n_clicks", "jobs-store.data")
        assert client.post("/_dash-update-component", json=body, headers=basic(user)).status_code in (200, 204)
        return source.store.members_since(nudges, 0).get(LIST)

    first, second = refresh(1), refresh(2)
    assert first is not None and second > first
    assert refresh(3) == second  # over the limit: no nudge
    note = client.post("/_dash-update-component", headers=basic(VIEWER), json=callback_body(
        deps, ids.Header.REFRESH, {ids.Header.REFRESH: 3}, "n_clicks", "header-refresh-note"))
    assert "Too many forced refreshes: the limit is 2 per minute." in text_of(note.get_json())
    assert refresh(1, OPERATOR) > second  # another user has a budget of their own


def test_auth010_failed_sign_ins_slow_down_one_name_from_one_address_only(basic_app):
    client = basic_app(rate_limit_signin="3/minute").server.test_client()
    here, there = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}

    def sign_in(user, where):
        return client.get("/_dash-layout", headers=basic(user), environ_base=where)

    wrong = ("bob", "not-the-password")
    assert [sign_in(wrong, here).status_code for _ in range(3)] == [401, 401, 401]
    blocked = sign_in(VIEWER, here)  # bob's own password waits its turn from this address
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins for this user name from your address. Try again in 1 s." in blocked.text
    assert sign_in(OPERATOR, here).status_code == 200  # alice from the same address: never held up
    assert sign_in(VIEWER, there).status_code == 200  # bob from elsewhere: never held up


def test_auth011_users_added_while_serving_can_sign_in(basic_app, tmp_path):
    client = basic_app().server.test_client()
    carol = ("carol", "carol-password-9")
    assert client.get("/_dash-layout", headers=basic(carol)).status_code == 401
    add_user(str(tmp_path / "users.json"), "carol", "viewer", carol[1])
    assert client.get("/_dash-layout", headers=basic(carol)).status_code == 200
    # A file caught half-edited keeps the users read before (no server error, nobody locked out).
    (tmp_path / "users.json").write_text('{"users": {"carol": ')
    assert client.get("/_dash-layout", headers=basic(carol)).status_code == 200
    assert client.get("/_dash-layout", headers=basic(("mallory", "whatever-password"))).status_code == 401


def test_auth012_loopback_without_settings_changes_nothing(make_app, sim):
    # The existing tests' apps: no sign-in, everyone may write, and writes are still audited.
    app = make_app(sim.url)
    client = app.server.test_client()
    deps = dependencies(client.get)
    job_id = running_job(sim)
    answer = client.post("/_dash-update-component", json=cancel_body(deps, job_id)).get_json()
    assert "Cancel requested." in text_of(answer)
    record = trail(app)[0]
    assert (record["user"], record["auth"], record["outcome"], record["target"]) == ("anonymous", "none", "allowed",
                                                                                     job_id)


@pytest.mark.parametrize(("bind", "loopback"), [
    ("127.0.0.1:8050", True), ("127.1.2.3:80", True), ("localhost:8050", True), ("[::1]:8050", True),
    ("0.0.0.0:8050", False), ("[::]:8050", False), ("10.0.0.5:8050", False), ("dash.example.com:80", False),
    ("unix:/run/dash.sock", False), ("fd://3", False)])
def test_auth013_which_binds_count_as_loopback(bind, loopback):
    from fakeai_dash.auth.startup import is_loopback, start_problem
    from fakeai_dash.config import Settings

    assert is_loopback(bind) is loopback
    error, warning = start_problem(Settings(_env_file=None), [bind])
    assert (error is None) is loopback and warning is None
    error, warning = start_problem(Settings(_env_file=None, auth="none", allowed_hosts="dash.example.com"), [bind])
    assert error is None and (warning is None) is loopback
