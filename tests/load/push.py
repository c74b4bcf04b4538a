"""Push under load, as a Markdown section: latency from the simulator adding an event to pages
showing it, an idle page's traffic, 200 open pages on the Procfile's two workers, and a worker
killed mid-stream.

    python -m tests.load.push --pages 20 --samples 30 --idle-seconds 120 --streams 200

It starts the scale simulator (a live job that advances only when told, so each new event has
a known birth time), the app with the Procfile's command under gunicorn, and one headless
Chromium page on the live job, whose DOM is watched for the step it shows. The other pages are
protocol pages: each holds the push stream (tests/load/sse.py, reconnecting like push.js) and,
on each change, replays the callback requests the real page sent for that change (captured from
it, chained wave by wave as the renderer chains them). Everything is local (127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import psutil
import requests

from tests.load.capture import RECORDER
from tests.load.replay import Request, ViewerState, parse_records, percentile, server_outputs, should_send, waves
from tests.load.sse import PushClient
from tests.load.stack import Gunicorn, Redis, Simulator

PUSH_PROPS = ("push-job-signal.data", "push-list-signal.data")
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
    firings = [i for i, r in enumerate(requests_) if _push_fired(r)]
    latest: dict[str, list[Request]] = {}
    for n, i in enumerate(firings):
        end = firings[n + 1] if n + 1 < len(firings) else len(requests_)
        chain = list(requests_[i:end])
        if all(r.end != float("inf") for r in chain):
            for prop in PUSH_PROPS:
                if _push_fired(requests_[i], prop):
                    latest[prop] = chain
    return {prop: waves(chain) for prop, chain in latest.items()}


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
        self.pending.put("push-list-signal.data" if event.data["member"] == "list" else "push-job-signal.data")

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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,1000", "--no-first-run", "--disable-background-networking",
                 "--disable-extensions", "--disable-sync"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = shutil.which("chromedriver")
    return webdriver.Chrome(service=Service(driver_path) if driver_path else Service(), options=options)


def wait(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {seconds:g} s")


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


def healthz_probe(url: str, stop: threading.Event, out: list[float], every: float = 0.2) -> None:
    session = requests.Session()
    while not stop.wait(every):
        began = time.monotonic()
        try:
            session.get(f"{url}/healthz", timeout=10)
            out.append((time.monotonic() - began) * 1000)
        except requests.RequestException:
            out.append(10_000.0)


# -- the measurements ---------------------------------------------------------------------------

NEWEST = {"step": 0}  # the step the harness last added (what a bare change event stands for)


def advance_samples(sim: Simulator, job: str, base: int, samples: int, gap: tuple[float, float]):
    births = []
    for k in range(samples):
        time.sleep(random.uniform(*gap))
        born = time.time()
        NEWEST["step"] = base + k + 1
        sim.control("advance", job=job, steps=1)
        births.append((born, base + k + 1))
    return births


def history_loaded(browser) -> bool:
    """The page shows the job's whole history (no "Loading history N%" any more)."""
    return bool(browser.steps()) and not browser.js("return document.body.innerText.includes('Loading history');")


