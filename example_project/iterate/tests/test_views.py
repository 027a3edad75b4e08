from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import AsyncClient, override_settings
from rest_framework.test import APIClient

from iterate.providers import ProviderError

Rows = list[dict[str, Any]]
FILL = {"kind": "fill", "prompt": "Fill the Saturday night shift", "max_iterations": 3}


def post(body: Any, **headers: str) -> Any:
    return APIClient().post("/v1/iterate", body, format="json", headers=headers)


def test_accepted_after_a_phantom_worker_is_fed_back(scripted: Any, sessionlog_rows: Rows) -> None:
    provider = scripted(
        [
            "I think Ada and Bela could do it.",
            '{"shift": "sat-night", "workers": ["W-1001", "W-9999"]}',
            'Here: ```json\n{"shift": "sat-night", "workers": ["W-1001", "W-1002"]}\n```',
        ]
    )
    response = post(FILL, **{"X-Lakehouse-Trace-Id": "trace-abc"})
    assert response.status_code == 200
    body = response.json()
    assert body["trace_id"] == "trace-abc"
    assert body["iterations"] == 3
    assert body["artifact"] == {"shift": "sat-night", "workers": ["W-1001", "W-1002"]}
    assert [h["status"]["kind"] for h in body["history"]] == ["no_json", "validation_failed", "accepted"]
    assert all(len(h["span_id"]) == 16 for h in body["history"])
    # The error went back to the model as its next instruction.
    assert "worker W-9999 is not on the roster" in provider.seen[2][-1]["content"]
    [row] = sessionlog_rows
    assert row["session_id"] == "trace-abc"
    assert row["final_verdict"] == "accepted"
    assert row["attempts"][1] == {
        "iteration": 2,
        "verdict_kind": "validation_failed",
        "error": "worker W-9999 is not on the roster",
        "span_id": body["history"][1]["span_id"],
    }
    assert "grounded_in_roster" in row  # the fill roster check ran


def test_max_iterations_exhausted_is_422_with_the_history(scripted: Any, sessionlog_rows: Rows) -> None:
    scripted(["no json here", '{"shift": "sat-night", "workers": []}'])
    response = post({**FILL, "max_iterations": 2})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"trace_id", "iterations", "history"}
    assert body["iterations"] == 2
    [row] = sessionlog_rows
    assert row["final_verdict"] == "max_iter_exhausted"
    assert row["attempts"][1]["error"] == "'workers' must be a non-empty list of worker ids"
    assert "artifact" not in row


def test_provider_failure_is_502_and_an_infra_error_row(scripted: Any, sessionlog_rows: Rows) -> None:
    scripted([ProviderError("provider answered HTTP 503: overloaded")])
    response = post(FILL)
    assert response.status_code == 502
    assert response.json()["error"] == "provider answered HTTP 503: overloaded"
    [row] = sessionlog_rows
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"] == [
        {"iteration": 0, "verdict_kind": "infra_error", "error": "provider answered HTTP 503: overloaded"}
    ]


def test_a_view_that_crashes_still_leaves_an_infra_error_row(scripted: Any, sessionlog_rows: Rows) -> None:
    scripted([RuntimeError("bug in the loop")])
    with pytest.raises(RuntimeError, match="bug in the loop"):
        post(FILL)
    [row] = sessionlog_rows
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"] == "bug in the loop"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x"}, "kind"),
        ({"kind": "poem", "prompt": "x"}, "kind"),
        ({"kind": "fill"}, "prompt"),
        ({"kind": "fill", "prompt": "x" * 32_001}, "prompt"),
        ({"kind": "fill", "prompt": "x", "max_iterations": 0}, "max_iterations"),
        ({"kind": "fill", "prompt": "x", "max_iterations": 21}, "max_iterations"),
        ({"kind": "fill", "prompt": "x", "max_iterations": True}, "max_iterations"),
        ({"kind": "fill", "prompt": "x", "max_iterations": 2.5}, "max_iterations"),
        ({"kind": "fill", "prompt": "x", "provider": "skynet"}, "provider"),
    ],
)
def test_bad_body_is_400_with_field_errors_and_no_row(
    body: dict[str, Any], field: str, sessionlog_rows: Rows
) -> None:
    response = post(body)
    assert response.status_code == 400
    assert field in response.json()
    assert sessionlog_rows == []


def test_max_iterations_defaults_to_3(scripted: Any, sessionlog_rows: Rows) -> None:
    scripted(["a", "b", "c"])
    assert post({"kind": "email", "prompt": "x"}).json()["iterations"] == 3
    assert sessionlog_rows[0]["max_iterations"] == 3


def test_every_kind_is_validated_for_its_shape(scripted: Any, sessionlog_rows: Rows) -> None:
    scripted(
        [
            '{"to": "ops", "subject": "s", "body": "b"}',
            '{"to": "ops@example.com", "subject": "s", "body": "b"}',
        ]
    )
    assert post({"kind": "email", "prompt": "x", "max_iterations": 2}).status_code == 200
    scripted(['{"steps": ["check", " "]}', '{"steps": ["check", "call"]}'])
    assert post({"kind": "playbook", "prompt": "x", "max_iterations": 2}).status_code == 200
    assert sessionlog_rows[0]["attempts"][0]["error"] == "'to' is not an email address: 'ops'"
    assert sessionlog_rows[1]["attempts"][0]["error"] == "steps[1] is empty"
    assert "grounded_in_roster" not in sessionlog_rows[1]


def test_async_view_writes_its_row_through_asend(scripted: Any, sessionlog_rows: Rows) -> None:
    import asyncio

    scripted(['{"shift": "sat-night", "workers": ["W-1001"]}'])

    async def call() -> Any:
        return await AsyncClient().post(
            "/v1/iterate-async",
            FILL,
            content_type="application/json",
            headers={"X-Lakehouse-Trace-Id": "async-1"},
        )

    response = asyncio.run(call())
    assert response.status_code == 200
    assert response["X-Lakehouse-Trace-Id"] == "async-1"
    assert json.loads(response.content)["trace_id"] == "async-1"
    assert [row["session_id"] for row in sessionlog_rows] == ["async-1"]


def test_async_view_rejects_a_bad_body_with_400_and_no_row(sessionlog_rows: Rows) -> None:
    import asyncio

    async def call(body: str) -> Any:
        return await AsyncClient().post("/v1/iterate-async", body, content_type="application/json")

    assert asyncio.run(call("{not json")).status_code == 400
    response = asyncio.run(call(json.dumps({"kind": "fill"})))
    assert response.status_code == 400
    assert "prompt" in json.loads(response.content)
    assert sessionlog_rows == []


def test_the_demo_provider_writes_real_rows_to_the_configured_file(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    settings = {"PATH": str(log), "ROSTER_CHECKS": {"fill": "iterate.roster.grounded"}, "RAISE_ERRORS": True}
    with override_settings(SESSIONLOG=settings):
        statuses = [
            post({"kind": kind, "prompt": f"demo {n}"}).status_code
            for n in range(12)
            for kind in ("fill", "email", "playbook")
        ]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == len(statuses) == 36
    assert set(statuses) <= {200, 422, 502}
    assert {row["kind"] for row in rows} == {"fill", "email", "playbook"}
    assert {row["provider"] for row in rows} == {"demo"}
