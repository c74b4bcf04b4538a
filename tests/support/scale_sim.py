"""An OpenAI-shaped fine-tuning API at real size, for benchmarks, load tests and integration tests.

Thousands of jobs, 100,000-step histories and a live job cost little memory: a job is a few
numbers, and its events, checkpoints and result file are generated on demand from the step
index (deterministic per job and step). An event id encodes its position, so ``after`` is O(1)
and a page costs O(limit). Every API answer can be delayed (latency) or hang (stall); our own
control and stats routes live under ``/_sim/`` and are never delayed.

In-process::

    with ScaleSimulator(jobs=3000, latency=0.15, big=["20000:finished:spike=10000", "100000:live"]) as sim:
        sim.url, sim.big_job_ids, sim.stats(), sim.advance(sim.big_job_ids[1], 50)

As a process (first stdout line: the URL; second: a JSON line with the big jobs' ids)::

    python -m tests.support.scale_sim --jobs 3000 --latency 0.15 --big 20000:finished:spike=10000 --big 100000:live --port 0
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import functools
import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server

MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "gpt-3.5-turbo-0125")
TRAINING_FILES = (("file-sim-train-0001", "train.jsonl", 1_048_576), ("file-sim-valid-0001", "valid.jsonl", 131_072))
ACTIVE = frozenset({"validating_files", "queued", "running", "paused"})
N_EPOCHS = 4  # one checkpoint per epoch
HEADER_MESSAGES = ("Created fine-tuning job: {id}", "Validating training file: {file}",
                   "Files validated, moving job to queued state", "Fine-tuning job started")
PHASE_STATUS = {2: "validating_files", 3: "queued", 4: "running"}
TAILS = {"succeeded": (("info", "New fine-tuned model created"), ("info", "The job has successfully completed")),
         "failed": (("error", "The job failed due to an internal error"),),
         "cancelled": (("info", "Fine-tuning job cancelled"),)}
ROUTE_KINDS = ("jobs_list", "job_retrieve", "events", "checkpoints", "file_content", "files", "models", "writes")
MAX_LIMIT = 100


@dataclass(frozen=True)
class BigJob:
    """A job with its own size: ``total`` steps, finished or live, optional loss spike."""

    total: int
    status: str = "succeeded"  # succeeded | running | paused | failed | cancelled
    done: int | None = None  # steps already run (default: all if finished, half if live)
    spike: int | None = None
    b64: bool | None = None  # result file base64-encoded (None: the simulator's default)

    @classmethod
    def parse(cls, spec: str) -> BigJob:
        """``20000:finished:spike=10000``, ``100000:live:done=40000``, ``2000:finished:b64``."""
        total, *parts = spec.split(":")
        values: dict[str, Any] = {"total": int(total)}
        for part in parts:
            key, _, value = part.partition("=")
            if key in ("finished", "succeeded"):
                values["status"] = "succeeded"
            elif key in ("live", "running"):
                values["status"] = "running"
            elif key in ("paused", "failed", "cancelled"):
                values["status"] = key
            elif key in ("spike", "done"):
                values[key] = int(value)
            elif key == "b64":
                values["b64"] = value.lower() not in ("0", "false", "no") if value else True
            else:
                raise ValueError(f"unknown big-job option {part!r} in {spec!r}")
        return cls(**values)


@dataclass(eq=False)
class SimJob:
    key: int  # creation ordinal: ids and event ids derive from it
    id: str
    model: str
    created_at: int
    total: int
    done: int
    phase: int  # header events so far: 2 validating, 3 queued, 4 started
    status: str
    step_seconds: float
    started_at: float  # unix time of step 0
    spike: int | None = None
    b64: bool = False
    finished_at: int | None = None
    deleted: bool = False
    suffix: str | None = None
    # (first step, unix time) of steps appended while the simulator runs; earlier steps are
    # spaced step_seconds apart from started_at.
    segments: list[tuple[int, int]] = field(default_factory=list)
    initial_done: int = 0

    @functools.cached_property
    def checkpoint_steps(self) -> tuple[int, ...]:
        return tuple(sorted({math.ceil(k * self.total / N_EPOCHS) for k in range(1, N_EPOCHS + 1)}))

    def checkpoints_through(self, step: int) -> int:
        return bisect.bisect_right(self.checkpoint_steps, step)

    def event_count(self) -> int:
        return self.phase + self.done + self.checkpoints_through(self.done) + len(TAILS.get(self.status, ()))

    def step_time(self, step: int) -> int:
        if step <= self.initial_done or not self.segments:
            return int(self.started_at + step * self.step_seconds)
        i = bisect.bisect_right(self.segments, (step, math.inf)) - 1
        return self.segments[i][1] if i >= 0 else int(self.started_at + step * self.step_seconds)

    @property
    def result_file_id(self) -> str | None:
        return f"file-sim-result-{self.key:07d}" if self.status == "succeeded" else None

    @property
    def fine_tuned_model(self) -> str | None:
        if self.status != "succeeded":
            return None
        return f"ft:{self.model}:org-sim:{self.suffix or 'run'}:{self.key:07d}"


# -- deterministic metrics (vectorised, so an event page and a 100,000-row CSV agree) ---------

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _unit(seed: int, steps: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) per (seed, step, salt): splitmix64 of the three, wrapping in uint64."""
    with np.errstate(over="ignore"):
        z = steps.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z ^= np.uint64((seed * 0x2545F4914F6CDD1D + salt * 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = (z ^ (z >> np.uint64(31))) & _MASK
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def metric_columns(job: SimJob, steps: np.ndarray, valid_every: int) -> dict[str, np.ndarray]:
    """train/valid loss and accuracy at ``steps``: a noisy decay, ×5 at the job's spike step.
    Validation values are NaN except on every ``valid_every``-th step."""
    s = steps.astype(np.float64)
    start = 2.4 + 0.6 * _unit(job.key, np.zeros(1), 1)[0]
    floor = 0.15 + 0.2 * _unit(job.key, np.zeros(1), 2)[0]
    smooth = floor + (start - floor) * np.exp(-s / max(job.total / 4.0, 1.0))
    train = smooth * (1.0 + 0.12 * (_unit(job.key, steps, 3) - 0.5))
    if job.spike is not None:
        train = np.where(steps == job.spike, smooth * 5.0, train)
    accuracy = np.clip(1.0 - train / 3.2 + 0.02 * (_unit(job.key, steps, 4) - 0.5), 0.0, 1.0)
    on_valid = steps % valid_every == 0
    valid = np.where(on_valid, smooth * (1.06 + 0.08 * (_unit(job.key, steps, 5) - 0.5)), np.nan)
    valid_acc = np.where(on_valid, np.clip(1.0 - valid / 3.2, 0.0, 1.0), np.nan)
    return {name: np.round(col, 5) for name, col in (
        ("train_loss", train), ("train_mean_token_accuracy", accuracy),
        ("valid_loss", valid), ("valid_mean_token_accuracy", valid_acc))}


def _error(status: int, message: str, param: str | None = None, code: str | None = None,
           kind: str = "invalid_request_error") -> Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, content_type="application/json")


class _ApiError(Exception):
    def __init__(self, response: Response):
        self.response = response


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - one line per request buries the rest
        pass


class ScaleSimulator:
    """The server; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, jobs: int = 3000, steps: int = 100, big: list[BigJob | str] | tuple = (),
                 latency: float = 0.0, rate: float = 0.0, valid_every: int = 10, result_b64: bool = False,
                 stall: float = 0.0, running_jobs: int = 0, api_key: str | None = None,
                 rate_limit: float | None = None, step_seconds: float = 0.5, host: str = "127.0.0.1",
                 port: int = 0, now: int | None = None):
        self.steps, self.latency, self.rate = steps, latency, rate
        self.valid_every, self.result_b64, self.step_seconds = max(1, valid_every), result_b64, step_seconds
        self.api_key, self.rate_limit = api_key, rate_limit
        self.host, self.port = host, port
        self._stall = stall
        self._lock = threading.RLock()
        self._release = threading.Event()  # set: stalled requests return now
        self._stopping = threading.Event()
        self._order: list[SimJob] = []  # oldest first; newest first is read backwards
        self._pos: dict[str, int] = {}
        self._by_key: dict[int, SimJob] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._csv_cache: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
        self._stats_lock = threading.Lock()
        self._reset_stats_locked()
        self._bucket = (rate_limit or 0.0, time.monotonic())
        self._server = None
        self._threads: list[threading.Thread] = []
        self._build(jobs, [b if isinstance(b, BigJob) else BigJob.parse(b) for b in big], running_jobs,
                    int(now if now is not None else time.time()))
        self._url_map = self._routes()

    # -- building the initial picture -------------------------------------------------------

    def _build(self, jobs: int, big: list[BigJob], running_jobs: int, now: int) -> None:
        # Big jobs are the newest (in the order given), then `running_jobs` live ordinary jobs,
        # then finished ordinary jobs; `jobs` counts them all.
        ordinary = max(0, jobs - len(big))
        specs: list[tuple[int, str, int | None, int | None, bool | None]] = []
        for i in range(ordinary):
            if i < running_jobs:
                specs.append((self.steps, "running", self.steps // 2, None, None))
                continue
            status = "failed" if i % 20 == 7 else "cancelled" if i % 20 == 13 else "succeeded"
            done = self.steps if status == "succeeded" else (self.steps // 2 if status == "failed" else self.steps // 3)
            specs.append((self.steps, status, done, None, None))
        specs.reverse()  # oldest first
        specs.extend((b.total, b.status, b.done, b.spike, b.b64) for b in reversed(big))
        # Times run backwards from `now`: the newest job finished (or is still running) by now.
        t = now
        timed = []
        for total, status, done, spike, b64 in reversed(specs):
            live = status in ACTIVE
            done = (total if status == "succeeded" else total // 2 if live else total // 3) if done is None else done
            done = max(0, min(done, total))
            run = (done if live else total) * self.step_seconds
            created = int(t - run - 120)
            timed.append((created, total, status, done, spike, b64, live))
            t = created - 60
        for created, total, status, done, spike, b64, live in reversed(timed):
            started = (now - done * self.step_seconds) if live else created + 90
            finished = None if live else int(started + done * self.step_seconds + 30)
            self._append(SimJob(key=len(self._order), id="", model=MODELS[len(self._order) % len(MODELS)],
                                created_at=created, total=total, done=done, phase=4, status=status,
                                step_seconds=self.step_seconds, started_at=started, spike=spike,
                                b64=self.result_b64 if b64 is None else b64, finished_at=finished,
                                initial_done=done, suffix=f"run{len(self._order)}"))
        self.big_job_ids = [job.id for job in self._order[::-1][:len(big)]]

    def _append(self, job: SimJob) -> SimJob:
        job.id = f"ftjob-sim{job.key:07d}"
        self._pos[job.id] = len(self._order)
        self._order.append(job)
        self._by_key[job.key] = job
        return job

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ScaleSimulator:
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._threads = [threading.Thread(target=self._server.serve_forever, args=(0.05,), name="scale-sim", daemon=True)]
        if self.rate > 0:
            self._threads.append(threading.Thread(target=self._auto_advance, name="scale-sim-advance", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> ScaleSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _auto_advance(self) -> None:
        owed: dict[str, float] = collections.defaultdict(float)
        last = time.monotonic()
        while not self._stopping.wait(0.25):
            now = time.monotonic()
            with self._lock:
                for job in [j for j in self._order if j.status in ("running", "validating_files", "queued")]:
                    owed[job.id] += self.rate * (now - last)
                    whole = int(owed[job.id])
                    if whole:
                        owed[job.id] -= whole
                        self._advance_locked(job, whole)
            last = now

    # -- control (also reachable over HTTP under /_sim/) ---------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {"by_kind": dict(self._counts), "total": self._total, "errors": dict(self._errors),
                    "by_job": {k: dict(v) for k, v in self._by_job.items()}, "delay_seconds": self._delayed,
                    "delayed_requests": self._delayed_count, "in_flight": self._in_flight,
                    "max_in_flight": self._max_in_flight, "since": self._since}

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._reset_stats_locked()

    def _reset_stats_locked(self) -> None:
        self._counts = {kind: 0 for kind in ROUTE_KINDS}
        self._errors: collections.Counter = collections.Counter()
        self._by_job: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self._total, self._delayed, self._delayed_count = 0, 0.0, 0
        self._in_flight = getattr(self, "_in_flight", 0)
        self._max_in_flight = self._in_flight
        self._since = time.time()

    def set_stall(self, seconds: float) -> None:
        """Every API answer waits ``seconds`` (0: stop stalling, and release the ones waiting)."""
        with self._lock:
            self._stall = max(0.0, seconds)
            self._release.set()
            if self._stall:
                self._release = threading.Event()

    def set_latency(self, seconds: float) -> None:
        self.latency = max(0.0, seconds)

    def advance(self, job_id: str, steps: int) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            if job.status not in ("running", "validating_files", "queued"):
                raise _ApiError(_error(409, f"Job {job_id} is {job.status}; only a live job advances", "job"))
            self._advance_locked(job, max(0, int(steps)))
            return self._job_dict(job)

    def _advance_locked(self, job: SimJob, steps: int) -> None:
        if job.phase < 4:
            job.phase, job.status = 4, "running"
            job.started_at = time.time() - job.done * job.step_seconds
        steps = min(steps, job.total - job.done)
        if steps <= 0:
            return
        job.segments.append((job.done + 1, int(time.time())))
        job.done += steps
        if job.done >= job.total:
            job.status, job.finished_at = "succeeded", int(time.time())

    def add_job(self, steps: int | None = None, status: str = "validating_files", model: str | None = None,
                suffix: str | None = None, training_file: str | None = None) -> dict[str, Any]:
        """A new job at the head of the list (validating_files unless ``status="running"``)."""
        with self._lock:
            now = time.time()
            newest = self._order[-1].created_at if self._order else 0
            phase = 4 if status == "running" else 2
            job = self._append(SimJob(key=len(self._order), id="", model=model or MODELS[0],
                                      created_at=max(int(now), newest + 1), total=int(steps or self.steps), done=0,
                                      phase=phase, status=PHASE_STATUS[phase], step_seconds=self.step_seconds,
                                      started_at=now, b64=self.result_b64, suffix=suffix))
            return self._job_dict(job)

    def delete_job(self, job_id: str) -> None:
        with self._lock:
            self._job(job_id).deleted = True

    def job_ids(self) -> list[str]:
        """Every listed job's id, newest first."""
        with self._lock:
            return [job.id for job in reversed(self._order) if not job.deleted]

    # -- WSGI ------------------------------------------------------------------------------------

    def _routes(self) -> Map:
        rules = [Rule("/_sim/stats", endpoint="sim_stats", methods=["GET"]),
                 Rule("/_sim/info", endpoint="sim_info", methods=["GET"]),
                 Rule("/_sim/<action>", endpoint="sim_control", methods=["POST"])]
        for prefix in ("/v1", "/openai"):  # OpenAI and Azure OpenAI paths
            rules += [
                Rule(f"{prefix}/fine_tuning/jobs", endpoint="jobs", methods=["GET", "POST"]),
                Rule(f"{prefix}/fine_tuning/jobs/<job_id>", endpoint="job_retrieve", methods=["GET"]),
                Rule(f"{prefix}/fine_tuning/jobs/<job_id>/events", endpoint="events", methods=["GET"]),
                Rule(f"{prefix}/fine_tuning/jobs/<job_id>/checkpoints", endpoint="checkpoints", methods=["GET"]),
                Rule(f"{prefix}/fine_tuning/jobs/<job_id>/<action>", endpoint="job_action", methods=["POST"]),
                Rule(f"{prefix}/files", endpoint="files", methods=["GET", "POST"]),
                Rule(f"{prefix}/files/<file_id>", endpoint="file_retrieve", methods=["GET"]),
                Rule(f"{prefix}/files/<file_id>/content", endpoint="file_content", methods=["GET"]),
                Rule(f"{prefix}/models", endpoint="models", methods=["GET"]),
            ]
        return Map(rules, strict_slashes=False)

    def _wsgi(self, environ, start_response):  # noqa: ANN001
        request = Request(environ)
        adapter = self._url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            response = _error(404, f"Unknown path {request.path}", code="unknown_url")
            return response(environ, start_response)
        except MethodNotAllowed:
            return _error(405, f"{request.method} is not allowed on {request.path}")(environ, start_response)
        except HTTPException as exc:
            return exc(environ, start_response)
        if endpoint.startswith("sim_"):
            response = self._control(endpoint, request, args)
        else:
            response = self._api(endpoint, request, args)
        return response(environ, start_response)

    def _control(self, endpoint: str, request: Request, args: dict[str, str]) -> Response:
        try:
            if endpoint == "sim_stats":
                return _json(self.stats())
            if endpoint == "sim_info":
                return _json(self.info())
            action, q = args["action"], request.args
            if action == "reset-stats":
                self.reset_stats()
                return _json({"ok": True})
            if action == "advance":
                return _json(self.advance(q.get("job", ""), int(q.get("steps", "1"))))
            if action == "stall":
                self.set_stall(float(q.get("seconds", "30")))
                return _json({"stall": self._stall})
            if action == "latency":
                self.set_latency(float(q.get("seconds", "0")))
                return _json({"latency": self.latency})
            if action == "add-job":
                steps = q.get("steps")
                return _json(self.add_job(int(steps) if steps else None, q.get("status", "validating_files"),
                                          q.get("model")))
            if action == "delete-job":
                self.delete_job(q.get("job", ""))
                return _json({"deleted": q.get("job")})
            return _error(404, f"Unknown control {action!r}")
        except _ApiError as exc:
            return exc.response
        except ValueError as exc:
            return _error(400, f"Bad control value: {exc}")

    def info(self) -> dict[str, Any]:
        with self._lock:
            return {"url": self.url, "jobs": len(self._order), "big_job_ids": self.big_job_ids,
                    "steps": self.steps, "latency": self.latency, "stall": self._stall, "rate": self.rate,
                    "valid_every": self.valid_every, "result_b64": self.result_b64}

    def _api(self, endpoint: str, request: Request, args: dict[str, str]) -> Response:
        kind = {"jobs": "jobs_list" if request.method == "GET" else "writes", "job_action": "writes",
                "files": "files" if request.method == "GET" else "writes", "file_retrieve": "files"}.get(endpoint, endpoint)
        with self._stats_lock:
            self._counts[kind] += 1
            self._total += 1
            if "job_id" in args:
                self._by_job[args["job_id"]][kind] += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            self._delay()
            response = self._answer(endpoint, request, args)
        except _ApiError as exc:
            response = exc.response
        finally:
            with self._stats_lock:
                self._in_flight -= 1
        if response.status_code >= 400:
            with self._stats_lock:
                self._errors[str(response.status_code)] += 1
        return response

    def _delay(self) -> None:
        wait = self._stall or self.latency
        if wait <= 0:
            return
        began = time.monotonic()
        (self._release if self._stall else self._stopping).wait(wait)
        with self._stats_lock:
            self._delayed += time.monotonic() - began
            self._delayed_count += 1

    def _answer(self, endpoint: str, request: Request, args: dict[str, str]) -> Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}" \
                and request.headers.get("api-key") != self.api_key:
            return _error(401, "Incorrect API key provided", code="invalid_api_key")
        if self.rate_limit and not self._take_token():
            response = _error(429, "Rate limit reached for requests", code="rate_limit_exceeded", kind="requests")
            response.headers["Retry-After"] = "1"
            return response
        if endpoint == "jobs":
            return self._list_jobs(request) if request.method == "GET" else self._create(request)
        if endpoint == "job_retrieve":
            return _json(self._job_dict(self._job(args["job_id"])))
        if endpoint == "events":
            return self._events(self._job(args["job_id"]), request)
        if endpoint == "checkpoints":
            return self._checkpoints(self._job(args["job_id"]), request)
        if endpoint == "job_action":
            return self._job_action(args["job_id"], args["action"])
        if endpoint == "files":
            return self._list_files(request) if request.method == "GET" else self._upload(request)
        if endpoint == "file_retrieve":
            return _json(self._file_object(args["file_id"]))
        if endpoint == "file_content":
            return self._file_content(args["file_id"])
        return _json({"object": "list", "data": [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for m in MODELS]})

    def _take_token(self) -> bool:
        with self._stats_lock:
            tokens, last = self._bucket
            now = time.monotonic()
            tokens = min(self.rate_limit, tokens + (now - last) * self.rate_limit)
            ok = tokens >= 1.0
            self._bucket = (tokens - 1.0 if ok else tokens, now)
            return ok

    # -- jobs ------------------------------------------------------------------------------------

    def _job(self, job_id: str) -> SimJob:
        pos = self._pos.get(job_id)
        if pos is None or self._order[pos].deleted:
            raise _ApiError(_error(404, f"Could not find fine-tuning job {job_id!r}", "fine_tuning_job_id",
                                   "fine_tuning_job_not_found"))
        return self._order[pos]

    @staticmethod
    def _limit(request: Request, default: int = 20) -> int:
        raw = request.args.get("limit", str(default))
        try:
            limit = int(raw)
        except ValueError:
            limit = -1
        if not 1 <= limit <= MAX_LIMIT:
            raise _ApiError(_error(400, f"limit must be between 1 and {MAX_LIMIT}, got {raw!r}", "limit"))
        return limit

    def _list_jobs(self, request: Request) -> Response:
        limit = self._limit(request)
        after = request.args.get("after")
        with self._lock:
            if after:
                if after not in self._pos:
                    raise _ApiError(_error(400, f"Invalid 'after': no job {after!r}", "after"))
                i = self._pos[after] - 1
            else:
                i = len(self._order) - 1
            page: list[dict[str, Any]] = []
            while i >= 0 and len(page) < limit:
                job = self._order[i]
                if not job.deleted:
                    page.append(self._job_dict(job))
                i -= 1
            has_more = any(not self._order[j].deleted for j in range(i, -1, -1)) if i >= 0 else False
        return _json({"object": "list", "data": page, "has_more": has_more})

    def _job_dict(self, job: SimJob) -> dict[str, Any]:
        now = time.time()
        live = job.status in ("running", "queued", "validating_files")
        failed = job.status == "failed"
        return {
            "object": "fine_tuning.job", "id": job.id, "model": job.model, "created_at": job.created_at,
            "finished_at": job.finished_at, "fine_tuned_model": job.fine_tuned_model,
            "organization_id": "org-sim", "result_files": [job.result_file_id] if job.result_file_id else [],
            "status": job.status, "training_file": TRAINING_FILES[0][0], "validation_file": TRAINING_FILES[1][0],
            "hyperparameters": {"n_epochs": N_EPOCHS, "batch_size": 1, "learning_rate_multiplier": 1.8},
            "method": {"type": "supervised", "supervised": {"hyperparameters": {
                "n_epochs": N_EPOCHS, "batch_size": 1, "learning_rate_multiplier": 1.8}}},
            "trained_tokens": job.total * 512 if job.status == "succeeded" else None,
            "error": {"code": "internal_error", "message": "The job failed due to an internal error", "param": None}
            if failed else {},
            "seed": job.key, "integrations": [], "metadata": None, "user_provided_suffix": job.suffix,
            "estimated_finish": int(now + (job.total - job.done) * job.step_seconds) if live else None,
        }

    def _create(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object")
        if not body.get("model"):
            return _error(400, "Missing required parameter: 'model'", "model", "missing_required_parameter")
        training = body.get("training_file")
        if training not in {f[0] for f in TRAINING_FILES} | set(self._uploads):
            return _error(400, f"Invalid file id {training!r}", "training_file", "invalid_file")
        return _json(self.add_job(model=str(body["model"]), suffix=body.get("suffix")))

    def _job_action(self, job_id: str, action: str) -> Response:
        with self._lock:
            job = self._job(job_id)
            if action == "cancel" and job.status in ACTIVE:
                job.status, job.finished_at = "cancelled", int(time.time())
            elif action == "pause" and job.status == "running":
                job.status = "paused"
            elif action == "resume" and job.status == "paused":
                job.status = "running"
            elif action in ("cancel", "pause", "resume"):
                return _error(400, f"Cannot {action} a job that is {job.status}", "fine_tuning_job_id")
            else:
                return _error(404, f"Unknown action {action!r}", code="unknown_url")
            return _json(self._job_dict(job))

    # -- events and checkpoints: generated from the position ------------------------------------

    def _events(self, job: SimJob, request: Request) -> Response:
        limit = self._limit(request)
        with self._lock:  # a consistent snapshot of the job's counters
            count, done, phase, status, finished = job.event_count(), job.done, job.phase, job.status, job.finished_at
        after = request.args.get("after")
        top = count - 1
        if after:
            prefix, _, pos = after.rpartition("-")
            if prefix != f"ftevent-{job.key}" or not pos.isdigit() or int(pos) >= count:
                return _error(400, f"Invalid 'after': no event {after!r} in job {job.id}", "after")
            top = int(pos) - 1
        positions = list(range(top, max(top - limit, -1), -1))
        events = self._events_at(job, positions, done, phase, status, finished)
        return _json({"object": "list", "data": events, "has_more": bool(positions) and positions[-1] > 0})

    def _events_at(self, job: SimJob, positions: list[int], done: int, phase: int, status: str,
                   finished: int | None) -> list[dict[str, Any]]:
        body_len = done + job.checkpoints_through(done)
        slots = [self._slot(job, pos, phase, body_len) for pos in positions]
        metric_steps = np.array([n for kind, n in slots if kind == "metrics"], dtype=np.int64)
        columns = metric_columns(job, metric_steps, self.valid_every) if metric_steps.size else {}
        row = {int(s): i for i, s in enumerate(metric_steps)}
        events = []
        for pos, (kind, n) in zip(positions, slots, strict=True):
            event = {"object": "fine_tuning.job.event", "id": f"ftevent-{job.key}-{pos}", "level": "info",
                     "type": "message", "data": {}}
            if kind == "header":
                event.update(created_at=job.created_at + n,
                             message=HEADER_MESSAGES[n].format(id=job.id, file=TRAINING_FILES[0][0]))
            elif kind == "checkpoint":
                event.update(created_at=job.step_time(n), message=f"Checkpoint created at step {n}")
            elif kind == "tail":
                level, message = TAILS[status][n]
                event.update(created_at=finished or int(time.time()), level=level, message=message)
            else:
                i = row[n]
                data: dict[str, Any] = {"step": n, "train_loss": float(columns["train_loss"][i]),
                                        "train_mean_token_accuracy": float(columns["train_mean_token_accuracy"][i]),
                                        "total_steps": job.total}
                message = f"Step {n}/{job.total}: training loss={data['train_loss']:.2f}"
                if not math.isnan(columns["valid_loss"][i]):
                    data["valid_loss"] = float(columns["valid_loss"][i])
                    data["valid_mean_token_accuracy"] = float(columns["valid_mean_token_accuracy"][i])
                    message += f", validation loss={data['valid_loss']:.2f}"
                event.update(created_at=job.step_time(n), type="metrics", data=data, message=message)
            events.append(event)
        return events

    @staticmethod
    def _slot(job: SimJob, pos: int, phase: int, body_len: int) -> tuple[str, int]:
        """What sits at event position ``pos``: (header, i) | (metrics, step) | (checkpoint, step) | (tail, i).
        Order: header messages, then steps 1.. with each checkpoint right after its step, then the tail."""
        if pos < phase:
            return "header", pos
        p = pos - phase
        if p >= body_len:
            return "tail", p - body_len
        previous = 0
        for c in job.checkpoint_steps:  # a handful per job
            if p < c - previous:
                return "metrics", previous + p + 1
            p -= c - previous
            if p == 0:
                return "checkpoint", c
            p -= 1
            previous = c
        return "metrics", previous + p + 1

    def _checkpoints(self, job: SimJob, request: Request) -> Response:
        limit = self._limit(request, 10)
        with self._lock:
            done = job.done
        steps = [c for c in reversed(job.checkpoint_steps) if c <= done]
        after = request.args.get("after")
        if after:
            prefix, _, step = after.rpartition("-")
            if prefix != f"ftckpt-{job.key}" or not step.isdigit() or int(step) not in steps:
                return _error(400, f"Invalid 'after': no checkpoint {after!r} in job {job.id}", "after")
            steps = [c for c in steps if c < int(step)]
        page = steps[:limit]
        columns = metric_columns(job, np.array(page, dtype=np.int64), 1) if page else {}
        data = [{
            "object": "fine_tuning.job.checkpoint", "id": f"ftckpt-{job.key}-{step}", "created_at": job.step_time(step),
            "fine_tuned_model_checkpoint": f"ft:{job.model}:org-sim:{job.suffix or 'run'}:{job.key:07d}:ckpt-step-{step}",
            "fine_tuning_job_id": job.id, "step_number": step,
            "metrics": {"step": float(step), **{k: float(v[i]) for k, v in columns.items()},
                        "full_valid_loss": float(columns["valid_loss"][i]),
                        "full_valid_mean_token_accuracy": float(columns["valid_mean_token_accuracy"][i])},
        } for i, step in enumerate(page)]
        return _json({"object": "list", "data": data, "has_more": len(steps) > limit,
                      "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})

    # -- files and the result CSV ---------------------------------------------------------------

    def _result_job(self, file_id: str) -> SimJob:
        prefix, _, key = file_id.rpartition("-")
        job = self._by_key.get(int(key)) if prefix == "file-sim-result" and key.isdigit() else None
        if job is None or job.deleted or job.result_file_id != file_id:
            raise _ApiError(_error(404, f"No such File object: {file_id}", "id"))
        return job

    def _file_object(self, file_id: str) -> dict[str, Any]:
        for fid, name, size in TRAINING_FILES:
            if fid == file_id:
                return {"id": fid, "object": "file", "bytes": size, "created_at": 1_700_000_000, "filename": name,
                        "purpose": "fine-tune", "status": "processed"}
        if file_id in self._uploads:
            return self._uploads[file_id]
        job = self._result_job(file_id)
        return {"id": file_id, "object": "file", "bytes": len(self._result_csv(job.key, job.total, job.b64)),
                "created_at": job.finished_at or 0, "filename": "step_metrics.csv", "purpose": "fine-tune-results",
                "status": "processed"}

    def _list_files(self, request: Request) -> Response:
        purpose = request.args.get("purpose")
        data = [self._file_object(fid) for fid, _, _ in TRAINING_FILES] + list(self._uploads.values())
        return _json({"object": "list", "data": [f for f in data if purpose in (None, f["purpose"])],
                      "has_more": False})

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None:
            return _error(400, "Missing required parameter: 'file'", "file")
        size = len(upload.read())
        with self._lock:
            file_id = f"file-sim-upload-{len(self._uploads) + 1:04d}"
            self._uploads[file_id] = {"id": file_id, "object": "file", "bytes": size, "created_at": int(time.time()),
                                      "filename": upload.filename or "upload.jsonl",
                                      "purpose": request.form.get("purpose", "fine-tune"), "status": "processed"}
            return _json(self._uploads[file_id])

    def _file_content(self, file_id: str) -> Response:
        if file_id in {f[0] for f in TRAINING_FILES} | set(self._uploads):
            return Response(b'{"messages": []}\n', content_type="application/octet-stream")
        job = self._result_job(file_id)
        return Response(self._result_csv(job.key, job.total, job.b64), content_type="application/octet-stream")

    def _result_csv(self, key: int, total: int, b64: bool) -> bytes:
        # A finished job's file never changes: the last few are kept (a 100,000-row file is 2.5 MB).
        with self._lock:
            cached = self._csv_cache.get((key, total, b64))
        if cached is None:
            cached = self._build_csv(self._by_key[key], total, b64)
            with self._lock:
                self._csv_cache[(key, total, b64)] = cached
                while len(self._csv_cache) > 4:
                    self._csv_cache.popitem(last=False)
        return cached

    def _build_csv(self, job: SimJob, total: int, b64: bool) -> bytes:
        steps = np.arange(1, total + 1, dtype=np.int64)
        cols = metric_columns(job, steps, self.valid_every)
        lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
        for s, tl, ta, vl, va in zip(steps.tolist(), cols["train_loss"].tolist(),
                                     cols["train_mean_token_accuracy"].tolist(), cols["valid_loss"].tolist(),
                                     cols["valid_mean_token_accuracy"].tolist(), strict=True):
            lines.append(f"{s},{tl!r},{ta!r},," if vl != vl else f"{s},{tl!r},{ta!r},{vl!r},{va!r}")
        text = ("\n".join(lines) + "\n").encode()
        return base64.b64encode(text) if b64 else text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.scale_sim", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=100, help="steps of an ordinary job")
    parser.add_argument("--big", action="append", default=[], help="e.g. 20000:finished:spike=10000, 100000:live")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")
    parser.add_argument("--rate", type=float, default=0.0, help="steps per second a live job advances (0: only by /_sim/advance)")
    parser.add_argument("--running-jobs", type=int, default=0, help="ordinary jobs that are live")
    parser.add_argument("--valid-every", type=int, default=10)
    parser.add_argument("--result-b64", action="store_true", help="base64-encode result files")
    parser.add_argument("--stall", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second before 429")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sim = ScaleSimulator(jobs=args.jobs, steps=args.steps, big=args.big, latency=args.latency, rate=args.rate,
                         running_jobs=args.running_jobs, valid_every=args.valid_every, result_b64=args.result_b64,
                         stall=args.stall, rate_limit=args.rate_limit, api_key=args.api_key, host=args.host,
                         port=args.port).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(sim.url, flush=True)
    print(json.dumps(sim.info()), flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        sim.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
