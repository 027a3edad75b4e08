"""A full disk: no row glued onto a fragment, whichever writer cut it; outages summarised."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from django_sessionlog import SessionLogger, SessionRecord
from django_sessionlog.write import sink as sink_module

REPO = Path(__file__).resolve().parents[1]


def record(session_id: str) -> SessionRecord:
    return SessionRecord(session_id=session_id, kind="fill", final_verdict="accepted", attempts=[])


Write = Callable[[int, bytes], int]


class Disk:
    """``os.write`` as a filling disk does it, for the descriptors of one logger only.

    ``room`` bytes fit, then every write of that logger fails with ENOSPC
    (a write that only partly fits is cut short, as the kernel does) until
    ``grow()``. Other loggers' writes go through untouched: they stand for
    other worker processes, which share only the file.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, victim: SessionLogger, room: int) -> None:
        self.real: Write = os.write
        self.victim = victim
        self.room = room
        self.full_writes = 0
        monkeypatch.setattr(os, "write", self.write)

    def write(self, fd: int, data: bytes) -> int:
        if fd != self.victim._fd or self.room is None:
            return self.real(fd, data)
        if self.room <= 0:
            self.full_writes += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        part = bytes(data[: self.room])
        self.room -= len(part)
        return self.real(fd, part)

    def grow(self) -> None:
        self.room = None  # type: ignore[assignment]


def cut_first_write(
    monkeypatch: pytest.MonkeyPatch,
    victim: SessionLogger,
    keep: Callable[[int], int],
    before_the_rest: Callable[[], None] = lambda: None,
) -> list[bytes]:
    """``os.write`` that puts only ``keep(len)`` bytes of ``victim``'s first write in the file.

    Its later writes go through whole, each after ``before_the_rest()``
    (another worker's row, say); other loggers' writes are untouched. The
    list returned fills with what ``victim`` asked to write.
    """
    real: Write = os.write
    writes: list[bytes] = []

    def write(fd: int, data: bytes) -> int:
        if fd != victim._fd:
            return real(fd, data)
        writes.append(bytes(data))
        if len(writes) == 1:
            return real(fd, bytes(data[: keep(len(data))]))
        before_the_rest()
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    return writes


def lines_of(log: Path) -> list[bytes]:
    return log.read_bytes().split(b"\n")


def whole_ids(log: Path) -> list[str]:
    """The session ids of the lines that are whole rows."""
    ids = []
    for line in lines_of(log):
        try:
            ids.append(json.loads(line)["session_id"])
        except ValueError:
            continue
    return ids


def test_rows_tried_while_the_disk_stays_full_leave_the_repair_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("before"))
    disk = Disk(monkeypatch, sink, room=10)
    for n in range(5):  # the first is cut short, the other four find no room at all
        sink.append(record(f"lost-{n}"))
    assert disk.full_writes == 5
    disk.grow()
    sink.append(record("after"))
    assert whole_ids(log) == ["before", "after"]
    assert sink.rows_lost == 5
    lines = lines_of(log)
    assert len(lines) == 4
    assert len(lines[1]) == 10, "the one fragment, on a line of its own"
    assert lines[3] == b""


def test_another_writer_never_glues_its_row_onto_a_fragment_it_did_not_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "sessions.jsonl"
    torn, other = SessionLogger(log), SessionLogger(log)  # two worker processes
    torn.append(record("first"))
    Disk(monkeypatch, torn, room=25)
    torn.append(record("cut"))
    assert log.stat().st_mode & stat.S_ISVTX, "the file says it ends in a fragment"
    other.append(record("whole"))
    assert whole_ids(log) == ["first", "whole"]
    assert len(lines_of(log)) == 4  # first, the fragment on its own line, whole, and the end
    assert not log.stat().st_mode & stat.S_ISVTX, "repaired: the mark is gone"
    assert stat.S_IMODE(log.stat().st_mode) == 0o640 & ~_umask()
    other.append(record("later"))
    assert whole_ids(log) == ["first", "whole", "later"]
    assert b"" not in lines_of(log)[:-1], "no blank line"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_file_ending_mid_line_without_the_mark_is_another_row_being_written(tmp_path: Path) -> None:
    # In normal operation a big row grows the file in steps: a writer that
    # sees no mark must not start a fresh line (that would leave blank lines).
    log = tmp_path / "sessions.jsonl"
    log.write_bytes(b'{"half a row being written')
    SessionLogger(log).append(record("next"))
    assert lines_of(log)[0].startswith(b'{"half a row being written{')


