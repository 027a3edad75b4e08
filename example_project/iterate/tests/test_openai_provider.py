"""The openai provider over real HTTP, against a small OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import AsyncClient, override_settings
from rest_framework.test import APIClient

Rows = list[dict[str, Any]]


class FakeOpenAI:
    """Answers POST /v1/chat/completions from a script of (status, content, delay)."""

    def __init__(self) -> None:
        # (status, content, delay): content bytes are sent as the raw body.
        self.script: list[tuple[int, str | bytes, float]] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                fake.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status, content, delay = fake.script.pop(0)
                time.sleep(delay)
                if isinstance(content, bytes):
                    data = content
                elif status == 200:
                    message = {"role": "assistant", "content": content}
                    # Every answer counts its tokens, as OpenAI-compatible servers do.
                    usage = {
                        "prompt_tokens": 100 * len(fake.requests),
                        "completion_tokens": 20,
                        "prompt_tokens_details": {"cached_tokens": 50},
                    }
                    data = json.dumps(
                        {
                            "object": "chat.completion",
                            "choices": [{"index": 0, "message": message}],
                            "usage": usage,
                        }
                    ).encode()
                else:
                    data = json.dumps({"error": {"message": content}}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    with override_settings(
        OPENAI_BASE_URL=server.base_url,
        OPENAI_API_KEY="sk-test",
        OPENAI_MODEL="qwen2.5:7b",
        OPENAI_TIMEOUT=5.0,
    ):
        yield server
    server.close()


def post(body: dict[str, Any]) -> Any:
    return APIClient().post("/v1/iterate", {"provider": "openai", **body}, format="json")


def test_openai_provider_drives_the_loop_over_http(openai_server: FakeOpenAI, sessionlog_rows: Rows) -> None:
    openai_server.script = [
        (200, '{"shift": "sat-night", "workers": ["W-4242"]}', 0),
        (200, '{"shift": "sat-night", "workers": ["W-1003"]}', 0),
    ]
    response = post({"kind": "fill", "prompt": "Cover Saturday night"})
    assert response.status_code == 200
    assert response.json()["iterations"] == 2
    first, second = openai_server.requests
    assert first["path"] == "/v1/chat/completions"
    assert first["auth"] == "Bearer sk-test"
    assert first["body"]["model"] == "qwen2.5:7b"
    assert first["body"]["messages"][-1] == {"role": "user", "content": "Cover Saturday night"}
    assert "worker W-4242 is not on the roster" in second["body"]["messages"][-1]["content"]
    [row] = sessionlog_rows
    assert (row["provider"], row["model"], row["final_verdict"]) == ("openai", "qwen2.5:7b", "accepted")
    # The tokens the server counted reach each attempt, and their sum the row.
    assert [a["usage"] for a in row["attempts"]] == [
        {"input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 50},
        {"input_tokens": 200, "output_tokens": 20, "cache_read_tokens": 50},
    ]
    assert row["usage"] == {"input_tokens": 300, "output_tokens": 40, "cache_read_tokens": 100}


def test_model_named_in_the_body_is_sent(openai_server: FakeOpenAI, sessionlog_rows: Rows) -> None:
    openai_server.script = [(200, '{"steps": ["one"]}', 0)]
    post({"kind": "playbook", "prompt": "x", "model": "llama3.1:8b"})
    assert openai_server.requests[0]["body"]["model"] == "llama3.1:8b"
    assert sessionlog_rows[0]["model"] == "llama3.1:8b"


def test_http_error_status_is_502_and_an_infra_error_row(
    openai_server: FakeOpenAI, sessionlog_rows: Rows
) -> None:
    openai_server.script = [(500, "model crashed", 0)]
    response = post({"kind": "email", "prompt": "x"})
    assert response.status_code == 502
    assert response.json()["error"].startswith("provider answered HTTP 500")
    assert sessionlog_rows[0]["final_verdict"] == "infra_error"
    assert "HTTP 500" in sessionlog_rows[0]["attempts"][0]["error"]


def test_refused_connection_is_502(sessionlog_rows: Rows) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with override_settings(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1"):
        response = post({"kind": "email", "prompt": "x"})
    assert response.status_code == 502
    assert "refused the connection" in response.json()["error"]
    assert sessionlog_rows[0]["final_verdict"] == "infra_error"


def test_timeout_is_502(openai_server: FakeOpenAI, sessionlog_rows: Rows) -> None:
    openai_server.script = [(200, '{"steps": ["late"]}', 2.0)]
    with override_settings(OPENAI_TIMEOUT=0.3):
        response = post({"kind": "playbook", "prompt": "x"})
    assert response.status_code == 502
    assert "timed out" in response.json()["error"]
    assert sessionlog_rows[0]["final_verdict"] == "infra_error"


def test_answer_without_choices_is_502(openai_server: FakeOpenAI, sessionlog_rows: Rows) -> None:
    openai_server.script = [(200, b"{}", 0)]
    response = post({"kind": "playbook", "prompt": "x"})
    assert response.status_code == 502
    assert "no choices[0].message.content" in response.json()["error"]


def test_async_view_uses_the_async_client(openai_server: FakeOpenAI, sessionlog_rows: Rows) -> None:
    openai_server.script = [(200, 'Sure: {"to": "ops@example.com", "subject": "s", "body": "b"}', 0)]

    async def call() -> Any:
        return await AsyncClient().post(
            "/v1/iterate-async",
            {"kind": "email", "prompt": "x", "provider": "openai"},
            content_type="application/json",
        )

    response = asyncio.run(call())
    assert response.status_code == 200
    assert sessionlog_rows[0]["provider"] == "openai"
