"""Numbers as a figure sends them: rounded to what a plot can show, as short JSON, so a
100,000-step job's update stays small."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Six significant digits: far below what a plot or its 4-decimal hover can show, and a third
# of the bytes of a full float repr. What a 100,000-step job sends stays well under 300 KB.
SIGNIFICANT_DIGITS = 6


def compact_numbers(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> list[Any]:
    """``values`` rounded to ``digits`` significant digits as short JSON numbers; NaN/inf -> None,
    integral values -> int."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    finite = np.isfinite(values)
    nonzero = finite & (values != 0)
    if nonzero.any():
        v = values[nonzero]
        decimals = (digits - 1 - np.floor(np.log10(np.abs(v)))).astype(np.int64)
        scale = 10.0 ** np.abs(decimals)
        # Dividing an integral float by an exact power of ten rounds correctly, so the JSON
        # repr is the short decimal, not 0.30000000000000004.
        out[nonzero] = np.where(decimals >= 0, np.round(v * scale) / scale, np.round(v / scale) * scale)
    if finite.all() and np.all(out == np.round(out)) and np.all(np.abs(out) < 2**53):
        return out.astype(np.int64).tolist()
    listed = out.tolist()
    if not finite.all():
        listed = [value if ok else None for value, ok in zip(listed, finite.tolist())]
    return listed


def axis_numbers(values: np.ndarray, span: float) -> list[Any]:
    """x values as short JSON: to 1/10,000 of the drawn span (a 2,000 px plot shows 1/2,000);
    a zoomed range is drawn with a finer grain."""
    if not math.isfinite(span) or span <= 0:
        return compact_numbers(values, 9)
    exponent = math.floor(math.log10(span / 10_000))
    scale = 10.0 ** abs(exponent)
    rounded = np.round(values * scale) / scale if exponent < 0 else np.round(values / scale) * scale
    return compact_numbers(rounded, 12)