def test_the_mark_left_by_a_writer_that_died_is_repaired_by_the_next(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    log.write_bytes(b'{"schema": "session.iterate.v1", "sess')
    os.chmod(log, 0o640 | stat.S_ISVTX)
    SessionLogger(log).append(record("next"))
    assert whole_ids(log) == ["next"]
    assert not log.stat().st_mode & stat.S_ISVTX


def test_a_marked_file_that_ends_in_a_whole_line_gets_no_blank_line(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    SessionLogger(log).append(record("first"))
    os.chmod(log, 0o640 | stat.S_ISVTX)  # the fragment was repaired by a writer that died before unmarking
    SessionLogger(log).append(record("second"))
    assert lines_of(log)[2:] == [b""]
    assert whole_ids(log) == ["first", "second"]


@pytest.mark.parametrize("cut_to", [lambda n: n // 2, lambda n: n - 1], ids=["half", "all but the newline"])
def test_a_short_write_whose_rest_follows_directly_is_one_whole_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut_to: Callable[[int], int]
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    writes = cut_first_write(monkeypatch, sink, cut_to)
    sink.append(record("whole"))
    first, rest = writes
    assert rest == first[cut_to(len(first)) :]  # the rest, down to a lone newline
    assert whole_ids(log) == ["whole"]
    assert not log.stat().st_mode & stat.S_ISVTX
    assert sink.rows_lost == 0


def test_a_row_another_writer_follows_before_its_rest_is_lost_and_leaves_one_fragment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink, other = SessionLogger(log), SessionLogger(log)
    real_fchmod = os.fchmod

    def then_another_worker_writes(fd: int, mode: int) -> None:
        real_fchmod(fd, mode)
        if mode & stat.S_ISVTX and fd == sink._fd:  # the cut row's mark is set: another worker's row comes
            other.append(record("between"))

    cut_first_write(monkeypatch, sink, lambda _: 12)
    monkeypatch.setattr(os, "fchmod", then_another_worker_writes)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("split"))
    assert sink.rows_lost == 1
    assert "'split'" in caplog.records[0].getMessage()
    assert "another row was written after its first part" in caplog.records[0].getMessage()
    fragment, between, end = lines_of(log)
    assert len(fragment) == 12
    assert json.loads(between)["session_id"] == "between"
    assert end == b""
    sink.append(record("after"))
    assert whole_ids(log) == ["between", "after"]
    assert len(lines_of(log)) == 4


def test_a_writer_that_cannot_mark_the_file_still_repairs_its_own_fragment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file of another owner keeps its mode: this process remembers its fragment itself.
    def refused(fd: int, mode: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "fchmod", refused)
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    disk = Disk(monkeypatch, sink, room=25)
    sink.append(record("cut"))
    assert not log.stat().st_mode & stat.S_ISVTX
    disk.grow()
    sink.append(record("after"))
    assert whole_ids(log) == ["after"]
    assert len(lines_of(log)[0]) == 25


def test_a_repair_cut_short_by_the_disk_leaves_a_second_fragment_on_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    disk = Disk(monkeypatch, sink, room=25)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("first-cut"))
        disk.room = 10  # the repairing row fits only in part: the newline and 9 bytes
        sink.append(record("second-cut"))
    said = messages(caplog)
    assert ["'first-cut'" in m and "cut short" in m for m in said] == [True, False]
    assert "'second-cut'" in said[1]
    assert "cut short, its first 10 bytes" in said[1]
    disk.grow()
    sink.append(record("after"))
    first, second, after, end = lines_of(log)
    assert (len(first), len(second), end) == (25, 9, b"")
    assert json.loads(after)["session_id"] == "after"
    assert not log.stat().st_mode & stat.S_ISVTX


def test_a_marked_file_that_cannot_be_read_back_gets_a_fresh_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fragment = b'{"schema": "session.iterate.v1", "sess'
    # When in doubt, a fresh line: a blank line costs no row, a glued one costs one.
    log = tmp_path / "sessions.jsonl"
    log.write_bytes(fragment)
    os.chmod(log, 0o640 | stat.S_ISVTX)
    real_open = os.open

    def no_reading(path: str, flags: int, *args: int) -> int:
        if not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_reading)
    SessionLogger(log).append(record("next"))
    assert lines_of(log)[0] == fragment
    assert whole_ids(log) == ["next"]


def test_a_one_byte_fragment_is_ended_before_the_next_row(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    log.write_bytes(b"{")
    os.chmod(log, 0o640 | stat.S_ISVTX)
    SessionLogger(log).append(record("next"))
    assert lines_of(log)[0] == b"{"
    assert whole_ids(log) == ["next"]


def test_a_write_that_lands_between_the_check_and_the_rest_costs_only_the_cut_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Another worker's row lands after the size was checked and before our
    # rest: the offset after the write shows it, the row is given up, and
    # the warning says its rest follows as a second unreadable line.
    log = tmp_path / "sessions.jsonl"
    sink, other = SessionLogger(log), SessionLogger(log)
    # the other worker wins the race
    cut_first_write(monkeypatch, sink, lambda _: 12, before_the_rest=lambda: other.append(record("between")))
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("split"))
    assert "another write landed before its rest, which follows it as a second unreadable line" in (
        caplog.records[0].getMessage()
    )
    assert sink.rows_lost == 1
    monkeypatch.undo()
    sink.append(record("after"))
    assert whole_ids(log) == ["between", "after"]
    fragment, between, rest, _, end = lines_of(log)
    assert (len(fragment), json.loads(between)["session_id"], end) == (12, "between", b"")
    assert json.loads(fragment + rest)["session_id"] == "split", (
        "the two unreadable lines are the cut row's halves"
    )


# --- outages are summarised --------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django_sessionlog"]


def test_an_outage_warns_at_once_then_once_a_second_then_once_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    monkeypatch.setattr(sink_module, "_now", clock)
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("fine"))
    disk = Disk(monkeypatch, sink, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("lost-0"))
        first = messages(caplog)
        for n in range(1, 1500):  # 1,500 rows within the same second: no more warnings
            clock.now += 0.0006
            sink.append(record(f"lost-{n}"))
        assert messages(caplog) == first
        clock.now += 0.2  # past a second since the first warning
        sink.append(record("lost-1500"))
        clock.now += 0.5
        sink.append(record("lost-1501"))  # within a second of the summary: counted, not said
        disk.grow()
        clock.now += 1.0
        sink.append(record("back"))
    said = messages(caplog)
    assert len(said) == 3, said
    assert said[0] == (
        f"django_sessionlog: could not write session 'lost-0' to {log}: [Errno 28] No space left on device "
        "(while this lasts, lost rows are counted once a second)"
    )
    assert said[1] == (
        f"django_sessionlog: still cannot write to {log} ([Errno 28] No space left on device): "
        "1500 more rows lost in 1.1 s, the last session 'lost-1500'"
    )
    assert said[2] == (
        f"django_sessionlog: writing to {log} again after 2.6 s: 1502 rows lost in all, the last session 'lost-1501'"
    )
    assert sink.rows_lost == 1502
    assert whole_ids(log) == ["fine", "back"]


