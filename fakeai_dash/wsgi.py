"""The gunicorn target: ``gunicorn fakeai_dash.wsgi:server``."""

from fakeai_dash.app import create_app
from fakeai_dash.config import SettingsError, load_settings

try:
    app = create_app(load_settings([]))
except SettingsError as error:  # one clear line in the log, not a traceback
    raise SystemExit(f"{error}") from None
server = app.server
