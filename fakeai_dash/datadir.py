"""The host's data directory, private to the dashboard's own user: one resolver for every part.

It holds the audit trail, the session secret that signs everyone's cookies, the sync loop's
picture (API answers: job names, metrics, errors) and the leader lock; none of it is for the
other users of the host. So whatever the dashboard creates in it is 0700 (directories) or 0600
(files), whatever the umask, and its own files left by an older version are tightened at start.

A directory the operator made is left as it is (it may be shared on purpose: a mount point, a
group-managed /var/lib directory), with a warning if others can list it: the files in it are
private anyway, but their names and sizes are not.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from typing import Any

log = logging.getLogger(__name__)

# Set by the gunicorn master for its workers; each single-process app gets its own otherwise.
DATA_DIR_ENV = "FAKEAI_DASH_DATA_DIR"
_warned: set[str] = set()


def data_dir(settings: Any = None, prefix: str = "fakeai-dash-") -> str:
    """FAKEAI_DASH_DATA_DIR (the setting, else the variable gunicorn's master sets), created
    private; without either, a new private temporary directory (mkdtemp makes it 0700)."""
    directory = getattr(settings, "data_dir", None) or os.environ.get(DATA_DIR_ENV)
    if not directory:
        return tempfile.mkdtemp(prefix=prefix)
    return private_dir(directory, owned=False)


def private_dir(path: str, owned: bool = True) -> str:
    """``path`` as a directory only this user may enter. ``owned``: the dashboard's own (a
    subdirectory it made), tightened if an older version left it open; otherwise created 0700
    if missing, and only warned about if it exists and others may read it."""
    try:
        os.mkdir(path, 0o700)
        created = True
    except FileExistsError:
        created = False
    except FileNotFoundError:  # missing parents: made as the umask says, the leaf private
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return private_dir(path, owned)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if created or owned:
        if mode & 0o077 or created:
            os.chmod(path, 0o700)  # mkdir's mode passes through the umask; chmod does not
    elif mode & 0o077 and path not in _warned:
        _warned.add(path)
        log.warning("Data directory %s is readable by other users of this host (mode %o): the dashboard's "
                    "files in it are private, but consider chmod 700 %s", path, mode, path)
    return path


def private_file(path: str) -> str:
    """``path`` as a file only this user may read or write: created empty (0600) if missing,
    tightened if it exists. SQLite gives its -wal, -shm and -journal files the database's mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


__all__ = ["DATA_DIR_ENV", "data_dir", "private_dir", "private_file"]
