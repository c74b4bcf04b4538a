"""What the app writes to Redis is data, never pickles: whoever can write to Redis must not be
able to run code in the workers. The app runs against a real redis-server and does everything
that writes there (list and job sync, a write through the gate with its audit record and rate
limit, a create's token claim); then every value of every key is checked."""

from __future__ import annotations

import base64
import json
import pickle
import re
import uuid

import msgpack
import pytest
import redis
from werkzeug import Response

from fakeai_dash.components.create_job_dialog import submit_form
from fakeai_dash.data import EXTENSION_KEY, NotReady, current_source
from tests.support.jobs_factory import openai_job
from tests.support.redis_server import running_redis
from tests.support.waiting import wait_until

UPLOAD = "create-job-upload-report.children"


@pytest.fixture
def redis_url():
    with running_redis() as url:
        yield url


@pytest.fixture
def api(httpserver):
    jobs = [openai_job(i) for i in range(3)]
    created = {**openai_job(9), "id": "ftjob-created", "status": "validating_files"}

    def handle(request):
        path = request.path.removeprefix("/v1")
        if path == "/fine_tuning/jobs" and request.method == "POST":
            body = created
        elif path == "/fine_tuning/jobs":
            body = {"object": "list", "data": jobs, "has_more": False}
        elif match := re.fullmatch(r"/fine_tuning/jobs/([^/]+)(?:/(\w+))?", path):
            job_id, part = match.groups()
            if part is None:
                body = next(j for j in jobs if j["id"] == job_id)
            else:
                events = [{"object": "fine_tuning.job.event", "id": f"ev-{i}", "created_at": 1_790_000_000 + i,
                           "level": "info", "message": f"Step {i}", "type": "metrics",
                           "data": {"step": i, "train_loss": 2.0 / i}} for i in range(3, 0, -1)]
                body = {"object": "list", "data": events if part == "events" else [], "has_more": False}
        elif path == "/files" and request.method == "POST":
            body = {"id": "file-up", "object": "file", "bytes": 1, "created_at": 1, "filename": "d.jsonl",
                    "purpose": "fine-tune"}
        else:
            body = {"object": "list", "data": [], "has_more": False}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(re.compile(r"/v1/.*")).respond_with_handler(handle)
    return httpserver.url_for("").rstrip("/")


def upload_body(app) -> dict:
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if UPLOAD in d["output"])
    line = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    contents = "data:application/octet-stream;base64," + base64.b64encode(((line + "\n") * 12).encode()).decode()
    values = {"create-job-upload.contents": contents, "create-job-upload.filename": "d.jsonl"}
    return {"output": spec["output"],
            "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                        for o in spec["output"].strip(".").split("...")],
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in spec["state"]],
            "changedPropIds": ["create-job-upload.contents"]}


def is_pickle(raw: bytes) -> bool:
    if raw.startswith(b"\x80"):  # protocol 2 and later
        return True
    try:
        pickle.loads(raw)  # noqa: S301 - bytes this test's own Redis holds; proving they are NOT pickles
    except Exception:  # noqa: BLE001 - anything that does not load is not a pickle
        return False
    return True


def is_data(raw: bytes) -> bool:
    """msgpack (the picture), JSON (audit records) or plain text (counters, lock tokens)."""
    try:
        msgpack.unpackb(raw, raw=False, strict_map_key=False)
        return True
    except Exception:  # noqa: BLE001
        pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.isprintable()


def values(client: redis.Redis, key: bytes) -> list[bytes]:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key)]
    if kind == "hash":
        return list(client.hgetall(key).values())
    if kind in ("list",):
        return client.lrange(key, 0, -1)
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    if kind == "stream":
        return [value for _id, fields in client.xrange(key) for value in fields.values()]
    raise AssertionError(f"{key!r} is a {kind}")


def test_sec_redis001_nothing_the_app_writes_to_redis_is_a_pickle(api, make_app, redis_url):
    app = make_app(api, cache_url=redis_url, refresh_interval=1.0)
    source = app.server.extensions[EXTENSION_KEY]
    wait_until(lambda: _ready(source.jobs_snapshot), 15, "the list in the picture")
    wait_until(lambda: _ready(lambda: source.job_detail("ftjob-000001")), 15, "a job's detail in the picture")
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=upload_body(app))  # the gate: audit + rate limit
    assert response.status_code == 200 and "file-up" in response.get_data(as_text=True)
    with app.server.test_request_context():
        outcome = submit_form(current_source(), {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-up"},
                              uuid.uuid4().hex)
    assert outcome == {"job_id": "ftjob-created"}

    store = redis.Redis.from_url(redis_url)
    try:
        keys = store.keys("*")
        kinds = {store.type(key).decode() for key in keys}
        assert {"string", "stream"} <= kinds, kinds  # the picture and the audit trail are both there
        checked = 0
        for key in keys:
            for raw in values(store, key):
                assert not is_pickle(raw), key
                assert is_data(raw), (key, raw[:80])
                checked += 1
        assert checked >= 10
    finally:
        store.close()


def _ready(read):
    try:
        return read()
    except NotReady:
        return None
