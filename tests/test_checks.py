from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error
from django.test import override_settings

from django_sessionlog.checks import check_settings

from .logs import django_admin


def errors_for(value: Any) -> list[Error]:
    with override_settings(SESSIONLOG=value):
        return check_settings()  # type: ignore[return-value]


def ids(value: Any) -> list[str]:
    return [e.id for e in errors_for(value)]  # type: ignore[misc]


def test_valid_settings_pass() -> None:
    assert (
        errors_for(
            {
                "PATH": "var/sessions-{host}-{date}.jsonl",
                "DAEMON": "coordinatord",
                "ROSTER_CHECKS": {"fill": "tests.roster.grounded"},
                "FILE_MODE": 0o600,
                "REDACT": "tests.roster.scrub_prompt",
                "SAMPLE_RATES": {"fill": 0.1, "*": 1},
                "RAISE_ERRORS": True,
                "TRACE_URL": "https://langfuse.example.com/trace/{session_id}",
                "TRACE_HEADER": "X-Request-Id",
                "SCRUB": {
                    "SECRETS": True,
                    "PII": ["email", "phone", "card", "iban"],
                    "PATTERNS": {"acme_token": r"acme_[A-Za-z0-9]{32}", "ticket": r"^TICKET-\d+$"},
                    "KEYS": ["password", "session_key"],
                },
            }
        )
        == []
    )


def test_path_may_be_a_pathlib_path() -> None:
    assert errors_for({"PATH": Path("var/sessions.jsonl")}) == []


def test_missing_setting_passes() -> None:
    with override_settings():
        from django.conf import settings

        del settings.SESSIONLOG
        assert check_settings() == []


def test_setting_that_is_not_a_dict_is_e001() -> None:
    [error] = errors_for("var/sessions.jsonl")
    assert error.id == "django_sessionlog.E001"
    assert "must be a dict, not str" in error.msg
    assert error.hint


def test_unknown_key_is_e002_with_a_suggestion() -> None:
    [error] = errors_for({"PTAH": "x.jsonl"})
    assert error.id == "django_sessionlog.E002"
    assert "unknown key 'PTAH' (did you mean 'PATH'?)" in error.msg
    assert error.hint is not None
    assert "Known keys: PATH, DAEMON" in error.hint


def test_a_key_in_the_wrong_case_is_e002_naming_the_right_one() -> None:
    [error] = errors_for({"raise_errors": True})
    assert error.id == "django_sessionlog.E002"
    assert "(did you mean 'RAISE_ERRORS'?)" in error.msg


def test_file_mode_messages_show_octal() -> None:
    [wrong_type] = errors_for({"FILE_MODE": "640"})
    assert wrong_type.hint == "The default is 0o640."
    [out_of_range] = errors_for({"FILE_MODE": 0o1640})
    assert "= 0o1640 is not a file mode" in out_of_range.msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PATH", 3),
        ("DAEMON", None),
        ("ROSTER_CHECKS", ["fill"]),
        ("FILE_MODE", "0640"),
        ("FILE_MODE", True),
        ("REDACT", 1),
        ("SAMPLE_RATES", 0.5),
        ("RAISE_ERRORS", "yes"),
        ("TRACE_URL", 1),
        ("TRACE_HEADER", 1),
        ("OTEL_SPANS", "yes"),
        ("OTEL_SPANS", 1),
    ],
)
def test_wrong_type_is_e003_naming_the_key(key: str, value: Any) -> None:
    [error] = errors_for({key: value})
    assert error.id == "django_sessionlog.E003"
    assert repr(key) in error.msg
    assert type(value).__name__ in error.msg


def test_roster_check_that_does_not_import_is_e004() -> None:
    [error] = errors_for({"ROSTER_CHECKS": {"fill": "tests.roster.nope"}})
    assert error.id == "django_sessionlog.E004"
    assert "'fill'" in error.msg
    assert "tests.roster.nope" in error.msg


def test_roster_check_path_that_is_not_a_string_is_e003() -> None:
    assert ids({"ROSTER_CHECKS": {"fill": 1}}) == ["django_sessionlog.E003"]


def test_redactor_that_is_not_callable_is_e004() -> None:
    [error] = errors_for({"REDACT": "tests.roster.NOT_CALLABLE"})
    assert error.id == "django_sessionlog.E004"
    assert "not callable" in error.msg


