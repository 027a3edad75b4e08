"""``SessionLogger``: the only code that writes the log.

One ``os.write`` of one whole line on a descriptor opened with
``O_APPEND``: the kernel moves to the end and writes the line under the
file's lock, so lines from many threads and many worker processes never
interleave and none is lost. Before each row the path is ``stat``-ed, as
``logging.handlers.WatchedFileHandler`` does, so a file renamed away by
logrotate is noticed and the row goes to a new file at the path.

Nothing here may fail a request: every error becomes one warning on the
``django_sessionlog`` logger (unless ``raise_errors``), and the next row
tries again from a fresh open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref

from . import paths
from .encoding import DEFAULT_DAEMON, as_row, encode_line
from .records import SessionRecord

logger = logging.getLogger("django_sessionlog")

_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)

_instances: weakref.WeakSet[SessionLogger] = weakref.WeakSet()


def _reset_locks_after_fork() -> None:
    # A worker forked while another thread held the lock would inherit it
    # held forever; the child gets fresh locks (as ``logging`` does).
    for instance in list(_instances):
        instance._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)


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
        file_mode: int = 0o640,
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
        self._fd_id: tuple[int, int] = (0, 0)
        # Set when our own line was cut short (the disk filled mid-row): the
        # next row then starts on a fresh line if the file still ends in the
        # fragment, so the fragment never swallows a good row.
        self._torn_tail = False
        _instances.add(self)

    def __repr__(self) -> str:
        return f"<SessionLogger {self.path!r}>"

    def append(self, record: SessionRecord) -> None:
        """Write one row; never raises unless ``raise_errors``."""
        path = self.path
        try:
            row = as_row(record, self.daemon)
            if self._templated:
                path = paths.fill(self.path, paths.row_date(row["timestamp"]))
            self.write_line(encode_line(row), path)
        except Exception as exc:
            if self.raise_errors:
                raise
            logger.warning(
                "django_sessionlog: could not write session %r to %s: %s",
                record.session_id,
                path,
                exc,
            )

    def write_line(self, line: bytes, path: str | None = None) -> None:
        """Append one encoded line (ending in ``\\n``) to ``path``; raises OSError."""
        path = path or self.path
        with self._lock:
            try:
                fd = self._current_fd(path)
                if self._torn_tail:
                    if _ends_without_newline(path):
                        line = b"\n" + line
                    self._torn_tail = False
                written = os.write(fd, line)
                while written < len(line):
                    # A short write only happens as the disk fills; finish
                    # the line or fail trying, and remember it may be torn.
                    self._torn_tail = True
                    written += os.write(fd, memoryview(line)[written:])
                    self._torn_tail = False
            except BaseException:
                self._close()
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def __del__(self) -> None:
        # A logger dropped without close() (settings changed, a test) gives
        # its descriptor back instead of holding it for the process's life.
        self._close()

    def _current_fd(self, path: str) -> int:
        fd = self._fd
        if fd is not None and path == self._fd_path:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) == self._fd_id:
                return fd
        # Renamed by logrotate, deleted, a new day, or nothing open yet.
        self._close()
        return self._open(path)

    def _open(self, path: str) -> int:
        try:
            fd = os.open(path, _OPEN_FLAGS, self.file_mode)
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if not parent:
                raise
            os.makedirs(parent, exist_ok=True)
            fd = os.open(path, _OPEN_FLAGS, self.file_mode)
        try:
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._fd_path, self._fd_id = fd, path, (st.st_dev, st.st_ino)
        return fd

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _ends_without_newline(path: str) -> bool:
    """Whether the file still ends in the fragment of a torn row.

    Only asked after our own write was cut short: at any other time a file
    ending mid-line is another process's row being written right now (a
    large write grows the file in steps), not a fragment. A file we may not
    read is taken as whole.
    """
    try:
        with open(path, "rb") as existing:
            existing.seek(0, os.SEEK_END)
            if existing.tell() == 0:
                return False
            existing.seek(-1, os.SEEK_END)
            return existing.read(1) != b"\n"
    except OSError:
        return False
