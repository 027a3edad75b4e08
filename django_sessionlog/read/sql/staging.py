"""What DuckDB reads for a set of local logs: each line checked first, in one pass.

DuckDB told to ignore errors misreads lines instead of refusing them (``true``
as 1), so no line reaches it unchecked. Every line is decoded once, by the
decoder ``validate`` uses, and the lines that are not v1 rows are noted by
their place in the file. A log with none (the usual case) goes to DuckDB as
it is: no copy. So does a log whose only bad lines are rows cut short (a
torn last line, a full disk's fragment): JSON that stops before its end,
which DuckDB drops by itself, as it drops rows of another schema by the
view's filter. A log with any other bad line is copied without them, byte
ranges at a time, with no second decode.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from ..sources.files import open_log
from ..sources.rows import CUT, Problem, Tally, iter_rows
from ..sources.rules import DecodedRow
from ..sources.window import Window
from .duckdb_sql import DEFAULT_MAXIMUM_OBJECT_SIZE

_COPY_BLOCK = 1 << 20


@dataclass
class Staged:
    """What DuckDB should read for a set of local logs, and what was left out."""

    folder: str
    tally: Tally = field(default_factory=Tally)
    longest: int = 0
    files: list[str] = field(default_factory=list)
    rows: int = 0  # valid rows in the time window
    checked: dict[str, int] = field(default_factory=dict)  # bytes checked of each log read in place

    @property
    def maximum_object_size(self) -> int:
        return max(DEFAULT_MAXIMUM_OBJECT_SIZE, self.longest + 1)


def stage(
    names: Sequence[str],
    folder: str,
    window: Window = Window(),
    on_copy: Callable[[], None] | None = None,
) -> Staged:
    """The files DuckDB should read for ``names``; see the module's docstring.

    Standard input, which cannot be read twice, is copied as it is read.
    The window only counts rows here; ``sql.read_json_sql`` applies it.
    ``on_copy`` is called once, as soon as a line is found that means a
    file must be copied (export stops DuckDB's optimistic write then).
    """
    staged = Staged(folder)
    inside = window.test()
    for number, name in enumerate(names):
        copy = os.path.join(folder, f"{number}.jsonl")
        dropped: list[Problem] = []
        unreadable = len(staged.tally.unreadable)
        if name == "-":
            with open(copy, "wb", buffering=_COPY_BLOCK) as out:
                _read(name, staged, inside, dropped.append, out)
            staged.files.append(copy)
            continue
        length = _read(name, staged, inside, functools.partial(_note, dropped, on_copy))
        if len(staged.tally.unreadable) > unreadable or not length:
            continue  # said in the tally, or empty: DuckDB reads nothing of it
        if dropped:
            _copy_without(name, dropped, length, copy)
        else:
            staged.checked[name] = length
        staged.files.append(copy if dropped else name)
    return staged


def pinned(staged: Staged) -> list[str]:
    """``staged.files`` with each log read in place copied as far as it was checked.

    For a log that may have grown after its check (it is being written):
    DuckDB then reads only lines that were checked.
    """
    files = []
    for number, name in enumerate(staged.files):
        length = staged.checked.get(name)
        if length is None:
            files.append(name)
            continue
        copy = os.path.join(staged.folder, f"checked-{number}.jsonl")
        _copy_without(name, [], length, copy)
        files.append(copy)
    return files


def _note(dropped: list[Problem], on_copy: Callable[[], None] | None, problem: Problem) -> None:
    """Keep a line to leave out of the copy, unless DuckDB leaves it out by itself.

    A row of another schema is filtered out by the view; a row cut short is
    JSON that stops before its end, which DuckDB drops.
    """
    if not problem.messages or problem.messages[0] in CUT:
        return
    if on_copy is not None and not dropped:
        on_copy()
    dropped.append(problem)


def _read(
    name: str,
    staged: Staged,
    inside: Callable[[DecodedRow], bool] | None,
    on_problem: Callable[[Problem], None],
    out: IO[bytes] | None = None,
) -> int:
    """Decode every line of ``name`` once, telling ``on_problem`` of each that is not a row; the bytes read."""
    length = 0

    def counted(problem: Problem) -> None:
        nonlocal length
        length += problem.length
        on_problem(problem)

    for _, _, line, row in iter_rows([name], staged.tally, on_problem=counted):
        length += len(line)
        if out is not None:
            out.write(line if line.endswith(b"\n") else line + b"\n")
        staged.longest = max(staged.longest, len(line))
        if inside is None or inside(row):
            staged.rows += 1
    return length


def _copy_without(name: str, dropped: list[Problem], length: int, copy: str) -> None:
    """Copy the first ``length`` bytes of ``name`` to ``copy``, less the ``dropped`` lines.

    The bytes are the log's lines as the pass read them: a ``.gz`` log is
    read through its decompression again (the offsets are in the
    decompressed stream), a plain one straight through. Only what the pass
    read is copied: a live log may have grown since, and its new lines were
    not checked. A kept last line without a newline (a whole row whose
    newline is still coming) gets one.
    """
    last = b"\n"
    with open_log(name) as source, open(copy, "wb", buffering=_COPY_BLOCK) as out:
        position = 0
        for start, end in [*((p.offset, p.offset + p.length) for p in dropped), (length, length)]:
            # Keep [position, start), then pass over [start, end): reading on, never seeking.
            for keep, size in ((True, start - position), (False, end - start)):
                left = size
                while left > 0:
                    block = source.read(min(left, _COPY_BLOCK))
                    if not block:
                        break
                    if keep:
                        out.write(block)
                        last = block[-1:]
                    left -= len(block)
            position = end
        if last != b"\n":
            out.write(b"\n")
