"""``SessionLogger``: the only code that writes the log.

One ``os.write`` of one whole line on a descriptor opened with
``O_APPEND``: the kernel moves to the end and writes the line under the
file's lock, so lines from many threads and many worker processes never
interleave and none is lost. Before each row the path is ``stat``-ed, as
``logging.handlers.WatchedFileHandler`` does, so a file renamed away by
logrotate is noticed and the row goes to a new file at the path.

A full disk can cut a row short, and the next row appended, by this process
or by any other worker, would be glued onto the fragment and lost with it.
So a writer whose row was cut short says so on the file itself: it sets the
file's sticky bit, which the kernel ignores on a regular file and which
``FILE_MODE`` can never hold. Every writer already gets the mode in its
per-row ``stat``; while the bit is set it looks at the file's last byte,
starts its row on a fresh line if the file ends in a fragment, and clears
the bit once its row is whole. The usual path costs nothing more.

Two windows are left open, both only at the moment of a fault: a row that
another process appends in the microseconds between a cut-short write and
its mark is glued to the fragment (lost, and counted by no one); and two
writers repairing the same fragment at once leave one blank line. Closing
them would take a lock on every row of every process.

Nothing here may fail a request: a row that cannot be written becomes a
warning on the ``django_sessionlog`` logger (unless ``raise_errors``), and
the next row tries again from a fresh open. While the same fault lasts
(a full disk loses every row) the warnings are summarised, at most one a
second, so they do not flood the log they would often be written to.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import stat
import threading
import time
import weakref
from dataclasses import dataclass
from stat import ST_DEV, ST_INO, ST_MODE

import orjson

from .. import paths
from ..conf import DEFAULTS
from ..jsonl import encode_line_slowly, orjson_default
from .encoding import DEFAULT_DAEMON, as_row
from .records import SessionRecord

logger = logging.getLogger("django_sessionlog")

_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)

#: The mode bit that says "a row was cut short here, not repaired yet".
TORN_MARK = stat.S_ISVTX

#: While one fault lasts, at most one warning per this many seconds.
REPORT_EVERY = 1.0

_now = time.monotonic

_instances: weakref.WeakSet[SessionLogger] = weakref.WeakSet()


def _reset_locks_after_fork() -> None:
    # A worker forked while another thread held the lock would inherit it
    # held forever; the child gets fresh locks (as ``logging`` does).
    for instance in list(_instances):
        instance._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)


class CutShort(OSError):
    """A row was cut short: its first bytes stay in the file as one unreadable line."""


@dataclass
class _Outage:
    """Rows lost to one fault since the last row that was written."""

    cause: tuple[str, object]
    began: float
    lost: int = 0
    unreported: int = 0
    reported: float = 0.0
    last_session: str = ""


class SessionLogger:
    """Appends ``session.iterate.v1`` rows to a JSONL file.

    ``path`` may hold ``{date}`` (the row's UTC day) and ``{host}``. The
    parent folder is created on the first write, not here, so a logger can
    be built while its volume is not yet mounted.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        daemon: str = DEFAULT_DAEMON,
        file_mode: int = DEFAULTS["FILE_MODE"],
        raise_errors: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self.daemon = daemon
        self.file_mode = file_mode
        self.raise_errors = raise_errors
        self._templated = paths.is_template(self.path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._fd_path = ""
        self._fd_dev = self._fd_ino = 0  # the file it has open
        # Our own row was cut short and the file may still end in it; kept
        # besides the mark on the file, which another owner may not let us set.
        self._torn = False
        self._outage: _Outage | None = None
        self._rows_lost = 0
        _instances.add(self)

    def __repr__(self) -> str:
        return f"<SessionLogger {self.path!r}>"

    @property
    def rows_lost(self) -> int:
        """Rows this logger could not write since it was made (each one warned of or summarised)."""
        return self._rows_lost

    def append(self, record: SessionRecord) -> None:
        """Write one row; never raises unless ``raise_errors``."""
        path = self.path
        try:
            row = as_row(record, self.daemon)
            if self._templated:
                path = paths.fill(path, paths.row_date(row["timestamp"]))
            try:  # jsonl.encode_line written in: the call is a twentieth of a microsecond
                line = orjson.dumps(row, default=orjson_default, option=orjson.OPT_APPEND_NEWLINE)
            except orjson.JSONEncodeError:
                line = encode_line_slowly(row)
            ended = self._write(line, path)
        except Exception as exc:
            if self.raise_errors:
                raise
            self._lost(getattr(record, "session_id", "?"), path, exc)
        else:
            if ended is not None:
                self._say_recovered(path, ended)

    def _write(self, line: bytes, path: str) -> _Outage | None:
        """Write the line; the outage this write ends, if any.

        The outage is taken under the lock that orders the writes, so a row
        written before another thread's failure never reports a recovery
        from it.
        """
        lock = self._lock
        lock.acquire()  # not ``with``: a tenth of a microsecond less per row on CPython 3.11
        try:
            try:
                # Is the open file still the one at the path? Written in here,
                # not a method: a call per row is a tenth of the Python around
                # the write.
                fd, mode = self._fd, -1
                if fd is not None and path == self._fd_path:
                    try:
                        st = os.stat(path)
                    except FileNotFoundError:
                        pass
                    else:  # by index, not by name: a ``stat_result``'s names cost twice as much
                        if st[ST_INO] == self._fd_ino and st[ST_DEV] == self._fd_dev:
                            mode = st[ST_MODE]
                if fd is None or mode < 0:  # renamed by logrotate, deleted, a new day, or nothing open yet
                    self._close()
                    fd, mode = self._open(path)
                if mode & TORN_MARK or self._torn:
                    self._write_after_a_tear(fd, mode, line, path)
                else:
                    written = os.write(fd, line)
                    if written < len(line):
                        self._write_rest(fd, mode, line, written)
            except BaseException:
                self._close()
                raise
            ended = self._outage
            if ended is not None:
                self._outage = None
            return ended
        finally:
            lock.release()

    def close(self) -> None:
        """Close the file; rows a lasting fault cost since its last warning are said now."""
        with self._lock:
            self._close()
            unfinished, self._outage = self._outage, None
        if unfinished is not None and unfinished.unreported:
            self._say_unfinished(unfinished)

    def __del__(self) -> None:
        # A logger dropped without close() (settings changed, a test) gives
        # its descriptor back instead of holding it for the process's life.
        self._close()

    # --- a file that may end in a fragment ------------------------------------

    def _write_rest(self, fd: int, mode: int, line: bytes, written: int) -> None:
        """Finish a line whose write was cut short (only a filling disk does that).

        Until the line is whole the file ends in a fragment, so first the
        file is marked for every other writer. Then the rest is tried; it
        belongs to the row only if nothing landed between the two writes.
        The file's size says so before the write, and the descriptor's
        offset after it (``O_APPEND`` leaves it at the end of what this
        write put there). A row another writer started on a fresh line
        ends the fragment; the rest then stays unwritten, so it does not
        become a second one. (A row that lands between the check and the
        rest's write is found only after it: that rest is a second
        unreadable line, and the warning says so.)
        """
        self._torn = True
        self._set_mode(fd, mode | TORN_MARK)
        end = os.lseek(fd, 0, os.SEEK_CUR)
        kept = written
        try:
            while written < len(line):
                if os.fstat(fd).st_size != end:
                    raise OSError(errno.EIO, "another row was written after its first part")
                count = os.write(fd, memoryview(line)[written:])
                after = os.lseek(fd, 0, os.SEEK_CUR)
                if count <= 0 or after != end + count:
                    raise OSError(
                        errno.EIO,
                        "another write landed before its rest, which follows it as a second unreadable line",
                    )
                written += count
                end = after
        except OSError as exc:
            raise CutShort(
                exc.errno,
                f"{exc.strerror}; the row was cut short, its first {kept} bytes stay as one unreadable line",
            ) from exc
        self._repaired(fd, mode, end)

    def _write_after_a_tear(self, fd: int, mode: int, line: bytes, path: str) -> None:
        """Write a row to a file that may end in a fragment: on a fresh line if it does."""
        if self._ends_mid_line(path):
            line = b"\n" + line
        written = os.write(fd, line)
        if written < len(line):
            self._write_rest(fd, mode, line, written)
        else:
            self._repaired(fd, mode, os.lseek(fd, 0, os.SEEK_CUR))

    def _repaired(self, fd: int, mode: int, end: int) -> None:
        """Our row is whole, so the file ends in a whole line: take the mark off.

        Only while our row is still the last thing in the file: a row cut
        short by another writer since then keeps its mark.
        """
        self._torn = False
        if os.fstat(fd).st_size == end:
            self._set_mode(fd, mode & ~TORN_MARK)

    def _ends_mid_line(self, path: str) -> bool:
        """Whether the file we write ends in a fragment; True when it cannot be told.

        Read through a descriptor of its own (the writer's is write-only) and
        only if it is still our file. When in doubt a fresh line is started:
        a blank line costs no row, a glued one costs one.
        """
        try:
            reader = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return True
        try:
            st = os.fstat(reader)
            if st.st_ino != self._fd_ino or st.st_dev != self._fd_dev:
                return True
            return st.st_size > 0 and os.pread(reader, 1, st.st_size - 1) != b"\n"
        except OSError:
            return True
        finally:
            os.close(reader)

    def _set_mode(self, fd: int, mode: int) -> None:
        # A file of another owner, or a file system without modes, keeps its
        # mode: then only this process knows of its own fragment.
        with contextlib.suppress(OSError, AttributeError):
            if stat.S_IMODE(mode) != stat.S_IMODE(os.fstat(fd).st_mode):
                os.fchmod(fd, stat.S_IMODE(mode))

    # --- the descriptor ---------------------------------------------------------

    def _open(self, path: str) -> tuple[int, int]:
        # Opened without blocking: a FIFO at the path with no reader (a
        # mistake) is an error at once instead of a request that hangs.
        # Writes block again (a pipe to a log shipper must not drop rows).
        flags = _OPEN_FLAGS | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags, self.file_mode)
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if not parent:
                raise
            os.makedirs(parent, exist_ok=True)
            fd = os.open(path, flags, self.file_mode)
        try:
            if flags != _OPEN_FLAGS:
                os.set_blocking(fd, True)
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._fd_path, self._fd_dev, self._fd_ino = fd, path, st.st_dev, st.st_ino
        return fd, st.st_mode

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- saying what was lost ---------------------------------------------------

    def _lost(self, session_id: str, path: str, exc: Exception) -> None:
        """Count a lost row; warn at once for a new fault, then once a second while it lasts.

        A row cut short is always named at once (there is one per fault):
        it is the row whose fragment a reader will find in the file. Only a
        fault of the file (an ``OSError``) lasts; a row the encoder could not
        shape (a host's bug) is warned of by itself, with its traceback.
        """
        if not isinstance(exc, OSError):
            with self._lock:
                self._rows_lost += 1
            logger.warning(
                "django_sessionlog: could not write session %r to %s: %s", session_id, path, exc, exc_info=exc
            )
            return
        now = _now()
        cause = (path, exc.errno or type(exc))
        cut = isinstance(exc, CutShort)
        with self._lock:
            self._rows_lost += 1
            outage = self._outage
            if outage is None or outage.cause != cause:
                carried = outage.lost if outage is not None else 0
                began = outage.began if outage is not None else now
                outage = self._outage = _Outage(cause, began, lost=carried + 1, reported=now)
                outage.last_session = session_id
                summary = None
            else:
                outage.lost += 1
                outage.last_session = session_id
                if cut:
                    summary = None
                elif now - outage.reported < REPORT_EVERY:
                    outage.unreported += 1
                    return
                else:
                    summary = (outage.unreported + 1, now - outage.reported)
                    outage.unreported, outage.reported = 0, now
        if summary is None:
            logger.warning(
                "django_sessionlog: could not write session %r to %s: %s "
                "(while this lasts, lost rows are counted once a second)",
                session_id,
                path,
                exc,
            )
        else:
            count, seconds = summary
            logger.warning(
                "django_sessionlog: still cannot write to %s (%s): %d more row%s lost in %.1f s, the last session %r",
                path,
                exc,
                count,
                "" if count == 1 else "s",
                seconds,
                session_id,
            )

    def _say_recovered(self, path: str, outage: _Outage) -> None:
        logger.warning(
            "django_sessionlog: writing to %s again after %.1f s: %d row%s lost in all, the last session %r",
            path,
            _now() - outage.began,
            outage.lost,
            "" if outage.lost == 1 else "s",
            outage.last_session,
        )

    def _say_unfinished(self, outage: _Outage) -> None:
        logger.warning(
            "django_sessionlog: stopped writing to %s while it still fails: %d row%s lost in all "
            "(%d since the last warning), the last session %r",
            outage.cause[0],
            outage.lost,
            "" if outage.lost == 1 else "s",
            outage.unreported,
            outage.last_session,
        )


@atexit.register
def _close_all() -> None:
    # A worker process that ends (gunicorn recycling it, a deploy) while a
    # fault lasts still says how many rows the fault cost.
    for instance in list(_instances):
        if instance._outage is not None and instance._outage.unreported:
            instance.close()
