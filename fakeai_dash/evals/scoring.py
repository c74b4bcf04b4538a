"""A target's score over an eval set: the mean of its graded examples and a bootstrap interval;
and the gain of the final model over the base model.

Percentile bootstrap with numpy, seeded: the same grades give the same interval on every run and
every host, which `fakeai-dash eval --json` and a CI gate rely on. (scipy.stats.bootstrap would
do it too, but scipy is not a dependency, and this is the one thing we would use it for.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2_000
SEED = 0
# Resample this many rows of indices at a time: 2,000 resamples of 10,000 examples at once would
# be 160 MB of indices.
_CHUNK_CELLS = 1_000_000


@dataclass(frozen=True)
class Score:
    mean: float
    low: float  # the interval's ends; both equal the mean when there is one example
    high: float
    n: int


def score(values: Sequence[float], *, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
          seed: int = SEED) -> Score:
    """Mean of ``values`` with a ``confidence`` percentile-bootstrap interval of the mean."""
    data = _array(values, "values")
    return Score(float(data.mean()), *_interval(data, confidence, resamples, seed), n=len(data))


def gain(base: Sequence[float], final: Sequence[float], *, confidence: float = CONFIDENCE,
         resamples: int = RESAMPLES, seed: int = SEED) -> Score:
    """How much ``final`` scores above ``base``, with an interval.

    When both graded the same examples in the same order (equal lengths), the interval comes from
    the per-example differences (a paired bootstrap): the examples' own difficulty cancels out,
    so a real improvement shows with fewer examples. Otherwise the two are resampled apart.
    """
    b, f = _array(base, "base"), _array(final, "final")
    if len(b) == len(f):
        return score(f - b, confidence=confidence, resamples=resamples, seed=seed)
    differences = _means(f, resamples, seed + 1) - _means(b, resamples, seed)  # one per round
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return Score(float(f.mean() - b.mean()), float(low), float(high), n=min(len(b), len(f)))


def _array(values: Sequence[float], name: str) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or len(data) == 0:
        raise ValueError(f"{name}: a score needs at least one graded example")
    if not np.isfinite(data).all():
        raise ValueError(f"{name}: every grade must be a finite number")
    return data


def _interval(data: np.ndarray, confidence: float, resamples: int, seed: int) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    if len(data) == 1 or np.all(data == data[0]):
        return float(data.mean()), float(data.mean())  # nothing varies: resampling cannot either
    tail = (1 - confidence) / 2
    low, high = np.quantile(_means(data, resamples, seed), [tail, 1 - tail])
    return float(low), float(high)


def _means(data: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The means of ``resamples`` resamples (with replacement) of ``data``."""
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_CELLS // len(data))
    means = np.empty(resamples)
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        means[start:start + count] = data[rng.integers(0, len(data), size=(count, len(data)))].mean(axis=1)
    return means
