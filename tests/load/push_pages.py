"""The push load harness's parts (tests/load/push.py runs them): the pure counting, the pages —
protocol pages that hold a push stream and replay a captured chain per change, and a headless
Chromium page watched in its DOM — and the probes of the server's health, CPU and memory."""

from __future__ import annotations

import json
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass, field

import psutil
import requests

from tests.load.capture import RECORDER, _driver
from tests.load.replay import Request, ViewerState, parse_records, should_send, waves
from tests.load.sse import PushClient
from tests.load.stack import Gunicorn

PUSH_PROPS = ("push-job-signal.data", "push-list-signal.data", "push-progress-signal.data")
SIGNAL_OF = {"list": "push-list-signal.data", "list-progress": "push-progress-signal.data"}  # else the job's
DETAIL_STORE = ("job-detail-store", "data")
STEP_RECORDER = """
(() => {
  window.__steps = [];
  const look = () => {
    const e = document.getElementById("training-progress-text");
    const m = e && /Step (\\d+)/.exec(e.textContent || "");
    if (!m) return;
    const step = +m[1], last = window.__steps[window.__steps.length - 1];
    if (!last || last[1] !== step) window.__steps.push([Date.now(), step]);
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


# -- pure parts (tests/load/test_push_load.py) ------------------------------------------------

def push_groups(requests_: list[Request]) -> dict[str, list[list[Request]]]:
    """For each push signal, the requests its latest complete firing set off, in waves: from the
    firing up to the next firing of any push signal (the steady state, not the page's first
    resync). A replay sends a chained request only if that replay's answers trigger it."""
    # One change of a signal fires every callback it feeds, sent together: a firing starts at the
    # first of them (the order among them is the callbacks' registration order, not ours).
    firings = [i for i, r in enumerate(requests_)
               if _push_fired(r) and not (i and _fired_props(requests_[i - 1]) == _fired_props(r))]
    latest: dict[str, list[Request]] = {}
    for n, i in enumerate(firings):
        end = firings[n + 1] if n + 1 < len(firings) else len(requests_)
        chain = list(requests_[i:end])
        if all(r.end != float("inf") for r in chain):
            for prop in PUSH_PROPS:
                if _push_fired(requests_[i], prop):
                    latest[prop] = chain
    return {prop: waves(chain) for prop, chain in latest.items()}


def _fired_props(request: Request) -> set[str]:
    return set(map(str, request.body.get("changedPropIds") or [])) & set(PUSH_PROPS)


def _push_fired(request: Request, prop: str | None = None) -> bool:
    changed = set(map(str, request.body.get("changedPropIds") or []))
    return bool(changed & ({prop} if prop else set(PUSH_PROPS)))


def store_step(detail: dict | None) -> int:
    """The newest step in a job-detail store value (what the page's panels draw)."""
    steps = [((e.get("data") or {}).get("step") or 0) for e in (detail or {}).get("events") or []]
    return max(steps, default=0)


def first_at_or_after(records: list[tuple[float, int]], target: int) -> float | None:
    """When (epoch s) a page first showed a step >= target; records are (epoch s, step) in order."""
    return next((at for at, step in records if step >= target), None)


def latencies(births: list[tuple[float, int]], pages: list[list[tuple[float, int]]]) -> tuple[list[float], int]:
    """(seconds from each event's birth to each page showing it, how many were never shown)."""
    found, missed = [], 0
    for born, target in births:
        for records in pages:
            at = first_at_or_after(records, target)
            if at is None:
                missed += 1
            else:
                found.append(max(0.0, at - born))
    return found, missed


# -- pages ------------------------------------------------------------------------------------

