"""Gunicorn settings shared by the Procfile and the CLI: workers, threads, logs and the master's hooks.

The Procfile loads this module (``gunicorn -c python:fakeai_dash.gunicorn_conf``) and binds
$HOST:$PORT; the CLI (``fakeai-dash``) loads the same module and binds its --host/--port.
When no API is configured, the master starts one embedded FakeAI before forking, so every
worker talks to the same simulated jobs instead of starting its own.
"""

import logging
import os
import queue
import shutil
import signal
import sys
import tempfile

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Push streams (fakeai_dash/server/push_stream.py) hold a thread each while a page is open: a worker gets that
# many threads on top of those for ordinary requests, and the push route never takes more than
# its share, so /healthz and callbacks always find a free thread. Threads start on demand.
request_threads = int(os.environ.get("GUNICORN_THREADS", "4"))
push_streams = int(os.environ.get("FAKEAI_DASH_PUSH_STREAMS", "250"))
threads = request_threads + push_streams
os.environ["FAKEAI_DASH_PUSH_STREAMS"] = str(push_streams)  # the workers' push route reads it
os.environ["FAKEAI_DASH_REQUEST_THREADS"] = str(request_threads)  # and runs this many requests at once
timeout = 60
# A page polls every refresh interval (3 s by default): connections idle longer than this are
# closed, and gunicorn's default of 2 s made every tick open new ones (a new TLS handshake
# behind a proxy, and a reset for a client that reused one). Kept connections wait in the
# worker's poller, not in a thread.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "20"))
accesslog = "-"
# gunicorn >= 25 opens a control socket at one fixed path per user ($HOME/.gunicorn/gunicorn.ctl):
# two dashboards on one host would fight over it, and nothing here uses it.
control_socket_disable = True
# Forwarded headers are believed in one place only: the app's ProxyFix, and only with
# FAKEAI_DASH_TRUSTED_PROXIES > 0 (fakeai_dash/server/security.py). gunicorn's defaults believed
# X-Forwarded-Proto (and -Ssl, -Protocol) from any peer at 127.0.0.1 or on a unix socket,
# whatever that setting said: a local client, or a same-host proxy that passes the header
# through, made a plain-http request "https" (HSTS, Secure cookies). With proxies trusted,
# ProxyFix takes the value the Nth proxy appended (it counts hops; gunicorn trusts a peer's
# whole header, and reads headers ProxyFix ignores), so gunicorn believing them too would let
# a client's own header decide again. Hence: gunicorn believes nobody, whatever the setting.
forwarded_allow_ips = ""
secure_scheme_headers = {}
# Headers with "_" a trusted peer may set (SCRIPT_NAME, PATH_INFO): a unix-socket peer is always
# trusted by gunicorn, so none.
forwarder_headers = ""

API_BASE_ENV = "FAKEAI_DASH_API_BASE"
# The sync loop's local store and leader lock live here, shared by this master's workers
# (fakeai_dash.sync reads the same variable).
DATA_DIR_ENV = "FAKEAI_DASH_DATA_DIR"

_backend = None
_data_dir = None
_arbiter = None  # in a worker: its copy of the master, whose signal handler it ran until its own were set
STOP_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)


def _settings(server):
    # The CLI hands its settings (flags included) to gunicorn; the Procfile has only env/.env.
    settings = getattr(server.app, "settings", None)
    if settings is not None:
        return settings
    from fakeai_dash.config import SettingsError, load_settings

    try:
        return load_settings([])
    except SettingsError as error:
        # One clear message and the CLI's exit code, before any worker boots and fails the same way.
        print(error, file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def on_starting(server):
    global _backend, _data_dir
    # The app's own log lines (embedded backend, sync leader, client warnings) beside gunicorn's.
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S %z")
    from fakeai_dash.malloc import tune

    # Before any worker is forked: each starts with few arenas and a fixed mmap threshold, or its
    # RSS grows with a live job's history though its objects do not (fakeai_dash/malloc.py).
    tune()
    settings = _settings(server)
    from fakeai_dash.auth.startup import check_start

    check_start(settings, server.cfg.bind)  # a public bind without sign-in: one line, exit 2
    if DATA_DIR_ENV not in os.environ:
        _data_dir = tempfile.mkdtemp(prefix="fakeai-dash-")  # 0700: private, as fakeai_dash/datadir.py wants
        os.environ[DATA_DIR_ENV] = _data_dir
    if not settings.embedded:
        return
    from fakeai_dash.app import start_embedded_backend

    _backend = start_embedded_backend()  # logs "Embedded FakeAI serving on <url>"
    # Workers read it: the Procfile's through load_settings, the CLI's through wsgi.build_app.
    os.environ[API_BASE_ENV] = _backend.url


def post_fork(server, worker):  # noqa: ARG001 - runs in the new worker
    global _arbiter
    _arbiter = server


def post_worker_init(worker):  # noqa: ARG001
    # gunicorn#1910: a stop signal that reaches a worker between its fork and its own signal set-up
    # runs the master's handler (inherited by fork), which only queues it, so the worker never
    # stops and the master waits graceful_timeout (30 s) before killing it: Ctrl-C right after a
    # start hung for 30 s. The worker's handlers are in place now, so deliver such a signal again.
    # (A signal the master had queued before the fork is one it acts on too: stopping is right.)
    pending = getattr(_arbiter, "SIG_QUEUE", None)
    while pending is not None:
        try:
            sig = pending.get_nowait()
        except queue.Empty:
            break
        if sig in STOP_SIGNALS:
            os.kill(os.getpid(), sig)
    _quit_without_deadlock(worker)
    _end_push_streams_on_stop(worker)


def _quit_without_deadlock(worker):
    # gthread answers SIGQUIT/SIGINT (the master's quick stop, Ctrl-C) by shutting its thread pool
    # down, which takes the pool's lock; the main thread holds that same lock inside submit()
    # while it starts a thread for a new connection, and a signal handled there deadlocked the
    # worker: a stop then waited out the master's 30 s graceful timeout (once, server006[ctrl-c]
    # on a loaded machine; server010 makes it certain). The pool is shut down only when its lock
    # is free; otherwise the exit below unwinds submit() and releases it.
    import time

    pool = getattr(worker, "tpool", None)
    lock = getattr(pool, "_shutdown_lock", None)
    if lock is None:
        return  # not a thread-pool worker: gunicorn's own handler is safe

    def handle_quit(sig, frame):  # noqa: ARG001 - gunicorn's Worker.handle_quit, minus the deadlock
        worker.alive = False
        if lock.acquire(blocking=False):
            lock.release()
            pool.shutdown(wait=False)
        worker.cfg.worker_int(worker)
        time.sleep(0.1)
        sys.exit(0)

    for sig in (signal.SIGQUIT, signal.SIGINT):
        signal.signal(sig, handle_quit)


def _end_push_streams_on_stop(worker):
    # A graceful stop waits (graceful_timeout) for open requests, and a push stream is one that
    # never ends by itself: once the worker stops accepting, end its streams (the pages reconnect
    # to another worker at once), so a stop or a reload is not 30 s long.
    import threading
    import time

    def watch():
        while worker.alive:
            time.sleep(0.25)
        source = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("fakeai_dash")
        if source is not None:
            source.feed.close()

    threading.Thread(target=watch, name="push-stop", daemon=True).start()


def when_ready(server):
    for listener in server.LISTENERS:
        server.log.info("Dashboard on %s", listener)


def on_exit(server):  # noqa: ARG001
    if _backend is not None:
        _backend.stop()
    if _data_dir is not None:
        shutil.rmtree(_data_dir, ignore_errors=True)
