"""Files the commands write (report pages, Parquet): made private, put in place whole.

They hold what the log holds (prompts, artifacts, errors), so they get the
log's ``FILE_MODE``, narrowed by the umask as the sink's files are; and a
reader (a browser, a warehouse) never sees half of one, so each is written
next to its place under a hidden name and renamed over the old one.
"""

from __future__ import annotations

import os
import secrets

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _temporary_name(path: str) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")


def write_atomically(path: str, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` whole or not at all, created with ``mode`` (less the umask)."""
    temporary = _temporary_name(path)
    fd = os.open(temporary, _CREATE, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def narrowed(mode: int, folder: str) -> int:
    """``mode`` as the umask narrows it for a new file, without touching the umask.

    ``os.umask`` can only be read by setting it, and another thread (DuckDB
    writing Parquet) may create a file in that moment; an empty file made
    in ``folder`` (a folder of our own) tells the same without the race.
    """
    probe = _temporary_name(os.path.join(folder, "mode"))
    fd = os.open(probe, _CREATE, mode)
    try:
        return os.fstat(fd).st_mode & 0o7777
    finally:
        os.close(fd)
        os.unlink(probe)
