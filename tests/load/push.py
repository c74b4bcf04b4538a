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
import random
import signal
import sys
import time

import psutil
import requests

from tests.load.push_pages import (
    NEWEST, BrowserPage, HealthzProbe, ProtocolPage, first_at_or_after, gunicorn_memory, latencies, push_groups,
    server_cpu,
)
from tests.load.replay import percentile, server_outputs
from tests.load.stack import Gunicorn, Redis, Simulator, wait_for


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
    wait_for(lambda: browser.steps(), 60, "the browser showing the live job's step")
    # Steady state: while the older history of a big job still loads, its rounds are long (the
    # backfill) and new events wait for them; docs/push.md says so.
    began = time.monotonic()
    wait_for(lambda: history_loaded(browser), 600, "the job's history loaded")
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
    base = wait_for(lambda: (s := browser.steps()) and s[-1][1] >= base + 3 and s[-1][1], 10, "warm-up steps")
    wait_for(lambda: all(p.client.live for p in pages), 30, "protocol pages live")
    time.sleep(2.0)
    cpu_before = server_cpu(app), time.process_time()
    births = advance_samples(sim, job, base, args.samples, (1.0, 2.0))
    last = births[-1][1]
    try:
        wait_for(lambda: browser.steps()[-1][1] >= last and all(p.shown and p.shown[-1][1] >= last for p in pages),
                 10, "every page showing the last step")
    except RuntimeError as late:  # say which page is behind, and where
        behind = {"browser": browser.steps()[-1][1], "pages": [p.shown[-1][1] if p.shown else None for p in pages],
                  "page errors": [p.errors for p in pages]}
        raise RuntimeError(f"{late}; step {last} expected, shown: {behind}") from None
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
    wait_for(lambda: browser.steps()[-1][1] >= target and all(p.shown and p.shown[-1][1] >= target for p in pages), 30,
         "every page showing the step made while a worker was down")
    resync = [first_at_or_after(browser.steps(), target) - killed_at] + [
        first_at_or_after(p.shown, target) - killed_at for p in pages]
    reconnected = sum(p.client.opened > before for p, before in zip(pages, opened_before[0], strict=True))
    reconnected += browser.push().get("opened", 0) > opened_before[1]
    wait_for(lambda: len(master.children()) == 2, 30, "the master replacing the worker")
    return {"held": held, "resync": resync, "reconnected": reconnected, "pages": len(pages) + 1, "step": target}


def measure_streams(sim, app, job, groups, server_set, args, current: int) -> dict:
    rss_before, _ = gunicorn_memory(app)
    pages = [ProtocolPage(app.url, job, groups, server_set, replay=args.stream_replay) for _ in range(args.streams)]
    for page in pages:
        page.start()
        time.sleep(0.01)
    wait_for(lambda: sum(p.client.live for p in pages) == len(pages), 60, f"{len(pages)} streams open")
    rss_open, threads = gunicorn_memory(app)
    prober = HealthzProbe(app.url).start()
    births = advance_samples(sim, job, current, args.stream_samples, (2.0, 2.5))
    last = births[-1][1]
    try:
        wait_for(lambda: all(p.shown and p.shown[-1][1] >= last for p in pages), 30, "every page showing the last step")
    except RuntimeError:
        pass
    probes = prober.stop()
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
                wait_for(lambda: page.js("return document.querySelectorAll('#jobs-grid .ag-row').length") > 0, 60,
                     "the list")
                want = "polling" if blocked else "live"
                wait_for(lambda: page.push().get("state") == want, 30, f"the page {want}")
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
            wait_for(lambda: browser.push().get("state") == "live", 60, "the browser page live")
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
