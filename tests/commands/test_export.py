from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.test import override_settings

from django_sessionlog import paths
from django_sessionlog.read.sql.export import export_name

from ..logs import KEY_NAMES, row, sessionlog, write_log
from .test_query import USAGE_SHOWN


def exported(folder: Path, sql: str = "SELECT * FROM t") -> list[tuple[Any, ...]]:
    """Run ``sql`` over the exported folder, read back as a warehouse would (``t``)."""
    connection = duckdb.connect()
    connection.execute(
        f"CREATE VIEW t AS SELECT * FROM read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"
    )
    return connection.execute(sql).fetchall()


def day_rows(day: str, *ids: str) -> list[dict[str, Any]]:
    return [row(session_id=i, timestamp=f"{day}T12:00:00Z") for i in ids]


def test_rows_land_in_one_file_per_day_with_the_query_column_types(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "sessions.jsonl", *day_rows("2026-11-23", "a", "b"), *day_rows("2026-11-24", "c")
    )
    out, err, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    assert status == 0
    name = export_name(str(log))
    assert out.split() == [
        str(tmp_path / "out" / "date=2026-11-23" / name),
        str(tmp_path / "out" / "date=2026-11-24" / name),
    ]
    assert "exported 3 rows from 1 file into 2 Parquet files" in err
    assert exported(tmp_path / "out", "SELECT CAST(date AS VARCHAR), session_id FROM t ORDER BY 2") == [
        ("2026-11-23", "a"),
        ("2026-11-23", "b"),
        ("2026-11-24", "c"),
    ]
    types = {column[0]: column[1] for column in exported(tmp_path / "out", "DESCRIBE SELECT * FROM t")}
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["attempts"] == (
        f'STRUCT(iteration BIGINT, verdict_kind VARCHAR, "error" VARCHAR, span_id VARCHAR, usage {USAGE_SHOWN})[]'
    )
    assert types["usage"] == USAGE_SHOWN
    assert types["iterations"] == "BIGINT"
    assert types["grounded_in_roster"] == "BOOLEAN"


def test_parquet_files_hold_prompts_so_they_get_the_logs_file_mode(tmp_path: Path) -> None:
    log = write_log(tmp_path / "sessions.jsonl", *day_rows("2026-11-23", "a"), *day_rows("2026-11-24", "b"))
    old_umask = os.umask(0o022)
    try:
        out, _, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
        with override_settings(SESSIONLOG={"PATH": "", "FILE_MODE": 0o600}):
            again, _, _ = sessionlog("export", str(log), "--to", str(tmp_path / "private"))
    finally:
        os.umask(old_umask)
    assert status == 0
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in out.split()] == [0o640, 0o640]
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in again.split()] == [0o600, 0o600]


def test_parquet_columns_are_in_the_files_key_order(tmp_path: Path) -> None:
    log = write_log(tmp_path / "sessions.jsonl", *day_rows("2026-11-23", "a"))
    out, _, _ = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    names = [
        c[0]
        for c in duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_parquet('{out.strip()}')").fetchall()
    ]
    assert names == [*KEY_NAMES, "date"]  # the partition column last


def test_the_file_is_named_after_the_host_and_the_source() -> None:
    name = export_name("/var/log/app/sessions-2026-11-24.jsonl.gz", host="web1")
    assert name.startswith("web1--sessions-2026-11-24-")
    assert name.endswith(".parquet")
    assert export_name("/a/sessions.jsonl", host="h") != export_name("/b/sessions.jsonl", host="h")


def test_exporting_a_grown_log_again_replaces_what_it_exported_before(tmp_path: Path) -> None:
    log = write_log(tmp_path / "sessions.jsonl", *day_rows("2026-11-24", "a"))
    assert sessionlog("export", str(log), "--to", str(tmp_path / "out"))[2] == 0
    write_log(log, *day_rows("2026-11-24", "a", "b"))
    sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    sessionlog("export", str(log), "--to", str(tmp_path / "out"))  # a cron job that ran twice
    assert exported(tmp_path / "out", "SELECT session_id FROM t ORDER BY 1") == [("a",), ("b",)]
    assert len(list((tmp_path / "out" / "date=2026-11-24").iterdir())) == 1


def test_other_sources_and_other_hosts_are_never_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "shared"
    first = write_log(tmp_path / "one.jsonl", *day_rows("2026-11-24", "one"))
    second = write_log(tmp_path / "two.jsonl", *day_rows("2026-11-24", "two"))
    sessionlog("export", str(first), "--to", str(out))
    sessionlog("export", str(second), "--to", str(out))
    monkeypatch.setattr(paths, "host_name", lambda: "otherhost")
    other = write_log(tmp_path / "elsewhere" / "one.jsonl", *day_rows("2026-11-24", "other"))
    sessionlog("export", str(other), "--to", str(out))
    sessionlog("export", str(first), "--to", str(out))  # the other host exports a file of the same path
    assert exported(out, "SELECT session_id FROM t ORDER BY 1") == [("one",), ("one",), ("other",), ("two",)]
    assert len(list((out / "date=2026-11-24").glob("otherhost--*.parquet"))) == 2


