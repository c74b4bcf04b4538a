"""Pick the few thousand points of a long metric curve that a chart can draw, keeping its extremes.

Pure numpy (plus the Rust kernels of ``tsdownsample``): no Dash, no I/O.

Why MinMaxLTTB from ``tsdownsample`` and not ``plotly-resampler``: our figures are built by our
own callback and updated through Dash's ``Patch`` (new points appended to a live job's traces,
zoomed ranges swapped in as trace x/y). plotly-resampler wants to own the figure (its
``FigureResampler`` object per session) and registers its own relayout callbacks, which would
fight ours and keep a figure per viewer in server memory. Here the complete history lives once
on the server and each callback asks: which indices of this curve, for this visible range?
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

# Points per trace for the visible range: a 1,000-2,000 px wide plot shows no more.
MAX_POINTS = 2000
# LTTB keeps the first and last point and needs at least one bucket between them; with the
# global minimum and maximum added, a budget below this cannot be honoured.
MIN_POINTS = 5

_MINMAX_LTTB = MinMaxLTTBDownsampler()


def visible_window(x: np.ndarray, x_range: Sequence[float] | None) -> slice:
    """The contiguous slice of ``x`` to draw for ``x_range`` (``[low, high]``, None for all).

    One point either side of the range is included, so the lines run to the plot's edges
    instead of stopping at the first point inside. ``x`` is steps or elapsed seconds; it may
    hold NaN (an unknown time), which is never "inside" a range.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if x_range is None or n == 0:
        return slice(0, n)
    low, high = sorted(float(v) for v in x_range)
    with np.errstate(invalid="ignore"):
        inside = np.flatnonzero((x >= low) & (x <= high))
        if inside.size:
            first, last = int(inside[0]), int(inside[-1])
        else:
            # Zoomed between two points: keep the pair, so the segment crossing the view shows.
            before, after = np.flatnonzero(x < low), np.flatnonzero(x > high)
            if not before.size and not after.size:
                return slice(0, 0)
            first = int(before[-1]) if before.size else int(after[0])
            last = int(after[0]) if after.size else int(before[-1])
            first, last = min(first, last), max(first, last)
            return slice(first, last + 1)
    return slice(max(first - 1, 0), min(last + 2, n))


def downsample_indices(x: np.ndarray, y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Ascending indices of at most ``n_out`` points of the curve ``(x, y)`` worth drawing.

    A curve of ``n_out`` points or fewer comes back whole (every index, NaN included, so gaps
    stay gaps). A longer one goes through MinMaxLTTB over its finite points, and its global
    minimum and maximum are added if LTTB dropped them: a one-step loss spike always survives.
    Non-finite values (NaN, inf) of a long curve are left out; a plot cannot draw them anyway.
    ``x`` should ascend (steps do); where it does not (elapsed seconds with clock skew, unknown
    times), the points' positions stand in for it.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} != {y.size}")
    n_out = max(int(n_out), MIN_POINTS)
    if y.size <= n_out:
        return np.arange(y.size)
    finite = np.flatnonzero(np.isfinite(y))
    if finite.size <= n_out:
        return finite
    # A growing curve (a live job's) keeps what it already drew: the points before the last
    # whole block of ``stride`` are thinned, the newest (fewer than ``stride``) drawn as they
    # are. While the curve grows within a block its thinned part stays the same, so a refresh
    # appends the new points only (a Patch of a few bytes); every ``stride`` points the block
    # closes and the curve is thinned anew, once.
    stride = tail_stride(n_out)
    cut = (y.size // stride) * stride if stride else y.size
    head, tail = finite[finite < cut], finite[finite >= cut]
    fx, fy = x[head], y[head]
    if not (np.all(np.isfinite(fx)) and np.all(np.diff(fx) >= 0)):
        fx = head.astype(np.float64)
    budget = n_out - stride  # the same for every length in the block: the head's picks stay
    if head.size <= budget:
        return finite
    picked = _MINMAX_LTTB.downsample(fx, fy, n_out=budget - 2).astype(np.int64)
    extremes = np.array([np.argmin(fy), np.argmax(fy)], dtype=np.int64)
    return np.concatenate([head[np.union1d(picked, extremes)], tail])


def tail_stride(n_out: int) -> int:
    """The block size of a growing curve's raw tail: a power of two near an eighth of the budget
    (0, no raw tail, for budgets too small to share)."""
    return 2 ** int(np.log2(n_out // 8)) if n_out >= 64 else 0


def select(x: np.ndarray, y: np.ndarray, x_range: Sequence[float] | None = None,
           n_out: int = MAX_POINTS, by: np.ndarray | None = None) -> np.ndarray:
    """Indices of the points to draw for the visible ``x_range``, at most ``n_out`` of them.

    ``x`` is what the axis shows (steps or elapsed seconds) and decides the range; ``by``
    (default ``x``) is the ascending axis the downsampler measures distance on, so a chart
    drawn against elapsed time can still be thinned by step.
    """
    x = np.asarray(x, dtype=np.float64)
    window = visible_window(x, x_range)
    basis = x if by is None else np.asarray(by, dtype=np.float64)
    picked = downsample_indices(basis[window], np.asarray(y, dtype=np.float64)[window], n_out)
    return picked + window.start
