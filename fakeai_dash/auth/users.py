"""The Basic sign-in users file: names, roles and salted password hashes, never a password.

Hashes are werkzeug.security's scrypt (``scrypt:32768:8:1$<salt>$<hash>``): salted, memory-hard
(32 MiB per check), already installed with Flask, and checked in constant time. Argon2id would
be as good but needs a compiled extra dependency; scrypt is on OWASP's list of recommended
password hashes. A check costs ~50 ms, so a verified sign-in is remembered per worker for a few
minutes (keyed by an HMAC with a per-process random key, never the password itself).

The file is JSON, written atomically with mode 0600::

    {"version": 1, "users": {"alice": {"role": "operator", "password_hash": "scrypt:..."}}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from fakeai_dash.auth.roles import ROLES

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")  # no ':' (Basic splits there), no spaces
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # a longer "password" is a way to make the server hash megabytes
HASH_METHOD = "scrypt"
VERIFIED_TTL_S = 300
VERIFIED_MAX = 1024
log = logging.getLogger(__name__)
# Checked when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method=HASH_METHOD)


class UsersFileError(Exception):
    """The users file is missing, unreadable or malformed; the message names the file."""


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    password_hash: str


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise ValueError("a user name is 1-64 letters, digits or _ . @ + - (no spaces, no ':')")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    return password


def load_users(path: str) -> dict[str, UserRecord]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise UsersFileError(f"users file {path} does not exist (fakeai-dash users add NAME --role "
                             "operator --password-stdin creates it)") from None
    except (OSError, ValueError) as error:
        raise UsersFileError(f"users file {path} cannot be read: {error}") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise UsersFileError(f"users file {path} has no \"users\" object")
    records = {}
    for name, entry in users.items():
        if not isinstance(entry, dict) or entry.get("role") not in ROLES or not NAME.fullmatch(str(name)) \
                or not str(entry.get("password_hash", "")).startswith(("scrypt:", "pbkdf2:")):
            raise UsersFileError(f"users file {path}: user {str(name)[:64]!r} needs a role ({' or '.join(ROLES)}) "
                                 "and a password_hash")
        records[name] = UserRecord(name, entry["role"], entry["password_hash"])
    return records


def add_user(path: str, name: str, role: str, password: str) -> bool:
    """Add ``name`` (or replace its role and password); True when the user is new."""
    check_name(name)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)
    try:
        records = load_users(path)
    except UsersFileError:
        if os.path.exists(path):
            raise
        records = {}
    new = name not in records
    records[name] = UserRecord(name, role, generate_password_hash(password, method=HASH_METHOD))
    body = {"version": 1, "users": {r.name: {"role": r.role, "password_hash": r.password_hash}
                                    for r in records.values()}}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Written beside the file and renamed over it: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".users-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return new


class UsersFile:
    """The users file as the server reads it: re-read when it changes, so `users add` needs no restart."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._records: dict[str, UserRecord] = {}
        self._verified: dict[bytes, float] = {}
        self._key = secrets.token_bytes(32)
        self.records()  # a broken file stops the start with its message

    def records(self) -> dict[str, UserRecord]:
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_mtime, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp is None or stamp != self._stamp:
                try:
                    records = load_users(self.path)
                except UsersFileError as error:
                    if self._stamp is None:
                        raise  # at start: the message stops the start
                    # A half-edited file while serving: keep the users we had, say why, look again next time.
                    log.error("%s; still serving the users read before", error)
                    return self._records
                self._records, self._stamp = records, stamp
                self._verified.clear()
            return self._records

    def verify(self, name: str, password: str, *, slow: bool = True) -> UserRecord | None:
        """The user when ``password`` is theirs, else None (in about the same time either way).

        ``slow=False`` answers from the recently-verified cache only (no hashing).
        """
        if len(password) > MAX_PASSWORD or len(name) > 64:
            return None
        record = self.records().get(name)
        stored = record.password_hash if record else _DUMMY_HASH
        token = hmac.new(self._key, f"{name}\0{password}\0{stored}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            if record is not None and self._verified.get(token, 0) > now:
                return record
        if not slow:
            return None
        if not check_password_hash(stored, password) or record is None:
            return None
        with self._lock:
            if len(self._verified) >= VERIFIED_MAX:
                self._verified = {k: t for k, t in self._verified.items() if t > now}
                while len(self._verified) >= VERIFIED_MAX:
                    self._verified.pop(next(iter(self._verified)))
            self._verified[token] = now + VERIFIED_TTL_S
        return record
