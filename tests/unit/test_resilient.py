"""The pure parts of riding out a store outage: the breaker's timing, the byte-bounded memory and
the banner's words."""

from __future__ import annotations

import time

from fakeai_dash.components.api_banner import banner_text
from fakeai_dash.sync.resilient import Breaker, ByteLRU


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_resilient001_the_breaker_tries_a_down_store_at_most_once_per_retry_time():
    clock = Clock()
    breaker = Breaker("test", retry_s=1.0, clock=clock, quiet=True)
    calls = []
    recovered = []
    breaker.on_recover.append(lambda: recovered.append(True))

    def failing():
        calls.append(clock.now)
        raise ConnectionRefusedError("down")

    assert breaker.call(failing, lambda: "memory") == "memory"
    since = breaker.down_since
    assert since is not None and since <= time.time()
    for _ in range(100):
        assert breaker.call(failing, lambda: "memory") == "memory"
    assert len(calls) == 1  # short-circuited until the retry time
    clock.now += 1.0
    assert breaker.call(failing, lambda: "memory") == "memory"
    assert len(calls) == 2 and breaker.down_since == since  # "since" stays the first failure
    clock.now += 1.0
    assert breaker.call(lambda: "redis", lambda: "memory") == "redis"
    assert breaker.down_since is None and recovered == [True]
    assert breaker.call(lambda: "redis", lambda: "memory") == "redis" and recovered == [True]


def test_resilient002_other_errors_are_not_an_outage():
    breaker = Breaker("test", quiet=True)

    def broken():
        raise ValueError("a bug, not an outage")

    try:
        breaker.call(broken, lambda: "memory")
    except ValueError:
        pass
    else:
        raise AssertionError("a bug must not be hidden behind the memory")
    assert breaker.down_since is None


def test_resilient003_the_memory_is_bounded_in_bytes_least_recently_used_first_out():
    memory = ByteLRU(100)
    memory.put("a", b"x" * 40)
    memory.put("b", b"x" * 40)
    assert memory.get("a") == b"x" * 40  # a is now the most recent
    memory.put("c", b"x" * 40)
    assert memory.size == 80 and memory.get("b") is None and memory.get("a") and memory.get("c")
    memory.put("a", None)  # deleted in the store: forgotten here
    assert memory.get("a") is None and memory.size == 40
    memory.put("huge", b"x" * 101)  # bigger than the bound: not kept, nothing evicted for it
    assert memory.get("huge") is None and memory.get("c") and memory.size == 40


def test_resilient004_the_banner_says_since_when_the_store_is_down():
    since = time.mktime((2026, 12, 7, 21, 49, 21, 0, 0, -1))
    children = banner_text({"ok": False, "store_down": since, "last_good": since - 2}, now=since + 1)
    text = str(children)
    assert "Live updates paused: the shared store is unreachable since 21:49:21." in text
    assert "Showing the data from 21:49:19 (3 s ago)" in text
