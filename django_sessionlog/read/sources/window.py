"""A time window of rows, ``[since, until)``: one definition for every reader.

``stats``, ``report``, ``tail``, ``query``'s SQL, ``export``'s whole days and
``compare``'s sides all mean the same by ``--since`` and ``--until``: a row
is in when ``since <= timestamp < until``, either end open.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from .rules import DecodedRow

UTC = datetime.timezone.utc


@dataclass(frozen=True)
class Window:
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def __contains__(self, moment: datetime.datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def test(self) -> Callable[[DecodedRow], bool] | None:
        """Whether a row is in the window, or None when every row is (nothing to test per row)."""
        if not self.bounded:
            return None
        since, until = self.since, self.until
        if until is None:
            return lambda row: row.timestamp >= since  # type: ignore[operator]
        if since is None:
            return lambda row: row.timestamp < until
        return lambda row: since <= row.timestamp < until

    def sql(self, column: str = "timestamp") -> list[str]:
        """The window as SQL conditions on a TIMESTAMPTZ column."""
        conditions = []
        if self.since is not None:
            conditions.append(f"{column} >= '{self.since.isoformat()}'::TIMESTAMPTZ")
        if self.until is not None:
            conditions.append(f"{column} < '{self.until.isoformat()}'::TIMESTAMPTZ")
        return conditions

    def whole_days(self) -> Window:
        """The window widened to whole UTC days (export replaces a day's file whole).

        An export from noon would otherwise replace the day's file with only
        its afternoon.
        """

        def start_of(day: datetime.date) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time(), UTC)

        start = start_of(self.since.astimezone(UTC).date()) if self.since else None
        end = None
        if self.until:
            moment = self.until.astimezone(UTC)
            end = start_of(moment.date())
            if moment != end:
                try:
                    end += datetime.timedelta(days=1)
                except OverflowError:  # within 9999-12-31: no day after it to stop at
                    end = None
        return Window(start, end)
