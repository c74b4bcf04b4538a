"""wait_until: the one way tests wait, for the server side and the browser alike.

A condition is polled until it answers something truthy or the deadline passes; then the test
fails, naming what it waited for. In a browser an element that is not there yet (or was just
redrawn) is an answer of "not yet", as in Selenium's WebDriverWait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

T = TypeVar("T")
NOT_YET = (NoSuchElementException, StaleElementReferenceException)


def wait_until(condition: Callable[[], T], timeout: float, message: str = "condition", poll: float = 0.05) -> T:
    """``condition()``'s first truthy answer, polled until ``timeout`` seconds; fails the test after."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = condition()
        except NOT_YET as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message or 'condition'} (last answer: {last!r})")
        threading.Event().wait(poll)


def observe(seconds: float) -> None:
    """Let ``seconds`` pass on purpose: a test that proves something does NOT happen watches for
    a stated window (e.g. no API request while nobody watches); never a stand-in for waiting."""
    threading.Event().wait(seconds)
