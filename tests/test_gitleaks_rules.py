"""gitleaks' rules, opt-in as ``SCRUB['RULES'] = "gitleaks"``: what they add, what they leave, their check."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from django_sessionlog import scrubbing
from django_sessionlog.conf import conf
from django_sessionlog.scrubbing import gitleaks

from .logs import row, sessionlog, write_log
from .needs import missing

# Services no built-in detector names; each split so no scanner flags this file.
SERVICES = [
    ("adafruit_key = '" + "a1b2c3d4e5f6a7b8" + "c9d0e1f2a3b4c5d6'", "gitleaks:adafruit-api-key"),
    ("shippo_live_" + "0123456789abcdef" + "0123456789abcdef01234567", "gitleaks:shippo-api-token"),
    ("pul-" + "0123456789abcdef" + "0123456789abcdef01234567", "gitleaks:pulumi-api-token"),
]

PROSE = [
    "The linear api key docs say keys start with lin_api_ and are forty characters long.",
    "the token budget is 4096 tokens; see the API key docs",
    "Set the pulumi access token in the dashboard; the adafruit key goes in settings.",
]


@pytest.fixture(autouse=True)
def _hyperscan() -> None:
    if not scrubbing.prefilter.available():
        missing("hyperscan is not installed")


def _from_settings() -> scrubbing.Scrubber:
    return scrubbing.from_setting(conf.SCRUB)


@pytest.mark.parametrize(("text", "name"), SERVICES)
def test_a_service_only_gitleaks_knows_is_scrubbed_with_rules_and_left_without(text: str, name: str) -> None:
    with override_settings(SESSIONLOG={"SCRUB": {"RULES": "gitleaks"}}):
        scrubber = _from_settings()
        assert not scrubber.clean([text])
        assert f"[scrubbed:{name}]" in scrubber.scrub(text)
    without = _from_settings()
    assert without.clean([text])
    assert without.scrub(text) == text


def test_only_the_secret_group_is_replaced() -> None:
    text = SERVICES[0][0]
    scrubbed = scrubbing.build(rules="gitleaks").scrub(text)
    assert scrubbed == "adafruit_key = '[scrubbed:gitleaks:adafruit-api-key]'"


@pytest.mark.parametrize("text", PROSE)
def test_look_alike_prose_is_left_alone(text: str) -> None:
    scrubber = scrubbing.build(rules="gitleaks")
    assert scrubber.scrub(text) == text


def test_a_secret_below_the_rules_entropy_is_left_alone() -> None:
    # generic-api-key asks 3.5 bits a character: a repeated letter has none.
    text = "api_key = '" + "a" * 32 + "'"
    assert scrubbing.build(rules="gitleaks").scrub(text) == text


def test_built_in_detectors_win_where_both_find() -> None:
    text = "AKIA" + "IOSFODNN7EXAMPLE"
    assert scrubbing.build(rules="gitleaks").scrub(text) == "[scrubbed:aws_access_key_id]"


def test_the_airtable_token_is_found_now_its_posix_class_is_translated() -> None:
    """Python read gitleaks' ``[[:alnum:]]`` as a set of ``[:alnum`` and a ``]``: real tokens went unfound."""
    token = "pat" + "Ex4mpleKey0Abc" + "." + "0123456789abcdef" * 4
    assert scrubbing.build(rules="gitleaks").scrub(f"airtable token {token} here") == (
        "airtable token [scrubbed:gitleaks:airtable-personnal-access-token] here"
    )


def test_every_rule_with_a_regex_loads_and_the_rest_are_counted() -> None:
    loaded, skipped = gitleaks.load()
    assert len(loaded) > 200
    assert skipped == ("pkcs12-file",)  # a rule of file paths only
    assert all(d.name.startswith("gitleaks:") for d in loaded)


@pytest.mark.parametrize(
    ("go", "python"),
    [
        (r"a(?i)b\z", r"a(?i:b\Z)"),
        (r"(x(?i)y)z", r"(x(?i:y))z"),
        (r"(?i)ab", r"(?i)ab"),
        (r"[(?i)]", r"[(?i)]"),
        (r"\(?i\)", r"\(?i\)"),
        (r"pat[[:alnum:]]{14}", r"pat[0-9A-Za-z]{14}"),
        (r"[[:punct:][:space:]_]", r"[!-/:-@\[-`{-~\t\n\v\f\r _]"),
        (r"\[[:x:]]", r"\[[:x:]]"),
    ],
)
def test_go_spellings_are_translated(go: str, python: str) -> None:
    assert gitleaks.translate(go) == python


@pytest.mark.parametrize("value", ["GITLEAKS", "trufflehog", 1, ["gitleaks"]])
def test_a_bad_rules_value_is_e019_and_can_be_silenced(value: object) -> None:
    from django_sessionlog.checks import check_settings

    with override_settings(SESSIONLOG={"SCRUB": {"RULES": value}}):
        [error] = check_settings()
    assert error.id == "django_sessionlog.E019"
    assert "RULES" in error.msg
    assert not error.is_silenced()
    with override_settings(SILENCED_SYSTEM_CHECKS=["django_sessionlog.E019"]):
        assert error.is_silenced()
    with pytest.raises(ValueError, match="RULES must be None or 'gitleaks'"):
        scrubbing.build(rules=value)  # type: ignore[arg-type]


def test_gitleaks_without_hyperscan_is_e019_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_sessionlog.checks import check_settings

    monkeypatch.setattr(scrubbing.prefilter, "available", lambda: False)
    with override_settings(SESSIONLOG={"SCRUB": {"RULES": "gitleaks"}}):
        [error] = check_settings()
    assert error.id == "django_sessionlog.E019"
    assert error.hint is not None
    assert "pip install 'django-sessionlog[scrub]'" in error.hint


def test_rules_gitleaks_passes_the_checks() -> None:
    from django_sessionlog.checks import check_settings

    with override_settings(SESSIONLOG={"SCRUB": {"RULES": "gitleaks"}}):
        assert check_settings() == []


def test_scan_looks_for_gitleaks_rules_with_the_flag_or_the_setting(tmp_path: Path) -> None:
    text, name = SERVICES[1]
    log = write_log(tmp_path / "s.jsonl", row(prompt=f"deploy with {text}"))
    assert sessionlog("scan", str(log))[2] == 0
    out, _, status = sessionlog("scan", "--rules", "gitleaks", str(log))
    assert (out.splitlines(), status) == ([f"{log}:1: {name} in prompt"], 1)
    with override_settings(SESSIONLOG={"SCRUB": {"RULES": "gitleaks"}}):
        assert sessionlog("scan", str(log))[0].splitlines() == [f"{log}:1: {name} in prompt"]
    _, err, status = sessionlog("scan", "--rules", "trufflehog", str(log))
    assert status == 2
    assert "invalid choice: 'trufflehog'" in err
