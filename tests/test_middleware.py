from __future__ import annotations

import asyncio
import logging
import re

import pytest
from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from django_sessionlog.middleware import TraceIdMiddleware

W3C = re.compile(r"[0-9a-f]{32}\Z")


def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.trace_id)  # type: ignore[attr-defined]


def call(**headers: str) -> HttpResponse:
    request = RequestFactory().get("/", headers=headers)
    return TraceIdMiddleware(view)(request)  # type: ignore[return-value]


def test_a_safe_trace_id_is_used_and_echoed() -> None:
    response = call(**{"X-Lakehouse-Trace-Id": "4bf92f35-77b3.4da6:a3ce_929d"})
    assert response.content == b"4bf92f35-77b3.4da6:a3ce_929d"
    assert response["X-Lakehouse-Trace-Id"] == "4bf92f35-77b3.4da6:a3ce_929d"


def test_a_missing_trace_id_is_made_in_w3c_form() -> None:
    response = call()
    assert W3C.match(response.content.decode())
    assert response["X-Lakehouse-Trace-Id"] == response.content.decode()


def test_two_requests_get_two_ids() -> None:
    assert call().content != call().content


@pytest.mark.parametrize(
    "unsafe", ["a b", "<script>", "id\u202e", "x" * 129, "semi;colon", "ünïcode", "new\tline"]
)
def test_an_unsafe_trace_id_is_ignored_with_a_warning(unsafe: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        response = call(**{"X-Lakehouse-Trace-Id": unsafe})
    assert W3C.match(response.content.decode())
    assert len(caplog.records) == 1
    assert "X-Lakehouse-Trace-Id" in caplog.records[0].getMessage()


def test_128_characters_is_still_accepted() -> None:
    assert call(**{"X-Lakehouse-Trace-Id": "a" * 128}).content == b"a" * 128


def test_header_name_is_configurable() -> None:
    with override_settings(SESSIONLOG={"TRACE_HEADER": "X-Request-Id"}):
        response = call(**{"X-Request-Id": "req-1", "X-Lakehouse-Trace-Id": "ignored"})
    assert response.content == b"req-1"
    assert response["X-Request-Id"] == "req-1"


def test_async_stack_is_served_asynchronously() -> None:
    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.trace_id)  # type: ignore[attr-defined]

    middleware = TraceIdMiddleware(async_view)
    request = RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "async-7"})
    response = asyncio.run(middleware.__acall__(request))
    assert iscoroutinefunction(middleware)
    assert isinstance(response, HttpResponse)
    assert response.content == b"async-7"
    assert response["X-Lakehouse-Trace-Id"] == "async-7"