def test_bad_torn_and_other_schema_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        *day_rows("2026-11-24", "a"),
        row(iterations=True),
        {"schema": "session.iterate.v2"},
        b"garbage\n",
        json.dumps(row()).encode()[:20],
    )
    _, err, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    assert status == 0
    assert "left out 3 invalid lines (1 torn) and 1 row of another schema" in err
    assert exported(tmp_path / "out", "SELECT count(*) FROM t") == [(1,)]


def test_since_and_until_select_whole_days(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="early", timestamp="2026-11-24T01:00:00Z"),
        row(session_id="late", timestamp="2026-11-24T23:00:00Z"),
        row(session_id="next", timestamp="2026-11-25T01:00:00Z"),
    )
    sessionlog(
        "export",
        str(log),
        "--to",
        str(tmp_path / "out"),
        "--since",
        "2026-11-24T12:00:00Z",
        "--until",
        "2026-11-25",
    )
    assert exported(tmp_path / "out", "SELECT session_id FROM t ORDER BY 1") == [("early",), ("late",)]


def test_standard_input_cannot_be_exported(tmp_path: Path) -> None:
    _, err, status = sessionlog("export", "-", "--to", str(tmp_path))
    assert status == 2
    assert "standard input" in err


def test_to_is_required() -> None:
    assert sessionlog("export")[2] != 0


def test_without_duckdb_a_clear_message_names_the_extra(tmp_path: Path, no_duckdb: None) -> None:
    _, err, status = sessionlog(
        "export", str(write_log(tmp_path / "s.jsonl", row())), "--to", str(tmp_path / "o")
    )
    assert status == 2
    assert "django-sessionlog[duckdb]" in err


def test_rows_with_any_rfc3339_timestamp_are_all_exported(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="lower", timestamp="2026-11-24t10:00:00z"),
        row(session_id="offset", timestamp="2026-11-24T12:00:00+02:00"),
    )
    _, err, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    assert status == 0
    assert "could not read" not in err
    assert exported(tmp_path / "out", "SELECT session_id FROM t ORDER BY 1") == [("lower",), ("offset",)]


def test_a_partly_unreadable_source_exits_2_and_exports_nothing_from_it(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(
        b"".join(json.dumps(r).encode() + b"\n" for r in day_rows("2026-11-24", *"abcdefgh"))
    )
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    _, err, status = sessionlog("export", str(tmp_path / "cut.jsonl.gz"), "--to", str(tmp_path / "out"))
    assert status == 2
    assert "cannot read" in err
    assert list((tmp_path / "out").rglob("*.parquet")) == []


def test_rows_appended_after_the_check_are_not_exported_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from django_sessionlog.read.sql import export as export_module

    log = write_log(tmp_path / "live.jsonl", *day_rows("2026-11-24", *"abc"))
    checked = threading.Event()
    real_stage, real_write = export_module.stage, export_module._write_days  # type: ignore[attr-defined]
    writes: list[int] = []

    def stage(*args: Any, **kwargs: Any) -> Any:
        staged = real_stage(*args, **kwargs)
        checked.set()
        return staged

    def write_days(*args: Any) -> int:
        writes.append(1)
        if len(writes) == 1:  # the first write reads the live log after its check
            checked.wait(10)
            misread = row(session_id="unchecked", iterations=True, timestamp="2026-11-24T13:00:00Z")
            with open(log, "ab") as out:
                out.write(json.dumps(misread).encode() + b"\n")
        return real_write(*args)

    monkeypatch.setattr(export_module, "stage", stage)
    monkeypatch.setattr(export_module, "_write_days", write_days)
    _, err, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    assert status == 0, err
    assert len(writes) == 2, "written again from the checked lines"
    assert exported(tmp_path / "out", "SELECT session_id FROM t ORDER BY 1") == [("a",), ("b",), ("c",)]


def test_a_dirty_gz_log_exports_its_valid_rows(tmp_path: Path) -> None:
    import gzip

    rows = b"".join(json.dumps(r).encode() + b"\n" for r in day_rows("2026-11-24", *"abcd"))
    (tmp_path / "s.jsonl.gz").write_bytes(
        gzip.compress(rows + b"\n" + rows.replace(b'"iterations": 2', b'"iterations": true', 1))
    )
    _, err, status = sessionlog("export", str(tmp_path / "s.jsonl.gz"), "--to", str(tmp_path / "out"))
    assert status == 0, err
    assert "exported 7 rows" in err
    assert len(exported(tmp_path / "out")) == 7
