"""django-sessionlog: one JSON line per finished LLM iterate session.

The public API (the request, response, failure and attempt types, the
signal, ``iterate_session`` and the record builders) is re-exported here; the signal is safe to
import before Django is set up, so a view module can import it at the top.
"""

from .row import SCHEMA_VERSION, trim
from .tracing import current_span_id
from .write.configured import get_session_logger
from .write.records import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    SessionAttemptRecord,
    SessionRecord,
    Usage,
    build_session_record,
)
from .write.session import IterateSession, iterate_session
from .write.signals import iterate_finished
from .write.sink import SessionLogger

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "AttemptStatus",
    "IterateAttempt",
    "IterateFailure",
    "IterateRequest",
    "IterateResponse",
    "IterateSession",
    "SessionAttemptRecord",
    "SessionLogger",
    "SessionRecord",
    "Usage",
    "__version__",
    "build_session_record",
    "current_span_id",
    "get_session_logger",
    "iterate_finished",
    "iterate_session",
    "trim",
]
