"""The two sides of a comparison: which rows belong to the baseline, which to the candidate.

A side is one or more terms joined by commas: a window
``SINCE..UNTIL`` (either end may be empty, ``UNTIL`` exclusive, a date
meaning its start) or ``FIELD=VALUE`` with FIELD one of ``model``,
``provider``, ``daemon``, ``kind``. A row is on a side when it is in the
window and every field it names has one of the values given for it
(``model=a,model=b`` is either model).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from ..sources.rules import DecodedRow
from ..sources.window import Window

FIELDS = ("model", "provider", "daemon", "kind")


class BadSide(ValueError):
    """A side that cannot be read; the message says why, for the command line."""


@dataclass(frozen=True)
class Side:
    text: str
    window: Window = field(default_factory=Window)
    values: tuple[tuple[str, frozenset[str]], ...] = ()

    def test(self) -> Callable[[DecodedRow], bool]:
        """Whether a row is on this side."""
        inside = self.window.test()
        values = self.values
        if inside is None and not values:
            return lambda row: True

        def on_side(row: DecodedRow) -> bool:
            if inside is not None and not inside(row):
                return False
            return all(getattr(row, name) in allowed for name, allowed in values)

        return on_side


def parse_side(text: str, when: Callable[[str], datetime.datetime]) -> Side:
    """A side from its text; ``when`` reads one end of a window (as ``--since`` does).

    Raises ``BadSide`` for an unknown field, a bad window, two windows, or
    nothing at all.
    """
    terms = [term.strip() for term in text.split(",")]
    if not text.strip() or any(not term for term in terms):
        raise BadSide(
            f"{text!r} has an empty term: give windows (2026-11-01..2026-11-08) or FIELD=VALUE terms"
        )
    window: Window | None = None
    values: dict[str, set[str]] = {}
    for term in terms:
        if "=" in term and ".." not in term.split("=", 1)[0]:
            name, _, value = term.partition("=")
            name = name.strip()
            if name not in FIELDS:
                raise BadSide(f"{term!r}: unknown field {name!r}; a side compares {', '.join(FIELDS)}")
            values.setdefault(name, set()).add(value.strip())
        elif ".." in term:
            if window is not None:
                raise BadSide(f"{text!r} has two windows; give one (SINCE..UNTIL)")
            window = _window(term, when)
        else:
            raise BadSide(
                f"{term!r} is neither a window (SINCE..UNTIL) nor FIELD=VALUE ({', '.join(FIELDS)})"
            )
    return Side(
        text=text,
        window=window or Window(),
        values=tuple(sorted((name, frozenset(allowed)) for name, allowed in values.items())),
    )


def _window(term: str, when: Callable[[str], datetime.datetime]) -> Window:
    since_text, _, until_text = term.partition("..")
    try:
        since = when(since_text) if since_text.strip() else None
        until = when(until_text) if until_text.strip() else None
    except ValueError as exc:
        raise BadSide(f"{term!r}: {exc}") from None
    if since is not None and until is not None and since >= until:
        raise BadSide(f"{term!r}: the window ends before it starts")
    return Window(since, until)