@dataclass
class ProtocolPage:
    """A page without a browser: the push stream, and on each change the captured chain replayed."""

    app_url: str
    job: str
    groups: dict[str, list[list[Request]]]
    server_set: set[str]
    replay: str = "full"  # full chain, or "first": the data fetches only
    shown: list[tuple[float, int]] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self):
        self.state = ViewerState()
        self.session = requests.Session()
        self.pending: queue.Queue = queue.Queue()
        self.client = PushClient(self.app_url, job=self.job, on_change=self._changed)
        self.worker = threading.Thread(target=self._work, daemon=True)
        self.stopping = threading.Event()

    def start(self) -> ProtocolPage:
        self.worker.start()
        self.client.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.pending.put(None)
        self.client.stop()

    def _changed(self, _client, event, now) -> None:
        if self.replay == "none":  # the push itself is the update: no fetch (see --stream-replay)
            if event.data["member"] == self.job:
                self.shown.append((now, NEWEST["step"]))
            return
        self.pending.put(SIGNAL_OF.get(event.data["member"], "push-job-signal.data"))

    def _work(self) -> None:
        while not self.stopping.is_set():
            prop = self.pending.get()
            due = {prop}
            while not self.pending.empty():  # changes that came meanwhile: one replay each kind
                due.add(self.pending.get_nowait())
            for prop in sorted(p for p in due if p):
                self._replay(self.groups.get(prop) or [])

    def _replay(self, chain: list[list[Request]]) -> None:
        set_now: set[str] = set()
        for n, wave in enumerate(chain):
            if self.replay == "first" and n:
                break
            for request in [r for r in wave if should_send(r, set_now, self.server_set)]:
                try:
                    response = self.session.post(f"{self.app_url}/_dash-update-component",
                                                 data=self.state.body_text_for(request, 0).encode(),
                                                 headers={"Content-Type": "application/json"}, timeout=30)
                except requests.RequestException:
                    self.errors += 1
                    continue
                if response.status_code == 200:
                    set_now |= self.state.learn(response.json())
                elif response.status_code != 204:
                    self.errors += 1
        step = store_step(self.state.props.get(DETAIL_STORE))
        if step and (not self.shown or self.shown[-1][1] != step):
            self.shown.append((time.time(), step))


class BrowserPage:
    def __init__(self, url: str):
        self.driver = _driver_with_logs()
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER + STEP_RECORDER})
        self.driver.get(url)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def push(self) -> dict:
        return self.js("return window.fakeaiPush ? window.fakeaiPush.stats() : {};") or {}

    def steps(self) -> list[tuple[float, int]]:
        return [(at / 1000.0, step) for at, step in self.js("return window.__steps || [];")]

    def captured(self) -> list[Request]:
        return parse_records(self.js("return window.__loadCapture || [];"))

    def sent(self) -> list[str]:
        """URLs of every request the page sent since the last call (Chrome's network log)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def quit(self) -> None:
        self.driver.quit()


def _driver_with_logs():
    """Headless Chromium as the capture opens it, plus Chrome's network log (every request sent)."""
    return _driver(network_log=True)


def gunicorn_memory(app: Gunicorn) -> tuple[float, list[int]]:
    """(RSS of the master and its workers in MB, each worker's thread count)."""
    master = psutil.Process(app.process.pid)
    workers = master.children()
    rss = sum(p.memory_info().rss for p in [master, *workers]) / 1024**2
    return rss, [p.num_threads() for p in workers]


def server_cpu(app: Gunicorn) -> float:
    """CPU seconds (user + system) the master and its workers have used so far."""
    master = psutil.Process(app.process.pid)
    return sum(sum(p.cpu_times()[:2]) for p in [master, *master.children()])


def _probe_loop(url: str, every: float, stop, out) -> None:
    session = requests.Session()
    probes: list[float] = []
    while not stop.wait(every):
        began = time.monotonic()
        try:
            session.get(f"{url}/healthz", timeout=10)
            probes.append((time.monotonic() - began) * 1000)
        except requests.RequestException:
            probes.append(10_000.0)
    out.put(probes)


class HealthzProbe:
    """GET /healthz every `every` s from a process of its own, as a load balancer does.

    Not a thread of this harness: its hundreds of page threads share one GIL, and a probe thread
    waiting for it counted the harness's own CPU as the server's latency (the 200-page run's
    /healthz p95 read 79-144 ms from a thread where the server answered in far less)."""

    def __init__(self, url: str, every: float = 0.2):
        context = multiprocessing.get_context("spawn")  # no fork of a process with 400 threads
        self._stop, self._out = context.Event(), context.Queue()
        self._process = context.Process(target=_probe_loop, args=(url, every, self._stop, self._out), daemon=True)

    def start(self) -> HealthzProbe:
        self._process.start()
        return self

    def stop(self) -> list[float]:
        self._stop.set()
        probes = self._out.get(timeout=30)
        self._process.join(timeout=10)
        return probes


NEWEST = {"step": 0}  # the step the harness last added (what a bare change event stands for)
