from __future__ import annotations

import gzip
from pathlib import Path

from django_sessionlog.read.sources.rows import Problem, Tally, iter_rows

from ..logs import line, row, write_log


def test_lines_split_on_newline_only_never_on_unicode_line_separators(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(prompt="a\u2028b\u2029c\x85d\x0ce"), row())
    tally = Tally()
    rows = list(iter_rows([str(log)], tally))
    assert len(rows) == 2
    assert rows[0][3].prompt == "a\u2028b\u2029c\x85d\x0ce"


def test_a_truncated_gzip_file_is_unreadable_after_its_good_rows(tmp_path: Path) -> None:
    packed = gzip.compress(b"".join(line(row()) for _ in range(200)))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    tally = Tally()
    rows = list(iter_rows([str(tmp_path / "cut.jsonl.gz")], tally))
    assert rows
    assert tally.unreadable
    assert tally.unreadable[0][0].endswith("cut.jsonl.gz")


def test_each_line_that_is_not_a_row_is_reported_with_its_place_in_the_file(tmp_path: Path) -> None:
    good = line(row())
    other = line(row(schema="session.iterate.v2"))
    log = write_log(tmp_path / "s.jsonl", good, b"garbage\n", other, good, b"   ")
    problems: list[Problem] = []
    tally = Tally()
    assert len(list(iter_rows([str(log)], tally, on_problem=problems.append))) == 2
    assert [(p.number, p.offset, p.length) for p in problems] == [
        (2, len(good), 8),
        (3, len(good) + 8, len(other)),
        (5, 2 * len(good) + 8 + len(other), 3),
    ]
    assert problems[1].messages == []  # another schema: skipped, not an error
    assert problems[2].messages == ["torn write: the last line has no newline and is not complete JSON"]
    assert (tally.lines, tally.valid, tally.invalid, tally.torn, tally.skipped) == (5, 2, 2, 1, 1)
