"""Which accepted sessions to keep when ``SAMPLE_RATES`` asks for fewer.

The decision is a hash of the session id alone, the way a tracing tool
samples by trace id: every process, every Python version and every rerun
keeps the same sessions, so the rows kept line up with the traces kept.
Python's ``hash()`` is salted per process and would not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

_SCALE = float(1 << 64)


def rate_for(kind: str, rates: Mapping[str, float]) -> float:
    """The share of accepted sessions of ``kind`` to keep."""
    return float(rates.get(kind, rates.get("*", 1.0)))


def keeps(session_id: str, rate: float) -> bool:
    """Whether a session is kept at ``rate`` (stable for a given id)."""
    if rate >= 1.0 or not session_id:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(session_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE < rate
