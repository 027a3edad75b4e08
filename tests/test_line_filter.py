"""``Scrubber.clean_rows``: the pass over a row's raw line that lets ``scan`` skip the rows holding nothing.

The one rule: a row it calls clean has no finding. Every other answer
only costs time, so the tests hold it to that rule on rows written every
way a writer may write them, and check that it does rule out the rows
that hold nothing, usage included.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from django_sessionlog import scrubbing
from django_sessionlog.read.sources.rules import decode_row
from django_sessionlog.scrubbing import build

from .fake_secrets import LOOKALIKES, PII, SECRETS
from .logs import row
from .needs import missing

USAGE = {"input_tokens": 1200, "output_tokens": 80, "cache_read_tokens": 600}


@pytest.fixture(autouse=True)
def _hyperscan() -> None:
    if not scrubbing.prefilter.available():
        missing("hyperscan is not installed (pip install 'django-sessionlog[scrub]')")


def with_usage(values: dict[str, Any]) -> dict[str, Any]:
    for attempt in values["attempts"]:
        attempt["usage"] = dict(USAGE)
    values["usage"] = {name: count * 2 for name, count in USAGE.items()}
    return values


def lines_of(values: dict[str, Any]) -> list[bytes]:
    """The row as orjson writes it, as json writes it (non-ASCII as \\u escapes), and with ``/`` escaped."""
    plain = orjson.dumps(values) + b"\n"
    ascii_only = json.dumps(values, ensure_ascii=True).encode() + b"\n"
    return [plain, ascii_only, plain.replace(b"/", b"\\/")]


def rows_with(text: str) -> list[dict[str, Any]]:
    """Rows holding ``text`` in every place a finding can be."""
    return [
        row(prompt=f"use {text} now"),
        row(attempts=[{"iteration": 1, "verdict_kind": "accepted", "error": f"refused {text}"}]),
        row(artifact={"shift": "sat-night", "notes": ["ok", {"deep": [text]}]}),
        with_usage(row(prompt=f"{text}")),
    ]


def verdicts(scrubber: scrubbing.Scrubber, lines: list[bytes]) -> list[bool]:
    return scrubber.clean_rows(lines, [decode_row(line).artifact for line in lines])


def assert_sound(scrubber: scrubbing.Scrubber, lines: list[bytes]) -> None:
    for line, clean in zip(lines, verdicts(scrubber, lines), strict=True):
        decoded = decode_row(line)
        errors = [attempt.error for attempt in decoded.attempts or ()]
        found = scrubber.findings(decoded.prompt, errors, decoded.artifact)
        assert not (clean and found), (line, found)


@pytest.mark.parametrize("scrubber", [build(), build(keys=())], ids=["keys", "no-keys"])
def test_no_row_it_calls_clean_holds_a_finding(scrubber: scrubbing.Scrubber) -> None:
    texts = (
        [secret for _, secret, _ in SECRETS]
        + LOOKALIKES
        + [
            "postgres://app:hunter2@db/app",
            "token=Zx8Qp2Lm9Vb4Nc7R",
            'tokens":5',  # in a string, the quote is escaped: not a usage key
            "api_tokens=Zx8Qp2Lm9Vb4Nc7R",
            "W-1001 task-force",
        ]
    )
    lines = [line for text in texts for values in rows_with(text) for line in lines_of(values)]
    assert_sound(scrubber, lines)


def test_a_secret_hidden_by_json_escapes_is_looked_at() -> None:
    # "ghp_..." with its p as \u0070, and a URL's slashes as \/: the bytes
    # hold no keyword, the decoded row does.
    token = next(secret for name, secret, _ in SECRETS if name == "github_token")
    escaped = orjson.dumps(row(prompt=token)).replace(token[2:3].encode(), b"\\u0070", 1) + b"\n"
    slashes = orjson.dumps(row(prompt="postgres://app:hunter2@db/app")).replace(b"/", b"\\/") + b"\n"
    assert decode_row(escaped).prompt == token
    assert verdicts(build(), [escaped, slashes]) == [False, False]
    assert_sound(build(), [escaped, slashes])


def test_an_artifact_key_that_is_a_keys_entry_is_looked_at_however_it_is_spelled() -> None:
    lines = [
        orjson.dumps(row(artifact={"db": {"pass_word": "hunter2"}})) + b"\n",
        orjson.dumps(row(artifact={"steps": [{"Session-Cookie": "abc"}]})) + b"\n",
        orjson.dumps(row(artifact={"Cre.Dential": "abc"})) + b"\n",
    ]
    assert verdicts(build(), lines) == [False, False, False]
    # Without KEYS the same keys are nothing to find.
    assert verdicts(build(keys=()), lines) == [True, True, True]


def test_rows_that_hold_nothing_are_ruled_out_usage_keys_and_all() -> None:
    lines = [orjson.dumps(values) + b"\n" for values in (row(), with_usage(row()))]
    assert verdicts(build(), lines) == [True, True]


def test_in_a_batch_exactly_the_rows_with_a_hit_are_looked_at() -> None:
    aws = orjson.dumps(row(prompt="AKIAIOSFODNN7EXAMPLE")) + b"\n"
    clean = orjson.dumps(with_usage(row())) + b"\n"
    for hits in ([0], [10, 40], [63], [0, 1, 2, 62, 63], []):
        lines = [aws if index in hits else clean for index in range(64)]
        assert verdicts(build(), lines) == [index not in hits for index in range(64)], hits


def test_a_detector_without_keywords_means_every_row_is_looked_at() -> None:
    # Personal data (an email address has no keyword) may be anywhere.
    line = orjson.dumps(row()) + b"\n"
    assert verdicts(build(pii=scrubbing.PII_NAMES), [line]) == [False]
    assert verdicts(build(patterns={"ticket": r"TCK-\d+"}), [line]) == [False]


def test_without_hyperscan_every_row_is_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrubbing.prefilter, "available", lambda: False)
    line = orjson.dumps(row()) + b"\n"
    assert verdicts(build(), [line]) == [False]


def test_personal_data_examples_stay_found_by_scan_with_pii() -> None:
    scrubber = build(pii=scrubbing.PII_NAMES)
    lines = [line for _, text, _ in PII for values in rows_with(text) for line in lines_of(values)]
    assert_sound(scrubber, lines)


def test_a_keyword_token_is_ruled_out_only_where_it_ends_a_key() -> None:
    # gitleaks' rules have detectors keyed on "token" that match "...tokens":
    # one that ends a string value, or is followed by anything but '":', is a hit.
    plural = scrubbing.Detector("tokens", r"(?i)\b\w*tokens\b", keywords=("token",), caseless=True)
    scrubber = scrubbing.Scrubber([plural])
    texts = ["spend api_tokens", "api_tokens=Zx8Qp2Lm9Vb4Nc7R", '{"api_tokens": "x"}', "TOKENS"]
    lines = [line for text in texts for values in rows_with(text) for line in lines_of(values)]
    assert not any(verdicts(scrubber, lines))
    assert_sound(scrubber, lines)
    usage_only = orjson.dumps(with_usage(row())) + b"\n"
    assert verdicts(scrubber, [usage_only]) == [True]


def test_with_gitleaks_rules_the_rows_with_their_secrets_are_looked_at() -> None:
    from .test_gitleaks_rules import PROSE, SERVICES

    scrubber = build(rules="gitleaks")
    found = [line for text, _ in SERVICES for values in rows_with(text) for line in lines_of(values)]
    assert not any(verdicts(scrubber, found))
    prose = [line for text in PROSE for values in rows_with(text) for line in lines_of(values)]
    assert_sound(scrubber, found + prose)
