from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from django_sessionlog.read.sources.follow import follow


class Collector:
    def __init__(self, path: Path) -> None:
        self.lines: list[bytes] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(str(path),), daemon=True)
        self.thread.start()

    def _run(self, path: str) -> None:
        for line in follow(lambda: path, poll_interval=0.01, stop=self.done.is_set):
            self.lines.append(line)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.lines

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def test_follow_reads_a_new_file_from_its_start_and_notices_rotation(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    collector = Collector(log)
    try:
        log.write_bytes(b"1\n2\n")
        assert collector.wait_for(2) == [b"1\n", b"2\n"]
        log.rename(tmp_path / "s.jsonl.1")
        log.write_bytes(b"333\n")
        assert collector.wait_for(3)[2:] == [b"333\n"]
        # Truncated and written again, shorter than what was read: the size
        # says so at whichever poll comes next, however late.
        os.truncate(log, 0)
        with open(log, "ab") as out:
            out.write(b"4\n")
        assert collector.wait_for(4)[3:] == [b"4\n"]
    finally:
        collector.stop()
    assert not collector.thread.is_alive()


def test_follow_switches_when_the_path_itself_changes(tmp_path: Path) -> None:
    day = {"name": "2026-11-24"}
    (tmp_path / "2026-11-24.jsonl").write_bytes(b"")
    seen: list[bytes] = []
    done = threading.Event()

    def run() -> None:
        for line in follow(
            lambda: str(tmp_path / f"{day['name']}.jsonl"), poll_interval=0.01, stop=done.is_set
        ):
            seen.append(line)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        with open(tmp_path / "2026-11-24.jsonl", "ab") as out:
            out.write(b"late evening\n")
        day["name"] = "2026-11-25"
        (tmp_path / "2026-11-25.jsonl").write_bytes(b"just after midnight\n")
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [b"late evening\n", b"just after midnight\n"]
    finally:
        done.set()
        thread.join(timeout=5)
