"""Unit tests for fakeai_dash.format: human text for times, durations, tokens, money, percentages."""

from __future__ import annotations

import math

import pytest

from fakeai_dash import format as fmt

NOW = 1_790_000_000


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 min ago"),
        (3 * 60 + 59, "3 min ago"),
        (2 * 3600 + 5, "2 h ago"),
        (86400, "1 day ago"),
        (5 * 86400 + 100, "5 days ago"),
        (-3 * 60, "in 3 min"),
    ],
)
def test_relative_time(age, expected):
    assert fmt.relative_time(NOW - age, NOW) == expected


def test_relative_time_tolerates_missing_values():
    assert fmt.relative_time(None, NOW) == fmt.MISSING
    assert fmt.relative_time(NOW, None) == fmt.MISSING


def test_absolute_time_is_utc():
    # 1_700_000_000 is 2023-11-14 22:13:20 UTC.
    assert fmt.absolute_time(1_700_000_000) == "2023-11-14 22:13:20 UTC"
    assert fmt.absolute_time(None) == fmt.MISSING


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (44.6, "45 s"),
        (185, "3 min 5 s"),
        (180, "3 min"),
        (3720, "1 h 02 min"),
        (3600, "1 h 00 min"),
        (2 * 86400 + 3 * 3600, "2 d 03 h"),
        (-5, "0 s"),
        (None, fmt.MISSING),
        (float("nan"), fmt.MISSING),
    ],
)
def test_duration(seconds, expected):
    assert fmt.duration(seconds) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (10, 40, "under 1 min"),
        (180, 240, "3–4 min"),
        (200, 230, "3–4 min"),
        (30, 150, "under 3 min"),
        (180, 180, "about 3 min"),
        (3600, 7200, "1–2 h"),
        (4000, 5000, "1–2 h"),
        (240, 180, "3–4 min"),  # reversed arguments still read low to high
        (None, 120, "about 2 min"),  # a single known bound is used for both ends
        (90, 90, "1–2 min"),  # 1.5 min: floor and ceil keep the truth inside the range
        (None, None, fmt.MISSING),
        (3 * 86400, 4 * 86400, "3–4 days"),
    ],
)
def test_duration_range(low, high, expected):
    assert fmt.duration_range(low, high) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (None, fmt.MISSING),
        (0, "0"),
        (850, "850"),
        (1_234, "1.2K"),
        (850_000, "850K"),
        (1_000_000, "1M"),
        (1_234_567, "1.2M"),
        (12_345_678, "12M"),
        (999_999, "1M"),  # not "1000K"
        (3_000_000_000, "3B"),
    ],
)
def test_tokens(n, expected):
    assert fmt.tokens(n) == expected


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (None, fmt.MISSING),
        (0, "$0.00"),
        (0.0123, "$0.0123"),
        (0.8, "$0.8000"),
        (12.345, "$12.35"),
        (1234.5, "$1,234.50"),
        (-2.5, "-$2.50"),
    ],
)
def test_money(x, expected):
    assert fmt.money(x) == expected


def test_percent():
    assert fmt.percent(0.123) == "12.3%"
    assert fmt.percent(1) == "100.0%"
    assert fmt.percent(0.5, digits=0) == "50%"
    assert fmt.percent(-0.25, signed=True) == "-25.0%"
    assert fmt.percent(0.1, signed=True) == "+10.0%"
    assert fmt.percent(None) == fmt.MISSING
    assert fmt.percent(math.inf) == fmt.MISSING


def test_strings_and_bools_are_not_numbers():
    # "auto" hyperparameters and stray booleans must not render as values.
    assert fmt.tokens("auto") == fmt.MISSING
    assert fmt.money(True) == fmt.MISSING


def test_format_clock_and_short_time_are_utc_and_stable():
    ts = 1_795_665_611  # 2026-11-26 04:00:11 UTC
    assert fmt.clock(ts) == "04:00:11"
    assert fmt.short_time(ts) == "2026-11-26 04:00 UTC"
    assert fmt.absolute_time(ts) == "2026-11-26 04:00:11 UTC"
    assert fmt.clock(None) == fmt.short_time(None) == fmt.MISSING
