"""The Procfile's gunicorn settings, plus a stop signal that reaches the first worker before its handlers exist.

gunicorn#1910: a signal landing between a worker's fork and its own signal set-up is caught by the
master's handler (inherited by the fork) and lost. A busy machine makes that window wide enough
to hit; here the first worker sends itself the master's quick-stop signal inside the window.
"""

import os
import signal

from fakeai_dash import gunicorn_conf as _procfile
from fakeai_dash.gunicorn_conf import *  # noqa: F403 - every setting and hook of the Procfile


def post_fork(server, worker):
    if worker.age == 1:
        os.kill(os.getpid(), signal.SIGQUIT)  # as the master's stop(graceful=False) would send it
    _procfile.post_fork(server, worker)
