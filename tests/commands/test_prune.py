from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.test import override_settings

from django_sessionlog import paths
from django_sessionlog.subcommands.prune import collapsed

from ..logs import django_admin, row, sessionlog, write_log


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


@pytest.mark.parametrize(
    "written",
    [
        "{folder}/sub//s-{{host}}-{{date}}.jsonl",
        "/{folder}/sub/./s-{{host}}-{{date}}.jsonl",
        "{folder}/sub/../sub//s-{{date}}-{{host}}.jsonl",
    ],
    ids=["double-slash", "leading-double-slash-and-dot", "dot-dot"],
)
def test_a_path_with_doubled_or_dotted_separators_still_prunes(tmp_path: Path, written: str) -> None:
    host = paths.host_name()
    template = written.format(folder=tmp_path)
    old = template.replace("{host}", host).replace("{date}", day(30))
    new = template.replace("{host}", host).replace("{date}", day(0))
    make(tmp_path / "sub", Path(old).name, Path(new).name)
    with override_settings(SESSIONLOG={"PATH": template}):
        out, err, status = sessionlog("prune", "--older-than", "7")
    assert status == 0, err
    assert out == f"deleted {collapsed(old)}\n"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [Path(new).name]


def test_collapsed_drops_doubled_separators_and_dots_but_keeps_dot_dot_and_a_leading_double_slash() -> None:
    assert collapsed("pr//s-{host}-{date}.jsonl") == "pr/s-{host}-{date}.jsonl"
    assert collapsed("./logs/./s-{date}") == "logs/s-{date}"
    assert collapsed("//server//logs/s-{date}") == "//server/logs/s-{date}"
    assert collapsed("///var//log/s-{date}") == "/var/log/s-{date}"
    assert collapsed("a/../b//s-{date}") == "a/../b/s-{date}"


@pytest.mark.slow
def test_on_the_command_line_a_doubled_slash_in_path_still_prunes(tmp_path: Path) -> None:
    host = paths.host_name()
    (tmp_path / "pr_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        f"SESSIONLOG = {{'PATH': {str(tmp_path) + '/pr//s-{host}-{date}.jsonl'!r}}}\n"
    )
    make(tmp_path / "pr", f"s-{host}-{day(30)}.jsonl")
    result = django_admin(
        "sessionlog",
        "prune",
        "--older-than",
        "7",
        path=tmp_path,
        env_extra={"DJANGO_SETTINGS_MODULE": "pr_settings"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"deleted {tmp_path}/pr/s-{host}-{day(30)}.jsonl\n"
    assert list((tmp_path / "pr").iterdir()) == []
