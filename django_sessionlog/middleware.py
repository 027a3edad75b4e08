"""``TraceIdMiddleware``: one trace id per request, taken from the caller or made.

The id becomes the row's ``session_id``, so a person can go from a row to
the live trace and back. It is taken, in this order, from:

1. the ``TRACE_HEADER`` header (``X-Lakehouse-Trace-Id``), when safe:
   letters, digits and ``-_.:``, at most 128 characters;
2. a valid W3C ``traceparent`` header: its 32-hex trace id;
3. the active OpenTelemetry span (an instrumented server's), when
   ``opentelemetry-api`` is installed and a valid span is current;
4. else a fresh W3C-style id (32 lowercase hex digits).

A header that is not safe or not valid is ignored with a warning (a header
is caller input: it could hold a newline, markup or a megabyte) and the
next source is tried.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse

from . import tracing
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
    """The request's trace id, from the first source that gives one (see the module's docstring)."""
    header = conf.TRACE_HEADER
    sent = request.headers.get(header)
    if sent:
        if SAFE_TRACE_ID.match(sent):
            return sent
        logger.warning(
            "django_sessionlog: ignoring an unsafe %s header (%d characters, %r)",
            header,
            len(sent),
            sent[:40],
        )
    traceparent = request.headers.get("traceparent")
    if traceparent:
        trace_id = tracing.trace_id_from_traceparent(traceparent)
        if trace_id is not None:
            return trace_id
        logger.warning(
            "django_sessionlog: ignoring an invalid traceparent header (%d characters, %r)",
            len(traceparent),
            traceparent[:80],
        )
    return tracing.current_trace_id() or new_trace_id()


class TraceIdMiddleware:
    """Sets ``request.trace_id``, echoes it on the response header, and gives it to the request's sessions.

    A session opened while the request is served without a trace id of its
    own (an instructor or pydantic-ai call, ``iterate_session`` with an
    empty ``trace_id``) takes this one (``tracing.request_trace_id``).
    """

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
        trace_id = request.trace_id = trace_id_for(request)  # type: ignore[attr-defined]
        token = tracing.serving(trace_id)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            tracing.served(token)
        return _answered(response, trace_id)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        trace_id = request.trace_id = trace_id_for(request)  # type: ignore[attr-defined]
        token = tracing.serving(trace_id)
        try:
            response: HttpResponseBase = await self.get_response(request)
        finally:
            tracing.served(token)
        return _answered(response, trace_id)


def _answered(response: HttpResponseBase, trace_id: str) -> HttpResponseBase:
    """The response with the id in its header, and a streamed body served under the id too.

    A streaming view runs its sessions while the server reads the body,
    after the view has returned; each chunk is produced with the request's
    id set again. A file is streamed as it is (the server may send it
    itself).
    """
    response[conf.TRACE_HEADER] = trace_id
    if isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse):
        content = response.streaming_content
        if isinstance(content, AsyncIterable):
            response.streaming_content = _served_async(trace_id, content)
        else:
            response.streaming_content = _served_each(trace_id, content)
    return response


def _served_each(trace_id: str, content: Iterable[bytes]) -> Iterator[bytes]:
    chunks = iter(content)
    while True:
        token = tracing.serving(trace_id)
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            tracing.served(token)
        yield chunk


async def _served_async(trace_id: str, content: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    chunks = aiter(content)
    while True:
        token = tracing.serving(trace_id)
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        finally:
            tracing.served(token)
        yield chunk
