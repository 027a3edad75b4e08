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

With pytest, add ``pytest_plugins = ["django_sessionlog.pytest_plugin"]``
to a ``conftest.py`` and ask for the ``sessionlog_rows`` fixture. Importing
this module never imports pytest: a production import must not pull in the
test runner.
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


#: ``pytest_plugins = ["django_sessionlog.testing"]``, as earlier versions had
#: it, still brings the fixture: pytest loads the plugins this names (a name
#: only: nothing here imports pytest).
pytest_plugins = ["django_sessionlog.pytest_plugin"]
