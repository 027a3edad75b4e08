"""The rows on a log's lines, and a tally of every line that is not one.

Lines split on ``\\n`` alone: ``str.splitlines`` would also split inside
strings on U+2028 and friends. Each line is decoded by the v1 rules
(``rules``); every reader goes through ``iter_rows``, so they agree on which
lines are rows and count the others the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, overload

from ...row import SCHEMA_VERSION
from .files import READ_ERRORS, open_log
from .parts import Part, lines_in
from .rules import CUT_SHORT, DecodedRow, InvalidRow, OtherSchema, decode_row

TORN = "torn write: the last line has no newline and is not complete JSON"

#: Lines that are the first part of a row: JSON that stops before its end,
#: which no JSON parser takes for a row (DuckDB drops them by itself).
CUT = (TORN, CUT_SHORT)


class Problem(NamedTuple):
    """A line that is not a v1 row: where it is, and why (no messages: a row of another schema)."""

    file: str
    number: int  # from 1, within the file (or part) read
    offset: int  # of its first byte, within the file
    length: int
    messages: list[str]


#: Called for each line that is not a valid v1 row.
ProblemCallback = Callable[[Problem], None]


@dataclass
class Tally:
    """What reading a set of files found."""

    lines: int = 0
    valid: int = 0
    invalid: int = 0
    skipped: int = 0  # rows of another schema
    torn: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Count what ``other`` found too (another file, or another part of one)."""
        self.lines += other.lines
        self.valid += other.valid
        self.invalid += other.invalid
        self.skipped += other.skipped
        self.torn += other.torn
        for entry in other.unreadable:
            if entry not in self.unreadable:  # each part of a broken file says so
                self.unreadable.append(entry)


def problems_of(line: bytes, strict: bool = False) -> tuple[DecodedRow | None, list[str]]:
    """The row on a line, or the problems that keep it from being one.

    ``(None, [])`` means a row of another schema: skipped, not an error
    (unless ``strict``). A last line without ``\\n`` that does not parse is
    a torn write (the writer died or the disk filled mid-row), which is
    worth telling apart from garbage.
    """
    try:
        return decode_row(line), []
    except OtherSchema as exc:
        return None, [f"schema: {exc.schema!r} is not {SCHEMA_VERSION}"] if strict else []
    except InvalidRow as exc:
        if not line.endswith(b"\n") and exc.problems[0].startswith(("not JSON", "blank line")):
            return None, [TORN]
        return None, exc.problems


def counted(line: bytes, tally: Tally, strict: bool = False) -> tuple[DecodedRow | None, list[str]]:
    """``problems_of`` the line, counted in ``tally``: the one place a line is counted, for every reader."""
    row, problems = problems_of(line, strict)
    tally.lines += 1
    if row is not None:
        tally.valid += 1
    elif problems:
        tally.invalid += 1
        tally.torn += problems[0] == TORN
    else:
        tally.skipped += 1
    return row, problems


@overload
def iter_rows(
    names: Sequence[str | Part],
    tally: Tally,
    on_problem: ProblemCallback | None = ...,
    on_line: Callable[[int], None] | None = ...,
    strict: bool = ...,
    others: Literal[False] = ...,
) -> Iterator[tuple[str, int, bytes, DecodedRow]]: ...
@overload
def iter_rows(
    names: Sequence[str | Part],
    tally: Tally,
    on_problem: ProblemCallback | None = ...,
    on_line: Callable[[int], None] | None = ...,
    strict: bool = ...,
    *,
    others: Literal[True],
) -> Iterator[tuple[str, int, bytes, DecodedRow | None]]: ...
def iter_rows(
    names: Sequence[str | Part],
    tally: Tally,
    on_problem: ProblemCallback | None = None,
    on_line: Callable[[int], None] | None = None,
    strict: bool = False,
    others: bool = False,
) -> Iterator[tuple[str, int, bytes, DecodedRow | None]]:
    """(file, line number, raw line, row) of every valid v1 row, counting the rest in ``tally``.

    With ``others`` the lines that are not valid v1 rows come too, with
    ``None`` for the row (still counted as before): ``scan`` searches them
    as text. A file that cannot be opened or read to the end is recorded in
    ``tally.unreadable`` and the next file is read: one broken file never
    hides the rows of the others.
    """
    for source in names:
        part = source if isinstance(source, Part) else Part(source)
        name = part.name
        try:
            handle = open_log(name)
        except OSError as exc:
            tally.unreadable.append((name, exc.strerror or str(exc)))
            continue
        offset = part.start
        try:
            # Standard input is the caller's to close, not ours.
            with contextlib.nullcontext(handle) if name == "-" else handle:
                lines: Iterable[bytes] = (
                    handle if part.end is None else lines_in(handle, part.start, part.end)
                )
                for number, line in enumerate(lines, 1):
                    if on_line is not None:
                        on_line(len(line))
                    row, problems = counted(line, tally, strict)
                    if row is not None:
                        yield name, number, line, row
                    else:
                        if on_problem is not None:
                            on_problem(Problem(name, number, offset, len(line), problems))
                        if others:
                            yield name, number, line, None
                    offset += len(line)
        except READ_ERRORS as exc:
            tally.unreadable.append((name, str(exc) or type(exc).__name__))
