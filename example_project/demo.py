"""The demo: serve the example project, drive sessions over HTTP, read the log.

    python example_project/demo.py [--sessions 48]

Starts ``manage.py runserver`` on a free port of 127.0.0.1, sends sessions
of every kind to /v1/iterate and /v1/iterate-async (the demo model: no
network needed), then shows what the app wrote with ``sessionlog tail``,
``stats`` and ``validate``, a DuckDB query for phantom workers, and
writes the HTML report.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
MANAGE = [sys.executable, str(HERE / "manage.py")]
#: How a person runs the same commands: with this Python (the demo's virtualenv, where Django is).
SHOWN_MANAGE = (
    f"{shlex.quote(os.path.relpath(sys.executable))} {shlex.quote(os.path.relpath(HERE / 'manage.py'))}"
)

PROMPTS = {
    "fill": [
        "Fill the Saturday night shift at the Harbour Street depot",
        "We need three people for the cold store on Tuesday",
        "Cover the Monday early loading shift, two people",
        "Forklift cover for Wednesday, the usual crew is off sick",
        "Find pickers for Friday, we are short after the holiday",
    ],
    "email": [
        "Tell operations that the Saturday shift is covered",
        "Write to the depot manager about the new rota",
        "Let the team know about the fire drill on Thursday",
    ],
    "playbook": [
        "What do we do when a worker calls in sick an hour before the shift?",
        "Steps for onboarding a temporary forklift driver",
        "How to hand over the night shift",
    ],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the example server stopped at start-up (status {server.returncode})")
        try:
            httpx.get(base + "/", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    sys.exit("the example server did not come up in time")


def progress(done: int, total: int, counts: dict[int, int]) -> None:
    """A bar redrawn in place on a terminal; into a file or a pipe, one line at the end."""
    summary = "  ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
    if not sys.stdout.isatty():
        if done == total:
            print(f"  {done}/{total}  {summary}")
        return
    width = 32
    filled = width * done // total
    sys.stdout.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {summary}")
    if done == total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def sessionlog(*args: str) -> None:
    print(f"\n$ {SHOWN_MANAGE} sessionlog {shlex.join(args)}", flush=True)
    subprocess.run([*MANAGE, "sessionlog", *args], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=48)
    args = parser.parse_args()

    own_log = "SESSIONLOG_PATH" not in os.environ
    log = Path(os.environ.setdefault("SESSIONLOG_PATH", str(HERE / "var" / "coordinator_sessions.jsonl")))
    os.environ.setdefault("DJANGO_DEBUG", "0")  # a quiet server: no per-request noise
    if own_log:
        # The demo's own log starts empty, so what it shows is this run's sessions.
        log.unlink(missing_ok=True)
    else:
        print(f"Appending to SESSIONLOG_PATH={log}: the figures below include what it already held.")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"Starting the example service on {base} (log: {log})")
    server = subprocess.Popen(
        [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base, server)
        rng = random.Random(int(time.time()))
        counts: dict[int, int] = {}
        kinds = list(PROMPTS)
        print(f"Driving {args.sessions} iterate sessions (fill, email, playbook; sync and async views):")
        with httpx.Client(base_url=base, timeout=60.0) as client:
            for number in range(args.sessions):
                kind = kinds[number % len(kinds)]
                body = {
                    "kind": kind,
                    "prompt": f"{rng.choice(PROMPTS[kind])} (request {rng.randint(1000, 9999)})",
                    "max_iterations": rng.choice([2, 3, 3, 4]),
                }
                endpoint = "/v1/iterate-async" if number % 4 == 3 else "/v1/iterate"
                status = client.post(endpoint, json=body).status_code
                counts[status] = counts.get(status, 0) + 1
                progress(number + 1, args.sessions, counts)
        print("  (200 accepted, 422 max_iterations exhausted, 502 provider failed)")
    finally:
        server.terminate()
        server.wait(timeout=10)

    sessionlog("tail", "-n", "10")
    sessionlog("stats")
    sessionlog("validate")
    sessionlog(
        "query",
        "SELECT session_id, a.iteration, a.error FROM sessions, unnest(attempts) t(a) "
        "WHERE a.error LIKE '%not on the roster%' ORDER BY timestamp LIMIT 5",
    )
    report = HERE / "var" / "sessionlog-report.html"
    sessionlog("report", "-o", str(report))
    print(f"\nThe log: {log}\nThe report: {report} (open it in a browser)")
    print(f"Try: {SHOWN_MANAGE} sessionlog tail -f")


if __name__ == "__main__":
    main()
