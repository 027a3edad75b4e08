from __future__ import annotations

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    SessionAttemptRecord,
    build_session_record,
    trim,
)


def test_trim_keeps_a_string_that_fits() -> None:
    assert trim("abc", 3) == "abc"
    assert trim("", 3) == ""


def test_trim_cuts_to_n_characters_ending_in_an_ellipsis() -> None:
    assert trim("abcdef", 4) == "abc…"
    assert len(trim("x" * 5000, 4000)) == 4000


def test_trim_counts_code_points_and_never_splits_a_character() -> None:
    assert trim("😀😀😀", 2) == "😀…"
    assert trim("é中😀", 3) == "é中😀"


def test_accepted_row_takes_iterations_attempts_and_artifact_from_the_response(
    request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    record = build_session_record(request_fill, accepted, duration_ms=1834)
    assert record.final_verdict == "accepted"
    assert record.iterations == 2
    assert record.artifact == {"shift": "sat-night", "workers": ["W-1001"]}
    assert record.attempts == [
        SessionAttemptRecord(1, "validation_failed", "worker W-9999 is not on the roster", "a1"),
        SessionAttemptRecord(2, "accepted", "", "a2"),
    ]
    assert record.grounded_in_roster is None
    assert record.duration_ms == 1834
    assert (record.kind, record.model, record.provider, record.max_iterations) == (
        "fill",
        "qwen2.5",
        "demo",
        3,
    )


def test_roster_check_gets_the_artifact_and_sets_grounded(
    request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    seen = []

    def check(artifact: object) -> bool:
        seen.append(artifact)
        return False

    record = build_session_record(request_fill, accepted, roster_check=check)
    assert seen == [accepted.artifact]
    assert record.grounded_in_roster is False


def test_roster_check_without_an_answer_leaves_grounded_unset(
    request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    record = build_session_record(request_fill, accepted, roster_check=lambda artifact: None)
    assert record.grounded_in_roster is None


def test_roster_check_answer_is_made_a_boolean(
    request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    record = build_session_record(request_fill, accepted, roster_check=lambda artifact: 1)  # type: ignore[arg-type,return-value]
    assert record.grounded_in_roster is True


def test_response_wins_over_failure_and_error(
    request_fill: IterateRequest, accepted: IterateResponse, exhausted: IterateFailure
) -> None:
    record = build_session_record(request_fill, accepted, exhausted, RuntimeError("x"))
    assert record.final_verdict == "accepted"


def test_failure_gives_max_iter_exhausted_without_artifact_or_roster(
    request_fill: IterateRequest, exhausted: IterateFailure
) -> None:
    record = build_session_record(request_fill, None, exhausted, roster_check=lambda artifact: True)
    assert record.final_verdict == "max_iter_exhausted"
    assert record.iterations == 1
    assert record.attempts == [SessionAttemptRecord(1, "no_json", "no JSON object", "b1")]
    assert record.artifact is None
    assert record.grounded_in_roster is None


def test_infra_error_gives_one_synthetic_attempt_with_the_error_text_trimmed_to_800(
    request_fill: IterateRequest,
) -> None:
    record = build_session_record(request_fill, infra_error=ConnectionError("x" * 900))
    assert record.final_verdict == "infra_error"
    assert record.iterations == 0
    assert record.attempts is not None
    [attempt] = record.attempts
    assert (attempt.iteration, attempt.verdict_kind) == (0, "infra_error")
    assert attempt.error == "x" * 799 + "…"


def test_infra_error_without_an_error_has_null_attempts(request_fill: IterateRequest) -> None:
    record = build_session_record(request_fill)
    assert record.final_verdict == "infra_error"
    assert record.attempts is None


def test_empty_history_is_an_empty_list_not_null(request_fill: IterateRequest) -> None:
    record = build_session_record(request_fill, failure=IterateFailure(history=None))  # type: ignore[arg-type]
    assert record.attempts == []


def test_session_id_falls_back_to_the_response_or_failure_trace_id() -> None:
    request = IterateRequest(kind="email")
    assert build_session_record(request, IterateResponse(trace_id="r")).session_id == "r"
    assert build_session_record(request, failure=IterateFailure(trace_id="f")).session_id == "f"
    assert build_session_record(IterateRequest(trace_id="q"), IterateResponse(trace_id="r")).session_id == "q"


def test_prompt_is_trimmed_to_4000_characters() -> None:
    record = build_session_record(IterateRequest(prompt="p" * 3_000_000), IterateResponse())
    assert record.prompt == "p" * 3999 + "…"


def test_building_does_not_keep_the_callers_history_list(request_fill: IterateRequest) -> None:
    history = [IterateAttempt(1, AttemptStatus("accepted"))]
    record = build_session_record(request_fill, IterateResponse(history=history))
    history.append(IterateAttempt(2, AttemptStatus("accepted")))
    assert record.attempts is not None
    assert len(record.attempts) == 1
