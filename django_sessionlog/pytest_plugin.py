"""The pytest fixture ``sessionlog_rows``: ``capture_sessions`` for the length of a test.

Add ``pytest_plugins = ["django_sessionlog.pytest_plugin"]`` to a
``conftest.py``. The fixture lives here, apart from ``testing``, so that
only pytest imports pytest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import Rows, capture_sessions


@pytest.fixture
def sessionlog_rows() -> Iterator[Rows]:
    """The rows logged during the test (``capture_sessions`` as a fixture)."""
    with capture_sessions() as rows:
        yield rows
