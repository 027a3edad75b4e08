"""``POST /v1/fill-instructor``: instructor's own loop against the demo endpoint, one row per call."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from iterate import instructed
from iterate.providers import ProviderError

Rows = list[dict[str, Any]]
BODY = {"prompt": "Fill the Saturday night shift", "max_iterations": 3}


@pytest.fixture
def scripted_instructor(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The conftest's scripted provider, behind the view's OpenAI-compatible endpoint."""
    from conftest import ScriptedProvider

    def install(answers: list[Any]) -> ScriptedProvider:
        provider = ScriptedProvider(answers)
        monkeypatch.setattr(instructed, "get_provider", lambda name: provider)
        return provider

    return install


def post(body: Any) -> Any:
    return APIClient().post("/v1/fill-instructor", body, format="json")


def test_prose_then_a_phantom_worker_then_a_fix_is_one_row_from_instructors_loop(
    scripted_instructor: Any, sessionlog_rows: Rows
) -> None:
    provider = scripted_instructor(
        [
            "I think Ada and Bela could do it.",
            '{"shift": "sat-night", "workers": ["W-1001", "W-9999"]}',
            'Here: ```json\n{"shift": "sat-night", "workers": ["W-1001", "W-1002"]}\n```',
        ]
    )
    response = post(BODY)
    assert response.status_code == 200
    assert response.json()["artifact"] == {"shift": "sat-night", "workers": ["W-1001", "W-1002"]}
    [row] = sessionlog_rows
    assert (row["kind"], row["provider"], row["model"]) == ("fill-instructor", "demo", "scripted")
    assert row["prompt"] == BODY["prompt"]
    assert (row["final_verdict"], row["iterations"], row["max_iterations"]) == ("accepted", 3, 3)
    assert [a["verdict_kind"] for a in row["attempts"]] == ["no_json", "validation_failed", "accepted"]
    assert row["attempts"][1]["error"] == "worker W-9999 is not on the roster"
    assert all(a["usage"]["output_tokens"] > 0 for a in row["attempts"])
    assert "grounded_in_roster" in row
    # instructor fed the validator's words back to the model.
    assert "worker W-9999 is not on the roster" in provider.seen[2][-1]["content"]


def test_retries_running_out_is_a_422_and_a_max_iter_exhausted_row(
    scripted_instructor: Any, sessionlog_rows: Rows
) -> None:
    scripted_instructor(['{"shift": "sat-night", "workers": ["W-9999"]}'] * 2)
    response = post({**BODY, "max_iterations": 2})
    assert response.status_code == 422
    [row] = sessionlog_rows
    assert (row["final_verdict"], row["iterations"]) == ("max_iter_exhausted", 2)


def test_an_outage_is_a_502_and_an_infra_error_row(scripted_instructor: Any, sessionlog_rows: Rows) -> None:
    scripted_instructor([ProviderError("demo provider timed out after 30s (simulated outage)")])
    response = post(BODY)
    assert response.status_code == 502
    [row] = sessionlog_rows
    assert row["final_verdict"] == "infra_error"
    assert "simulated outage" in row["attempts"][0]["error"]


def test_the_demo_model_serves_it_without_a_network(sessionlog_rows: Rows) -> None:
    statuses = {post({**BODY, "prompt": f"Cover shift {n}"}).status_code for n in range(8)}
    assert statuses <= {200, 422, 502}
    assert len(sessionlog_rows) == 8
    assert {row["kind"] for row in sessionlog_rows} == {"fill-instructor"}


def test_a_bad_body_is_a_400_and_no_row(sessionlog_rows: Rows) -> None:
    assert post({"max_iterations": 3}).status_code == 400
    assert sessionlog_rows == []


def test_the_row_carries_the_requests_trace_id_as_the_hand_written_loops_do(
    scripted_instructor: Any, sessionlog_rows: Rows
) -> None:
    """instructor's adapter cannot see the request: the row takes the id TraceIdMiddleware gave it."""
    scripted_instructor(['{"shift": "sat-night", "workers": ["W-1001", "W-1002"]}'])
    response = APIClient().post(
        "/v1/fill-instructor", BODY, format="json", headers={"X-Lakehouse-Trace-Id": "trace-instr-1"}
    )
    assert response["X-Lakehouse-Trace-Id"] == "trace-instr-1"
    [row] = sessionlog_rows
    assert row["session_id"] == "trace-instr-1"