def test_redactor_module_that_does_not_exist_is_e004() -> None:
    assert ids({"REDACT": "no_such_module.scrub"}) == ["django_sessionlog.E004"]


@pytest.mark.parametrize(
    "rates",
    [{"fill": 1.5}, {"fill": -0.1}, {"fill": "0.5"}, {"fill": None}, {"*": True}, {"x": float("nan")}],
)
def test_bad_sample_rate_is_e005(rates: dict[str, Any]) -> None:
    [error] = errors_for({"SAMPLE_RATES": rates})
    assert error.id == "django_sessionlog.E005"
    assert repr(next(iter(rates))) in error.msg


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)//{session_id}",
        "ftp://x/{session_id}",
        "https://langfuse.example.com/trace/",
        "https://x/{session_id}/{other}",
        "https://x/{session_id",
    ],
)
def test_trace_url_that_is_not_an_http_template_is_e006(url: str) -> None:
    assert ids({"TRACE_URL": url}) == ["django_sessionlog.E006"]


@pytest.mark.parametrize("path", ["var/{day}.jsonl", "var/{date.jsonl"])
def test_path_with_an_unknown_placeholder_is_e007(path: str) -> None:
    assert ids({"PATH": path}) == ["django_sessionlog.E007"]


@pytest.mark.parametrize("mode", [-1, 0o1000, 0o4755])
def test_file_mode_outside_permission_bits_is_e008(mode: int) -> None:
    assert ids({"FILE_MODE": mode}) == ["django_sessionlog.E008"]


def test_trace_header_that_is_not_a_header_name_is_e009() -> None:
    assert ids({"TRACE_HEADER": "X Trace: id"}) == ["django_sessionlog.E009"]


def test_otel_spans_without_opentelemetry_installed_is_e015(no_opentelemetry: None) -> None:
    [error] = errors_for({"OTEL_SPANS": True})
    assert error.id == "django_sessionlog.E015"
    assert "opentelemetry-api is not installed" in error.msg
    assert error.hint is not None
    assert "django-sessionlog[otel]" in error.hint


def test_otel_spans_off_never_asks_for_opentelemetry(no_opentelemetry: None) -> None:
    assert ids({"OTEL_SPANS": False}) == []


def test_otel_spans_with_opentelemetry_installed_passes() -> None:
    assert ids({"OTEL_SPANS": True}) == []


@pytest.mark.parametrize("scrub", [{}, {"PII": []}, {"SECRETS": False, "KEYS": []}, {"PATTERNS": {}}])
def test_a_partial_scrub_dict_is_valid(scrub: dict[str, Any]) -> None:
    assert errors_for({"SCRUB": scrub}) == []


@pytest.mark.parametrize("scrub", ["on", ["SECRETS"], None, True])
def test_scrub_that_is_not_a_dict_is_e010(scrub: Any) -> None:
    [error] = errors_for({"SCRUB": scrub})
    assert error.id == "django_sessionlog.E010"
    assert "SESSIONLOG['SCRUB'] must be a dict" in error.msg
    assert error.hint


def test_an_unknown_scrub_key_is_e010_with_a_suggestion() -> None:
    [error] = errors_for({"SCRUB": {"SECRET": False}})
    assert error.id == "django_sessionlog.E010"
    assert "unknown key 'SECRET' (did you mean 'SECRETS'?)" in error.msg
    assert error.hint == "Known keys: SECRETS, PII, PATTERNS, KEYS."


@pytest.mark.parametrize(
    ("pii", "said"),
    [
        (["mail"], "holds 'mail' (did you mean 'email'?)"),
        (["email", "ssn"], "holds 'ssn'"),
        ("email", "must be a list, not str"),
        ({"email": True}, "must be a list, not dict"),
    ],
)
def test_a_pii_entry_that_is_not_known_is_e011(pii: Any, said: str) -> None:
    [error] = errors_for({"SCRUB": {"PII": pii}})
    assert error.id == "django_sessionlog.E011"
    assert said in error.msg
    assert error.hint is not None
    assert "email, phone, card, iban" in error.hint


