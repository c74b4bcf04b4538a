"""Human-readable text for times, durations, token counts, money and percentages."""

from __future__ import annotations

import math
from datetime import datetime, timezone

# Shown wherever a value is unknown, so every panel renders "missing" the same way.
MISSING = "—"

MINUTE = 60
HOUR = 3600
DAY = 86400


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None for None, bools, strings and NaN/inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def relative_time(ts: float | None, now: float | None) -> str:
    """Age of ``ts`` at ``now``: "just now", "3 min ago", "2 h ago", "5 days ago", "in 3 min"."""
    ts, now = _number(ts), _number(now)
    if ts is None or now is None:
        return MISSING
    delta = now - ts
    if abs(delta) < MINUTE:
        return "just now"
    ago = delta > 0
    delta = abs(delta)
    if delta < HOUR:
        text = f"{int(delta // MINUTE)} min"
    elif delta < DAY:
        text = f"{int(delta // HOUR)} h"
    else:
        text = _plural(int(delta // DAY), "day")
    return f"{text} ago" if ago else f"in {text}"


def absolute_time(ts: float | None, pattern: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    """UTC wall-clock time such as "2026-11-26 04:01:22 UTC" (or in another strftime ``pattern``)."""
    ts = _number(ts)
    if ts is None:
        return MISSING
    try:
        moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return MISSING
    return moment.strftime(pattern)


def clock(ts: float | None) -> str:
    """HH:MM:SS (UTC) for timestamps within one job's life; the full stamp goes in a tooltip."""
    return absolute_time(ts, "%H:%M:%S")


def short_time(ts: float | None) -> str:
    """Minute-precise UTC stamp, e.g. "2026-11-26 04:01 UTC": stays true on a page left open,
    where a server-rendered "3 min ago" would go stale."""
    return absolute_time(ts, "%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    """Elapsed time such as "45 s", "3 min 5 s", "1 h 02 min", "2 d 03 h" (negatives read as 0 s)."""
    seconds = _number(seconds)
    if seconds is None:
        return MISSING
    total = max(0, int(round(seconds)))
    if total < MINUTE:
        return f"{total} s"
    if total < HOUR:
        minutes, secs = divmod(total, MINUTE)
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    if total < DAY:
        hours, rest = divmod(total, HOUR)
        return f"{hours} h {rest // MINUTE:02d} min"
    days, rest = divmod(total, DAY)
    return f"{days} d {rest // HOUR:02d} h"


def duration_range(low: float | None, high: float | None) -> str:
    """A deliberately coarse range such as "3–4 min", "under 1 min" or "1–2 h".

    The low end is rounded down and the high end up, so the text always contains
    the true range rather than pretending to a precision the estimate lacks.
    """
    low, high = _number(low), _number(high)
    if low is None and high is None:
        return MISSING
    if low is None:
        low = high
    if high is None:
        high = low
    low, high = max(0.0, min(low, high)), max(0.0, max(low, high))
    if high < MINUTE:
        return "under 1 min"
    if high < HOUR:
        unit, name = MINUTE, "min"
    elif high < 2 * DAY:
        unit, name = HOUR, "h"
    else:
        unit, name = DAY, "days"
    lo, hi = math.floor(low / unit), math.ceil(high / unit)
    if lo == 0:
        return f"under {hi} {name}"
    if lo == hi:
        return f"about {hi} {name}"
    return f"{lo}–{hi} {name}"


_TOKEN_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def tokens(n: float | None) -> str:
    """Compact token counts: "850", "1.2K", "850K", "1.2M", "3B"."""
    n = _number(n)
    if n is None:
        return MISSING
    sign = "-" if n < 0 else ""
    n = abs(n)
    for index, (size, suffix) in enumerate(_TOKEN_UNITS):
        if n >= size:
            scaled = n / size
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            # 999_999 would otherwise print as "1000K"; promote it to the next unit.
            if float(text) >= 1000 and index > 0:
                bigger, bigger_suffix = _TOKEN_UNITS[index - 1]
                return f"{sign}{_trim(f'{n / bigger:.1f}')}{bigger_suffix}"
            return f"{sign}{_trim(text)}{suffix}"
    return f"{sign}{int(round(n))}"


def _trim(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def money(x: float | None) -> str:
    """Dollars: four decimals under $1 (training runs are often cents), else "$1,234.56"."""
    x = _number(x)
    if x is None:
        return MISSING
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        return "$0.00"
    if x < 1:
        return f"{sign}${x:.4f}"
    return f"{sign}${x:,.2f}"


def percent(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.123 -> "12.3%" (signed=True gives "+12.3%")."""
    x = _number(x)
    if x is None:
        return MISSING
    spec = f"+.{digits}f" if signed else f".{digits}f"
    return f"{x * 100:{spec}}%"


def plotly_text(value: object) -> str:
    """``value`` shown as literal text where Plotly reads pseudo-HTML: legend names, hover text
    and titles render <a href>, <span style>, <b> and entities, so text from the API has its
    &, < and > escaped (Plotly decodes the entities back when it draws)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_template_text(value: object) -> str:
    """:func:`plotly_text` for text placed inside a hovertemplate, where "%{...}" would be filled
    in with the trace's data: the % is written as an entity too."""
    return plotly_text(value).replace("%", "&#37;")
