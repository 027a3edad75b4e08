"""``iterate_finished``: what an iterate view sends when a session ends."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.dispatch import Signal


class IterateFinishedSignal(Signal):
    """A ``Signal`` that also has ``asend`` on Django 4.2.

    Django 5.0 added ``Signal.asend``; on 4.2 this one runs the receivers in
    a worker thread, so an async view never does the log's file I/O on the
    event loop on either version.
    """

    if not hasattr(Signal, "asend"):

        async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
            return await sync_to_async(self.send)(sender, **named)


#: Sent once per finished session with ``request`` (an ``IterateRequest``),
#: ``response``, ``failure``, ``error`` and ``duration_ms``.
iterate_finished = IterateFinishedSignal()
