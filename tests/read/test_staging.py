from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from django_sessionlog.read.sources import rows as rows_module
from django_sessionlog.read.sources import rules
from django_sessionlog.read.sql import duckdb_sql, staging
from django_sessionlog.read.sql.staging import stage

from ..logs import line, row, write_log


def test_a_clean_log_is_read_in_place_and_a_dirty_one_is_copied_without_its_bad_lines(tmp_path: Path) -> None:
    clean = write_log(tmp_path / "clean.jsonl", row(session_id="c1"), row(session_id="c2"))
    dirty = write_log(tmp_path / "dirty.jsonl", row(session_id="d1"), b"garbage\n", row(session_id="d2"))
    folder = tmp_path / "staging"
    folder.mkdir()
    staged = stage([str(clean), str(dirty)], str(folder))
    assert staged.files[0] == str(clean)
    assert Path(staged.files[1]).parent == folder
    assert [json.loads(line)["session_id"] for line in Path(staged.files[1]).read_text().splitlines()] == [
        "d1",
        "d2",
    ]
    assert (staged.rows, staged.tally.invalid) == (4, 1)


def test_a_row_appended_half_written_while_duckdb_reads_does_not_fail_the_query(tmp_path: Path) -> None:
    log = write_log(tmp_path / "live.jsonl", row(session_id="a"))
    folder = tmp_path / "staging"
    folder.mkdir()
    staged = stage([str(log)], str(folder))
    with open(log, "ab") as out:  # the service writes on after the check
        out.write(json.dumps(row(session_id="b")).encode() + b"\n" + json.dumps(row()).encode()[:40])
    select = duckdb_sql.read_json_sql(staged.files, staged.maximum_object_size)
    assert duckdb.connect().sql(f"SELECT session_id FROM ({select}) ORDER BY 1").fetchall() == [
        ("a",),
        ("b",),
    ]


def test_a_dirty_log_is_decoded_once_and_copied_as_the_bytes_of_its_valid_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = [line(row(session_id=f"v{n}", prompt="é" * n)) for n in range(5)]
    other_schema = line(row(schema="session.iterate.v2"))  # the view filters it out: kept
    items = [
        b"garbage first\n",
        valid[0],
        valid[1],
        other_schema,
        b"\n",
        valid[2],
        line(row(iterations=True)),
        valid[3],
        valid[4].removesuffix(b"\n"),  # a whole last row whose newline is still coming
    ]
    log = write_log(tmp_path / "dirty.jsonl", *items)
    decoded = []
    real = rules.decode_row

    def counting(data: bytes) -> object:
        decoded.append(data)
        return real(data)

    monkeypatch.setattr(rows_module, "decode_row", counting)
    folder = tmp_path / "staging"
    folder.mkdir()
    staged = stage([str(log)], str(folder))
    assert len(decoded) == len(items), "every line decoded once"
    [copy] = staged.files
    assert Path(copy).read_bytes() == b"".join([*valid[:2], other_schema, *valid[2:]])
    assert (staged.rows, staged.tally.invalid, staged.tally.skipped) == (5, 3, 1)


def test_lines_written_after_the_check_are_not_copied_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_log(tmp_path / "live.jsonl", row(session_id="a"), b"garbage\n", row(session_id="b"))
    folder = tmp_path / "staging"
    folder.mkdir()
    problems_seen: list[int] = []
    real_copy = staging._copy_without

    def grow_then_copy(name: str, dropped: list[Any], length: int, copy: str) -> None:
        problems_seen.append(len(dropped))
        with open(name, "ab") as out:  # the service writes on between the check and the copy
            out.write(b"not checked\n")
        real_copy(name, dropped, length, copy)

    monkeypatch.setattr(staging, "_copy_without", grow_then_copy)
    staged = stage([str(log)], str(folder))
    assert problems_seen == [1]
    assert [json.loads(text)["session_id"] for text in Path(staged.files[0]).read_bytes().splitlines()] == [
        "a",
        "b",
    ]


def test_an_empty_log_gives_duckdb_nothing_to_read(tmp_path: Path) -> None:
    staged = stage([str(write_log(tmp_path / "empty.jsonl"))], str(tmp_path))
    assert staged.files == []


def test_a_log_whose_only_bad_lines_are_rows_cut_short_is_read_in_place(tmp_path: Path) -> None:
    # JSON that stops before its end: DuckDB drops it by itself, no copy needed.
    whole = line(row(session_id="a"))
    log = write_log(tmp_path / "s.jsonl", whole[:50] + b"\n", whole, row(session_id="b"), whole[:70])
    staged = stage([str(log)], str(tmp_path))
    assert staged.files == [str(log)]
    assert (staged.tally.invalid, staged.tally.torn) == (2, 1)
    select = duckdb_sql.read_json_sql(staged.files, staged.maximum_object_size)
    assert duckdb.connect().sql(f"SELECT session_id FROM ({select})").fetchall() == [("a",), ("b",)]


def test_the_first_line_that_needs_a_copy_is_said_at_once(tmp_path: Path) -> None:
    calls: list[int] = []
    log = write_log(tmp_path / "s.jsonl", row(), row(iterations=True), b"garbage\n", row())
    stage([str(log)], str(tmp_path), on_copy=lambda: calls.append(1))
    assert calls == [1]
    calls.clear()
    stage(
        [str(write_log(tmp_path / "t.jsonl", row(), line(row())[:40]))],
        str(tmp_path),
        on_copy=lambda: calls.append(1),
    )
    assert calls == []


def test_a_dirty_gz_log_is_copied_from_its_decompressed_lines(tmp_path: Path) -> None:
    import gzip

    valid = [line(row(session_id=f"v{n}")) for n in range(200)]
    log = tmp_path / "dirty.jsonl.gz"
    log.write_bytes(gzip.compress(b"".join([*valid[:100], b"\n", line(row(iterations=True)), *valid[100:]])))
    staged = stage([str(log)], str(tmp_path))
    [copy] = staged.files
    assert Path(copy).read_bytes() == b"".join(valid)
    select = duckdb_sql.read_json_sql(staged.files, staged.maximum_object_size)
    assert duckdb.connect().sql(f"SELECT count(*) FROM ({select})").fetchall() == [(200,)]
