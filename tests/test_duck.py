from __future__ import annotations

import json
from pathlib import Path

import duckdb

from django_sessionlog import duck

from .logs import row, write_log


def test_a_clean_log_is_read_in_place_and_a_dirty_one_is_copied_without_its_bad_lines(tmp_path: Path) -> None:
    clean = write_log(tmp_path / "clean.jsonl", row(session_id="c1"), row(session_id="c2"))
    dirty = write_log(tmp_path / "dirty.jsonl", row(session_id="d1"), b"garbage\n", row(session_id="d2"))
    folder = tmp_path / "staging"
    folder.mkdir()
    staged = duck.stage([str(clean), str(dirty)], str(folder))
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
    staged = duck.stage([str(log)], str(folder))
    with open(log, "ab") as out:  # the service writes on after the check
        out.write(json.dumps(row(session_id="b")).encode() + b"\n" + json.dumps(row()).encode()[:40])
    sql = duck.read_json_sql(staged.files, staged.maximum_object_size)
    assert duckdb.connect().sql(f"SELECT session_id FROM ({sql}) ORDER BY 1").fetchall() == [("a",), ("b",)]
