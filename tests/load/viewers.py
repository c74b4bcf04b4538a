"""N viewers watching one dashboard: API cost and refresh-tick latency, as a Markdown table.

    python -m tests.load.viewers --viewers 1,20,50 --seconds 30 --sim-jobs 3000 --latency 0.15

It starts the scale simulator (a process), the app with the Procfile's command under gunicorn
(WEB_CONCURRENCY workers, the simulator as FAKEAI_DASH_API_BASE), opens the page once in
headless Chromium to capture the callback requests its refresh ticks really send, then
replays those ticks from N viewers at the page's own interval. Each viewer keeps the props
the server sent it, as a browser would. Only HTTP: nothing here imports the app.
Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
import requests.adapters

from tests.load.capture import capture_ticks, describe
from tests.load.replay import Request, Tick, ViewerState, percentile, server_outputs, should_send
from tests.load.stack import Gunicorn, Redis, Simulator

DEFAULT_BIG = ["20000:finished:spike=10000", "100000:live"]
BROWSER_CONNECTIONS = 6  # what a browser opens to one host over HTTP/1.1


@dataclass
class RunResult:
    viewers: int
    seconds: float
    ticks: int = 0
    callbacks: int = 0
    tick_ms: list[float] = field(default_factory=list)
    healthz_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    api: dict = field(default_factory=dict)
    window_start: float = 0.0  # wall clock when the API counts were reset
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def api_per_30s(self) -> float:
        return self.api.get("total", 0) * 30.0 / self.seconds if self.seconds else 0.0


class Viewer(threading.Thread):
    """One browser tab: every ``period`` seconds it sends one captured tick, wave by wave."""

    def __init__(self, index: int, app_url: str, ticks: list[Tick], period: float, offset: float,
                 t0: float, window: tuple[float, float], pool: ThreadPoolExecutor, result: RunResult,
                 stop: threading.Event, timeout: float, server_set: set[str]):
        super().__init__(name=f"viewer-{index}", daemon=True)
        self.server_set = server_set
        self.app_url, self.ticks, self.period, self.offset = app_url, ticks, period, offset
        self.t0, self.window, self.pool, self.result = t0, window, pool, result
        self.stop_event, self.timeout = stop, timeout
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=BROWSER_CONNECTIONS)
        self.session.mount("http://", adapter)
        self.connections = threading.BoundedSemaphore(BROWSER_CONNECTIONS)
        self.state = ViewerState()

    def run(self) -> None:
        n, k = self.ticks[0].n, 0
        for _ in range(int((self.window[1] - self.t0) / self.period) + 2):
            due = self.t0 + self.offset + k * self.period
            if due >= self.window[1] or self.stop_event.wait(max(0.0, due - time.monotonic())):
                break
            began = time.monotonic()
            if began >= self.window[1]:
                break
            sent, errors, finished = self._tick(self.ticks[k % len(self.ticks)], n + k)
            elapsed_ms = (time.monotonic() - began) * 1000.0
            if self.window[0] <= began < self.window[1]:
                with self.result.lock:
                    if finished:
                        self.result.ticks += 1
                        self.result.callbacks += sent
                        self.result.tick_ms.append(elapsed_ms)
                    else:
                        self.result.add_error("tick unfinished")
                    for kind in errors:
                        self.result.add_error(kind)
            # A tick longer than the interval: the next one is the next firing still to come
            # (the interval keeps counting; missed firings are not sent late).
            k = max(k + 1, math.ceil((time.monotonic() - self.t0 - self.offset) / self.period))
        self.session.close()

    def _tick(self, tick: Tick, n_intervals: int) -> tuple[int, list[str], bool]:
        """One tick, wave by wave; a chained request goes only if this tick's answers set
        what triggers it (as the renderer decides). Returns (requests sent, errors, finished)."""
        errors: list[str] = []
        set_this_tick: set[str] = set()
        sent = 0
        for wave in tick.waves:
            if self.stop_event.is_set():
                return sent, errors, False
            wave = [r for r in wave if should_send(r, set_this_tick, self.server_set)]
            sent += len(wave)
            if len(wave) == 1:
                answers = [self._send(wave[0], n_intervals)]
            else:
                answers = [f.result() for f in [self.pool.submit(self._send, r, n_intervals) for r in wave]]
            for answer, error in answers:
                if error:
                    errors.append(error)
                else:
                    set_this_tick |= self.state.learn(answer)
        return sent, errors, True

    def _send(self, request: Request, n_intervals: int) -> tuple[object, str | None]:
        body = self.state.body_text_for(request, n_intervals).encode()
        try:
            with self.connections:
                response = self.session.post(f"{self.app_url}/_dash-update-component", data=body,
                                             headers={"Content-Type": "application/json"}, timeout=self.timeout)
        except requests.Timeout:
            return None, "timeout"
        except requests.RequestException as exc:
            return None, type(exc).__name__
        if response.status_code == 204:
            return None, None
        if response.status_code != 200:
            return None, f"HTTP {response.status_code}"
        try:
            return response.json(), None
        except ValueError:
            return None, "not JSON"


def probe_healthz(app_url: str, window: tuple[float, float], result: RunResult, stop: threading.Event,
                  timeout: float) -> None:
    """GET /healthz once a second during the window (a load balancer's view)."""
    session = requests.Session()
    if stop.wait(max(0.0, window[0] - time.monotonic())):
        return
    for _ in range(int(window[1] - window[0]) + 2):
        began = time.monotonic()
        if began >= window[1]:
            break
        try:
            ok = session.get(f"{app_url}/healthz", timeout=timeout).ok
        except requests.RequestException:
            ok = False
        with result.lock:
            result.healthz_ms.append((time.monotonic() - began) * 1000.0)
            if not ok:
                result.add_error("healthz")
        if stop.wait(max(0.0, 1.0 - (time.monotonic() - began))):
            break
    session.close()


def run_viewers(n: int, seconds: float, app_url: str, sim: Simulator, ticks: list[Tick], period: float,
                stall: float, timeout: float, server_set: set[str]) -> RunResult:
    result = RunResult(n, seconds)
    warmup = 2 * period + 1.0
    t0 = time.monotonic()
    window = (t0 + warmup, t0 + warmup + seconds)
    width = max(len(wave) for tick in ticks for wave in tick.waves)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, n * width), thread_name_prefix="wave") as pool:
        viewers = [Viewer(i, app_url, ticks, period, i * period / n, t0, window, pool, result, stop, timeout, server_set)
                   for i in range(n)]
        probe = threading.Thread(target=probe_healthz, args=(app_url, window, result, stop, timeout), daemon=True)
        for thread in [*viewers, probe]:
            thread.start()
        try:
            stop.wait(max(0.0, window[0] - time.monotonic()))
            if stall:
                sim.control("stall", seconds=stall)
            sim.control("reset-stats")
            result.window_start = time.time()
            stop.wait(max(0.0, window[1] - time.monotonic()))
            result.api = sim.stats()
            # Ticks begun in the window may finish (their time counts), within one request timeout.
            deadline = time.monotonic() + timeout
            for thread in viewers:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            stop.set()  # what is still running is cut between waves and counted as unfinished
            if stall:
                sim.control("stall", seconds=0)  # releases answers still hanging
            deadline = time.monotonic() + timeout + 5
            for thread in [*viewers, probe]:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return result


