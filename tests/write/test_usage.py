"""Token usage on the row: where the writer puts it, what it sums, and a host's odd values."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    SessionRecord,
    Usage,
    build_session_record,
)
from django_sessionlog.jsonl import encode_line
from django_sessionlog.read.sources.rules import InvalidRow, decode_row
from django_sessionlog.write.encoding import as_row

from ..logs import KEY_NAMES
from ..logs import row as valid_row

REQUEST = IterateRequest(trace_id="t1", kind="fill", model="m", provider="p", prompt="x", max_iterations=3)


def attempt(iteration: int, kind: str, usage: Any = None) -> IterateAttempt:
    return IterateAttempt(iteration, AttemptStatus(kind, "bad" if kind != "accepted" else ""), "", usage)


def row_of(response: IterateResponse | None = None, failure: IterateFailure | None = None) -> dict[str, Any]:
    record = build_session_record(REQUEST, response, failure)
    record.timestamp = "2026-12-06T10:00:00Z"
    row = as_row(record)
    decode_row(encode_line(row))  # every row the writer writes is one a reader accepts
    return row


def test_no_usage_anywhere_means_no_usage_key_at_all() -> None:
    row = row_of(IterateResponse("", 1, [attempt(1, "accepted")], {"a": 1}))
    assert "usage" not in row
    assert list(row["attempts"][0]) == ["iteration", "verdict_kind"]


def test_the_rows_usage_is_the_sum_over_the_attempts_that_carry_one() -> None:
    history = [
        attempt(1, "no_json", Usage(100, 20, cache_read_tokens=50)),
        attempt(2, "validation_failed"),
        attempt(3, "accepted", Usage(120, 30, reasoning_tokens=12)),
    ]
    row = row_of(IterateResponse("", 3, history, {"a": 1}))
    assert row["usage"] == {
        "input_tokens": 220,
        "output_tokens": 50,
        "cache_read_tokens": 50,
        "reasoning_tokens": 12,
    }
    assert list(row["usage"]) == ["input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens"]
    assert [a.get("usage") for a in row["attempts"]] == [
        {"input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 50},
        None,
        {"input_tokens": 120, "output_tokens": 30, "reasoning_tokens": 12},
    ]
    # The usage is the attempt's last key, the row's comes right after duration_ms.
    assert list(row["attempts"][0])[-1] == "usage"
    assert list(row)[list(row).index("duration_ms") + 1] == "usage"


def test_the_responses_or_failures_total_wins_over_the_sum() -> None:
    history = [attempt(1, "no_json", Usage(1, 1)), attempt(2, "accepted", Usage(1, 1))]
    total = Usage(10, 5, cache_write_tokens=3)
    assert row_of(IterateResponse("", 2, history, {"a": 1}, usage=total))["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_write_tokens": 3,
    }
    assert row_of(failure=IterateFailure("", 2, history[:1], usage=Usage(7, 8)))["usage"] == {
        "input_tokens": 7,
        "output_tokens": 8,
    }
    assert row_of(failure=IterateFailure("", 2, history))["usage"] == {"input_tokens": 2, "output_tokens": 2}


def test_the_sum_is_a_copy_so_a_hosts_usage_is_not_changed() -> None:
    usage = Usage(1, 2)
    record = build_session_record(REQUEST, IterateResponse("", 1, [attempt(1, "accepted", usage)], {}))
    assert record.usage == usage
    assert record.usage is not usage


def test_an_infra_error_row_has_no_usage() -> None:
    record = build_session_record(REQUEST, infra_error=ConnectionError("refused"))
    assert "usage" not in as_row(record)


def test_a_mapping_from_a_host_is_written_as_usage() -> None:
    counts: Any = {"input_tokens": 3, "output_tokens": 4}
    record = SessionRecord(timestamp="2026-12-06T10:00:00Z", attempts=[], usage=counts)
    assert as_row(record)["usage"] == {"input_tokens": 3, "output_tokens": 4}


def test_a_count_of_an_int_subclass_is_a_count() -> None:
    """The quick test takes exact ints only; an int subclass (an IntEnum, a numpy-like type) is judged in full."""

    class Count(int):
        pass

    row = row_of(IterateResponse("", 1, [attempt(1, "accepted", Usage(Count(7), Count(2)))], {"a": 1}))
    assert row["usage"] == {"input_tokens": 7, "output_tokens": 2}


BAD: list[tuple[Any, str]] = [
    (Usage(1.5, 2), "input_tokens: 1.5 is not an integer"),  # type: ignore[arg-type]
    (Usage("12", 2), "input_tokens: '12' is not an integer"),  # type: ignore[arg-type]
    (Usage(None, 2), "input_tokens: None is not an integer"),  # type: ignore[arg-type]
    (Usage(True, 2), "input_tokens: True is not an integer"),
    (Usage(5, -1), "output_tokens: -1 is not between 0"),
    (Usage(10, 2, cache_read_tokens=-1), "cache_read_tokens: -1 is not between 0"),
    (Usage(10, 2, reasoning_tokens=-2), "reasoning_tokens: -2 is not between 0"),
    (Usage(2**63, 1), "input_tokens: 9223372036854775808 is not between 0"),
    (
        Usage(10, 2, cache_read_tokens=8, cache_write_tokens=3),
        "cache_read_tokens + cache_write_tokens = 11, more than input_tokens = 10",
    ),
    (Usage(10, 2, reasoning_tokens=3), "reasoning_tokens = 3, more than output_tokens = 2"),
    ("many", "IterateAttempt.usage was a str ('many'), left out"),  # not a Usage at all: no counts
]


@pytest.mark.parametrize(("usage", "said"), BAD, ids=[said for _, said in BAD])
def test_bad_usage_from_a_host_is_left_out_with_a_warning_naming_the_session_and_the_row_is_written(
    usage: Any, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    history = [attempt(1, "no_json", usage), attempt(2, "accepted", Usage(4, 5))]
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        row = row_of(IterateResponse("", 2, history, {"a": 1}))
    assert "usage" not in row["attempts"][0]
    assert row["attempts"][1]["usage"] == {"input_tokens": 4, "output_tokens": 5}
    assert row["usage"] == {"input_tokens": 4, "output_tokens": 5}  # the bad one is not summed
    [warning] = [r.getMessage() for r in caplog.records]
    if isinstance(usage, str):
        # Not a Usage at all: left out when the attempt is made, not written as zero tokens.
        assert warning.startswith(f"django_sessionlog: {said}")
    else:
        assert warning.startswith(f"Session 't1': its usage is left out of the row: {said}")


def test_a_bad_total_is_left_out_and_the_attempts_keep_theirs(caplog: pytest.LogCaptureFixture) -> None:
    history = [attempt(1, "accepted", Usage(4, 5))]
    row = row_of(IterateResponse("", 1, history, {"a": 1}, usage=Usage(-1, 0)))
    assert "usage" not in row
    assert row["attempts"][0]["usage"] == {"input_tokens": 4, "output_tokens": 5}
    assert "input_tokens: -1" in caplog.text


READER_BAD = [
    ({"input_tokens": -1, "output_tokens": 0}, "usage.input_tokens: expected int >= 0"),
    ({"input_tokens": 1}, "usage.output_tokens: missing"),
    ({"input_tokens": 1.0, "output_tokens": 0}, "usage.input_tokens: expected int, got float"),
    (
        {"input_tokens": 5, "output_tokens": 0, "cache_read_tokens": 6},
        "cache_read_tokens + cache_write_tokens = 6, more than input_tokens = 5",
    ),
    (
        {"input_tokens": 5, "output_tokens": 1, "reasoning_tokens": 2},
        "reasoning_tokens = 2, more than output_tokens = 1",
    ),
    (None, "usage: null is not allowed"),
]


@pytest.mark.parametrize(("usage", "said"), READER_BAD, ids=[s for _, s in READER_BAD])
@pytest.mark.parametrize("where", ["row", "attempt"])
def test_a_reader_rejects_negative_counts_and_parts_larger_than_their_whole(
    usage: Any, said: str, where: str
) -> None:
    line = valid_row()
    if where == "row":
        line["usage"] = usage
    else:
        line["attempts"][1]["usage"] = usage
    with pytest.raises(InvalidRow) as raised:
        decode_row(encode_line(line))
    [problem] = raised.value.problems
    prefix = "" if where == "row" else "attempts[1]."
    assert problem.startswith(prefix + "usage")
    assert said.split(": ", 1)[-1] in problem


def test_a_reader_accepts_usage_and_gives_it_typed() -> None:
    line = valid_row(usage={"input_tokens": 9, "output_tokens": 3, "cache_read_tokens": 9})
    line["attempts"][1]["usage"] = {"input_tokens": 9, "output_tokens": 3}
    decoded = decode_row(encode_line(line))
    assert decoded.usage.input_tokens == 9  # type: ignore[union-attr]
    assert decoded.usage.cache_read_tokens == 9  # type: ignore[union-attr]
    assert decoded.attempts[1].usage.output_tokens == 3  # type: ignore[index, union-attr]
    assert list(KEY_NAMES)[-2:] == ["usage", "sample_rate"]