def test_a_new_kind_of_fault_warns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sink_module, "_now", Clock())
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("fine"))
    Disk(monkeypatch, sink, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("full"))
        sink.append(record("full-again"))
        monkeypatch.undo()  # the disk is fine again, but now the path is a folder
        os.unlink(log)
        log.mkdir()
        sink.append(record("folder"))
        log.rmdir()
        sink.append(record("back"))
    said = messages(caplog)
    assert len(said) == 3, said
    assert "No space left" in said[0]
    assert "'folder'" in said[1]
    assert "Is a directory" in said[1]
    assert said[2].endswith(" s: 3 rows lost in all, the last session 'folder'")


def test_raise_errors_still_raises_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = SessionLogger(tmp_path / "sessions.jsonl", raise_errors=True)
    sink.append(record("fine"))
    Disk(monkeypatch, sink, room=0)
    for _ in range(3):
        with pytest.raises(OSError, match="No space left"):
            sink.append(record("lost"))


# --- the real thing: a small tmpfs, two writer processes --------------------

WRITER = """
import json, logging, os, sys, time
sys.path.insert(0, sys.argv[4])
from django_sessionlog import SessionLogger, SessionRecord

log, name, flag = sys.argv[1], sys.argv[2], sys.argv[3]
warnings = []
class Count(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())
logging.getLogger("django_sessionlog").addHandler(Count())
sink = SessionLogger(log)
ok, lost_after_growth, n, grown_at = [], 0, 0, None
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    if grown_at is None and os.path.exists(flag):
        grown_at = n
    if grown_at is not None and n - grown_at >= 300:
        break
    session = f"{name}-{n}"
    before = sink.rows_lost
    sink.append(SessionRecord(session_id=session, prompt="p" * (700 + n * 37 % 2500), attempts=[]))
    if sink.rows_lost == before:
        ok.append(session)
    elif grown_at is not None:
        lost_after_growth += 1
    n += 1
print(json.dumps({"ok": ok, "lost": sink.rows_lost, "tried": n, "warnings": warnings,
                  "lost_after_growth": lost_after_growth}))
"""

