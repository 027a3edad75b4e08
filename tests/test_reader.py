from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from django_sessionlog import reader

from .logs import row, write_log


def test_lines_from_end_gives_every_line_last_first_for_any_block_size() -> None:
    rng = random.Random(7)
    for _ in range(500):
        data = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(0, 40)))
        expected = list(reversed(io.BytesIO(data).readlines()))
        for block in (1, 3, 8, 1 << 16):
            assert list(reader.lines_from_end(io.BytesIO(data), len(data), block)) == expected


def test_lines_split_on_newline_only_never_on_unicode_line_separators(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(prompt="a\u2028b\u2029c\x85d\x0ce"), row())
    tally = reader.Tally()
    rows = list(reader.iter_rows([str(log)], tally))
    assert len(rows) == 2
    assert rows[0][3].prompt == "a\u2028b\u2029c\x85d\x0ce"


def test_expand_keeps_a_named_missing_file_so_it_is_reported(tmp_path: Path) -> None:
    assert reader.expand([str(tmp_path / "missing.jsonl")], "") == [str(tmp_path / "missing.jsonl")]


def test_expand_without_names_uses_every_file_of_the_configured_template(tmp_path: Path) -> None:
    write_log(tmp_path / "s-2026-11-02.jsonl")
    write_log(tmp_path / "s-2026-11-01.jsonl")
    write_log(tmp_path / "s-notes.jsonl")
    assert reader.expand([], str(tmp_path / "s-{date}.jsonl")) == [
        str(tmp_path / "s-2026-11-01.jsonl"),
        str(tmp_path / "s-2026-11-02.jsonl"),
    ]


def test_expand_with_nothing_to_read_says_why(tmp_path: Path) -> None:
    with pytest.raises(reader.NoFiles, match="not set"):
        reader.expand([], "")
    with pytest.raises(reader.NoFiles, match="no log file matches"):
        reader.expand([], str(tmp_path / "s.jsonl"))


def test_a_truncated_gzip_file_is_unreadable_after_its_good_rows(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(
        b"".join(write_log(tmp_path / "s.jsonl", *[row()] * 200).read_bytes().splitlines(True))
    )
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    tally = reader.Tally()
    rows = list(reader.iter_rows([str(tmp_path / "cut.jsonl.gz")], tally))
    assert rows
    assert tally.unreadable
    assert tally.unreadable[0][0].endswith("cut.jsonl.gz")
