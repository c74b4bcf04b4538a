"""Scores per target: the mean, a reproducible bootstrap interval, and the gain over the base."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeai_dash.evals.scoring import gain, score

grades = st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=60)


def test_mean_and_an_interval_around_it():
    result = score([1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 5)
    assert result.mean == pytest.approx(0.7) and result.n == 50
    assert result.low < 0.7 < result.high
    # About ±1.96 standard errors for a proportion of 0.7 over 50 examples (±0.127).
    assert result.high - result.low == pytest.approx(2 * 1.96 * np.sqrt(0.7 * 0.3 / 50), rel=0.15)


def test_same_grades_same_interval_and_another_seed_another_one():
    values = list(np.random.default_rng(3).random(40))
    assert score(values) == score(values)
    assert score(values, seed=1) != score(values)


def test_more_examples_narrow_the_interval():
    few, many = score([1, 0] * 10), score([1, 0] * 500)
    assert (many.high - many.low) < (few.high - few.low) / 4


def test_one_example_or_no_spread_has_no_interval_width():
    one = score([0.4])
    assert (one.mean, one.low, one.high, one.n) == (0.4, 0.4, 0.4, 1)
    same = score([1.0] * 9)
    assert (same.low, same.high) == (1.0, 1.0)


@settings(max_examples=60)
@given(grades)
def test_the_interval_holds_the_mean_within_the_grades_range(values):
    result = score(values, resamples=300)
    assert min(values) - 1e-9 <= result.low <= result.mean + 1e-9
    assert result.mean - 1e-9 <= result.high <= max(values) + 1e-9


def test_paired_gain_sees_an_improvement_that_apart_it_would_miss():
    rng = np.random.default_rng(0)
    difficulty = rng.random(60)  # examples vary a lot; the fine-tune adds a little to each
    base, final = difficulty, np.clip(difficulty + 0.05, 0, 1)
    paired = gain(base, final)
    assert paired.mean == pytest.approx(float(np.mean(final - base)))
    assert paired.low > 0  # every example improved: the interval excludes "no gain"
    apart = gain(base, list(final) + [float(final[0])])  # unequal lengths: resampled apart
    assert apart.low < 0 < apart.high


def test_no_gain_and_a_loss():
    assert gain([1, 0, 1], [1, 0, 1]).mean == 0
    loss = gain([1, 1, 1, 1], [0, 1, 0, 1])
    assert loss.mean == -0.5 and loss.high <= 0


@pytest.mark.parametrize("bad", [[], [float("nan")], [[1, 2]]])
def test_no_score_from_nothing_or_from_non_numbers(bad):
    with pytest.raises(ValueError):
        score(bad)