def markdown(results: list[RunResult], setup: str) -> str:
    base = next((r.api_per_30s for r in results if r.viewers == 1), None)
    lines = [setup, "",
             "| viewers | ticks | callbacks / tick | API requests / 30 s | ÷ 1 viewer | jobs list / retrieve / events /"
             " checkpoints / files | tick p50 ms | tick p95 ms | tick max ms | /healthz p95 ms | errors |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        kinds = r.api.get("by_kind", {})
        split = " / ".join(str(kinds.get(k, 0)) for k in ("jobs_list", "job_retrieve", "events", "checkpoints",
                                                          "file_content"))
        ratio = f"{r.api_per_30s / base:.2f}×" if base else "–"
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r.errors.items())) or "0"
        per_tick = f"{r.callbacks / r.ticks:.1f}" if r.ticks else "–"
        lines.append(f"| {r.viewers} | {r.ticks} | {per_tick} | {r.api_per_30s:.0f} | {ratio} | {split} | "
                     f"{percentile(r.tick_ms, 50):.0f} | {percentile(r.tick_ms, 95):.0f} | "
                     f"{max(r.tick_ms, default=float('nan')):.0f} | {percentile(r.healthz_ms, 95):.0f} | {errors} |")
    return "\n".join(lines)


def page_path(choice: str, big_ids: list[str], big_specs: list[str]) -> str:
    if choice == "list":
        return "/"
    if choice in ("live", "finished"):
        want = ("live", "running") if choice == "live" else ("finished", "succeeded")
        for job_id, spec in zip(big_ids, big_specs, strict=False):
            if any(word in spec.split(":") for word in want):
                return f"/jobs/{job_id}"
        raise SystemExit(f"--page {choice}: no {choice} job among --big {big_specs}")
    return f"/jobs/{choice}"


