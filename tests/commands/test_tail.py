from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..logs import REPO, Terminal, django_admin, line, row, sessionlog, write_log


def rows(count: int, **changes: object) -> list[dict[str, object]]:
    return [row(session_id=f"s{n:04d}", **changes) for n in range(count)]


def test_prints_the_last_ten_rows_oldest_first(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", *rows(25))
    out, _, status = sessionlog("tail", str(log))
    assert status == 0
    shown = [text.split()[2] for text in out.splitlines()]
    assert shown == [f"s{n:04d}" for n in range(15, 25)]


def test_n_sets_how_many(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", *rows(5))
    assert len(sessionlog("tail", "-n", "3", str(log))[0].splitlines()) == 3
    assert len(sessionlog("tail", "-n", "50", str(log))[0].splitlines()) == 5
    assert sessionlog("tail", "-n", "0", str(log))[0] == ""


def test_a_person_sees_time_session_kind_model_verdict_effort_duration_and_roster(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row())
    out, _, _ = sessionlog("tail", str(log))
    assert out.split() == [
        "2026-11-24",
        "19:25:55",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "fill",
        "qwen2.5/ollama",
        "accepted",
        "2/3",
        "1.8",
        "s",
        "roster",
        "ok",
    ]


def test_failures_show_their_last_error(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(final_verdict="max_iter_exhausted", artifact={}))
    assert "· worker W-9999 is not on the roster" in sessionlog("tail", str(log))[0]


def test_control_characters_from_a_row_are_escaped_not_printed(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(model="evil\x1b[2J\x1b]0;pwned\x07", kind="k\r\nind", session_id="\u202eid"),
    )
    out, _, _ = sessionlog("tail", str(log))
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in out
    assert "k\\r\\nind" in out
    assert "\\u202eid" in out


def test_json_prints_the_raw_lines(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", *rows(3))
    out, _, _ = sessionlog("tail", "--json", "-n", "2", str(log))
    assert out.encode() == log.read_bytes().split(b"\n", 1)[1]


def test_filters_by_verdict_kind_and_since(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="a", kind="email", final_verdict="infra_error", attempts=None),
        row(session_id="b", kind="fill"),
        row(session_id="c", kind="email", timestamp="2026-11-20T00:00:00Z"),
        row(session_id="d", kind="email"),
    )

    def ids(*args: str) -> list[str]:
        return [
            json.loads(text)["session_id"]
            for text in sessionlog("tail", "--json", *args, str(log))[0].splitlines()
        ]

    assert ids("--verdict", "infra_error") == ["a"]
    assert ids("--kind", "email") == ["a", "c", "d"]
    assert ids("--kind", "email", "--since", "2026-11-21") == ["a", "d"]
    assert ids("--kind", "email", "-n", "1") == ["d"]
    assert ids("--verdict", "accepted", "--verdict", "infra_error", "-n", "2") == ["c", "d"]


def test_invalid_lines_and_a_row_being_written_are_not_shown(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="ok"),
        b"garbage\n",
        json.dumps(row(session_id="half")).encode()[:30],
    )
    out, _, status = sessionlog("tail", "--json", str(log))
    assert status == 0
    assert [json.loads(text)["session_id"] for text in out.splitlines()] == ["ok"]


def test_a_complete_last_row_without_a_newline_is_a_row_as_for_every_reader(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="a"), line(row(session_id="last")).rstrip(b"\n"))
    out, err, status = sessionlog("tail", "--json", "-n", "2", str(log))
    assert (status, err) == (0, "")
    assert [json.loads(text)["session_id"] for text in out.splitlines()] == ["a", "last"]
    assert "2 valid, 0 invalid" in sessionlog("validate", str(log))[0]
    assert json.loads(sessionlog("stats", "--json", str(log))[0])["sessions"] == 2


def test_a_torn_last_line_is_counted_as_left_out_as_the_other_readers_count_it(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="a"), line(row(session_id="torn"))[:40])
    out, err, status = sessionlog("tail", "--json", str(log))
    assert status == 0
    assert [json.loads(text)["session_id"] for text in out.splitlines()] == ["a"]
    assert f"{log}: left out 1 invalid line (1 torn)" in err
    assert "1 valid, 1 invalid" in sessionlog("validate", str(log))[0]


@pytest.mark.slow
def test_tail_on_the_command_line_shows_a_last_row_without_a_newline(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="a"), line(row(session_id="last")).rstrip(b"\n"))
    result = django_admin("sessionlog", "tail", "-n", "1", "--json", str(log))
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["session_id"] == "last"


