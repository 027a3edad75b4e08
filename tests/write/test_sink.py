from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_sessionlog import (
    IterateRequest,
    IterateResponse,
    SessionLogger,
    SessionRecord,
    build_session_record,
)
from django_sessionlog.paths import host_name

from ..conftest import read_rows
from ..needs import in_private_mount_namespace

REPO = Path(__file__).resolve().parents[1]


def record(session_id: str = "s1", **fields: object) -> SessionRecord:
    return SessionRecord(session_id=session_id, kind="fill", final_verdict="accepted", attempts=[], **fields)  # type: ignore[arg-type]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_append_writes_one_whole_line_per_row(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("a"))
    sink.append(record("b"))
    assert [row["session_id"] for row in read_rows(log)] == ["a", "b"]


def test_a_row_orjson_refuses_is_written_whole_by_the_slow_writer(tmp_path: Path) -> None:
    """A lone surrogate and an integer past 64 bits (orjson refuses both) still make one strict JSON line."""
    path = tmp_path / "log.jsonl"
    logger = SessionLogger(path, raise_errors=True)
    logger.append(SessionRecord(session_id="odd", prompt="a \ud800 b", artifact={"n": 2**70}))
    logger.close()
    line = path.read_bytes()
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    row = json.loads(line)
    assert row["prompt"] == "a \ufffd b"
    assert row["artifact"] == {"n": 2**70}


