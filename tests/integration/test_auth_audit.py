"""The audit trail and the rate limits across workers: a Redis stream (bounded) and Redis-held
limits shared by two apps, the append-only SQLite trail of one host, and the JSON log lines."""

from __future__ import annotations

import json
import sqlite3

import pytest
import redis

from fakeai_dash.auth.audit import TARGET_MAXLEN, AuditTrail, RedisAudit, SqliteAudit
from tests.integration.test_auth_gate import (
    OPERATOR,
    basic,
    callback_body,
    cancel_body,
    dependencies,
    text_of,
    trail,
    write_users,
    writes,
)
from tests.support.redis_server import running_redis
from tests.support.scale_sim import ScaleSimulator

from fakeai_dash import ids


@pytest.fixture
def sim():
    with ScaleSimulator(jobs=8, running_jobs=6) as server:
        yield server


@pytest.fixture
def redis_url():
    with running_redis() as url:
        yield url


def _running(sim) -> list[str]:
    return [job_id for job_id in sim.job_ids() if sim._job(job_id).status == "running"]


def workers(make_app, sim, count: int, **settings) -> list:
    """``count`` apps as gunicorn workers would build them: each serves a first request at once
    (Dash hands the registered callbacks to the first app that serves)."""
    apps = []
    for _ in range(count):
        apps.append(make_app(sim.url, auth="basic", **settings))
        apps[-1].server.test_client().get("/healthz")
    return apps


# redis_url comes first: Redis stops after the apps (and their sync loops) have.
def test_audit001_two_workers_on_redis_share_the_trail_and_the_stream_holds_every_attempt(
        redis_url, make_app, sim, tmp_path):
    users = write_users(tmp_path / "users.json")
    worker_a, worker_b = workers(make_app, sim, 2, users_file=users, cache_url=redis_url)
    client_a, client_b = worker_a.server.test_client(), worker_b.server.test_client()
    deps = dependencies(lambda p: client_a.get(p, headers=basic(OPERATOR)))
    job_id = _running(sim)[0]
    answer = client_a.post("/_dash-update-component", json=cancel_body(deps, job_id), headers=basic(OPERATOR))
    assert "Cancel requested." in text_of(answer.get_json())
    # Worker B shows the cancel worker A made, in the job's history.
    history = client_b.post("/_dash-update-component", headers=basic(OPERATOR), json=callback_body(
        deps, ids.JobDetails.SELECTED, {ids.JobDetails.SELECTED: job_id}, "data", "detail-audit"))
    assert "Cancelled by alice" in text_of(history.get_json())
    stream = redis.Redis.from_url(redis_url)
    entries = stream.xrange("fakeai-dash:audit")
    assert len(entries) == 1
    record = json.loads(entries[0][1][b"record"])
    assert (record["user"], record["action"], record["target"], record["outcome"]) == ("alice", "cancel", job_id,
                                                                                       "allowed")
    assert stream.ttl(f"fakeai-dash:audit:target:{job_id}") > 0  # a job's own stream expires


def test_audit002_write_limits_hold_across_workers_with_redis(redis_url, make_app, sim, tmp_path):
    users = write_users(tmp_path / "users.json")
    apps = workers(make_app, sim, 2, users_file=users, cache_url=redis_url, rate_limit_writes="2/minute")
    clients = [app.server.test_client() for app in apps]
    deps = dependencies(lambda p: clients[0].get(p, headers=basic(OPERATOR)))
    jobs = _running(sim)[:3]
    texts = [text_of(clients[i].post("/_dash-update-component", json=cancel_body(deps, job_id),
                                     headers=basic(OPERATOR)).get_json())
             for i, job_id in zip((0, 1, 1), jobs)]
    assert "Cancel requested." in texts[0] and "Cancel requested." in texts[1]
    assert "Too many changes" in texts[2]  # worker B counted worker A's cancel
    assert writes(sim) == 2


def test_audit003_redis_streams_are_bounded(redis_url):
    audit = AuditTrail(RedisAudit(redis_url))
    for n in range(TARGET_MAXLEN + 30):
        audit.record(user="alice", role="operator", mode="basic", action="pause", target="ftjob-1", outcome="allowed",
                     detail={"n": n})
    client = redis.Redis.from_url(redis_url)
    assert client.xlen("fakeai-dash:audit:target:ftjob-1") == TARGET_MAXLEN
    history = audit.history("ftjob-1", 5)
    assert [r["detail"]["n"] for r in history] == list(range(TARGET_MAXLEN + 29, TARGET_MAXLEN + 24, -1))
    audit.close()


def test_audit004_the_local_trail_is_append_only_shared_and_durable(tmp_path):
    path = str(tmp_path / "audit.sqlite3")
    one, two = AuditTrail(SqliteAudit(path)), AuditTrail(SqliteAudit(path))  # two workers of one host
    one.record(user="alice", role="operator", mode="basic", action="cancel", target="ftjob-1", outcome="allowed")
    two.record(user="bob", role="viewer", mode="basic", action="cancel", target="ftjob-1", outcome="refused",
               message="Not allowed")
    assert [r["user"] for r in one.history("ftjob-1")] == ["bob", "alice"]
    one.close()
    two.close()
    db = sqlite3.connect(path)
    for statement in ("UPDATE audit SET user = 'mallory'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)
    db.close()
    assert [r["outcome"] for r in AuditTrail(SqliteAudit(path)).history("ftjob-1")] == ["refused", "allowed"]


def test_audit005_every_attempt_is_a_json_log_line(make_app, sim, tmp_path, capfd):
    users = write_users(tmp_path / "users.json")
    app = make_app(sim.url, auth="basic", users_file=users, data_dir=str(tmp_path / "data"))
    client = app.server.test_client()
    deps = dependencies(lambda p: client.get(p, headers=basic(OPERATOR)))
    job_id = _running(sim)[0]
    capfd.readouterr()
    client.post("/_dash-update-component", json=cancel_body(deps, job_id), headers=basic(OPERATOR))
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith('{"action"')]
    assert len(lines) == 1
    assert lines[0] == trail(app)[0]
    assert {"user", "time", "action", "target", "outcome", "addr", "role"} <= set(lines[0])


