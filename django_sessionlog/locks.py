"""``ForkSafeLock``: a module-level lock that a forked worker process gets fresh.

A worker forked while another thread held a lock would wait for it forever
(gunicorn and task runners fork their workers). Each ``ForkSafeLock`` is
replaced in the child, as ``logging`` does for its own locks. Used with
``with`` only, and nowhere per row (the sink renews its own).
"""

from __future__ import annotations

import os
import threading
import weakref


class ForkSafeLock:
    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _locks.add(self)

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


_locks: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


def _renew_after_fork() -> None:
    for lock in list(_locks):
        lock._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_after_fork)
