"""Following a growing log the way ``tail -F`` does.

Polling, not inotify: it works on every platform and on network file
systems, and a quarter second is quick enough for a person watching
sessions finish. Each idle poll ``stat``-s the path to notice the three
things that happen to a log under a running service: it is renamed away
and re-created (logrotate), it is truncated (``copytruncate``), or it does
not exist yet.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import IO

READ_SIZE = 1 << 16

logger = logging.getLogger("django_sessionlog")
_reported: dict[str, int | None] = {}


def follow(
    current_path: Callable[[], str],
    *,
    handle: IO[bytes] | None = None,
    offset: int = 0,
    poll_interval: float = 0.25,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[bytes]:
    """Yield each whole line appended to the log, for as long as ``stop()`` is false.

    ``current_path`` is asked on every poll, so a ``{date}`` path moves on
    to the next day's file. ``handle`` and ``offset`` continue from a file
    the caller already read (``tail -n``), so no row falls in between. A
    half-written last line is held back until its newline arrives.
    """
    pending = b""
    identity: tuple[int, int] | None = None
    if handle is not None:
        opened = os.fstat(handle.fileno())
        identity = (opened.st_dev, opened.st_ino)
        handle.seek(offset)
    path = current_path()
    try:
        while not stop():
            if handle is None:
                handle, identity = _open(path)
                pending = b""
                if handle is None:
                    time.sleep(poll_interval)
                    path = current_path()
                    continue
            chunk = handle.read(READ_SIZE)
            if chunk:
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    yield line + b"\n"
                continue
            # Nothing new: has the file been replaced, truncated, or moved on?
            newest = current_path()
            st: os.stat_result | None
            try:
                st = os.stat(newest)
            except OSError:
                st = None
            if newest != path or st is None or (st.st_dev, st.st_ino) != identity:
                # Rotated. A writer that had not noticed yet may have added
                # a last row since the read above: take it, then switch.
                *lines, _ = (pending + handle.read()).split(b"\n")
                for line in lines:
                    yield line + b"\n"
                handle.close()
                handle, path = None, newest
            elif st.st_size < handle.tell():
                handle.seek(0)  # truncated in place
                pending = b""
            else:
                time.sleep(poll_interval)
    finally:
        if handle is not None:
            handle.close()


def _open(path: str) -> tuple[IO[bytes] | None, tuple[int, int] | None]:
    """The file at ``path``, or None while it cannot be opened.

    Missing is the usual reason (not created yet, between a rename and the
    new file); a folder in its place or a mode we may not read (logrotate's
    ``create 0600`` for another user) is said once and waited out, as
    ``tail -F`` does.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        if _reported.get(path) != exc.errno:
            _reported[path] = exc.errno
            logger.warning("django_sessionlog: cannot follow %s yet: %s", path, exc.strerror)
        return None, None
    _reported.pop(path, None)
    st = os.fstat(handle.fileno())
    return handle, (st.st_dev, st.st_ino)
