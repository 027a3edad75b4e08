"""``tracing.py``: W3C traceparent, and the active span's ids, with the real OpenTelemetry SDK."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from django_sessionlog import current_span_id
from django_sessionlog.tracing import available, current_trace_id, trace_id_from_traceparent

from .otel import Spans, span_id, trace_id

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    "header",
    [
        f"00-{TRACE}-{PARENT}-01",
        f"00-{TRACE}-{PARENT}-00",  # not sampled: still the trace's id
        f" 00-{TRACE}-{PARENT}-01\t",  # optional whitespace around a header's value
        f"01-{TRACE}-{PARENT}-01",  # a later version, read as version 00
        f"cc-{TRACE}-{PARENT}-09-what-the-future-adds",  # a later version may add fields
    ],
)
def test_a_valid_traceparent_gives_its_trace_id(header: str) -> None:
    assert trace_id_from_traceparent(header) == TRACE


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(f"00-{'0' * 32}-{PARENT}-01", id="all-zero trace id"),
        pytest.param(f"00-{TRACE}-{'0' * 16}-01", id="all-zero parent id"),
        pytest.param(f"ff-{TRACE}-{PARENT}-01", id="version ff"),
        pytest.param(f"00-{TRACE.upper()}-{PARENT}-01", id="uppercase trace id"),
        pytest.param(f"00-{TRACE}-{PARENT.upper()}-01", id="uppercase parent id"),
        pytest.param(f"0A-{TRACE}-{PARENT}-01", id="uppercase version"),
        pytest.param(f"00-{TRACE}-{PARENT}-0A", id="uppercase flags"),
        pytest.param(f"00-{TRACE[:-1]}-{PARENT}-01", id="trace id of 31"),
        pytest.param(f"00-{TRACE}0-{PARENT}-01", id="trace id of 33"),
        pytest.param(f"00-{TRACE}-{PARENT[:-1]}-01", id="parent id of 15"),
        pytest.param(f"00-{TRACE}-{PARENT}0-01", id="parent id of 17"),
        pytest.param(f"00-{TRACE}-{PARENT}-1", id="flags of 1"),
        pytest.param(f"000-{TRACE}-{PARENT}-01", id="version of 3"),
        pytest.param(f"00-{TRACE}-{PARENT}-01-extra", id="version 00 with more"),
        pytest.param(f"01-{TRACE}-{PARENT}-01extra", id="a later version without a dash before more"),
        pytest.param(f"00_{TRACE}_{PARENT}_01", id="wrong separators"),
        pytest.param(f"00-{TRACE[:-1]}g-{PARENT}-01", id="not hex"),
        pytest.param(f"00-{TRACE}-{PARENT}-01\n", id="newline"),
        pytest.param(f"01-{TRACE}-{PARENT}-01-\x1b[31m", id="control character in a later version"),
        pytest.param("garbage", id="garbage"),
        pytest.param(TRACE, id="a bare trace id"),
    ],
)
def test_an_invalid_traceparent_gives_nothing(header: str) -> None:
    assert trace_id_from_traceparent(header) is None


def test_without_a_span_there_are_no_ids() -> None:
    assert current_trace_id() == ""
    assert current_span_id() == ""


def test_inside_a_span_its_ids_are_given_in_w3c_form(spans: Spans) -> None:
    with spans.tracer.start_as_current_span("host") as span:
        assert current_trace_id() == trace_id(span)
        assert current_span_id() == span_id(span)
        assert len(current_trace_id()) == 32
        assert len(current_span_id()) == 16
    assert current_trace_id() == ""


def test_the_no_op_tracer_gives_no_ids() -> None:
    # opentelemetry-api without an SDK: every span it makes is invalid.
    with trace.get_tracer("host").start_as_current_span("no-op"):
        assert current_trace_id() == ""
        assert current_span_id() == ""


def test_the_api_is_available_here_and_not_without_the_extra(no_opentelemetry: None) -> None:
    assert not available()


def test_the_api_is_available_when_installed() -> None:
    assert available()
