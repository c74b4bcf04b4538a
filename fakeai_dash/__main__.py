"""CLI: ``fakeai-dash`` / ``python -m fakeai_dash`` serves the dashboard with gunicorn.

The same server as the Procfile: the settings module fakeai_dash.gunicorn_conf (workers,
threads, the one embedded FakeAI started by the master) and the app wsgi.build_app builds,
bound to --host/--port (loopback by default). --debug runs Dash's development server instead.
``fakeai-dash users add NAME --role viewer|operator --password-stdin`` manages Basic sign-in users.
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


def users_command(argv: list[str]) -> int:
    """``users add NAME --role viewer|operator --password-stdin [--file PATH]``: one line out, exit 0/2."""
    import argparse
    import os

    from fakeai_dash.auth.users import UsersFileError, add_user

    parser = argparse.ArgumentParser(prog="fakeai-dash users", description="Basic sign-in users")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user, or set an existing user's role and password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("viewer", "operator"))
    # The password never goes on the command line (ps and shell history would keep it).
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from the first line of standard input")
    add.add_argument("--file", default=os.environ.get("FAKEAI_DASH_USERS_FILE"),
                     help="users file (default: $FAKEAI_DASH_USERS_FILE)")
    args = parser.parse_args(argv)
    if not args.file:
        print("fakeai-dash users: name the users file with --file or FAKEAI_DASH_USERS_FILE", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        new = add_user(args.file, args.name, args.role, password)
    except (ValueError, UsersFileError, OSError) as error:
        print(f"fakeai-dash users: {error}", file=sys.stderr)
        return 2
    print(f"{'Added' if new else 'Updated'} {args.name} ({args.role}) in {args.file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["users"]:
        return users_command(argv[1:])
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
        from fakeai_dash.auth.startup import check_start

        check_start(settings, [bind_address(settings.host, settings.port)])  # gunicorn's hook checks the rest
        return _run_debug(settings)
    try:
        DashboardServer(settings).run()  # returns only through SystemExit (gunicorn's halt)
    except KeyboardInterrupt:  # Ctrl-C before gunicorn took over the signals
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