def main(argv: list[str] | None = None) -> int:
    results, table = measure(argv)
    print(table, flush=True)
    return 0


def measure(argv: list[str] | None = None) -> tuple[list[RunResult], str]:
    """Run everything the command line asks; the results and their Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m tests.load.viewers", description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,20,50", help="comma-separated viewer counts, run in order")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per viewer count")
    parser.add_argument("--sim-jobs", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per API answer")
    parser.add_argument("--big", action="append", default=None, help=f"big jobs (default: {' '.join(DEFAULT_BIG)})")
    parser.add_argument("--rate", type=float, default=1.0, help="steps per second the live job advances")
    parser.add_argument("--page", default="live", help="live | finished | list | <job id>: what each viewer has open")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--redis", action="store_true", help="start a redis-server and give it to the app")
    parser.add_argument("--refresh-interval", type=float, default=None, help="FAKEAI_DASH_REFRESH_INTERVAL")
    parser.add_argument("--stall", type=float, default=0.0, help="stall every API answer this long while measuring")
    parser.add_argument("--capture-ticks", type=int, default=3, help="ticks to capture and replay in turn")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--app-dir", default=None, help="serve the app from this checkout (a baseline commit)")
    args = parser.parse_args(argv)
    counts = [int(v) for v in args.viewers.split(",") if v.strip()]
    if not counts or min(counts) < 1 or max(counts) > 500:
        parser.error("--viewers: counts between 1 and 500")
    big = args.big or DEFAULT_BIG

    sim_args = ["--jobs", str(args.sim_jobs), "--latency", str(args.latency), "--rate", str(args.rate)]
    for spec in big:
        sim_args += ["--big", spec]
    sim, redis, app = Simulator(sim_args), None, None
    try:
        sim.start()
        env = {}
        if args.redis:
            redis = Redis().start()
            env["FAKEAI_DASH_CACHE_URL"] = redis.url
        if args.refresh_interval:
            env["FAKEAI_DASH_REFRESH_INTERVAL"] = str(args.refresh_interval)
        app = Gunicorn(sim.url, args.workers, env, app_dir=args.app_dir).start()
        path = page_path(args.page, sim.info["big_job_ids"], big)
        print(f"capturing {args.capture_ticks} refresh ticks of {app.url}{path} in headless Chromium…",
              file=sys.stderr, flush=True)
        ticks, period = capture_ticks(app.url + path, ticks=args.capture_ticks)
        server_set = server_outputs(requests.get(f"{app.url}/_dash-dependencies", timeout=30).json())
        print(describe(ticks), file=sys.stderr, flush=True)
        results = []
        for n in counts:
            print(f"{n} viewer(s) for {args.seconds:g} s…", file=sys.stderr, flush=True)
            results.append(run_viewers(n, args.seconds, app.url, sim, ticks, period, args.stall,
                                       args.request_timeout, server_set))
        # The captured ticks' sizes; a replayed tick sends only what its own answers trigger.
        per_tick = "/".join(str(n) for n in sorted({len(t.requests) for t in ticks}))
        setup = (f"Setup: {args.sim_jobs} jobs ({', '.join(big)}), API latency {args.latency * 1000:g} ms"
                 f"{f', API stalled {args.stall:g} s' if args.stall else ''}, gunicorn (Procfile) with "
                 f"WEB_CONCURRENCY={args.workers}{', Redis cache' if args.redis else ''}; page {path}; "
                 f"{f'app from {args.app_dir}; ' if args.app_dir else ''}refresh tick every {period:.2f} s; {per_tick} callback requests in the ticks captured "
                 f"from Chromium; {args.seconds:g} s measured per row.")
        return results, markdown(results, setup)
    finally:
        for part in (app, redis, sim):
            if part is not None:
                part.stop()


if __name__ == "__main__":
    sys.exit(main())
