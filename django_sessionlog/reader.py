"""Reading logs: which files, their lines, and the rows on them.

Every reader of the command line goes through here, so they agree on what a
file set is (the configured ``PATH`` with its placeholders, named files,
globs, ``.gz``, ``-`` for standard input), on how lines split (on ``\\n``
alone: ``str.splitlines`` would also split inside strings on U+2028 and
friends), and on which lines are rows.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import gzip
import itertools
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from . import paths
from .records import SCHEMA_VERSION
from .rules import InvalidRow, OtherSchema, Row, decode_row

TORN = "torn write: the last line has no newline and is not complete JSON"

#: What reading a log can raise part-way: a device error, a truncated or
#: corrupt .gz (EOFError, zlib.error).
READ_ERRORS = (OSError, EOFError, zlib.error)

#: Called with (file, line number, problems) for each line that is not a row.
ProblemCallback = Callable[[str, int, list[str]], None]


class NoFiles(Exception):
    """Nothing to read: no file named and no ``PATH``, or a glob matching nothing."""


def expand(names: Sequence[str], configured: str) -> list[str]:
    """The files to read: ``names`` (globs expanded), else the configured ``PATH``.

    A named file that does not exist is kept, so that reading it reports it
    as unreadable instead of silently reading less.
    """
    if not names:
        if not configured:
            raise NoFiles("no file named, and SESSIONLOG['PATH'] is not set")
        files = paths.matching_files(configured)
        if not files:
            raise NoFiles(f"no log file matches SESSIONLOG['PATH'] ({configured})")
        return files
    files = []
    for name in names:
        if name == "-" or os.path.exists(name) or not glob.has_magic(name):
            files.append(name)
            continue
        matches = sorted(glob.glob(name))
        if not matches:
            raise NoFiles(f"{name}: no file matches")
        files.extend(matches)
    return files


def unopenable(names: Sequence[str]) -> list[tuple[str, str]]:
    """(file, reason) of each of ``names`` that cannot be opened for reading.

    Standard input and paths only DuckDB can reach (``s3://``) are not tried.
    """
    found = []
    for name in names:
        if name == "-" or "://" in name:
            continue
        try:
            open(name, "rb").close()
        except OSError as exc:
            found.append((name, exc.strerror or str(exc)))
    return found


def open_log(name: str) -> IO[bytes]:
    """A log opened for reading bytes: ``-`` is standard input, ``.gz`` is gunzipped."""
    if name == "-":
        return sys.stdin.buffer
    if name.endswith(".gz"):
        return gzip.open(name, "rb")  # type: ignore[return-value]
    return open(name, "rb", buffering=1 << 16)


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


def problems_of(line: bytes, strict: bool = False) -> tuple[Row | None, list[str]]:
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


@dataclass(frozen=True)
class Part:
    """Bytes ``start`` to ``end`` of a log, cut at line boundaries (``split``)."""

    name: str
    start: int = 0
    end: int | None = None  # None: to the end of the file


def split(name: str, pieces: int) -> list[Part]:
    """A plain file cut into about ``pieces`` parts, each starting at a line.

    For reading one big log on several cores. A compressed file or standard
    input cannot be cut (no seeking) and stays whole.
    """
    if pieces < 2 or name == "-" or name.endswith(".gz"):
        return [Part(name)]
    try:
        size = os.path.getsize(name)
        with open(name, "rb") as handle:
            cuts = [0]
            for k in range(1, pieces):
                handle.seek(size * k // pieces)
                handle.readline()  # to the start of the next line
                cuts.append(handle.tell())
    except OSError:
        return [Part(name)]  # reading it will say what is wrong
    cuts.append(size)
    bounds = sorted(set(cuts))
    if len(bounds) < 2:  # empty
        return [Part(name)]
    return [Part(name, start, end) for start, end in itertools.pairwise(bounds)]


def _until(handle: IO[bytes], length: int) -> Iterator[bytes]:
    """The lines of ``handle`` within the next ``length`` bytes."""
    for line in handle:
        if length <= 0:
            return
        length -= len(line)
        yield line


def iter_rows(
    names: Sequence[str | Part],
    tally: Tally,
    on_problem: ProblemCallback | None = None,
    on_line: Callable[[int], None] | None = None,
    strict: bool = False,
) -> Iterator[tuple[str, int, bytes, Row]]:
    """(file, line number, raw line, row) of every valid v1 row, counting the rest in ``tally``.

    A file that cannot be opened or read to the end is recorded in
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
        try:
            # Standard input is the caller's to close, not ours.
            with contextlib.nullcontext(handle) if name == "-" else handle:
                lines: Iterable[bytes] = handle
                if part.end is not None:  # a part: line numbers count from its start
                    handle.seek(part.start)
                    lines = _until(handle, part.end - part.start)
                for number, line in enumerate(lines, 1):
                    tally.lines += 1
                    if on_line is not None:
                        on_line(len(line))
                    row, problems = problems_of(line, strict)
                    if row is not None:
                        tally.valid += 1
                        yield name, number, line, row
                    elif not problems:
                        tally.skipped += 1
                    else:
                        tally.invalid += 1
                        tally.torn += problems[0] == TORN
                        if on_problem is not None:
                            on_problem(name, number, problems)
        except READ_ERRORS as exc:
            tally.unreadable.append((name, str(exc) or type(exc).__name__))


def in_window(
    since: datetime.datetime | None, until: datetime.datetime | None
) -> Callable[[Row], bool] | None:
    """Whether a row falls in [since, until); None when there is no window to check."""
    if since is None and until is None:
        return None
    return lambda row: (since is None or row.timestamp >= since) and (until is None or row.timestamp < until)


def total_size(names: Sequence[str]) -> int:
    """Bytes to read, for a progress bar (0 when unknown: stdin, .gz)."""
    size = 0
    for name in names:
        if name == "-" or name.endswith(".gz"):
            return 0
        with contextlib.suppress(OSError):
            size += os.path.getsize(name)
    return size


def lines_from_end(handle: IO[bytes], end: int, block: int = 1 << 16) -> Iterator[bytes]:
    """The lines before byte ``end`` of a seekable file, last first.

    Reads backwards a block at a time, so the last rows of a multi-gigabyte
    log cost what they cost in a small one. A last line without ``\\n``
    (a row being written, or a torn one) comes first, without a newline.
    """
    position, head, is_last_piece = end, b"", True
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        pieces = (handle.read(step) + head).split(b"\n")
        head = pieces[0]  # may go on in the block before this one
        for piece in reversed(pieces[1:]):
            if is_last_piece:
                is_last_piece = False
                if piece:
                    yield piece
            else:
                yield piece + b"\n"
    if not is_last_piece:
        yield head + b"\n"
    elif head:
        yield head
