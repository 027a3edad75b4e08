from __future__ import annotations

import io
import itertools
from pathlib import Path

from django_sessionlog.read.sources.parts import Part, lines_in, split

from ..logs import write_log
from .test_report import varied_log


def test_parts_of_a_split_log_cover_every_line_once(tmp_path: Path) -> None:
    log = varied_log(tmp_path / "s.jsonl", count=500)
    parts = split(str(log), 4)
    assert len(parts) == 4
    assert parts[0].start == 0
    assert parts[-1].end == log.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    data = log.read_bytes()
    assert all(data[part.start - 1 : part.start] == b"\n" for part in parts[1:])


def test_an_empty_file_is_one_part(tmp_path: Path) -> None:
    assert split(str(write_log(tmp_path / "e.jsonl")), 4) == [Part(str(tmp_path / "e.jsonl"))]


def test_a_part_that_ends_in_a_blank_line_keeps_it() -> None:
    # A blank line is reported by the readers; the part it ends must yield it.
    handle = io.BytesIO(b"a\n\nb\n")
    assert list(lines_in(handle, 0, 3)) == [b"a\n", b"\n"]
    assert list(lines_in(handle, 3, 5)) == [b"b\n"]
