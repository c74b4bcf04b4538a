"""Unit tests for fakeai_dash.downsample: budgets, kept extremes, visible ranges, NaN, tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from fakeai_dash import downsample as ds

N = 100_000


def noisy_loss(n=N, seed=0):
    steps = np.arange(1, n + 1, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return steps, 2.5 * np.exp(-steps / (n / 3)) + 0.1 + rng.normal(0, 0.05, n)


def test_downsample001_long_curve_fits_the_budget_and_keeps_its_ends():
    steps, loss = noisy_loss()
    picked = ds.downsample_indices(steps, loss, 2000)
    assert 1900 <= picked.size <= 2000
    assert picked[0] == 0 and picked[-1] == N - 1  # the curve starts and ends where it does
    assert np.all(np.diff(picked) > 0)  # ascending, no repeats: a line drawn left to right


@pytest.mark.parametrize("spike_at", [1, 9_999, 50_000, N - 2])
@pytest.mark.parametrize("sign", [1, -1])
def test_downsample002_a_one_step_spike_survives(spike_at, sign):
    steps, loss = noisy_loss()
    loss[spike_at] = loss[spike_at] + sign * 5.0
    picked = ds.downsample_indices(steps, loss, 2000)
    assert spike_at in picked
    assert picked.size <= 2000


def test_downsample003_budget_below_the_minimum_is_raised_to_it():
    steps, loss = noisy_loss(1000)
    picked = ds.downsample_indices(steps, loss, 1)
    assert picked.size == ds.MIN_POINTS
    assert {0, 999, int(np.argmax(loss)), int(np.argmin(loss))} <= set(picked.tolist())


@pytest.mark.parametrize("n", [0, 1, 2, 5, 2000])
def test_downsample004_small_inputs_pass_through_unchanged(n):
    steps, loss = noisy_loss(max(n, 1))
    steps, loss = steps[:n], loss[:n]
    if n:
        loss[n // 2] = np.nan  # a gap stays a gap in a curve that is not thinned
    assert ds.downsample_indices(steps, loss, 2000).tolist() == list(range(n))


def test_downsample005_nan_and_inf_are_never_picked_from_a_long_curve():
    steps, loss = noisy_loss()
    loss[100:5000] = np.nan
    loss[7] = np.inf
    loss[60_000] = -np.inf
    picked = ds.downsample_indices(steps, loss, 2000)
    assert picked.size <= 2000 and np.all(np.isfinite(loss[picked]))
    assert int(np.nanargmax(np.where(np.isfinite(loss), loss, np.nan))) in picked


def test_downsample006_mostly_nan_curve_keeps_every_finite_point():
    steps = np.arange(1, 10_001, dtype=np.float64)
    loss = np.full(10_000, np.nan)
    loss[::10] = np.linspace(3, 1, 1000)  # a validation loss every 10 steps
    picked = ds.downsample_indices(steps, loss, 2000)
    assert picked.tolist() == list(range(0, 10_000, 10))


def test_downsample007_visible_window_adds_one_neighbour_each_side():
    x = np.arange(1, 101, dtype=np.float64)
    window = ds.visible_window(x, [10.5, 20.2])
    assert x[window].tolist() == list(range(10, 22))  # 11..20 inside, 10 and 21 reach the edges
    assert ds.visible_window(x, None) == slice(0, 100)
    assert x[ds.visible_window(x, [20.2, 10.5])].tolist() == list(range(10, 22))  # reversed range
    assert x[ds.visible_window(x, [-50, 0.5])].tolist() == [1]
    assert x[ds.visible_window(x, [100, 500])].tolist() == [99, 100]


def test_downsample008_zoom_between_two_points_keeps_the_segment():
    x = np.array([0.0, 10.0, 20.0])
    assert x[ds.visible_window(x, [12, 13])].tolist() == [10.0, 20.0]
    assert ds.visible_window(np.array([]), [1, 2]) == slice(0, 0)


def test_downsample009_select_gives_full_resolution_inside_a_small_range():
    steps, loss = noisy_loss()
    picked = ds.select(steps, loss, [40_000, 41_000])
    assert steps[picked].tolist() == list(range(39_999, 41_002))  # every step, plus the neighbours


def test_downsample010_select_thins_a_wide_range_within_it():
    steps, loss = noisy_loss()
    loss[30_000] = 50.0
    picked = ds.select(steps, loss, [20_000, 80_000], n_out=1000)
    assert picked.size <= 1000
    assert steps[picked].min() >= 19_999 and steps[picked].max() <= 80_001
    assert 30_000 in picked


def test_downsample011_elapsed_axis_with_unknown_times():
    steps, loss = noisy_loss(10_000)
    elapsed = (steps - 1) * 2.0
    elapsed[5000:5100] = np.nan  # events without a time
    loss[8000] = 9.0
    picked = ds.select(elapsed, loss, [15_000, 17_000], by=steps)
    assert elapsed[picked][1:-1].min() >= 15_000 and elapsed[picked][1:-1].max() <= 17_000
    assert len(picked) == 1003  # 7,500..8,500 at full resolution, plus the two neighbours
    whole = ds.select(elapsed, loss, None, n_out=500, by=steps)
    assert whole.size <= 500 and 8000 in whole


def test_downsample012_unsorted_x_falls_back_to_positions():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1000, 50_000)  # not ascending: LTTB must not be fed it as distances
    y = rng.normal(0, 1, 50_000)
    y[123] = 40
    picked = ds.downsample_indices(x, y, 800)
    assert picked.size <= 800 and 123 in picked


def test_downsample013_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        ds.downsample_indices(np.arange(3), np.arange(4))


def test_downsample014_a_long_pause_on_the_elapsed_axis_does_not_starve_the_curve():
    # A job paused for days halfway: measured in seconds, MinMaxLTTB's equal-width bins would put
    # each half in a handful of bins; thinning by step keeps the whole budget spread over both.
    steps, loss = noisy_loss()
    elapsed = steps.copy()
    elapsed[N // 2:] += 10_000_000
    picked = ds.select(elapsed, loss, None, 2000, by=steps)
    assert picked.size >= 1900
    assert 900 <= int((picked < N // 2).sum()) <= 1100


def test_downsample015_a_growing_curve_keeps_what_it_drew_until_its_block_closes():
    rng = np.random.default_rng(3)
    n_out, stride = 1500, ds.tail_stride(1500)
    y = rng.normal(0, 1, 20_000 + 3 * stride)
    x = np.arange(y.size, dtype=np.float64)
    start = 20_000 - 20_000 % stride + 1  # just past a block boundary
    before = ds.downsample_indices(x[:start], y[:start], n_out)
    for grown in range(start + 1, start + stride - 1):  # every length inside the block
        after = ds.downsample_indices(x[:grown], y[:grown], n_out)
        assert after.size <= n_out
        # The old picks are kept as they were; only the new point is added, at the end.
        assert np.array_equal(after[:before.size], before) and after[before.size:].tolist() == [grown - 1]
        before = after
    # Past the block the curve is thinned anew, still within the budget, extremes kept.
    closed = ds.downsample_indices(x[:start + stride], y[:start + stride], n_out)
    assert closed.size <= n_out and not np.array_equal(closed[:before.size], before)
    assert {int(np.argmin(y[:start + stride])), int(np.argmax(y[:start + stride]))} <= set(closed.tolist())
