"""A scripted OpenAI-compatible chat server on 127.0.0.1, for the integrations' tests and bench.

Real clients (openai, instructor, pydantic-ai) talk to it over HTTP, so the
tests exercise the libraries as they run in production. The script is
picked by the request's ``model``; the attempt is counted from the
assistant turns already in ``messages`` (the first answer is attempt 1), so
a retry gets the script's next answer and the last one repeats. The JSON
goes into a tool call when the request offers ``tools``, else into the
text. Every answer carries ``usage``, different per attempt.

``POST /v1/responses`` answers the same scripts in OpenAI's Responses shape
(``output`` items, ``usage.input_tokens``, ``responses_usage_for``). Its
requests carry no assistant turns (instructor's retry adds a ``user``
correction), so there the attempt is the count of ``user`` turns in
``input`` (the tests' prompts have one).

    with ScriptedServer({"fix": [PROSE, Json(bad), Json(good)]}) as server:
        OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Prose:
    """An answer of text with no JSON in it."""

    text: str = "Sure! I have thought about this carefully and the plan above covers everything."
    usage: dict[str, Any] | None = None  # instead of usage_for(attempt)


@dataclass(frozen=True)
class Json:
    """An answer holding this JSON value (as a tool call when the request has tools: ``tool``, or the first)."""

    value: Any
    tool: str | None = None
    finish_reason: str | None = None  # "length": an answer cut at max_tokens
    usage: dict[str, Any] | None = None  # instead of usage_for(attempt)


@dataclass(frozen=True)
class Status:
    """An HTTP error answer."""

    code: int = 500


@dataclass(frozen=True)
class Slow:
    """A valid answer that takes this long to come."""

    seconds: float
    answer: Prose | Json


Answer = Prose | Json | Status | Slow
PROSE = Prose()


def usage_for(attempt: int) -> dict[str, Any]:
    """The usage the server reports for an attempt: easy to recognise in a row."""
    return {
        "prompt_tokens": 100 * attempt,
        "completion_tokens": 10 * attempt,
        "total_tokens": 110 * attempt,
        "prompt_tokens_details": {"cached_tokens": attempt},
        "completion_tokens_details": {"reasoning_tokens": 2 * attempt},
    }


def responses_usage_for(attempt: int) -> dict[str, Any]:
    """``usage_for(attempt)`` in the Responses API's shape (the same counts)."""
    return {
        "input_tokens": 100 * attempt,
        "output_tokens": 10 * attempt,
        "total_tokens": 110 * attempt,
        "input_tokens_details": {"cached_tokens": attempt},
        "output_tokens_details": {"reasoning_tokens": 2 * attempt},
    }


def responses_attempt_of(body: Mapping[str, Any]) -> int:
    """A Responses request's attempt: its ``user`` turns (a retry adds one)."""
    items = body.get("input", ())
    if isinstance(items, str):
        return 1
    users = sum(1 for item in items if isinstance(item, dict) and item.get("role") == "user")
    return max(users, 1)


def attempt_of(body: Mapping[str, Any]) -> int:
    return 1 + sum(1 for message in body.get("messages", ()) if message.get("role") == "assistant")


def _completion(body: Mapping[str, Any], answer: Prose | Json, attempt: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish_reason = "stop"
    if isinstance(answer, Prose):
        message["content"] = answer.text
    elif body.get("tools"):
        name = answer.tool or body["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {
                "id": f"call_{attempt}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(answer.value)},
            }
        ]
        finish_reason = "tool_calls"
    else:
        message["content"] = json.dumps(answer.value)
    if isinstance(answer, Json) and answer.finish_reason:
        finish_reason = answer.finish_reason
    return {
        "id": f"chatcmpl-{attempt}",
        "object": "chat.completion",
        "created": 1_765_000_000,
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage_for(attempt) if answer.usage is None else answer.usage,
    }


def _response(body: Mapping[str, Any], answer: Prose | Json, attempt: int) -> dict[str, Any]:
    """The answer as a Responses API ``response``: a ``function_call`` item when there are tools."""
    item: dict[str, Any]
    if isinstance(answer, Json) and body.get("tools"):
        item = {
            "type": "function_call",
            "id": f"fc_{attempt}",
            "call_id": f"call_{attempt}",
            "name": answer.tool or body["tools"][0]["name"],
            "arguments": json.dumps(answer.value),
            "status": "completed",
        }
    else:
        text = answer.text if isinstance(answer, Prose) else json.dumps(answer.value)
        item = {
            "type": "message",
            "id": f"msg_{attempt}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
    return {
        "id": f"resp_{attempt}",
        "object": "response",
        "created_at": 1_765_000_000,
        "model": body.get("model", ""),
        "status": "completed",
        "output": [item],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": responses_usage_for(attempt) if answer.usage is None else answer.usage,
    }


class ScriptedServer:
    """The server, its scripts by model, and the requests it answered (``bodies``)."""

    def __init__(self, scripts: Mapping[str, Sequence[Answer]]) -> None:
        self.scripts = {model: list(answers) for model, answers in scripts.items()}
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def requests_for(self, model: str) -> int:
        with self._lock:
            return sum(1 for body in self.bodies if body.get("model") == model)

    def answer(self, body: dict[str, Any], path: str = "/v1/chat/completions") -> tuple[int, dict[str, Any]]:
        responses = path.rstrip("/").endswith("/responses")
        with self._lock:
            self.bodies.append(body)
        script = self.scripts.get(str(body.get("model")))
        if not script:
            return 404, {
                "error": {"message": f"no script for model {body.get('model')!r}", "type": "not_found"}
            }
        attempt = responses_attempt_of(body) if responses else attempt_of(body)
        answer = script[min(attempt, len(script)) - 1]
        if isinstance(answer, Slow):
            time.sleep(answer.seconds)
            answer = answer.answer
        if isinstance(answer, Status):
            return answer.code, {"error": {"message": f"scripted HTTP {answer.code}", "type": "server_error"}}
        if responses:
            return 200, _response(body, answer, attempt)
        return 200, _completion(body, answer, attempt)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one answer, no 40 ms wait for a delayed ACK

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    status, answer = 400, {"error": {"message": "not JSON", "type": "invalid_request"}}
                else:
                    status, answer = server.answer(body, self.path)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextmanager
def scripted_server(scripts: Mapping[str, Sequence[Answer]]) -> Iterator[ScriptedServer]:
    with ScriptedServer(scripts) as server:
        yield server


def refused_url() -> str:
    """A base URL where nothing listens (a port that was free a moment ago)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def main() -> None:
    """Serve the integrations' test scripts in a process of its own (the bench's provider): prints the base URL."""
    from tests.contrib.conftest import SCRIPTS

    with ScriptedServer(SCRIPTS) as server:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