def measure_latency(sim, app, browser, job, args) -> dict:
    wait(lambda: browser.steps(), 60, "the browser showing the live job's step")
    # Steady state: while the older history of a big job still loads, its rounds are long (the
    # backfill) and new events wait for them; docs/push.md says so.
    began = time.monotonic()
    wait(lambda: history_loaded(browser), 600, "the job's history loaded")
    print(f"history loaded after {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    time.sleep(5.0)
    base = browser.steps()[-1][1]
    # A few changes so the page sends what a change sets off: that is what protocol pages replay.
    for _ in range(3):
        sim.control("advance", job=job, steps=1)
        time.sleep(1.0)
    groups = push_groups(browser.captured())
    if "push-job-signal.data" not in groups:
        raise RuntimeError("the browser page sent nothing on a pushed job change")
    server_set = server_outputs(requests.get(f"{app.url}/_dash-dependencies", timeout=30).json())
    pages = [ProtocolPage(app.url, job, groups, server_set).start() for _ in range(args.pages - 1)]
    base = wait(lambda: (s := browser.steps()) and s[-1][1] >= base + 3 and s[-1][1], 10, "warm-up steps")
    wait(lambda: all(p.client.live for p in pages), 30, "protocol pages live")
    time.sleep(2.0)
    cpu_before = server_cpu(app), time.process_time()
    births = advance_samples(sim, job, base, args.samples, (1.0, 2.0))
    last = births[-1][1]
    wait(lambda: browser.steps()[-1][1] >= last and all(p.shown and p.shown[-1][1] >= last for p in pages), 10,
         "every page showing the last step")
    found, missed = latencies(births, [browser.steps()] + [p.shown for p in pages])
    browser_only, _ = latencies(births, [browser.steps()])
    cpu = ((server_cpu(app) - cpu_before[0]) / len(births), (time.process_time() - cpu_before[1]) / len(births))
    return {"pages": pages, "groups": groups, "server_set": server_set, "all": found, "missed": missed,
            "browser": browser_only, "births": births, "step": last, "cpu": cpu,
            "chain": {p: sum(len(w) for w in g) for p, g in groups.items()}}


def measure_restart(sim, app, browser, job, pages) -> dict:
    master = psutil.Process(app.process.pid)
    port = int(app.url.rsplit(":", 1)[1])

    def streams(p):
        try:
            return sum(1 for c in p.net_connections("tcp") if c.laddr.port == port and c.status == "ESTABLISHED")
        except psutil.Error:
            return 0

    victim = max(master.children(), key=streams)
    held = streams(victim)
    opened_before = [p.client.opened for p in pages], browser.push().get("opened", 0)
    base = browser.steps()[-1][1]
    killed_at = time.time()
    victim.send_signal(signal.SIGKILL)
    sim.control("advance", job=job, steps=1)  # an update while that worker's pages have no stream
    target = base + 1
    wait(lambda: browser.steps()[-1][1] >= target and all(p.shown and p.shown[-1][1] >= target for p in pages), 30,
         "every page showing the step made while a worker was down")
    resync = [first_at_or_after(browser.steps(), target) - killed_at] + [
        first_at_or_after(p.shown, target) - killed_at for p in pages]
    reconnected = sum(p.client.opened > before for p, before in zip(pages, opened_before[0], strict=True))
    reconnected += browser.push().get("opened", 0) > opened_before[1]
    wait(lambda: len(master.children()) == 2, 30, "the master replacing the worker")
    return {"held": held, "resync": resync, "reconnected": reconnected, "pages": len(pages) + 1, "step": target}


def measure_streams(sim, app, job, groups, server_set, args, current: int) -> dict:
    rss_before, _ = gunicorn_memory(app)
    pages = [ProtocolPage(app.url, job, groups, server_set, replay=args.stream_replay) for _ in range(args.streams)]
    for page in pages:
        page.start()
        time.sleep(0.01)
    wait(lambda: sum(p.client.live for p in pages) == len(pages), 60, f"{len(pages)} streams open")
    rss_open, threads = gunicorn_memory(app)
    probes: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=healthz_probe, args=(app.url, stop, probes), daemon=True)
    prober.start()
    births = advance_samples(sim, job, current, args.stream_samples, (2.0, 2.5))
    last = births[-1][1]
    try:
        wait(lambda: all(p.shown and p.shown[-1][1] >= last for p in pages), 30, "every page showing the last step")
    except RuntimeError:
        pass
    stop.set()
    prober.join(timeout=5)
    rss_busy, threads_busy = gunicorn_memory(app)
    found, missed = latencies(births, [p.shown for p in pages])
    refused = sum(p.client.refused for p in pages)
    for page in pages:
        page.stop()
    return {"n": len(pages), "found": found, "missed": missed, "healthz": probes,
            "rss": (rss_before, rss_open, rss_busy),
            "threads": threads_busy, "refused": refused, "errors": sum(p.errors for p in pages)}