DISK_FULL = """
import os, shutil, subprocess, sys, time
folder, out, repo, writer = sys.argv[1:5]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", folder], check=True)
log = os.path.join(folder, "sessions.jsonl")
flag = os.path.join(out, "grown")
writers = [
    subprocess.Popen([sys.executable, "-c", writer, log, name, flag, repo], stdout=open(os.path.join(out, name), "w"))
    for name in ("a", "b")
]
deadline = time.monotonic() + 20
while time.monotonic() < deadline:  # until the disk is full
    st = os.statvfs(folder)
    if st.f_bavail == 0:
        break
    time.sleep(0.01)
time.sleep(0.5)  # full for many rows
subprocess.run(["mount", "-o", "remount,size=64m", folder], check=True)
open(flag, "w").close()
codes = [w.wait(timeout=60) for w in writers]
shutil.copy(log, os.path.join(out, "sessions.jsonl"))
print(oct(os.stat(log).st_mode), codes)
"""


@pytest.mark.slow
def test_two_writer_processes_on_a_tmpfs_that_fills_and_grows_lose_only_rows_they_warned_of(
    tmp_path: Path,
) -> None:
    from ..needs import in_private_mount_namespace

    folder, out = tmp_path / "disk", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    result = in_private_mount_namespace(
        [sys.executable, "-c", DISK_FULL, str(folder), str(out), str(REPO), WRITER], timeout=120
    )
    assert result.returncode == 0, result.stderr
    mode, codes = result.stdout.split(maxsplit=1)
    assert codes.strip() == "[0, 0]", result.stderr
    assert not int(mode, 8) & stat.S_ISVTX, "the mark is gone once rows are whole again"

    reports = {name: json.loads((out / name).read_text()) for name in ("a", "b")}
    lines = lines_of(out / "sessions.jsonl")
    assert lines[-1] == b"", "the file ends in a whole line"
    rows, fragments, blanks = [], 0, 0
    for line in lines[:-1]:
        if not line:
            blanks += 1
            continue
        try:
            rows.append(json.loads(line)["session_id"])
        except ValueError:
            fragments += 1
    unwarned = [s for report in reports.values() for s in report["ok"]]
    assert sorted(rows) == sorted(unwarned), "every row whose append gave no warning is whole, and only those"
    lost = sum(report["lost"] for report in reports.values())
    assert lost >= 100, "the disk was full for many rows"
    assert sum(r["tried"] for r in reports.values()) == len(unwarned) + lost
    assert 1 <= fragments <= 2, "one unreadable fragment per cut-short write"
    assert blanks <= 1, "at most one blank line, from a race right after the fault"
    for report in reports.values():
        assert report["lost_after_growth"] == 0, "after space returns every process writes whole rows"
        said = report["warnings"]
        assert 2 <= len(said) <= 8, said  # the first, a summary a second, and one when writing resumes
        assert "again" in said[-1]
        assert f"{report['lost']} row" in said[-1]


