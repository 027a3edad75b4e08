"""Every subcommand answers nonsense with one line and exit status 2: never a traceback, never half a result."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from django_sessionlog import __version__

from ..logs import REPO, django_admin, line, row, sessionlog, write_log


@pytest.fixture
def logs(tmp_path: Path) -> dict[str, str]:
    good = write_log(tmp_path / "good.jsonl", row())
    (tmp_path / "a-file").write_text("not a folder")
    packed = gzip.compress(b"".join(line(row(session_id=f"s{n}")) for n in range(50)))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "folder").mkdir()
    return {
        "good": str(good),
        "file": str(tmp_path / "a-file"),
        "cut": str(tmp_path / "cut.jsonl.gz"),
        "folder": str(tmp_path / "folder"),
        "missing": str(tmp_path / "missing.jsonl"),
        "out": str(tmp_path / "out"),
    }


NONSENSE = [
    # (arguments, what the message says); {name} is a file of the fixture
    (["export", "{good}", "--to", "{file}"], "--to {file}: cannot export into it: File exists"),
    (["export", "{good}", "--to", "{file}/sub"], "cannot export into it: Not a directory"),
    (["export", "{good}", "--to", "/proc/no/such/place"], "cannot export into it: No such file or directory"),
    (["export", "{good}", "--to", "{out}", "--since", "99999999d"], "outside the years 1 to 9999"),
    (["export", "-", "--to", "{out}"], "standard input has no name"),
    (["query", "SELECT 1", "nowhere://bucket/sessions.jsonl"], "DuckDB cannot read the logs"),
    (["query", "SELECT error('boom')", "{good}"], "SQL error: Invalid Input Error: boom"),
    (["query", "SELEKT 1", "{good}"], "SQL error: Parser Error"),
    (["query"], 'query needs SQL: sessionlog query "SELECT count(*) FROM sessions" [FILE ...]'),
    (["stats", "--since", "99999999d", "{good}"], "'99999999d' is outside the years 1 to 9999"),
    (["stats", "--since", "0001-01-01T00:00:00+01:00", "{good}"], "outside the years 1 to 9999"),
    (["stats", "--since", "yesterday", "{good}"], "'yesterday' is not a date (2026-11-24)"),
    (["stats", "--since", "2026-12-01", "--until", "2026-11-01", "{good}"], "is not before --until"),
    (["report", "-o", "-", "--until", "10000-01-01", "{good}"], "is not a date"),
    (["report", "-o", "{folder}", "{good}"], "cannot write the report"),
    (["tail", "-f", "--poll-interval", "-1", "{good}"], "'-1' is not a number of seconds above 0"),
    (["tail", "-f", "--poll-interval", "nan", "{good}"], "'nan' is not a number of seconds"),
    (["tail", "-f", "--poll-interval", "inf", "{good}"], "'inf' is not a number of seconds"),
    (["tail", "-f", "--poll-interval", "soon", "{good}"], "'soon' is not a number of seconds"),
    (["tail", "-n", "-3", "{good}"], "'-3': it must be 0 or more"),
    (["tail", "-n", "ten", "{good}"], "'ten' is not a whole number"),
    (["tail", "-f", "{folder}"], "{folder}: is a folder, not a log file"),
    (["tail", "-f", "{cut}"], "-f follows a plain file"),
    (["tail", "{missing}"], "{missing}: no such file"),
    (["tail", "--verdict", "maybe", "{good}"], "invalid choice: 'maybe'"),
    (["validate", "--strict=yes", "{good}"], "ignored explicit argument"),
    (["prune", "--older-than", "soon"], "'soon' is not a whole number of days"),
    (["prune", "--older-than", "-1"], "'-1': it must be 0 or more"),
    (["schema", "{good}"], "use it with --duckdb"),
    (["stats", "{missing}"], "{missing}: cannot read: No such file or directory"),
    (["stats", "{folder}"], "{folder}: cannot read: Is a directory"),
    (["stats", "{cut}"], "1 file could not be read"),
    (["query", "SELECT count(*) FROM sessions", "{cut}"], "1 file could not be read"),
    (["report", "-o", "-", "{missing}"], "cannot read: No such file or directory"),
    (["scan", "--pii", "ssn", "{good}"], "'ssn' is not a comma-separated list of email, phone, card, iban"),
    (["scan", "--pii", "", "{good}"], "is not a comma-separated list"),
    (["scan", "{missing}"], "{missing}: cannot read: No such file or directory"),
    (["scan", "{cut}"], "1 file could not be read"),
    (["nonsense"], "invalid choice: 'nonsense'"),
]


@pytest.mark.parametrize(("arguments", "message"), NONSENSE, ids=[" ".join(a) for a, _ in NONSENSE])
def test_nonsense_is_exit_2_with_a_message_and_nothing_on_stdout(
    logs: dict[str, str], arguments: list[str], message: str
) -> None:
    out, err, status = sessionlog(*(a.format(**logs) for a in arguments))
    assert status == 2
    assert message.format(**logs) in err
    assert out == ""


@pytest.mark.parametrize(
    "arguments",
    [
        ["prune", "--older-than", "99999999999"],  # older than year 1: nothing is
        ["export", "{good}", "--to", "{out}", "--until", "9999-12-31T23:00:00"],  # no day after 9999-12-31
        ["export", "{good}", "--to", "{out}", "--since", "0001-01-01"],
        ["report", "-o", "-", "--since", "0001-01-01", "--until", "9999-12-31T23:59:59", "{good}"],
        ["tail", "-n", "99999999999999999999", "{good}"],
    ],
)
def test_extreme_but_meaningful_values_work(logs: dict[str, str], arguments: list[str]) -> None:
    with override_settings(SESSIONLOG={"PATH": str(Path(logs["out"]) / "s-{date}.jsonl")}):
        _, err, status = sessionlog(*(a.format(**logs) for a in arguments))
    assert status == 0, err


def test_a_failed_report_leaves_the_last_good_page(logs: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    assert sessionlog("report", "-o", str(page), logs["good"])[2] == 0
    good_page = page.read_bytes()
    for broken in (logs["missing"], logs["cut"]):  # refused at once, or found broken while read
        _, err, status = sessionlog("report", "-o", str(page), logs["good"], broken)
        assert status == 2
        assert "wrote" not in err
        assert page.read_bytes() == good_page
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    "arguments",
    [
        ["validate", "{good}", "--traceback"],
        ["tail", "-n", "1", "{good}", "--no-color"],
        ["stats", "{good}", "--settings=tests.settings"],
        ["stats", "{good}", "-v", "2"],
        ["stats", "--json", "{good}", "--pythonpath", "."],
        ["-v", "2", "stats", "{good}"],
    ],
)
def test_djangos_own_options_work_after_the_subcommand_as_before_it(
    logs: dict[str, str], arguments: list[str]
) -> None:
    out, err, status = sessionlog(*(a.format(**logs) for a in arguments))
    assert status == 0, err
    assert out


@pytest.mark.slow
def test_an_option_after_the_subcommand_takes_effect(logs: dict[str, str]) -> None:
    assert sessionlog("stats", logs["missing"], "--traceback")[2] == 2
    result = django_admin("sessionlog", "stats", logs["missing"], "--traceback")
    assert result.returncode == 1
    assert "Traceback" in result.stderr  # asked for, and given
    assert "CommandError: " in result.stderr


@pytest.mark.slow
def test_the_command_line_shows_no_traceback_for_nonsense(logs: dict[str, str]) -> None:
    for arguments in (
        ["stats", "--since", "99999999d", logs["good"]],
        ["tail", "-f", "--poll-interval", "nan", logs["good"]],
        ["export", logs["good"], "--to", logs["file"]],
        ["query", "SELECT 1", "nowhere://bucket/x.jsonl"],
    ):
        result = django_admin("sessionlog", *arguments)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


@pytest.mark.slow
def test_version_is_the_apps(logs: dict[str, str]) -> None:
    result = django_admin("sessionlog", "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


@pytest.mark.slow
def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", *(row(session_id=f"s{n}") for n in range(20_000)))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        f"{shlex.quote(sys.executable)} -m django sessionlog tail --json -n 20000 {shlex.quote(str(log))} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert json.loads(result.stdout)["session_id"] == "s0"
    assert result.stderr == ""