def measure_idle(args) -> dict:
    """One page on a quiet list (no live job): requests it sends per minute, live and polling."""
    sim = Simulator(["--jobs", "200", "--latency", str(args.latency)]).start()
    app = Gunicorn(sim.url, 2).start()
    result = {}
    try:
        for mode, blocked in (("live", False), ("polling", True)):
            page = BrowserPage("about:blank")
            try:
                if blocked:
                    page.driver.execute_cdp_cmd("Network.enable", {})
                    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_push*"]})
                page.driver.get(app.url + "/")
                wait(lambda: page.js("return document.querySelectorAll('#jobs-grid .ag-row').length") > 0, 60,
                     "the list")
                want = "polling" if blocked else "live"
                wait(lambda: page.push().get("state") == want, 30, f"the page {want}")
                time.sleep(5.0)  # settled: the first load's requests are behind us
                page.sent()
                seconds = args.idle_seconds if mode == "live" else min(args.idle_seconds, 30)
                time.sleep(seconds)
                urls = [u for u in page.sent() if u.startswith(app.url)]
                result[mode] = {"seconds": seconds, "requests": len(urls),
                                "per_minute": len(urls) * 60.0 / seconds,
                                "callbacks": sum("_dash-update-component" in u for u in urls),
                                "push_opens": sum("/_push" in u for u in urls)}
            finally:
                page.quit()
    finally:
        app.stop()
        sim.stop()
    return result


# -- report -------------------------------------------------------------------------------------

REPLAYS = {"none": "nothing fetched: the pushed event is the update measured",
           "first": "the data fetches replayed", "full": "the whole chain replayed"}


def ms(values, q):
    return f"{percentile(values, q) * 1000:.0f}" if values else "–"


def report(args, latency, restart, streams, idle) -> str:
    lines = [f"Setup: scale simulator ({args.sim_jobs} jobs, a 100,000-step live job at step {args.live_done} advanced one "
             f"step at a time by the harness, API latency {args.latency * 1000:g} ms), "
             f"gunicorn from the Procfile (WEB_CONCURRENCY=2), "
             f"{'Redis (changes over pub/sub)' if args.redis else 'local store (no Redis)'}; "
             f"`python -m tests.load.push {' '.join(sys.argv[1:])}`.", ""]
    if latency:
        chain = ", ".join(f"{p.split('-')[1]}: {n} requests" for p, n in latency["chain"].items())
        lines += ["**Latency**: from the simulator adding an event to pages showing it "
                  f"({args.pages} pages open on the live job: 1 headless Chromium, {args.pages - 1} protocol pages "
                  f"replaying the chain the browser sends per change — {chain}; {len(latency['births'])} events "
                  "1–2 s apart).", "",
                  "| pages | p50 ms | p95 ms | max ms | never shown |", "|---|---:|---:|---:|---:|",
                  f"| all {args.pages} | {ms(latency['all'], 50)} | {ms(latency['all'], 95)} | "
                  f"{max(latency['all'], default=0) * 1000:.0f} | {latency['missed']} |",
                  f"| the Chromium page (DOM) | {ms(latency['browser'], 50)} | {ms(latency['browser'], 95)} | "
                  f"{max(latency['browser'], default=0) * 1000:.0f} | – |", "",
                  f"CPU per event: the app's workers {latency['cpu'][0]:.2f} s, the protocol pages (this harness) "
                  f"{latency['cpu'][1]:.2f} s, on a 2-core machine (load average at the end: "
                  f"{' / '.join(f'{x:.1f}' for x in psutil.getloadavg())}).", ""]
    if idle:
        lines += ["**Idle traffic**: one page on a quiet list (no job changing), every request it sent "
                  "(Chrome's network log), after the page settled:", "",
                  "| mode | seconds | requests | per minute | of which callbacks | push (re)connections |",
                  "|---|---:|---:|---:|---:|---:|"]
        for mode, r in idle.items():
            lines.append(f"| {mode} | {r['seconds']:g} | {r['requests']} | {r['per_minute']:.1f} | {r['callbacks']} | "
                         f"{r['push_opens']} |")
        lines.append("")
    if streams:
        before, opened, busy = streams["rss"]
        lines += [f"**{streams['n']} open pages** on two workers (each: the push stream, and on each change "
                  f"{REPLAYS[args.stream_replay]}; "
                  f"{args.stream_samples} events 2–2.5 s apart; /healthz probed 5×/s):", "",
                  "| update p50 ms | update p95 ms | never shown | /healthz p50 ms | /healthz p95 ms | /healthz max ms |"
                  " streams refused | RSS before / streams open / busy MB | worker threads |",
                  "|---:|---:|---:|---:|---:|---:|---:|---|---|",
                  f"| {ms(streams['found'], 50)} | {ms(streams['found'], 95)} | {streams['missed']} | "
                  f"{percentile(streams['healthz'], 50):.0f} | {percentile(streams['healthz'], 95):.0f} | "
                  f"{max(streams['healthz'], default=0):.0f} | {streams['refused']} | "
                  f"{before:.0f} / {opened:.0f} / {busy:.0f} | {', '.join(map(str, streams['threads']))} |", ""]
    if restart:
        lines += ["**Restart**: the worker holding the most streams killed (SIGKILL) and one event added at once, "
                  "while its pages had no stream:", "",
                  "| pages | streams the worker held | pages reconnected | pages showing the event | resync max ms |",
                  "|---:|---:|---:|---:|---:|",
                  f"| {restart['pages']} | {restart['held']} | {restart['reconnected']} | {len(restart['resync'])} | "
                  f"{max(restart['resync']) * 1000:.0f} |", ""]
    return "\n".join(lines)


