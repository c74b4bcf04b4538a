"""wait_until: poll a condition with a deadline, the one way tests wait for the server side."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, message: str = "condition", poll: float = 0.05) -> T:
    """``condition()``'s first truthy answer, polled until ``timeout`` seconds; fails the test after."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        threading.Event().wait(poll)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {message} (last answer: {last!r})")


def observe(seconds: float) -> None:
    """Let ``seconds`` pass on purpose: a test that proves something does NOT happen watches for
    a stated window (e.g. no API request while nobody watches); never a stand-in for waiting."""
    threading.Event().wait(seconds)