def test_reading_the_last_rows_does_not_read_the_whole_file(tmp_path: Path) -> None:
    from django_sessionlog.read.sources import backwards

    log = write_log(tmp_path / "s.jsonl", *rows(20_000))
    with open(log, "rb") as handle:
        reads = []
        original = handle.read

        def counting_read(size: int | None = -1) -> bytes:
            data = original(size)
            reads.append(len(data))
            return data

        handle.read = counting_read  # type: ignore[method-assign]
        last = []
        for text in backwards.lines_from_end(handle, log.stat().st_size):
            last.append(text)
            if len(last) == 10:
                break
    assert log.stat().st_size > 10_000_000
    assert sum(reads) < 200_000
    assert json.loads(last[0])["session_id"] == "s19999"


def test_missing_file_without_follow_exits_2(tmp_path: Path) -> None:
    _, err, status = sessionlog("tail", str(tmp_path / "nope.jsonl"))
    assert status == 2
    assert "no such file" in err


def test_gzip_logs_are_tailed(tmp_path: Path) -> None:
    import gzip

    with gzip.open(tmp_path / "s.jsonl.gz", "wb") as packed:
        for item in rows(12):
            packed.write(line(item))
    out, _, _ = sessionlog("tail", "--json", "-n", "2", str(tmp_path / "s.jsonl.gz"))
    assert [json.loads(text)["session_id"] for text in out.splitlines()] == ["s0010", "s0011"]


# --- follow, through a real process ------------------------------------------


class Follower:
    """``sessionlog tail -f`` in a child process, read line by line with a deadline."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django",
                "sessionlog",
                "tail",
                "-f",
                "--json",
                "--poll-interval",
                "0.02",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.set_blocking(self.process.stdout.fileno(), False)  # type: ignore[union-attr]
        os.set_blocking(self.process.stderr.fileno(), False)  # type: ignore[union-attr]
        self.buffer = b""
        self.errors = b""

    def said(self, text: str, timeout: float = 20.0) -> bool:
        """Whether stderr shows ``text`` within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.errors and time.monotonic() < deadline:
            self.errors += self.process.stderr.read() or b""  # type: ignore[union-attr]
            time.sleep(0.02)
        return text.encode() in self.errors

    def ids(self, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while self.buffer.count(b"\n") < count and time.monotonic() < deadline:
            chunk = self.process.stdout.read()  # type: ignore[union-attr]
            if chunk:
                self.buffer += chunk
            else:
                time.sleep(0.02)
        lines, self.buffer = self.buffer.split(b"\n")[:count], b"\n".join(self.buffer.split(b"\n")[count:])
        return [json.loads(text)["session_id"] for text in lines if text]

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=20)
        return self.process.returncode, (self.errors + (err or b"")).decode()


def append(path: Path, *ids: str) -> None:
    with open(path, "ab") as out:
        for session_id in ids:
            out.write(line(row(session_id=session_id)))


@pytest.mark.slow
def test_follow_prints_new_rows_across_rotation_and_truncation_and_ends_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="old"))
    follower = Follower("-n", "1", str(log))
    try:
        assert follower.ids(1) == ["old"]
        append(log, "a1", "a2")
        assert follower.ids(2) == ["a1", "a2"]
        log.rename(tmp_path / "s.jsonl.1")  # logrotate
        append(tmp_path / "s.jsonl.1", "late")  # a writer that has not noticed yet
        with open(log, "ab") as out:
            out.write(line(row(session_id="b1", prompt="a long prompt " * 20)))
        assert follower.ids(2) == ["late", "b1"]
        # copytruncate, then a row shorter than what was read: the truncation
        # shows in the size at whichever poll comes next, however late.
        os.truncate(log, 0)
        append(log, "c1")
        assert follower.ids(1) == ["c1"]
    finally:
        status, err = follower.interrupt()
    assert status == 0
    assert "Traceback" not in err


@pytest.mark.slow
def test_follow_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    log = tmp_path / "later" / "s.jsonl"
    follower = Follower(str(log))
    try:
        time.sleep(0.3)
        write_log(log, row(session_id="first"))
        assert follower.ids(1) == ["first"]
    finally:
        status, _ = follower.interrupt()
    assert status == 0