def test_daemon_of_the_logger_fills_rows_without_one(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    SessionLogger(log, daemon="coordinatord").append(record())
    SessionLogger(log, daemon="coordinatord").append(record(daemon="own"))
    assert [row["daemon"] for row in read_rows(log)] == ["coordinatord", "own"]


def test_parent_folder_is_created_on_the_first_write_not_at_start(tmp_path: Path) -> None:
    log = tmp_path / "not" / "yet" / "sessions.jsonl"
    sink = SessionLogger(log)
    assert not log.parent.exists()
    sink.append(record())
    assert len(read_rows(log)) == 1


def test_files_are_created_0640_by_default(tmp_path: Path, umask_022: None) -> None:
    log = tmp_path / "sessions.jsonl"
    SessionLogger(log).append(record())
    assert stat.S_IMODE(log.stat().st_mode) == 0o640


def test_file_mode_is_configurable(tmp_path: Path, umask_022: None) -> None:
    log = tmp_path / "sessions.jsonl"
    SessionLogger(log, file_mode=0o600).append(record())
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_row_after_logrotate_renames_the_file_goes_to_a_new_file_at_the_path(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("before"))
    log.rename(tmp_path / "sessions.jsonl.1")
    sink.append(record("after"))
    assert [r["session_id"] for r in read_rows(tmp_path / "sessions.jsonl.1")] == ["before"]
    assert [r["session_id"] for r in read_rows(log)] == ["after"]


def test_row_after_the_file_is_deleted_goes_to_a_new_file(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("before"))
    log.unlink()
    sink.append(record("after"))
    assert [r["session_id"] for r in read_rows(log)] == ["after"]


def test_row_after_copytruncate_lands_at_the_start_of_the_file(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("before"))
    os.truncate(log, 0)
    sink.append(record("after"))
    assert [r["session_id"] for r in read_rows(log)] == ["after"]


def test_date_and_host_placeholders_name_one_file_per_day_and_host(tmp_path: Path) -> None:
    sink = SessionLogger(tmp_path / "{host}" / "sessions-{date}.jsonl")
    sink.append(record("a", timestamp="2026-11-24T23:59:59.9Z"))
    sink.append(record("b", timestamp="2026-11-25T00:00:00Z"))
    sink.append(record("c", timestamp="2026-11-25T01:30:00+02:00"))  # 23:30 UTC the day before
    folder = tmp_path / host_name()
    assert [r["session_id"] for r in read_rows(folder / "sessions-2026-11-24.jsonl")] == ["a", "c"]
    assert [r["session_id"] for r in read_rows(folder / "sessions-2026-11-25.jsonl")] == ["b"]


def test_short_write_is_completed_into_one_whole_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "sessions.jsonl"
    real_write = os.write
    calls = []

    def half_write(fd: int, data: bytes) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[: max(1, len(data) // 2)]) if len(calls) == 1 else data)

    monkeypatch.setattr(os, "write", half_write)
    SessionLogger(log).append(record("whole"))
    assert len(calls) == 2
    assert [r["session_id"] for r in read_rows(log)] == ["whole"]


def test_line_torn_by_a_full_disk_does_not_swallow_the_next_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log)
    real_write = os.write
    state = {"calls": 0}

    def filling_disk(fd: int, data: bytes) -> int:
        state["calls"] += 1
        if state["calls"] == 1:
            return real_write(fd, bytes(data[:10]))
        if state["calls"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", filling_disk)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("torn"))
        sink.append(record("next"))
    lines = log.read_bytes().split(b"\n")
    assert len(lines[0]) == 10
    assert json.loads(lines[1])["session_id"] == "next"
    first, recovered = (r.getMessage() for r in caplog.records)
    assert "'torn'" in first
    assert "No space left" in first
    assert "again" in recovered
    assert "1 row lost in all" in recovered


# --- faults: one warning, no exception, and recovery -------------------------


def _one_warning(caplog: pytest.LogCaptureFixture, session_id: str, path: str) -> str:
    warnings = [r for r in caplog.records if r.name == "django_sessionlog"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    message = warnings[0].getMessage()
    assert repr(session_id) in message
    assert path in message
    return message


def test_full_disk_gives_one_warning_naming_session_and_path(
    caplog: pytest.LogCaptureFixture, dev_full: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        SessionLogger(dev_full).append(record("full-1"))
    assert "No space left" in _one_warning(caplog, "full-1", "/dev/full")


def test_parent_that_is_a_file_gives_one_warning_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parent = tmp_path / "logs"
    parent.write_text("not a folder")
    log = parent / "sessions.jsonl"
    sink = SessionLogger(log)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("lost"))
    _one_warning(caplog, "lost", str(log))
    parent.unlink()
    sink.append(record("kept"))
    assert [r["session_id"] for r in read_rows(log)] == ["kept"]


def test_path_that_is_a_folder_gives_one_warning_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "sessions.jsonl"
    log.mkdir()
    sink = SessionLogger(log)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("lost"))
    assert "Is a directory" in _one_warning(caplog, "lost", str(log))
    log.rmdir()
    sink.append(record("kept"))
    assert [r["session_id"] for r in read_rows(log)] == ["kept"]


def test_fault_after_a_good_write_recovers_on_the_next_append(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "logs" / "sessions.jsonl"
    sink = SessionLogger(log)
    sink.append(record("first"))
    shutil.rmtree(log.parent)
    log.parent.parent.joinpath("logs").write_text("now a file")
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(record("lost"))
    _one_warning(caplog, "lost", str(log))
    log.parent.unlink()
    sink.append(record("kept"))
    assert [r["session_id"] for r in read_rows(log)] == ["kept"]


READ_ONLY_SCRIPT = textwrap.dedent(
    """
    import logging, os, subprocess, sys
    sys.path.insert(0, sys.argv[2])
    from django_sessionlog import SessionLogger, SessionRecord
    folder = sys.argv[1]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", folder], check=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    SessionLogger(os.path.join(folder, "sessions.jsonl")).append(SessionRecord(session_id="ro-1"))
    SessionLogger(os.path.join(folder, "sub", "sessions.jsonl")).append(SessionRecord(session_id="ro-2"))
    print("survived")
    """
)


@pytest.mark.slow
def test_read_only_file_system_gives_one_warning_per_row(tmp_path: Path) -> None:
    # A real read-only mount, made in a private mount namespace (no root
    # needed beyond what unshare grants); the sink must survive both the
    # open and the mkdir failing with EROFS.
    folder = tmp_path / "ro"
    folder.mkdir()
    result = in_private_mount_namespace([sys.executable, "-c", READ_ONLY_SCRIPT, str(folder), str(REPO)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "survived"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING django_sessionlog")]
    assert len(warnings) == 2, result.stderr
    assert "'ro-1'" in warnings[0]
    assert "Read-only file system" in warnings[0]
    assert "'ro-2'" in warnings[1]
    assert "Read-only file system" in warnings[1]


def test_raise_errors_propagates_the_fault(dev_full: str) -> None:
    with pytest.raises(OSError, match="No space left"):
        SessionLogger(dev_full, raise_errors=True).append(record())


def test_a_record_that_cannot_be_shaped_gives_a_warning_not_an_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = record("broken")
    broken.attempts = [object()]  # type: ignore[list-item]
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        SessionLogger(tmp_path / "s.jsonl").append(broken)
    _one_warning(caplog, "broken", str(tmp_path / "s.jsonl"))


# --- many writers at once ---------------------------------------------------


def _sizes(count: int) -> list[int]:
    # Mostly small rows, some large ones, and one of 1 MiB per writer.
    return [(1 << 20) if i == 0 else (i * 7919) % 60_000 for i in range(count)]


def test_threads_appending_at_once_write_whole_lines_and_lose_none(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log, raise_errors=True)
    rows_per_thread = 40

    def writer(thread: int) -> None:
        for i, size in enumerate(_sizes(rows_per_thread)):
            sink.append(record(f"t{thread}-{i}", prompt="x" * size))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [row["session_id"] for row in read_rows(log)]
    assert sorted(ids) == sorted(f"t{t}-{i}" for t in range(8) for i in range(rows_per_thread))


PROCESS_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, sys.argv[3])
    from django_sessionlog import SessionLogger, SessionRecord
    sink = SessionLogger(sys.argv[1], raise_errors=True)
    worker = sys.argv[2]
    def sizes(count):
        return [(1 << 20) if i == 0 else (i * 7919) % 60000 for i in range(count)]
    def write(thread):
        for i, size in enumerate(sizes(25)):
            sink.append(SessionRecord(session_id=f"{worker}-{thread}-{i}", prompt="y" * size, attempts=[]))
    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    """
)


@pytest.mark.slow
def test_four_processes_of_eight_threads_appending_at_once_lose_no_row(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    workers = [
        subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, str(log), f"w{n}", str(REPO)])
        for n in range(4)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    rows = read_rows(log)
    assert sorted(row["session_id"] for row in rows) == sorted(
        f"w{w}-{t}-{i}" for w in range(4) for t in range(8) for i in range(25)
    )
    assert all(set(row["prompt"]) <= {"y"} for row in rows)


def test_a_logger_dropped_without_close_gives_its_descriptor_back(tmp_path: Path) -> None:
    import gc

    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_descriptors()
    for n in range(20):
        SessionLogger(tmp_path / f"s{n}.jsonl").append(record())
    gc.collect()
    assert open_descriptors() <= before + 1


FORK_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[2])
    from django_sessionlog import SessionLogger, SessionRecord
    sink = SessionLogger(sys.argv[1])
    sink.append(SessionRecord(session_id="parent"))
    with sink._lock:  # as if another thread were writing at the fork
        pid = os.fork()
        if pid == 0:  # the child: give up after 5 s instead of hanging
            signal.alarm(5)
            sink.append(SessionRecord(session_id="child"))
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_worker_forked_while_the_lock_was_held_can_still_write(tmp_path: Path) -> None:
    # gunicorn forks its workers from a process where another thread may be
    # appending: the child must not inherit that lock held forever. (In a
    # process of its own: forking this one, with DuckDB's threads, would warn.)
    log = tmp_path / "sessions.jsonl"
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT, str(log), str(REPO)], timeout=60, check=False)
    assert done.returncode == 0, "the child hung on the inherited lock"
    assert [row["session_id"] for row in read_rows(log)] == ["parent", "child"]


def test_a_fifo_without_a_reader_is_a_warning_not_a_request_that_hangs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fifo = tmp_path / "sessions.jsonl"
    os.mkfifo(fifo)
    sink = SessionLogger(fifo)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(build_session_record(IterateRequest(trace_id="f1"), IterateResponse(iterations=1)))
    assert sink.rows_lost == 1
    assert "could not write session 'f1'" in caplog.text


def test_a_fifo_with_a_reader_gets_whole_rows_written_blocking(tmp_path: Path) -> None:
    """A pipe to a log shipper: the writes block as before (none is dropped with EAGAIN)."""
    fifo = tmp_path / "sessions.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        sink = SessionLogger(fifo)
        sink.append(build_session_record(IterateRequest(trace_id="f2"), IterateResponse(iterations=1)))
        assert sink._fd is not None
        assert os.get_blocking(sink._fd)
        assert b'"session_id":"f2"' in os.read(reader, 65536)
        sink.close()
    finally:
        os.close(reader)
