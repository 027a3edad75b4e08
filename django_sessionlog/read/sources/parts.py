"""One big log cut at line boundaries, for reading it on several cores."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from .files import seekable


@dataclass(frozen=True)
class Part:
    """Bytes ``start`` to ``end`` of a log, cut at line boundaries (``split``)."""

    name: str
    start: int = 0
    end: int | None = None  # None: to the end of the file


def split(name: str, pieces: int) -> list[Part]:
    """A plain file cut into about ``pieces`` parts, each starting at a line.

    A compressed file or standard input cannot be cut (no seeking) and
    stays whole.
    """
    if pieces < 2 or not seekable(name):
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


def lines_in(handle: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The lines of bytes ``start`` to ``end`` of an open file (a part's own lines)."""
    handle.seek(start)
    length = end - start
    for line in handle:
        if length <= 0:
            return
        length -= len(line)
        yield line