@pytest.mark.slow
def test_follow_holds_a_half_written_line_until_its_newline(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl")
    follower = Follower(str(log))
    try:
        append(log, "ready")
        assert follower.ids(1) == ["ready"]  # it is following now
        whole = line(row(session_id="whole"))
        with open(log, "ab") as out:
            out.write(whole[:25])
            out.flush()
            time.sleep(0.3)
            assert follower.ids(1, timeout=0.5) == []
            out.write(whole[25:])
        assert follower.ids(1) == ["whole"]
    finally:
        follower.interrupt()


def test_a_truncated_gzip_log_exits_2_without_a_traceback(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(b"".join(line(item) for item in rows(50)))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    _, err, status = sessionlog("tail", str(tmp_path / "cut.jsonl.gz"))
    assert status == 2
    assert "cannot read" in err


def test_json_lines_to_a_terminal_escape_what_a_terminal_would_act_on(tmp_path: Path) -> None:
    from django.core.management import call_command

    log = write_log(tmp_path / "s.jsonl", row(model="a\u202eb\x85c\u2028d"))
    terminal = Terminal()
    call_command("sessionlog", "tail", "--json", str(log), stdout=terminal)
    shown = terminal.buffer.getvalue()
    assert "\u202e" not in shown
    assert "\x85" not in shown
    assert "\u2028" not in shown
    assert "a\\u202eb\\u0085c\\u2028d" in shown  # written as JSON escapes
    assert json.loads(shown)["model"] == "a\u202eb\x85c\u2028d"  # still the same JSON
    piped, _, _ = sessionlog("tail", "--json", str(log))
    assert "\u202e" in piped  # raw for jq when piped


@pytest.mark.slow
def test_follow_picks_up_a_row_that_was_half_written_when_it_started(tmp_path: Path) -> None:
    whole = line(row(session_id="b"))
    log = write_log(tmp_path / "s.jsonl", row(session_id="a"), whole[:40])
    follower = Follower("-n", "5", str(log))
    try:
        assert follower.ids(1) == ["a"]
        with open(log, "ab") as out:
            out.write(whole[40:])
        assert follower.ids(1) == ["b"]
    finally:
        follower.interrupt()


def test_follow_of_a_folder_exits_2_as_tail_without_f_does(tmp_path: Path) -> None:
    for args in (["-f"], []):
        _, err, status = sessionlog("tail", *args, str(tmp_path))
        assert status == 2
        assert "is a folder, not a log file" in err


@pytest.mark.slow
def test_follow_waits_out_a_folder_put_in_the_place_of_the_log(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="before"))
    follower = Follower(str(log))
    try:
        assert follower.ids(1) == ["before"]
        log.unlink()
        log.mkdir()
        assert follower.said("cannot follow")
        assert follower.process.poll() is None  # still running, waiting
        log.rmdir()
        write_log(log, row(session_id="after"))
        assert follower.ids(1) == ["after"]
    finally:
        status, err = follower.interrupt()
    assert status == 0
    assert err.count("cannot follow") == 1  # said once, not at every poll
    assert "Traceback" not in err


def test_columns_line_up_whatever_the_length_of_the_session_id(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="4bf92f3577b34da6a3ce929d0e0e4736"),
        row(session_id="short-id"),
        row(session_id=""),
    )
    out, _, _ = sessionlog("tail", str(log))
    lines = out.splitlines()
    assert len({text.index("accepted") for text in lines}) == 1, lines
    assert len({text.index("fill") for text in lines}) == 1, lines


def test_a_log_of_garbage_says_what_was_skipped(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", b"garbage\n", b"{}\n", row(schema="session.iterate.v2"))
    out, err, status = sessionlog("tail", str(log))
    assert (out, status) == ("", 0)
    assert f"{log}: left out 2 invalid lines and 1 row of another schema" in err
    assert "(run `sessionlog validate` to see them)" in err


def test_a_clean_log_says_nothing_on_stderr(tmp_path: Path) -> None:
    _, err, _ = sessionlog("tail", str(write_log(tmp_path / "s.jsonl", row())))
    assert err == ""


@pytest.mark.slow
def test_follow_says_each_invalid_line_as_it_comes_in_the_readers_words(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl")
    follower = Follower(str(log))
    try:
        append(log, "ready")
        assert follower.ids(1) == ["ready"]
        with open(log, "ab") as out:
            out.write(b"garbage\n" + line(row(schema="session.iterate.v2")))
        append(log, "after")
        assert follower.ids(1) == ["after"]
        assert follower.said(f"{log}: left out an invalid line: not JSON")
    finally:
        _, err = follower.interrupt()
    assert "another schema" not in err  # skipped quietly, as every reader skips it


class FullDisk(io.StringIO):
    """A standard output on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_an_output_that_cannot_be_written_is_not_said_as_a_log_that_cannot_be_read(tmp_path: Path) -> None:
    from django.core.management import CommandError, call_command

    log = write_log(tmp_path / "s.jsonl", *rows(3))
    for arguments in (["--json"], []):
        with pytest.raises(OSError, match="No space left") as raised:
            call_command("sessionlog", "tail", *arguments, str(log), stdout=FullDisk())
        assert not isinstance(raised.value, CommandError)


@pytest.mark.slow
def test_tail_to_a_full_disk_does_not_blame_the_log(tmp_path: Path, dev_full: str) -> None:
    log = write_log(tmp_path / "s.jsonl", *rows(3))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    with open(dev_full, "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "django", "sessionlog", "tail", "--json", str(log)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert "No space left on device" in result.stderr
    assert "cannot read" not in result.stderr
