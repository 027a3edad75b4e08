"""Helpers for a host's own tests: see the rows its views log.

    from django_sessionlog.testing import capture_sessions

    with capture_sessions() as rows:
        client.post("/v1/iterate", {...}, format="json")
    assert rows[0]["final_verdict"] == "accepted"

Inside the block every row the receiver would write, after sampling,
scrubbing and redaction, is appended to ``rows`` as the dict it encodes to
(keys in the row's order), and nothing is written to disk; ``PATH`` may be
unset. Rows from any thread, and from ``asend``, land in every open
capture, so nested blocks each see what happened inside them.

With pytest, add ``pytest_plugins = ["django_sessionlog.testing"]`` to a
``conftest.py`` and ask for the ``sessionlog_rows`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .conf import conf
from .write import receivers
from .write.encoding import as_row
from .write.records import SessionRecord

Rows = list[dict[str, Any]]


@contextmanager
def capture_sessions() -> Iterator[Rows]:
    """Collect the rows of the sessions that finish inside the block."""
    rows: Rows = []

    def capture(record: SessionRecord) -> None:
        rows.append(as_row(record, conf.DAEMON))

    receivers.add_interceptor(capture)
    try:
        yield rows
    finally:
        receivers.remove_interceptor(capture)


try:
    import pytest
except ImportError:  # a unittest project: capture_sessions is all it needs
    pass
else:

    @pytest.fixture
    def sessionlog_rows() -> Iterator[Rows]:
        """The rows logged during the test (``capture_sessions`` as a fixture)."""
        with capture_sessions() as rows:
            yield rows
