"""The detectors and the Scrubber (``django_sessionlog.scrubbing``), without Django."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog import scrubbing
from django_sessionlog.conf import conf
from django_sessionlog.scrubbing import Finding, build, iban_checksum, luhn

from .fake_secrets import CUT_SHORT_KEY, LOOKALIKES, PII, PII_LOOKALIKES, SECRETS
from .needs import missing

DEFAULT = build()
ALL_PII = build(pii=scrubbing.PII_NAMES)


def ids(examples: list[tuple[str, str, str]]) -> list[str]:
    return [f"{name}-{index}" for index, (name, _, _) in enumerate(examples)]


@pytest.mark.parametrize(("name", "secret", "scrubbed"), SECRETS, ids=ids(SECRETS))
def test_each_default_secret_is_replaced_by_its_marker(name: str, secret: str, scrubbed: str) -> None:
    text = f"use {secret} now"
    assert DEFAULT.scrub(text) == f"use {scrubbed} now"
    assert f"[scrubbed:{name}]" in scrubbed


@pytest.mark.parametrize(("name", "secret", "scrubbed"), SECRETS, ids=ids(SECRETS))
def test_the_fast_test_finds_every_secret_the_scrubber_replaces(
    name: str, secret: str, scrubbed: str
) -> None:
    # The fast path must never call a text clean that holds a secret: the
    # secret at the start, in the middle and at the end of a long text.
    filler = "Fill the Saturday night shift at the Harbour Street depot. " * 60
    for text in (secret + " " + filler, filler + secret + " " + filler, filler + secret):
        assert not DEFAULT.clean([text])
    assert not DEFAULT.clean(["a prompt", f"an error with {secret}", "W-1001"])


@pytest.mark.parametrize("text", LOOKALIKES)
def test_look_alikes_stay(text: str) -> None:
    assert DEFAULT.scrub(text) == text
    assert DEFAULT.clean([text])


@pytest.mark.parametrize(("name", "value", "scrubbed"), PII, ids=ids(PII))
def test_personal_data_is_scrubbed_only_when_asked_for(name: str, value: str, scrubbed: str) -> None:
    text = f"call {value} today"
    assert DEFAULT.scrub(text) == text
    assert build(pii=[name]).scrub(text) == f"call {scrubbed} today"
    assert ALL_PII.scrub(text) == f"call {scrubbed} today"
    assert not build(pii=[name]).clean([text])


@pytest.mark.parametrize(
    ("name", "text"), [(name, text) for name, texts in PII_LOOKALIKES.items() for text in texts]
)
def test_personal_data_look_alikes_stay(name: str, text: str) -> None:
    scrubber = build(secrets=False, pii=[name])
    assert scrubber.scrub(text) == text
    assert scrubber.clean([text])


def test_a_private_key_cut_short_is_scrubbed_to_the_end_of_the_text() -> None:
    assert DEFAULT.scrub("key: " + CUT_SHORT_KEY) == "key: [scrubbed:private_key]"


def test_a_bearer_jwt_is_named_a_jwt_and_keeps_the_word() -> None:
    jwt = next(secret for name, secret, _ in SECRETS if name == "jwt")
    assert DEFAULT.scrub(f"Authorization: Bearer {jwt}") == "Authorization: Bearer [scrubbed:jwt]"


def test_a_password_in_a_url_wins_over_the_email_look_alike_around_it() -> None:
    assert ALL_PII.scrub("postgres://app:pw1@db.example.com/x") == (
        "postgres://app:[scrubbed:url_password]@db.example.com/x"
    )


def test_an_iban_is_not_taken_for_a_card_number() -> None:
    assert ALL_PII.scrub("pay DE89 3704 0044 0532 0130 00") == "pay [scrubbed:iban]"


def test_checksums() -> None:
    assert luhn("4111111111111111")
    assert not luhn("4111111111111112")
    assert iban_checksum("GB82 WEST 1234 5698 7654 32")
    assert not iban_checksum("GB83 WEST 1234 5698 7654 32")
    assert not iban_checksum("GB82")


def test_scrubbing_twice_changes_nothing_more_and_markers_are_never_found_again() -> None:
    text = " ".join(secret for _, secret, _ in SECRETS + PII)
    once = ALL_PII.scrub(text)
    assert ALL_PII.scrub(once) == once
    assert ALL_PII.spans(once) == []
    assert ALL_PII.findings(once, [], {}) == []


def test_every_finding_has_a_name_the_scrubber_lists() -> None:
    names = set(ALL_PII.names)
    assert set(build().names) | set(scrubbing.PII_NAMES) == names
    assert {name for name, _, _ in SECRETS + PII} == names


# --- the artifact ---------------------------------------------------------------

SECRET = next(secret for name, secret, _ in SECRETS if name == "openai_key")


def test_strings_at_any_depth_are_scrubbed_and_the_shape_and_other_values_are_kept() -> None:
    when = datetime.datetime(2026, 11, 24, tzinfo=datetime.timezone.utc)
    artifact: dict[str, Any] = {
        "shift": "sat-night",
        "steps": [{"note": f"use {SECRET}", "n": 1}, [f"deep {SECRET}", 2.5, None, True]],
        "count": 3,
        "at": when,
        "price": decimal.Decimal("1.10"),
        "pair": ("a", SECRET),
    }
    scrubbed = DEFAULT.scrub_value(artifact)
    assert scrubbed == {
        "shift": "sat-night",
        "steps": [
            {"note": "use [scrubbed:openai_key]", "n": 1},
            ["deep [scrubbed:openai_key]", 2.5, None, True],
        ],
        "count": 3,
        "at": when,
        "price": decimal.Decimal("1.10"),
        "pair": ("a", "[scrubbed:openai_key]"),
    }
    assert list(scrubbed) == list(artifact)
    assert artifact["steps"][0]["note"] == f"use {SECRET}"  # the host's own objects are never changed


def test_a_clean_artifact_comes_back_as_the_same_object() -> None:
    artifact = {"shift": "sat-night", "workers": ["W-1001"], "meta": {"n": 1}}
    assert DEFAULT.scrub_value(artifact) is artifact
    assert DEFAULT.scrub_parts("p", ["e"], artifact) is None


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("password", "password"),
        ("db_password", "password"),
        ("X-Api-Key", "api_key"),
        ("apiKey", "api_key"),
        ("Authorization", "authorization"),
        ("Set-Cookie", "cookie"),
        ("client_secret", "secret"),
        ("refreshToken", "token"),
        ("PRIVATE-KEY", "private_key"),
        ("passwd", "passwd"),
    ],
)
def test_keys_replace_the_whole_string_of_a_key_that_holds_an_entry(key: str, rule: str) -> None:
    assert DEFAULT.scrub_value({key: "hunter2", "other": "hunter2"}) == {
        key: f"[scrubbed:key:{rule}]",
        "other": "hunter2",
    }


def test_keys_keep_non_string_values_and_empty_strings_and_scrub_a_dict_by_its_own_keys() -> None:
    artifact = {
        "token_count": 12,
        "password": "",
        "tokens": ["a", "b", 3],
        "credentials": {"user": "ana", "pwd": "x"},
        "usage": {"total_tokens": 40},
    }
    assert DEFAULT.scrub_value(artifact) == {
        "token_count": 12,
        "password": "",
        "tokens": ["[scrubbed:key:token]", "[scrubbed:key:token]", 3],
        "credentials": {"user": "ana", "pwd": "[scrubbed:key:pwd]"},
        "usage": {"total_tokens": 40},
    }
    assert build(keys=[]).scrub_value({"password": "hunter2"}) == {"password": "hunter2"}


def test_values_the_writer_turns_into_json_are_scrubbed_in_that_form() -> None:
    @dataclasses.dataclass
    class Login:
        user: str
        note: str

    assert DEFAULT.scrub_value({"login": Login("ana", f"key {SECRET}")}) == {
        "login": {"user": "ana", "note": "key [scrubbed:openai_key]"}
    }
    assert DEFAULT.scrub_value({"raw": f"key {SECRET}".encode()}) == {"raw": "key [scrubbed:openai_key]"}
    assert DEFAULT.scrub_value({"tags": {SECRET}}) == {"tags": ["[scrubbed:openai_key]"]}
    clean = {"raw": b"W-1001", "login": Login("ana", "hi")}
    assert DEFAULT.scrub_value(clean) is clean


def test_a_cycle_is_cut_as_the_writer_cuts_it() -> None:
    artifact: dict[str, Any] = {"note": SECRET}
    artifact["self"] = artifact
    assert DEFAULT.scrub_value(artifact) == {"note": "[scrubbed:openai_key]", "self": "<cycle>"}
    assert DEFAULT.scrub_parts("p", [], artifact) is not None


def test_findings_name_the_field_never_the_text() -> None:
    jwt = next(secret for name, secret, _ in SECRETS if name == "jwt")
    found = DEFAULT.findings(
        f"prompt with {SECRET}",
        ["fine", f"Bearer {jwt}"],
        {"db": {"password": "hunter2", "hosts": ["ok", f"postgres://a:b@c/{SECRET}"]}, "odd key": SECRET},
    )
    assert found == [
        Finding("prompt", "openai_key"),
        Finding("attempts[1].error", "jwt"),
        Finding("artifact.db.password", "key:password"),
        Finding("artifact.db.hosts[1]", "url_password"),
        Finding("artifact.db.hosts[1]", "openai_key"),
        Finding('artifact["odd key"]', "openai_key"),
    ]
    assert not any(SECRET in field or "hunter2" in field for field, _ in found)


def test_a_secret_in_a_key_is_hidden_in_the_path_too() -> None:
    [finding] = DEFAULT.findings("", [], {SECRET: {"password": "x"}})
    assert finding == Finding('artifact["[scrubbed:openai_key]"].password', "key:password")


# --- patterns of the team's own ----------------------------------------------------


def test_patterns_of_the_team_own_are_found_by_their_name() -> None:
    scrubber = build(patterns={"acme_token": r"acme_[A-Za-z0-9]{8}", "ticket": r"TICKET-(?P<secret>\d+)"})
    assert (
        scrubber.scrub("acme_Ab3dEf7h and TICKET-4711")
        == "[scrubbed:acme_token] and TICKET-[scrubbed:ticket]"
    )
    assert not scrubber.clean(["x", "acme_Ab3dEf7h"])


def test_an_anchored_pattern_is_looked_for_in_each_text_alone() -> None:
    scrubber = build(secrets=False, keys=[], patterns={"whole": r"^hunter2$"})
    assert not scrubber.clean(["a prompt", "hunter2"])
    assert scrubber.scrub_parts("a prompt", ["hunter2"], None) == ("a prompt", ["[scrubbed:whole]"], None)


def test_a_pattern_that_matches_inside_a_marker_leaves_the_marker_whole() -> None:
    scrubber = build(patterns={"ids": r"[a-z]+_[a-z]+"})
    assert scrubber.scrub("url postgres://u:pw@h and snake_case") == (
        "url postgres://u:[scrubbed:url_password]@h and [scrubbed:ids]"
    )


def test_secrets_off_leaves_the_built_in_detectors_out_and_keys_in() -> None:
    scrubber = build(secrets=False)
    assert scrubber.scrub(SECRET) == SECRET
    assert scrubber.clean([SECRET])
    assert scrubber.scrub_value({"password": "x"}) == {"password": "[scrubbed:key:password]"}


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"secrets": "yes"}, TypeError),
        ({"pii": "email"}, TypeError),
        ({"pii": ["mail"]}, ValueError),
        ({"patterns": ["x"]}, TypeError),
        ({"patterns": {"bad": "("}}, ValueError),
        ({"patterns": {"empty": "a*"}}, ValueError),
        ({"patterns": {"no spaces": "x"}}, ValueError),
        ({"keys": "password"}, TypeError),
        ({"keys": [1]}, TypeError),
    ],
)
def test_a_configuration_it_cannot_use_raises_instead_of_scrubbing_nothing(
    arguments: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        build(**arguments)


def test_from_setting_of_a_partial_scrub_setting_has_the_defaults_of_the_settings_table() -> None:
    with override_settings(SESSIONLOG={"SCRUB": {"PII": ["email"]}}):
        scrubber = scrubbing.from_setting(conf.SCRUB)
    assert scrubber.keys == scrubbing.DEFAULT_KEYS
    assert "openai_key" in scrubber.names
    assert "email" in scrubber.names
    with override_settings(SESSIONLOG={"SCRUB": {"SECRETS": False}}):
        assert "openai_key" in scrubbing.from_setting(conf.SCRUB, secrets=True).names
        assert "openai_key" not in scrubbing.from_setting(conf.SCRUB).names


def test_a_long_artifact_of_many_keys_is_walked_with_a_bounded_key_cache() -> None:
    scrubber = build()
    artifact = {f"k{index}": "v" for index in range(5000)}
    assert scrubber.scrub_parts("p", [], artifact) is None
    assert len(scrubber._key_rules) <= 4096


def test_patterns_start_with_a_literal_so_the_regex_engine_searches_fast() -> None:
    # A lookbehind or a character class first would cost a try at every
    # character of a 4,000-character prompt (the card and IBAN patterns run
    # only inside the windows their text's shape allows, the assignment and
    # bearer patterns only around the words they need).
    for detector in (*scrubbing.SECRETS, scrubbing.PII["phone"]):
        assert detector.windows is not None or re.match(r"[\w:+-]|\\\+", detector.pattern.pattern), detector
    windowed = sorted(d.name for d in scrubbing.SECRETS if d.windows is not None)
    assert windowed == ["assigned_secret", "bearer_token"]


# --- the walker, at any depth ------------------------------------------------


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for index in range(depth):
        value = {"a": value} if index % 2 else [value]
    return value


def leaf_of(value: Any) -> Any:
    while isinstance(value, (dict, list)):
        value = value["a"] if isinstance(value, dict) else value[0]
    return value


def test_an_artifact_5000_deep_is_scrubbed_to_its_leaf_and_found_there() -> None:
    aws = "AKIAIOSFODNN7EXAMPLE"
    artifact = nested(5000, f"key {aws}")
    scrubbed = DEFAULT.scrub_parts("p", [], artifact)
    assert scrubbed is not None
    assert leaf_of(scrubbed.artifact) == "key [scrubbed:aws_access_key_id]"
    assert leaf_of(artifact) == f"key {aws}"  # the host's artifact is left as it was
    [finding] = DEFAULT.findings("p", [], artifact)
    assert finding.name == "aws_access_key_id"
    assert finding.field.startswith("artifact.a[0].a[0]")
    assert finding.field.count("[0]") == 2500
    clean = nested(5000, "nothing here")
    assert DEFAULT.scrub_parts("p", [], clean) is None
    assert DEFAULT.findings("p", [], clean) == []


def test_the_walker_keeps_what_is_clean_and_copies_only_the_path_to_a_finding() -> None:
    aws = "AKIAIOSFODNN7EXAMPLE"
    clean_part = {"x": [1, 2.5, None, True]}
    artifact = {"keep": clean_part, "t": ("a", aws), "key": {"password": ["p1", ""]}}
    result = DEFAULT.scrub_value(artifact)
    assert result["keep"] is clean_part
    assert result["t"] == ("a", "[scrubbed:aws_access_key_id]")
    assert result["key"] == {"password": ["[scrubbed:key:password]", ""]}
    assert artifact["t"] == ("a", aws)


def test_a_cycle_becomes_the_cycle_marker_when_something_else_is_scrubbed() -> None:
    loop: list[Any] = ["AKIAIOSFODNN7EXAMPLE"]
    loop.append(loop)
    assert DEFAULT.scrub_value(loop) == ["[scrubbed:aws_access_key_id]", "<cycle>"]


# --- the one-pass prefilter ----------------------------------------------------


def test_the_one_pass_prefilter_decides_as_each_detector_would() -> None:
    if not scrubbing.prefilter.available():
        missing("hyperscan is not installed (pip install 'django-sessionlog[scrub]')")
    fast = build(pii=scrubbing.PII_NAMES)
    slow = scrubbing.Scrubber(fast.detectors, fast.keys, one_pass=False)
    assert fast.one_pass
    assert not slow.one_pass
    for _, secret, _ in SECRETS + PII:
        for text in (secret, f"start {secret}", f"{'x ' * 2000}{secret} end"):
            assert fast.clean([text]) is slow.clean([text]) is False, secret
    for text in LOOKALIKES + [t for texts in PII_LOOKALIKES.values() for t in texts]:
        assert fast.clean([text]) is slow.clean([text]), text


def test_importing_the_settings_compiles_no_detector() -> None:
    import subprocess
    import sys

    code = (
        "import django_sessionlog.conf, django_sessionlog.scrubbing.catalogue as c;"
        "print(c.secrets.cache_info().currsize, c.pii.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "0"]


# --- PATTERNS that backtrack ----------------------------------------------------


@pytest.mark.parametrize("regex", [r"(a+)+$", r"(\w+\s?)*x", r"(?:[a-z]*,)*end", r"(x+x+)+y"])
def test_a_pattern_that_can_backtrack_for_minutes_is_e016(regex: str) -> None:
    from django_sessionlog.checks import check_settings

    with override_settings(SESSIONLOG={"SCRUB": {"PATTERNS": {"slow": regex}}}):
        [error] = check_settings()
    assert error.id == "django_sessionlog.E018"
    assert "'slow' nests an unbounded quantifier" in error.msg
    assert error.hint is not None
    assert "possessive" in error.hint
    assert not error.is_silenced()
    with override_settings(SILENCED_SYSTEM_CHECKS=["django_sessionlog.E018"]):
        assert error.is_silenced()


@pytest.mark.parametrize(
    "regex", [r"acme_[A-Za-z0-9]{32}", r"(a++)+$", r"(?>\w+\s?)*x", r"ACME-\d{4}(?:-\d{2})?", r"(ab|cd){2,5}"]
)
def test_a_pattern_that_cannot_backtrack_badly_passes(regex: str) -> None:
    assert scrubbing.backtracking_problem("p", regex) is None


def test_an_assignment_whose_name_holds_two_names_is_one_finding() -> None:
    """``secret_token`` holds ``secret`` and ``token``: tried at each, matched once, as finditer would."""
    text = 'secret_token = "Zq81kd9Wm2xA" and PASSWORD: q8Ex4mple0Zz9'
    assert DEFAULT.scrub(text) == (
        'secret_token = "[scrubbed:assigned_secret]" and PASSWORD: [scrubbed:assigned_secret]'
    )
    [assigned] = [
        detector for detector in scrubbing.catalogue.secrets() if detector.name == "assigned_secret"
    ]
    assert [text[span.start : span.end] for span in assigned.spans(text)] == ["Zq81kd9Wm2xA", "q8Ex4mple0Zz9"]
    assert DEFAULT.scrub("count each token; the token budget is 4096 tokens: token=4096") == (
        "count each token; the token budget is 4096 tokens: token=4096"
    )
