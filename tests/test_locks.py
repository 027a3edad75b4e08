"""A module's lock held by another thread at fork time is free in the child."""

from __future__ import annotations

import os
import threading
import warnings

from django_sessionlog.locks import ForkSafeLock
from django_sessionlog.write import coercion, configured, receivers, scrub_policy


def test_a_lock_held_by_another_thread_at_fork_is_free_in_the_child() -> None:
    lock = ForkSafeLock()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of exactly this (a fork while a thread runs): what the lock is for.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: the holding thread is gone; the lock must not be
            acquired = lock._lock.acquire(timeout=5)
            os._exit(0 if acquired else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        release.set()
        holder.join()
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_modules_locks_are_fork_safe() -> None:
    for lock in (coercion._said_lock, configured._lock, receivers._interceptors_lock, scrub_policy._lock):
        assert isinstance(lock, ForkSafeLock)