def test_a_row_cut_short_is_named_at_once_even_while_losses_are_only_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sink_module, "_now", Clock())
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    disk = Disk(monkeypatch, sink, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("no-room-1"))  # the fault begins: warned
        sink.append(record("no-room-2"))  # counted
        disk.room = 30  # a little room: the next row is cut short
        sink.append(record("cut"))
    said = messages(caplog)
    assert len(said) == 2, said
    assert "'cut'" in said[1]
    assert "cut short, its first 30 bytes stay as one unreadable line" in said[1]
    assert len(lines_of(log)[0]) == 30


def test_a_row_written_before_another_threads_failure_reports_no_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("first"))
    written, failed = threading.Event(), threading.Event()
    real_write = SessionLogger._write
    real_os_write = os.write

    def write_then_wait(self: SessionLogger, line: bytes, path: str) -> object:
        ended = real_write(self, line, path)
        if threading.current_thread().name == "before":
            written.set()
            failed.wait(10)  # the other thread fails while this row is already written
        return ended

    def failing_for_after(fd: int, data: bytes) -> int:
        if threading.current_thread().name == "after":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_os_write(fd, data)

    def after() -> None:
        written.wait(10)
        sink.append(record("lost"))
        failed.set()

    monkeypatch.setattr(SessionLogger, "_write", write_then_wait)
    monkeypatch.setattr(os, "write", failing_for_after)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        threads = [
            threading.Thread(target=sink.append, args=(record("ok"),), name="before"),
            threading.Thread(target=after, name="after"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    said = messages(caplog)
    assert len(said) == 1, said
    assert "'lost'" in said[0]
    assert not any("again" in text for text in said)


def test_closing_during_an_outage_says_what_it_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sink_module, "_now", Clock())
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    Disk(monkeypatch, sink, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        for n in range(4):
            sink.append(record(f"lost-{n}"))
        sink.close()
        sink.close()  # said once
    said = messages(caplog)
    assert len(said) == 2, said
    assert said[1] == (
        f"django_sessionlog: stopped writing to {log} while it still fails: 4 rows lost in all "
        "(3 since the last warning), the last session 'lost-3'"
    )


def test_one_row_lost_is_said_in_the_singular_and_counts_restart_after_each_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    monkeypatch.setattr(sink_module, "_now", clock)
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    Disk(monkeypatch, sink, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("lost-0"))
        clock.now += 1.5
        sink.append(record("lost-1"))  # a summary of one row
        clock.now += 0.5
        sink.append(record("lost-2"))  # counted since that summary
        sink.close()
    said = messages(caplog)
    assert said[1].endswith(": 1 more row lost in 1.5 s, the last session 'lost-1'")
    assert said[2].endswith(": 3 rows lost in all (1 since the last warning), the last session 'lost-2'")

    caplog.clear()
    single = SessionLogger(tmp_path / "other.jsonl")
    disk = Disk(monkeypatch, single, room=0)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        single.append(record("only"))
        clock.now += 2.0
        disk.grow()
        single.append(record("back"))
    assert messages(caplog)[1].endswith(" again after 2.0 s: 1 row lost in all, the last session 'only'")


def test_rows_the_encoder_cannot_shape_are_each_warned_of_and_end_no_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = SessionLogger(tmp_path / "sessions.jsonl")
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        for n in range(3):
            broken = record(f"bad{n}")
            broken.attempts = [object()]  # type: ignore[list-item]
            sink.append(broken)
        sink.append(record("fine"))
    said = messages(caplog)
    assert [("'bad0'" in m, "'bad1'" in m, "'bad2'" in m) for m in said] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert sink.rows_lost == 3
    assert all(r.exc_info is not None for r in caplog.records), "each with its traceback"
