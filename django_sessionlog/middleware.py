"""``TraceIdMiddleware``: one trace id per request, taken from the caller or made.

The id becomes the row's ``session_id``, so it must be one a tracing tool
and a shell can carry: letters, digits and ``-_.:``, at most 128
characters. Anything else is ignored with a warning (a header is caller
input: it could hold a newline, markup or a megabyte) and a fresh W3C-style
id (32 lowercase hex digits) is made instead.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from .conf import conf

logger = logging.getLogger("django_sessionlog")

SAFE_TRACE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}\Z")


def new_trace_id() -> str:
    """A fresh id in W3C trace-id form: 32 lowercase hex digits, never all zero."""
    while True:
        trace_id = secrets.token_hex(16)
        if trace_id.strip("0"):
            return trace_id


def trace_id_for(request: HttpRequest) -> str:
    """The caller's trace id when it is safe, else a new one."""
    header = conf.TRACE_HEADER
    sent = request.headers.get(header)
    if sent is None or sent == "":
        return new_trace_id()
    if SAFE_TRACE_ID.match(sent):
        return sent
    logger.warning(
        "django_sessionlog: ignoring an unsafe %s header (%d characters, %r); using a new trace id",
        header,
        len(sent),
        sent[:40],
    )
    return new_trace_id()


class TraceIdMiddleware:
    """Sets ``request.trace_id`` and echoes it on the response header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        request.trace_id = trace_id_for(request)  # type: ignore[attr-defined]
        response: HttpResponseBase = self.get_response(request)
        response[conf.TRACE_HEADER] = request.trace_id  # type: ignore[attr-defined]
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        request.trace_id = trace_id_for(request)  # type: ignore[attr-defined]
        response: HttpResponseBase = await self.get_response(request)
        response[conf.TRACE_HEADER] = request.trace_id  # type: ignore[attr-defined]
        return response
