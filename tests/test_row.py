"""The row's table (``django_sessionlog.row``) is the documented row, and everything else follows it."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import msgspec
import pytest

from django_sessionlog import SessionAttemptRecord, SessionRecord, Usage, row
from django_sessionlog.read.sources import rules
from django_sessionlog.read.sql import columns
from django_sessionlog.write.encoding import as_row

from .logs import KEY_NAMES

#: The row's keys as the README documents them (sample_rate, from sampling, the last key).
SPEC_KEYS = [
    "schema",
    "session_id",
    "timestamp",
    "daemon",
    "kind",
    "model",
    "provider",
    "prompt",
    "iterations",
    "max_iterations",
    "final_verdict",
    "attempts",
    "artifact",
    "grounded_in_roster",
    "duration_ms",
    "usage",
    "sample_rate",
]


def test_the_table_lists_the_keys_of_the_spec_in_its_order() -> None:
    assert KEY_NAMES == SPEC_KEYS
    assert [key.name for key in row.ATTEMPT_KEYS] == [
        "iteration",
        "verdict_kind",
        "error",
        "span_id",
        "usage",
    ]
    assert [key.name for key in row.USAGE_KEYS] == [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ]
    assert row.VERDICTS == ("accepted", "max_iter_exhausted", "infra_error")
    assert row.VERDICT_KINDS == ("no_json", "validation_failed", "accepted", "infra_error")
    assert [k.name for k in row.KEYS if k.omit != "never"] == [
        "artifact",
        "grounded_in_roster",
        "usage",
        "sample_rate",
    ]
    assert [k.name for k in row.KEYS if k.nullable] == ["attempts"]
    assert (row.PROMPT_LIMIT, row.ERROR_LIMIT) == (4000, 800)


def test_the_writers_record_has_the_tables_keys_in_order() -> None:
    assert [f.name for f in dataclasses.fields(SessionRecord)] == KEY_NAMES
    assert [f.name for f in dataclasses.fields(SessionAttemptRecord)] == [
        key.name for key in row.ATTEMPT_KEYS
    ]


def test_the_readers_struct_has_the_tables_keys_in_order_required_as_the_table_says() -> None:
    for struct, keys in ((rules.DecodedRow, row.KEYS), (rules.Attempt, row.ATTEMPT_KEYS)):
        fields = msgspec.structs.fields(struct)
        assert [f.name for f in fields] == [k.name for k in keys]
        assert [f.required for f in fields] == [k.required for k in keys]
    assert typing.get_args(rules.Verdict) == row.VERDICTS
    assert typing.get_args(rules.VerdictKind) == row.VERDICT_KINDS


def test_sql_columns_follow_the_table() -> None:
    assert list(columns.COLUMNS) == KEY_NAMES
    assert [
        k
        for k in KEY_NAMES
        if k not in {"attempts", "artifact", "grounded_in_roster", "usage", "sample_rate"}
    ] == columns.NEVER_NULL


EMPTY: dict[str, list[Any]] = {"empty": [None, {}, ""], "none": [None]}
KEPT: dict[str, Any] = {"object": {"a": 1}, "boolean": False, "rate": 0.5, "usage": Usage(3, 4)}
WRITTEN: dict[str, Any] = {"usage": {"input_tokens": 3, "output_tokens": 4}}


def _record(**fields: Any) -> SessionRecord:
    return SessionRecord(timestamp="2026-11-24T19:25:55Z", attempts=[], **fields)


@pytest.mark.parametrize("key", [k for k in row.KEYS if k.omit != "never"], ids=lambda k: k.name)
def test_the_writer_leaves_out_what_the_table_says_and_nothing_else(key: row.Key) -> None:
    for empty in EMPTY[key.omit]:
        assert key.name not in as_row(_record(**{key.name: empty}))
    kept = KEPT[key.kind]
    record = _record(**{key.name: kept})
    assert as_row(record)[key.name] == WRITTEN.get(key.kind, kept)
    assert list(as_row(record)) == [k for k in KEY_NAMES if k == key.name or k in _always()]


def _always() -> set[str]:
    return {k.name for k in row.KEYS if k.omit == "never"}


def test_an_attempt_leaves_out_its_empty_error_and_span_id() -> None:
    record = SessionRecord(
        attempts=[SessionAttemptRecord(1, "no_json"), SessionAttemptRecord(2, "accepted", "e", "s")]
    )
    assert as_row(record)["attempts"] == [
        {"iteration": 1, "verdict_kind": "no_json"},
        {"iteration": 2, "verdict_kind": "accepted", "error": "e", "span_id": "s"},
    ]
