"""Which files a command reads, and opening them.

Every reader agrees on what a file set is: the configured ``PATH`` with its
placeholders, or named files and globs; ``.gz`` files are gunzipped and
``-`` is standard input.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import os
import sys
import zlib
from collections.abc import Sequence
from typing import IO

from ... import paths

#: What reading a log can raise part-way: a device error, a truncated or
#: corrupt .gz (EOFError, zlib.error).
READ_ERRORS = (OSError, EOFError, zlib.error)


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


def is_remote(name: str) -> bool:
    """A path only DuckDB can reach (``s3://``, ``https://``)."""
    return "://" in name


def unopenable(names: Sequence[str]) -> list[tuple[str, str]]:
    """(file, reason) of each of ``names`` that cannot be opened for reading.

    Standard input and remote paths are not tried.
    """
    found = []
    for name in names:
        if name == "-" or is_remote(name):
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


def seekable(name: str) -> bool:
    """Whether the log can be read from any byte on (not standard input, not compressed)."""
    return name != "-" and not name.endswith(".gz")


def total_size(names: Sequence[str]) -> int:
    """Bytes to read, for a progress bar (0 when unknown: stdin, .gz)."""
    size = 0
    for name in names:
        if not seekable(name):
            return 0
        with contextlib.suppress(OSError):
            size += os.path.getsize(name)
    return size
