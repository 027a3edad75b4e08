from __future__ import annotations

from pathlib import Path

import pytest

from django_sessionlog.read.sources.files import NoFiles, expand, unopenable

from ..logs import write_log


def test_expand_keeps_a_named_missing_file_so_it_is_reported(tmp_path: Path) -> None:
    assert expand([str(tmp_path / "missing.jsonl")], "") == [str(tmp_path / "missing.jsonl")]


def test_expand_without_names_uses_every_file_of_the_configured_template(tmp_path: Path) -> None:
    write_log(tmp_path / "s-2026-11-02.jsonl")
    write_log(tmp_path / "s-2026-11-01.jsonl")
    write_log(tmp_path / "s-notes.jsonl")
    assert expand([], str(tmp_path / "s-{date}.jsonl")) == [
        str(tmp_path / "s-2026-11-01.jsonl"),
        str(tmp_path / "s-2026-11-02.jsonl"),
    ]


def test_expand_with_nothing_to_read_says_why(tmp_path: Path) -> None:
    with pytest.raises(NoFiles, match="not set"):
        expand([], "")
    with pytest.raises(NoFiles, match="no log file matches"):
        expand([], str(tmp_path / "s.jsonl"))


def test_unopenable_names_each_file_that_cannot_be_read_and_skips_stdin_and_remote_paths(
    tmp_path: Path,
) -> None:
    good = write_log(tmp_path / "good.jsonl")
    (tmp_path / "folder").mkdir()
    # Standard input and a remote path first: the files after them are still tried.
    names = ["-", "s3://bucket/x.jsonl", str(good), str(tmp_path / "missing"), str(tmp_path / "folder")]
    assert unopenable(names) == [
        (str(tmp_path / "missing"), "No such file or directory"),
        (str(tmp_path / "folder"), "Is a directory"),
    ]
