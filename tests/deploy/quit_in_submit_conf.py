"""The Procfile's gunicorn settings, plus a quick-stop signal that reaches the first worker while its
main thread holds the thread pool's lock, as it does inside ``submit`` while it starts a thread for
a new connection (a window that a busy machine widens).

gunicorn's gthread worker answers SIGQUIT/SIGINT by shutting its thread pool down, which takes that
same lock: handled inside the window, the signal deadlocked the worker, and a stop waited out the
master's 30 s graceful timeout (seen once as server006[ctrl-c] on a loaded machine).
"""

import os
import signal
import time

from fakeai_dash import gunicorn_conf as _procfile
from fakeai_dash.gunicorn_conf import *  # noqa: F403 - every setting and hook of the Procfile


def post_worker_init(worker):
    _procfile.post_worker_init(worker)
    if worker.age == 1:
        with worker.tpool._shutdown_lock:  # what ThreadPoolExecutor.submit holds
            os.kill(os.getpid(), signal.SIGQUIT)  # as the master's stop(graceful=False) sends it
            time.sleep(1.0)  # the handler runs here, inside the lock
