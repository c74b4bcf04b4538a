"""Server-Sent Events as the page's bridge reads them, for tests and the push load harness: a
parser, and a client that reconnects with the versions it saw (as assets/push.js does)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import requests


@dataclass
class Event:
    event: str
    data: dict


def parse(chunks: Iterable[bytes | str]) -> Iterator[Event | None]:
    """Events from a stream's chunks, in order; None for a comment (a keep-alive)."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name, data, comment = "message", [], False
            for line in block.split("\n"):
                if line.startswith(":"):
                    comment = True
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
            if data:
                try:
                    yield Event(name, json.loads("\n".join(data)))
                except ValueError:
                    yield Event(name, {"raw": "\n".join(data)})
            elif comment:
                yield None


def versions_param(versions: dict[str, int]) -> str:
    return ",".join(f"{member}:{version}" for member, version in versions.items())


@dataclass
class PushClient:
    """One page's push channel: opens ``<base>/_push``, records each change (member, version,
    arrival time) and, when the stream drops, reconnects with the versions it saw."""

    base: str
    job: str | None = None
    on_change: Callable[[PushClient, Event, float], None] | None = None
    auth: tuple[str, str] | None = None
    versions: dict[str, int] = field(default_factory=dict)
    changes: list[tuple[str, int, float]] = field(default_factory=list)
    opened: int = 0
    refused: int = 0
    errors: int = 0
    live: bool = False

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response = None
        self.lock = threading.Lock()

    def url(self) -> str:
        url = f"{self.base}/_push" + (f"?job={quote(self.job)}" if self.job else "")
        if self.versions:
            url += ("&" if "?" in url else "?") + "v=" + quote(versions_param(self.versions))
        return url

    def start(self) -> PushClient:
        self._thread = threading.Thread(target=self._run, name="push-client", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            try:
                response.raw._fp.fp.raw._sock.shutdown(2)  # unblock the reading thread at once
            except Exception:  # noqa: BLE001 - already closed
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        session = requests.Session()
        backoff = 0.3
        while not self._stop.is_set():
            try:
                response = session.get(self.url(), stream=True, timeout=(5, 60), auth=self.auth)
            except requests.RequestException:
                self.errors += 1
                self._stop.wait(backoff)
                backoff = min(5.0, backoff * 2)
                continue
            if response.status_code != 200:
                self.refused += 1
                response.close()
                self._stop.wait(backoff)
                backoff = min(5.0, backoff * 2)
                continue
            self._response = response
            self.opened += 1
            self.live = True
            backoff = 0.3
            try:
                for event in parse(response.iter_content(chunk_size=None)):
                    if event is None or event.event != "change":
                        if event is not None and event.event == "bye":
                            break
                        continue
                    now = time.time()
                    with self.lock:
                        self.versions[event.data["member"]] = event.data["version"]
                        self.changes.append((event.data["member"], event.data["version"], now))
                    if self.on_change is not None:
                        self.on_change(self, event, now)
            except (requests.RequestException, OSError, AttributeError, ValueError):
                self.errors += 1
            finally:
                self.live = False
                response.close()
                self._response = None
        session.close()