def measure(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.load.push", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--stream-samples", type=int, default=10)
    parser.add_argument("--stream-replay", choices=("none", "first", "full"), default="first",
                        help="what each of the --streams pages does on a change: nothing more (the pushed event "
                             "is the update), its data fetches, or the whole chain")
    parser.add_argument("--idle-seconds", type=float, default=120)
    parser.add_argument("--sim-jobs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per API answer")
    parser.add_argument("--live-done", type=int, default=2000,
                        help="steps the 100,000-step live job has run: its older history loads first")
    parser.add_argument("--redis", action="store_true", help="start a redis-server and give it to the app "
                        "(changes then travel over Redis pub/sub)")
    parser.add_argument("--skip", default="", help="comma-separated: latency,idle,streams,restart")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    latency = restart = streams = idle = None
    sim = Simulator(["--jobs", str(args.sim_jobs), "--latency", str(args.latency),
                     "--big", f"100000:live:done={args.live_done}",
                     "--rate", "0"]).start()
    app = browser = redis = None
    try:
        env = {}
        if args.redis:
            redis = Redis().start()
            env["FAKEAI_DASH_CACHE_URL"] = redis.url
        app = Gunicorn(sim.url, 2, env).start()
        job = sim.info["big_job_ids"][0]
        if not {"latency", "restart", "streams"} <= skip:
            browser = BrowserPage(f"{app.url}/jobs/{job}")
            wait(lambda: browser.push().get("state") == "live", 60, "the browser page live")
            print("latency…", file=sys.stderr, flush=True)
            latency = measure_latency(sim, app, browser, job, args)
            if "restart" not in skip:
                print("restart…", file=sys.stderr, flush=True)
                restart = measure_restart(sim, app, browser, job, latency["pages"])
            for page in latency["pages"]:
                page.stop()
            browser.quit()
            browser = None
            if "streams" not in skip:
                print(f"{args.streams} streams…", file=sys.stderr, flush=True)
                current = restart["step"] if restart else latency["step"]
                streams = measure_streams(sim, app, job, latency["groups"], latency["server_set"], args, current)
            if "latency" in skip:
                latency = None
    finally:
        if browser is not None:
            browser.quit()
        if app is not None:
            app.stop()
        if redis is not None:
            redis.stop()
        sim.stop()
    if "idle" not in skip:
        print("idle…", file=sys.stderr, flush=True)
        idle = measure_idle(args)
    return {"latency": latency, "restart": restart, "streams": streams, "idle": idle}, \
        report(args, latency, restart, streams, idle)


def main(argv=None) -> int:
    _, table = measure(argv)
    print(table, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
