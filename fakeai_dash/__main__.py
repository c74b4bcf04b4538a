"""CLI: ``fakeai-dash`` / ``python -m fakeai_dash`` serves the dashboard with gunicorn.

The same server as the Procfile: the settings module fakeai_dash.gunicorn_conf (workers,
threads, the one embedded FakeAI started by the master) and the app wsgi.build_app builds,
bound to --host/--port (loopback by default). --debug runs Dash's development server instead.
"""

from __future__ import annotations

import logging
import signal
import sys

from gunicorn.app.base import BaseApplication

from fakeai_dash.config import Settings, SettingsError, load_settings

DEBUG_HELP = ("--debug runs Dash's development server instead of gunicorn: hot reload and error "
              "details in the browser, for development on your own machine only.")


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DashboardServer(BaseApplication):
    """gunicorn run from Python, with the Procfile's settings module and the CLI's settings."""

    def __init__(self, settings: Settings):
        self.settings = settings  # read by gunicorn_conf.on_starting and, after the fork, by load()
        super().__init__(prog="fakeai-dash")

    def load_config(self) -> None:
        from fakeai_dash import gunicorn_conf

        # What `gunicorn -c python:fakeai_dash.gunicorn_conf` does with the module.
        for name, value in vars(gunicorn_conf).items():
            if name in self.cfg.settings:
                self.cfg.set(name, value)
        self.cfg.set("bind", [bind_address(self.settings.host, self.settings.port)])

    def load(self):
        from fakeai_dash.wsgi import build_app

        return build_app(self.settings).server


def _exit_on_sigterm(signum, frame):  # noqa: ARG001
    # Until gunicorn installs its own handlers: SystemExit unwinds through atexit, which stops
    # an embedded FakeAI that is still starting.
    raise SystemExit(0)


def _run_debug(settings: Settings) -> int:
    from fakeai_dash.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(settings)
    except RuntimeError as error:  # the embedded backend could not start
        print(f"fakeai-dash: {error}", file=sys.stderr)
        return 1
    try:
        app.run(host=settings.host, port=settings.port, debug=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        settings = load_settings(argv)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as done:
        if done.code == 0 and {"-h", "--help"} & set(argv):
            print(f"\nServes with gunicorn (WEB_CONCURRENCY workers, default 2), as the Procfile does. {DEBUG_HELP}")
        raise
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if settings.debug:
        return _run_debug(settings)
    try:
        DashboardServer(settings).run()  # returns only through SystemExit (gunicorn's halt)
    except KeyboardInterrupt:  # Ctrl-C before gunicorn took over the signals
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
