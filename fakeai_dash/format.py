"""Human-readable text for times, durations, token counts, money and percentages.

Every function speaks the current request's locale (fakeai_dash/i18n.py): English keeps the
compact forms the panels were designed with ("3 min 5 s", "1.2K", "2026-11-26 04:01 UTC");
German and Chinese get Babel's CLDR forms ("3 Min. 5 Sek.", "1,2 Tsd.", "26.11.26, 04:01 UTC",
"3分钟5秒"). Money and percentages go through Babel in every locale.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from babel.dates import format_datetime, format_time, format_timedelta
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent
from babel.units import format_unit, get_unit_name

from fakeai_dash import i18n

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


def _english() -> bool:
    return i18n.current_locale() == "en"


def _unit(count: int, unit: str) -> str:
    """``count`` of a CLDR duration unit ("minute") in the locale's short form: "3 Min.", "3分钟"."""
    return format_unit(count, f"duration-{unit}", length="short", locale=i18n.locale())


def _join(*parts: str) -> str:
    # Chinese writes compound durations without spaces ("1小时2分钟").
    return ("" if i18n.current_locale() == "zh" else " ").join(parts)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def relative_time(ts: float | None, now: float | None) -> str:
    """Age of ``ts`` at ``now``: "just now", "3 min ago", "2 h ago", "5 days ago", "in 3 min"."""
    ts, now = _number(ts), _number(now)
    if ts is None or now is None:
        return MISSING
    delta = now - ts
    if abs(delta) < MINUTE:
        return i18n.gettext("just now")
    if not _english():
        return format_timedelta(timedelta(seconds=-delta), threshold=1, add_direction=True, format="short",
                                locale=i18n.locale())
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
    if not _english():
        # The locale's own order and separators for the fields the pattern asks for.
        if "%Y" not in pattern:
            return format_time(moment, "medium", tzinfo=timezone.utc, locale=i18n.locale())
        length = "medium" if "%S" in pattern else "short"
        text = format_datetime(moment, length, tzinfo=timezone.utc, locale=i18n.locale())
        return f"{text} UTC" if "UTC" in pattern else text
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
    if not _english():
        if total < MINUTE:
            return _unit(total, "second")
        if total < HOUR:
            minutes, secs = divmod(total, MINUTE)
            return _join(_unit(minutes, "minute"), _unit(secs, "second")) if secs else _unit(minutes, "minute")
        if total < DAY:
            hours, rest = divmod(total, HOUR)
            return _join(_unit(hours, "hour"), _unit(rest // MINUTE, "minute"))
        days, rest = divmod(total, DAY)
        return _join(_unit(days, "day"), _unit(rest // HOUR, "hour"))
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
    english = _english()
    if high < MINUTE:
        return "under 1 min" if english else i18n.gettext("under {duration}").format(duration=_unit(1, "minute"))
    if high < HOUR:
        unit, name, cldr = MINUTE, "min", "minute"
    elif high < 2 * DAY:
        unit, name, cldr = HOUR, "h", "hour"
    else:
        unit, name, cldr = DAY, "days", "day"
    lo, hi = math.floor(low / unit), math.ceil(high / unit)
    if not english:
        if lo == 0:
            return i18n.gettext("under {duration}").format(duration=_unit(hi, cldr))
        if lo == hi:
            return i18n.gettext("about {duration}").format(duration=_unit(hi, cldr))
        unit_name = get_unit_name(f"duration-{cldr}", length="short", locale=i18n.locale())
        return _join(f"{lo}–{hi}", unit_name)
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
    if not _english():
        if abs(n) < 1000:
            return format_decimal(int(round(n)), locale=i18n.locale())
        compact = format_compact_decimal(n, format_type="short", fraction_digits=1, locale=i18n.locale())
        # German and Chinese abbreviate from 10,000 on (Tsd. is not used for thousands, 万 is 10^4).
        return compact if not compact.lstrip("-").isdigit() else format_decimal(int(round(n)), locale=i18n.locale())
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
    locale = i18n.locale()
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    digits = 4 if 0 < abs(x) < 1 else 2
    if digits == 4:
        pattern = pattern.replace("0.00", "0.0000")
    # Rounded as Python rounds the float (12.345 -> 12.35), not as Babel rounds its decimal text.
    return format_currency(Decimal(f"{x:.{digits}f}"), "USD", format=pattern, currency_digits=False, locale=locale)


def money_cents(x: float | None) -> str:
    """Dollars to the cent in the locale's form: "$1,234.56", "1.234,56 $", "US$1,234.56"."""
    x = _number(x)
    if x is None:
        return MISSING
    return format_currency(x, "USD", locale=i18n.locale())


def price(x: float | None) -> str:
    """A unit price with every digit it has: "$0.008" (not rounded to cents)."""
    x = _number(x)
    if x is None:
        return MISSING
    if _english():
        return f"${x:g}"
    return format_currency(x, "USD", currency_digits=False, decimal_quantization=False, locale=i18n.locale())


def number(n: float | None, digits: int | None = None) -> str:
    """A count with the locale's grouping: "12,345" / "12.345" (``digits`` fixed decimals: "2.0")."""
    n = _number(n)
    if n is None:
        return MISSING
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(n, format=pattern, locale=i18n.locale())


def percent(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: 0.123 -> "12.3%" (signed=True gives "+12.3%")."""
    x = _number(x)
    if x is None:
        return MISSING
    locale = i18n.locale()
    pattern = locale.percent_formats[None].pattern.split(";")[0]
    if digits:
        pattern = pattern.replace("#,##0", "#,##0." + "0" * digits, 1)
    text = format_percent(x, format=pattern, locale=locale)
    if signed and not text.startswith(("-", "−")):
        text = "+" + text
    return text


def plotly_text(value: object) -> str:
    """``value`` shown as literal text where Plotly reads pseudo-HTML: legend names, hover text
    and titles render <a href>, <span style>, <b> and entities, so text from the API has its
    &, < and > escaped (Plotly decodes the entities back when it draws)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_template_text(value: object) -> str:
    """:func:`plotly_text` for text placed inside a hovertemplate, where "%{...}" would be filled
    in with the trace's data: the % is written as an entity too."""
    return plotly_text(value).replace("%", "&#37;")