@pytest.mark.parametrize(
    ("patterns", "said"),
    [
        ({"broken": "acme_[0-9"}, "'broken' does not compile: unterminated character set at position 5"),
        ({"empty": "x*"}, "'empty' matches the empty string"),
        ({"no good": "x"}, "the name 'no good' is not"),
        ({"number": 7}, "'number' is int, not a regular expression string"),
        (["acme_.*"], "must be a dict, not list"),
    ],
)
def test_a_pattern_that_cannot_be_used_is_e012_with_the_regex_error(patterns: Any, said: str) -> None:
    [error] = errors_for({"SCRUB": {"PATTERNS": patterns}})
    assert error.id == "django_sessionlog.E012"
    assert said in error.msg


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        ("password", "must be a list, not str"),
        (["password", 3], "holds 3, not a string"),
        (["_"], "names no key"),
    ],
)
def test_keys_that_are_not_a_list_of_names_is_e013(keys: Any, said: str) -> None:
    [error] = errors_for({"SCRUB": {"KEYS": keys}})
    assert error.id == "django_sessionlog.E013"
    assert said in error.msg


@pytest.mark.parametrize("secrets", ["yes", 1, None])
def test_secrets_that_is_not_a_bool_is_e014(secrets: Any) -> None:
    [error] = errors_for({"SCRUB": {"SECRETS": secrets}})
    assert error.id == "django_sessionlog.E014"


def test_every_scrub_problem_is_reported_at_once() -> None:
    found = ids({"SCRUB": {"SECRET": 1, "SECRETS": 1, "PII": ["x"], "PATTERNS": {"y": "("}, "KEYS": [1]}})
    assert found == [f"django_sessionlog.E01{n}" for n in (0, 4, 1, 2, 3)]


def test_several_problems_are_all_reported() -> None:
    assert sorted(ids({"PATH": 1, "EXTRA": 1, "SAMPLE_RATES": {"fill": 2}})) == [
        "django_sessionlog.E002",
        "django_sessionlog.E003",
        "django_sessionlog.E005",
    ]


def test_check_is_registered_with_django(tmp_path: Path) -> None:
    from django.core import checks

    with override_settings(SESSIONLOG={"PTAH": "x"}):
        found = [m.id for m in checks.run_checks()]
    assert "django_sessionlog.E002" in found


# --- named where no system check runs (servers, the sessionlog commands) ----


def test_ready_logs_each_problem_at_error_with_its_id(caplog: pytest.LogCaptureFixture) -> None:
    from django_sessionlog.checks import log_problems

    with override_settings(SESSIONLOG={"PTAH": "x.jsonl"}), caplog.at_level(logging.ERROR):
        log_problems()
    said = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert said[0][:2] == ("django_sessionlog", logging.ERROR)
    assert "unknown key 'PTAH' (did you mean 'PATH'?)" in said[0][2]
    assert "django_sessionlog.E002" in said[0][2]
    assert said[1][2] == "django_sessionlog: sessions are not logged: SESSIONLOG['PATH'] is not set."
    assert len(said) == 2


def test_ready_says_nothing_of_good_settings(caplog: pytest.LogCaptureFixture) -> None:
    from django_sessionlog.checks import log_problems

    with override_settings(SESSIONLOG={"PATH": "x.jsonl"}), caplog.at_level(logging.DEBUG):
        log_problems()
    assert caplog.records == []


MISSPELLED = """
SECRET_KEY = "x"
INSTALLED_APPS = ["django_sessionlog"]
SESSIONLOG = {"PTAH": "sessions.jsonl"}
"""


@pytest.mark.slow
def test_a_misspelled_key_is_printed_at_start_up_with_no_logging_configured(tmp_path: Path) -> None:
    # As under gunicorn: no system checks run, no LOGGING set; Python's own
    # last-resort handler prints the app's ERROR to stderr.
    (tmp_path / "misspelled.py").write_text(MISSPELLED)
    result = django_admin(
        "sessionlog", "schema", env_extra={"DJANGO_SETTINGS_MODULE": "misspelled"}, path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert '"title": "session.iterate.v1"' in result.stdout
    assert "SESSIONLOG has an unknown key 'PTAH' (did you mean 'PATH'?)" in result.stderr
    assert "sessions are not logged" in result.stderr


def test_a_dotted_path_whose_module_raises_on_import_is_e004_not_a_failed_start(tmp_path: Path) -> None:
    (tmp_path / "explodes_on_import.py").write_text("raise RuntimeError('no roster service')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        [error] = errors_for({"ROSTER_CHECKS": {"fill": "explodes_on_import.grounded"}})
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("explodes_on_import", None)
    assert error.id == "django_sessionlog.E004"
    assert "RuntimeError: no roster service" in error.msg