# -- Redis with TLS and a password (as the README's "Deploying safely" advises) -------------------

def _tls_files(directory) -> dict[str, str]:
    """A CA and a server certificate for 127.0.0.1, written as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False).sign(ca_key, hashes.SHA256()))
    files = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture
def tls_redis(tmp_path):
    """redis-server speaking only TLS, with a password: (URL for the app, the CA file, the port)."""
    import shutil
    import subprocess

    from fakeai_dash.embedded import free_port
    from tests.support.waiting import wait_until

    files = _tls_files(tmp_path)
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", "0", "--tls-port", str(port),
                             "--tls-cert-file", files["cert"], "--tls-key-file", files["key"],
                             "--tls-ca-cert-file", files["ca"], "--tls-auth-clients", "no",
                             "--requirepass", "s3cret-redis-pw", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"rediss://:s3cret-redis-pw@127.0.0.1:{port}/0?ssl_ca_certs={files['ca']}"

    def answers() -> bool:
        assert proc.poll() is None, "redis-server (TLS) exited at start"
        try:
            return bool(redis.Redis.from_url(url).ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, 10, "redis-server (TLS) to answer PING")
        yield url, files["ca"], port
    finally:
        proc.terminate()
        proc.wait(10)


def test_audit006_redis_with_tls_and_a_password_carries_trail_and_limits(tls_redis, make_app, sim, tmp_path):
    url, ca, port = tls_redis
    users = write_users(tmp_path / "users.json")
    apps = workers(make_app, sim, 2, users_file=users, cache_url=url, rate_limit_writes="1/minute")
    clients = [app.server.test_client() for app in apps]
    deps = dependencies(lambda p: clients[0].get(p, headers=basic(OPERATOR)))
    jobs = _running(sim)[:2]
    first = clients[0].post("/_dash-update-component", json=cancel_body(deps, jobs[0]), headers=basic(OPERATOR))
    second = clients[1].post("/_dash-update-component", json=cancel_body(deps, jobs[1]), headers=basic(OPERATOR))
    assert "Cancel requested." in text_of(first.get_json()) and "Too many changes" in text_of(second.get_json())
    assert writes(sim) == 1
    entries = redis.Redis.from_url(url).xrange("fakeai-dash:audit")
    assert [json.loads(e[1][b"record"])["outcome"] for e in entries] == ["allowed"]
    assert [r["outcome"] for r in trail(apps[1])] == ["refused", "allowed"]  # refusals kept apart (refusals.py)
    # The server really demands both: no password, or no TLS, gets nothing.
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}").xrange("fakeai-dash:audit")
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(f"redis://:s3cret-redis-pw@127.0.0.1:{port}/0", socket_timeout=2).ping()


def test_audit007_a_refusal_entry_only_counts_up_and_writes_stay_append_only(tmp_path):
    path = str(tmp_path / "audit.sqlite3")
    one, two = AuditTrail(SqliteAudit(path)), AuditTrail(SqliteAudit(path))  # two workers of one host
    one.record(user="alice", role="operator", mode="basic", action="cancel", target="ftjob-1", outcome="allowed")
    counts = [(one, two)[n % 2].record(user="bob", role="viewer", mode="basic", action="cancel", target="ftjob-1",
                                        outcome="refused", message="Not allowed")["count"] for n in range(50)]
    assert counts == list(range(1, 51))  # one entry, counted by both workers
    assert [(r["user"], r.get("count")) for r in one.history("ftjob-1", 2)] == [("bob", 50), ("alice", None)]
    one.close()
    two.close()
    db = sqlite3.connect(path)
    for statement in ("UPDATE refusals SET count = 1", "UPDATE refusals SET user = 'mallory'",
                      "UPDATE refusals SET record = '{}'", "UPDATE refusals SET last_ts = 0"):
        with pytest.raises(sqlite3.DatabaseError, match="only counts up"):
            db.execute(statement)
    with pytest.raises(sqlite3.DatabaseError, match="past the bound"):
        db.execute("DELETE FROM refusals")
    assert db.execute("SELECT count(*), sum(count) FROM refusals").fetchone() == (1, 50)
    db.close()


def test_audit008_a_write_and_a_refusal_in_one_millisecond_keep_their_order(tmp_path):
    # The history merges two tables by time: kept to the millisecond, the two tied and the write
    # (read first) came out on top now and then (test_audit004 failed that way once).
    trail = AuditTrail(SqliteAudit(str(tmp_path / "audit.sqlite3")))
    trail.record(user="alice", role="operator", mode="basic", action="cancel", target="ftjob-1", outcome="allowed",
                 ts=1_700_000_000.0002)
    trail.record(user="bob", role="viewer", mode="basic", action="cancel", target="ftjob-1", outcome="refused",
                 message="Not allowed", ts=1_700_000_000.0004)
    assert [r["user"] for r in trail.history("ftjob-1")] == ["bob", "alice"]
    trail.close()
