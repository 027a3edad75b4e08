"""Numbers for people, one way each: counts, shares, durations, sizes, times.

``tail``, ``stats``, ``compare``, ``prune`` and the report page show the same
quantity the same way (a duration is ``1.8 s`` everywhere). Machine output
(``--json``) never goes through here.
"""

from __future__ import annotations

import datetime


def count(value: float) -> str:
    """A number of sessions: ``1,234``; a weighted estimate below 100 keeps a decimal (``12.5``)."""
    if value >= 100 or abs(value - round(value)) < 0.05:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def plural(number: float, noun: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,204 files``: the count with the noun that fits it."""
    shown = f"{number:,}" if isinstance(number, int) else count(number)
    return f"{shown} {noun if number == 1 else many or noun + 's'}"


def percent(share: float | None) -> str:
    """A share as a percentage, ``-`` when there is nothing to divide by."""
    return "-" if share is None else f"{share:.1%}"


def duration(ms: float | None) -> str:
    """``347 ms``, ``1.8 s``, ``2 min 05 s``, ``1 h 02 min``; ``-`` when there is none."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:,.0f} ms"
    if ms < 59_950:
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    minutes = seconds // 60
    return f"{minutes // 60:,} h {minutes % 60:02d} min"


def size(number_of_bytes: int) -> str:
    """Bytes: ``0 bytes``, ``812 bytes``, ``4.2 kB``, ``1.3 GB``."""
    if number_of_bytes < 1000:
        return plural(number_of_bytes, "byte")
    amount = float(number_of_bytes)
    for unit in ("kB", "MB", "GB", "TB"):
        amount /= 1000
        if amount < 999.95 or unit == "TB":
            return f"{amount:,.1f} {unit}"
    raise AssertionError("unreachable")


def utc(moment: datetime.datetime | None, layout: str = "%Y-%m-%d %H:%M") -> str:
    """A time in UTC, as the log keeps them (never the host's ``TIME_ZONE``)."""
    return "" if moment is None else moment.astimezone(datetime.timezone.utc).strftime(layout)


def usd(value: float | None) -> str:
    """Dollars for people: cents above a dollar, four decimals below (a session costs fractions of a cent)."""
    if value is None:
        return "-"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"
