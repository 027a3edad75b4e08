"""The demo: serve the example project, drive sessions over HTTP, read the log.

    python example_project/demo.py [--sessions 48]

Starts ``manage.py runserver`` on a free port of 127.0.0.1, sends sessions
of every kind to /v1/iterate and /v1/iterate-async, and every sixth to
/v1/fill-instructor (a fill through instructor's own retry loop, logged with
``logged(...)``; the demo model: no network needed), then shows what the app wrote with ``sessionlog tail``,
``stats`` and ``validate``, a DuckDB query for phantom workers, and
writes the HTML report. With OpenTelemetry installed (``demo.sh`` installs
it) the service's spans go to ``var/spans.jsonl``, and the demo puts a row
next to its trace: the same id.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def show_trace_linkage(log: Path, spans_path: Path) -> None:
    """A row next to the spans of its trace, and how many rows found their server span."""
    print(f"\nThe rows and the live traces share one id (the service's spans: {spans_path}):")
    if not spans_path.exists():
        print("  no spans were recorded: install opentelemetry-sdk and opentelemetry-instrumentation-django")
        return
    traces: dict[str, list[dict[str, Any]]] = {}
    for line in spans_path.read_text(encoding="utf-8").splitlines():
        span = json.loads(line)
        traces.setdefault(span["context"]["trace_id"].removeprefix("0x"), []).append(span)
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    linked = [
        row
        for row in rows
        if any(span["kind"] == "SpanKind.SERVER" for span in traces.get(row["session_id"], []))
    ]
    if linked:
        # The row with the most attempts shows the most links.
        row = max(linked, key=lambda row: len(row["attempts"] or []))
        attempts = " ".join(attempt.get("span_id", "-") for attempt in row["attempts"] or [])
        print(f"  row   session_id {row['session_id']}  {row['kind']}, {row['final_verdict']}")
        print(f"        attempts[].span_id {attempts}")
        for span in sorted(traces[row["session_id"]], key=lambda span: str(span["start_time"])):
            context = span["context"]
            print(
                f"  span  {span['name'][:24]:<24} trace_id {context['trace_id'].removeprefix('0x')}"
                f"  span_id {context['span_id'].removeprefix('0x')}"
            )
    print(f"  {len(linked)} of {len(rows)} rows have a server span whose trace id is their session id")


def instructor_session(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The endpoint and body of a fill served by instructor's retry loop, logged as kind fill-instructor."""
    prompt = f"{rng.choice(PROMPTS['fill'])} (request {rng.randint(1000, 9999)})"
    return "/v1/fill-instructor", {"prompt": prompt, "max_iterations": rng.choice([2, 3, 3, 4])}


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
    # The service's spans (example/telemetry.py), this run's only.
    spans_path = HERE / "var" / "spans.jsonl"
    spans_path.parent.mkdir(parents=True, exist_ok=True)
    spans_path.unlink(missing_ok=True)
    os.environ["EXAMPLE_SPANS_PATH"] = str(spans_path)
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
        print(
            f"Driving {args.sessions} iterate sessions (fill, email, playbook; sync and async views;"
            " every sixth a fill through instructor):"
        )
        with httpx.Client(base_url=base, timeout=60.0) as client:
            for number in range(args.sessions):
                kind = kinds[number % len(kinds)]
                body = {
                    "kind": kind,
                    "prompt": f"{rng.choice(PROMPTS[kind])} (request {rng.randint(1000, 9999)})",
                    "max_iterations": rng.choice([2, 3, 3, 4]),
                }
                endpoint = "/v1/iterate-async" if number % 4 == 3 else "/v1/iterate"
                if number % 6 == 5:
                    # Every sixth session: a fill through instructor's own loop (iterate/instructed.py).
                    endpoint, body = instructor_session(rng)
                status = client.post(endpoint, json=body).status_code
                counts[status] = counts.get(status, 0) + 1
                progress(number + 1, args.sessions, counts)
        print("  (200 accepted, 422 max_iterations exhausted, 502 provider failed)")
    finally:
        server.terminate()
        server.wait(timeout=10)

    show_trace_linkage(log, spans_path)
    sessionlog("tail", "-n", "10")
    sessionlog("stats")
    sessionlog("validate")
    sessionlog(
        "query",
        "SELECT session_id, a.iteration, a.error FROM sessions, unnest(attempts) t(a) "
        "WHERE a.error LIKE '%not on the roster%' ORDER BY timestamp LIMIT 5",
    )
    # The rows of instructor's loop, next to the hand-written ones: the same columns, the same verdicts.
    sessionlog(
        "query",
        "SELECT kind, final_verdict, iterations, [a.verdict_kind FOR a IN attempts] AS verdicts "
        "FROM sessions WHERE kind IN ('fill', 'fill-instructor') ORDER BY timestamp DESC LIMIT 6",
    )
    report = HERE / "var" / "sessionlog-report.html"
    sessionlog("report", "-o", str(report))
    print(f"\nThe log: {log}\nThe report: {report} (open it in a browser)")
    print(f"Try: {SHOWN_MANAGE} sessionlog tail -f")


if __name__ == "__main__":
    main()
