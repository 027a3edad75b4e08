from __future__ import annotations

import datetime
from pathlib import Path

from django.test import override_settings

from django_sessionlog import paths

from ..logs import row, sessionlog, write_log


def day(offset: int) -> str:
    return (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=offset)).isoformat()


def make(folder: Path, *names: str) -> None:
    for name in names:
        write_log(folder / name, row())


def test_prune_deletes_only_files_older_than_the_retention(tmp_path: Path) -> None:
    host = paths.host_name()
    make(tmp_path, *(f"s-{host}-{day(n)}.jsonl" for n in (0, 6, 7, 8, 30)))
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s-{host}-{date}.jsonl")}):
        out, err, status = sessionlog("prune", "--older-than", "7")
    assert status == 0
    assert sorted(out.split("\n")[:-1]) == sorted(
        f"deleted {tmp_path}/s-{host}-{day(n)}.jsonl" for n in (8, 30)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"s-{host}-{day(n)}.jsonl" for n in (0, 6, 7))
    assert "deleted 2 files (1.2 kB) older than 7 days" in err


def test_dry_run_lists_and_deletes_nothing(tmp_path: Path) -> None:
    make(tmp_path, f"s-{day(40)}.jsonl")
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s-{date}.jsonl")}):
        out, _, _ = sessionlog("prune", "--older-than", "7", "--dry-run")
    assert out.strip() == f"would delete {tmp_path}/s-{day(40)}.jsonl"
    assert (tmp_path / f"s-{day(40)}.jsonl").exists()


def test_files_not_matching_the_pattern_or_of_other_hosts_are_never_touched(tmp_path: Path) -> None:
    host = paths.host_name()
    keep = [
        f"s-{host}-{day(40)}.jsonl.gz",  # a compressed copy
        f"s-{host}-{day(40)}.jsonl.bak",
        f"s-otherhost-{day(40)}.jsonl",  # another machine's file on a shared disk
        f"s-{host}-2026-13-45.jsonl",  # the shape of a date, not a date
        f"s-{host}-latest.jsonl",
        f"notes-{host}-{day(40)}.jsonl",
    ]
    make(tmp_path, *keep)
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s-{host}-{date}.jsonl")}):
        out, _, status = sessionlog("prune", "--older-than", "1")
    assert status == 0
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


def test_path_without_date_is_a_clear_error(tmp_path: Path) -> None:
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s.jsonl")}):
        _, err, status = sessionlog("prune", "--older-than", "7")
    assert status == 2
    assert "prune needs {date} in SESSIONLOG['PATH']" in err


def test_older_than_must_be_a_whole_non_negative_number(tmp_path: Path) -> None:
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s-{date}.jsonl")}):
        assert sessionlog("prune", "--older-than", "-1")[2] != 0
        assert sessionlog("prune", "--older-than", "a week")[2] != 0
