"""CLI: ``fakeai-dash`` / ``python -m fakeai_dash`` runs the dashboard on one process."""

from __future__ import annotations

import logging
import signal
import sys

from fakeai_dash.config import SettingsError, load_settings


def _exit_on_sigterm(signum, frame):  # noqa: ARG001
    # SystemExit unwinds through atexit, which stops the embedded FakeAI.
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(sys.argv[1:] if argv is None else argv)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    from fakeai_dash.app import create_app

    try:
        app = create_app(settings)
    except RuntimeError as error:  # the embedded backend could not start
        print(f"fakeai-dash: {error}", file=sys.stderr)
        return 1
    print(f"Dashboard on http://{settings.host}:{settings.port}", flush=True)
    try:
        app.run(host=settings.host, port=settings.port, debug=settings.debug, use_reloader=False)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
