"""The documentation's loop, trace URLs and scrubbing tables, pasted as a host would and run.

``readme`` finds each section by its heading in whichever page holds it:
"Logging a session" and "Linking rows to your tracing tool" are pages of
their own, "What the log never holds" is ``docs/scrubbing.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog import IterateRequest, IterateResponse, iterate_finished, scrubbing
from django_sessionlog.checks import check_settings
from django_sessionlog.read.pages.shared import trace_link
from django_sessionlog.testing import capture_sessions

from . import readme
from .otel import Spans, span_id


def _loop(answers: list[Any]) -> Callable[..., Any]:
    """The README's ``iterate`` function, with a model that gives ``answers`` and a validator."""
    [code] = [block for block in readme.blocks("Logging a session", "python") if "def iterate(" in block]
    given = list(answers)

    def ask_model(messages: list[dict[str, str]]) -> str:
        answer = given.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    def validate(kind: str, artifact: Any) -> str:
        return "" if isinstance(artifact, dict) and artifact.get("workers") else "workers is empty"

    namespace: dict[str, Any] = {"ask_model": ask_model, "validate": validate}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["iterate"]  # type: ignore[no-any-return]


def test_the_readme_loop_logs_an_accepted_session_with_its_history() -> None:
    iterate = _loop(["Sure!", json.dumps({"workers": []}), json.dumps({"workers": ["W-1001"]})])
    with capture_sessions() as rows:
        assert iterate("fill", "Cover Saturday", "4bf92f3577b34da6a3ce929d0e0e4736") == {
            "workers": ["W-1001"]
        }
    [row] = rows
    assert row["final_verdict"] == "accepted"
    assert row["iterations"] == 3
    assert row["attempts"] == [
        {"iteration": 1, "verdict_kind": "no_json", "error": "no JSON object in the answer"},
        {"iteration": 2, "verdict_kind": "validation_failed", "error": "workers is empty"},
        {"iteration": 3, "verdict_kind": "accepted"},
    ]
    assert row["artifact"] == {"workers": ["W-1001"]}


def test_the_readme_loop_logs_an_exhausted_session() -> None:
    iterate = _loop(["no", "still no"])
    with capture_sessions() as rows:
        assert iterate("fill", "Cover Saturday", "t1", max_iterations=2) is None
    assert [(r["final_verdict"], r["iterations"], len(r["attempts"])) for r in rows] == [
        ("max_iter_exhausted", 2, 2)
    ]


def test_the_readme_loop_logs_an_infra_error_and_lets_the_exception_through() -> None:
    iterate = _loop([ConnectionError("the provider is down")])
    with capture_sessions() as rows, pytest.raises(ConnectionError):
        iterate("fill", "Cover Saturday", "t2")
    assert rows[0]["final_verdict"] == "infra_error"
    assert rows[0]["attempts"] == [
        {"iteration": 0, "verdict_kind": "infra_error", "error": "the provider is down"}
    ]


@override_settings(SESSIONLOG={"OTEL_SPANS": True})
def test_the_readme_loop_links_each_attempt_to_its_span(spans: Spans) -> None:
    iterate = _loop(["Sure!", json.dumps({"workers": ["W-1001"]})])
    with capture_sessions() as rows:
        iterate("fill", "Cover Saturday", "")
    [row] = rows
    session_span = spans.named("iterate fill")
    attempts = [spans.named("attempt 1"), spans.named("attempt 2")]
    assert [a["span_id"] for a in row["attempts"]] == [span_id(a) for a in attempts]
    assert all(a.parent is not None and a.parent.span_id == session_span.context.span_id for a in attempts)
    assert row["session_id"] == format(session_span.context.trace_id, "032x")


def test_the_readme_trace_urls_pass_the_check_and_link_a_session() -> None:
    text = readme.section("Linking rows to your tracing tool")
    rows = re.findall(r"^\| ([^|]+) \| `(https?://[^`]+)`", text, re.MULTILINE)
    assert [tool for tool, _ in rows] == [
        "Langfuse",
        "Pydantic Logfire",
        "Jaeger",
        "Grafana Tempo",
        "Honeycomb",
    ]
    session_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    for tool, template in rows:
        with override_settings(SESSIONLOG={"TRACE_URL": template}):
            assert check_settings() == [], tool
        link = trace_link(template, session_id)
        assert session_id in link, tool
        assert not set("{} ") & set(link), tool


# --- "What the log never holds": every example of the tables does what it says ---

_ROW = re.compile(
    r"^\| `(?P<name>[a-z_]+)` \| (?P<what>.*) \| (?P<caught>.*) \| (?P<left>.*) \|$", re.MULTILINE
)


def _detector_rows() -> list[tuple[str, str, list[str]]]:
    """(name, the example caught, the look-alikes left) of each row of the section's tables."""
    text = readme.section("What the log never holds")
    found = []
    for match in _ROW.finditer(text):
        [caught] = re.findall(r"`([^`]+)`", match["caught"])
        found.append((match["name"], caught, re.findall(r"`([^`]+)`", match["left"])))
    return found


def test_the_readme_lists_every_detector_with_an_example() -> None:
    assert [name for name, _, _ in _detector_rows()] == [
        "openai_key",
        "anthropic_key",
        "aws_access_key_id",
        "google_api_key",
        "github_token",
        "slack_token",
        "stripe_key",
        "jwt",
        "bearer_token",
        "private_key",
        "url_password",
        "gitlab_token",
        "huggingface_token",
        "npm_token",
        "digitalocean_token",
        "sendgrid_key",
        "google_oauth_token",
        "databricks_token",
        "azure_storage_key",
        "assigned_secret",
        "email",
        "phone",
        "card",
        "iban",
    ]
    assert {name for name, _, _ in _detector_rows()} == set(scrubbing.build().names) | set(
        scrubbing.PII_NAMES
    )


@pytest.mark.parametrize(
    ("name", "caught", "left"), _detector_rows(), ids=[row[0] for row in _detector_rows()]
)
def test_each_readme_example_is_caught_and_each_look_alike_left(
    name: str, caught: str, left: list[str]
) -> None:
    scrubber = scrubbing.build(pii=[name] if name in scrubbing.PII_NAMES else ())
    assert f"[scrubbed:{name}]" in scrubber.scrub(caught)
    assert not scrubber.clean([caught])
    for look_alike in left:
        assert scrubber.scrub(look_alike) == look_alike


def test_the_readme_scrub_setting_passes_the_checks_and_scrubs() -> None:
    [code] = readme.blocks("What the log never holds", "python")
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    with override_settings(SESSIONLOG=namespace["SESSIONLOG"]):
        assert check_settings() == []
        with capture_sessions() as rows:
            iterate_finished.send(
                sender=None,
                request=IterateRequest(trace_id="t", kind="fill", prompt="mail ana@example.com"),
                response=IterateResponse("t", 1, [], {"session_key": "abc", "note": "acme_" + "x" * 32}),
            )
    assert rows[0]["prompt"] == "mail [scrubbed:email]"
    assert rows[0]["artifact"] == {
        "session_key": "[scrubbed:key:session_key]",
        "note": "[scrubbed:acme_token]",
    }
