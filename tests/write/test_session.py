from __future__ import annotations

import asyncio
import time

import pytest

from django_sessionlog import IterateFailure, IterateRequest, IterateResponse, iterate_session
from django_sessionlog.testing import capture_sessions
from django_sessionlog.write.session import NO_OUTCOME

REQUEST = IterateRequest(trace_id="t1", kind="fill", prompt="p", max_iterations=3)


def test_accepted_session_sends_one_accepted_row_with_its_duration() -> None:
    with capture_sessions() as rows, iterate_session(REQUEST) as session:
        time.sleep(0.02)
        session.accept(IterateResponse("t1", 1, [], {"shift": "x"}))
    [row] = rows
    assert row["final_verdict"] == "accepted"
    assert row["duration_ms"] >= 20


def test_exhausted_session_sends_max_iter_exhausted() -> None:
    with capture_sessions() as rows, iterate_session(REQUEST) as session:
        session.exhaust(IterateFailure("t1", 3, []))
    assert [row["final_verdict"] for row in rows] == ["max_iter_exhausted"]


def test_failed_session_sends_infra_error_with_the_error_text() -> None:
    with capture_sessions() as rows, iterate_session(REQUEST) as session:
        session.fail(ConnectionError("refused"))
    assert rows[0]["attempts"] == [{"iteration": 0, "verdict_kind": "infra_error", "error": "refused"}]


def test_view_that_raises_leaves_an_infra_error_row_and_the_exception_propagates() -> None:
    def view() -> None:
        with iterate_session(REQUEST) as session:
            session.accept(IterateResponse("t1", 1, []))  # overruled: the block raised after it
            raise KeyError("boom")

    with capture_sessions() as rows, pytest.raises(KeyError, match="boom"):
        view()
    [row] = rows
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"] == "'boom'"


def test_block_that_ends_without_an_outcome_still_leaves_a_row() -> None:
    with capture_sessions() as rows, iterate_session(REQUEST):
        pass
    assert rows[0]["final_verdict"] == "infra_error"
    assert rows[0]["attempts"][0]["error"] == NO_OUTCOME


def test_async_with_sends_through_asend() -> None:
    async def view() -> None:
        async with iterate_session(REQUEST) as session:
            session.accept(IterateResponse("t1", 1, []))

    with capture_sessions() as rows:
        asyncio.run(view())
    assert [row["final_verdict"] for row in rows] == ["accepted"]


def test_async_view_that_raises_leaves_an_infra_error_row() -> None:
    async def view() -> None:
        async with iterate_session(REQUEST):
            raise ValueError("async boom")

    with capture_sessions() as rows, pytest.raises(ValueError, match="async boom"):
        asyncio.run(view())
    assert rows[0]["attempts"][0]["error"] == "async boom"


def test_a_session_without_a_trace_id_takes_the_served_requests_id() -> None:
    """What an adapter opens (it cannot know the request) carries the id the caller got back."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from django_sessionlog.middleware import TraceIdMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        with iterate_session(IterateRequest(kind="fill")) as session:
            session.accept(IterateResponse(iterations=1))
        return HttpResponse()

    with capture_sessions() as rows:
        TraceIdMiddleware(view)(RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-7"}))
        with iterate_session(IterateRequest(kind="fill")) as session:  # no request served: no id
            session.accept(IterateResponse(iterations=1))
    assert [row["session_id"] for row in rows] == ["req-7", ""]


def test_an_async_session_takes_the_served_requests_id_and_its_own_wins() -> None:
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from django_sessionlog.middleware import TraceIdMiddleware

    async def view(request: HttpRequest) -> HttpResponse:
        for trace_id in ("", "own-id"):
            async with iterate_session(IterateRequest(trace_id=trace_id, kind="fill")) as session:
                session.accept(IterateResponse(iterations=1))
        return HttpResponse()

    async def serve() -> None:
        middleware = TraceIdMiddleware(view)
        await middleware(RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-8"}))  # type: ignore[misc]

    with capture_sessions() as rows:
        asyncio.run(serve())
    assert [row["session_id"] for row in rows] == ["req-8", "own-id"]
