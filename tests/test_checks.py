from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error
from django.test import override_settings

from django_sessionlog import IterateRequest, IterateResponse, checks
from django_sessionlog.checks import check_settings

from .logs import REPO, django_admin


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
    assert error.hint == "Known keys: SECRETS, PII, PATTERNS, KEYS, RULES."


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


# --- named where no system check runs (servers, workers), once, unless silenced


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a process that has said nothing yet."""
    monkeypatch.setattr(checks, "_said", set())


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "django_sessionlog" and r.levelno == logging.ERROR
    ]


def test_log_problems_logs_each_problem_at_error_with_its_id(
    fresh_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(SESSIONLOG={"PTAH": "x.jsonl"}), caplog.at_level(logging.ERROR):
        checks.log_problems()
    [problem, off] = said(caplog)
    assert "unknown key 'PTAH' (did you mean 'PATH'?)" in problem
    assert "django_sessionlog.E002" in problem
    assert off == "django_sessionlog: sessions are not logged: SESSIONLOG['PATH'] is not set."


def test_log_problems_says_each_problem_once_per_process(
    fresh_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        with override_settings(SESSIONLOG={"PATH": "x.jsonl", "PTAH": 1}):
            checks.log_problems()
            checks.log_problems()
        with override_settings(SESSIONLOG={"PATH": "x.jsonl", "PTAH": 1, "FILE_MODE": "640"}):
            checks.log_problems()
    assert [m.split(" [")[1][:22] for m in said(caplog)] == [
        "django_sessionlog.E002",
        "django_sessionlog.E003",
    ]


def test_a_silenced_problem_is_never_said(fresh_process: None, caplog: pytest.LogCaptureFixture) -> None:
    with (
        override_settings(
            SESSIONLOG={"PTAH": "x.jsonl", "FILE_MODE": "640"},
            SILENCED_SYSTEM_CHECKS=["django_sessionlog.E002"],
        ),
        caplog.at_level(logging.ERROR),
    ):
        checks.log_problems()
        found = checks.problems()
    assert [m for m in said(caplog) if "PTAH" in m] == []
    assert any("FILE_MODE" in m for m in said(caplog))
    assert [p for p in found if "PTAH" in p] == []
    assert any("FILE_MODE" in p for p in found)


def test_nothing_silenced_says_nothing_more_not_even_that_path_is_unset(
    fresh_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        override_settings(SESSIONLOG={"PTAH": "x.jsonl"}, SILENCED_SYSTEM_CHECKS=["django_sessionlog.E002"]),
        caplog.at_level(logging.DEBUG),
    ):
        checks.log_problems()
    assert caplog.records == []


def test_what_django_check_reported_is_not_logged_again(
    fresh_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    from django.core import checks as django_checks

    with override_settings(SESSIONLOG={"PTAH": "x.jsonl"}), caplog.at_level(logging.ERROR):
        assert "django_sessionlog.E002" in [m.id for m in django_checks.run_checks()]
        checks.log_problems()
    assert said(caplog) == []


def test_log_problems_says_nothing_of_good_settings(
    fresh_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(SESSIONLOG={"PATH": "x.jsonl"}), caplog.at_level(logging.DEBUG):
        checks.log_problems()
    assert caplog.records == []


@pytest.mark.parametrize("first", ["request", "session"])
def test_the_first_request_or_session_says_the_problems_then_stops_listening(
    first: str,
    fresh_process: None,
    caplog: pytest.LogCaptureFixture,
    request_fill: IterateRequest,
    accepted: IterateResponse,
) -> None:
    from django.core.signals import request_started

    from django_sessionlog.apps import _FIRST_USE, _first_use
    from django_sessionlog.write.signals import iterate_finished

    request_started.connect(_first_use, dispatch_uid=_FIRST_USE)
    iterate_finished.connect(_first_use, dispatch_uid=_FIRST_USE)
    session = {"request": request_fill, "response": accepted}
    with override_settings(SESSIONLOG={"PTAH": "x.jsonl"}), caplog.at_level(logging.ERROR):
        if first == "request":
            request_started.send(sender=None)
        else:
            iterate_finished.send(sender=None, **session)
        assert len(said(caplog)) == 2
        checks._said.clear()
        request_started.send(sender=None)
        iterate_finished.send(sender=None, **session)
    assert len(said(caplog)) == 2
    assert not request_started.disconnect(dispatch_uid=_FIRST_USE)
    assert not iterate_finished.disconnect(dispatch_uid=_FIRST_USE)


MISSPELLED = """
SECRET_KEY = "x"
INSTALLED_APPS = ["django_sessionlog"]
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "no_urls"
USE_TZ = True  # Django 4.2 warns without it, and warnings are errors here
SESSIONLOG = {"PTAH": "sessions.jsonl"}
"""

# What gunicorn's and uvicorn's workers do: the WSGI application, then requests; no system check.
SERVE_TWO_REQUESTS = """
import io, sys
from django.core.wsgi import get_wsgi_application
app = get_wsgi_application()
print("ready", file=sys.stderr, flush=True)
for _ in range(2):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
    b"".join(app(environ, lambda status, headers: None))
"""


def _misspelled_project(tmp_path: Path, extra: str = "") -> dict[str, str]:
    (tmp_path / "misspelled.py").write_text(MISSPELLED + extra)
    (tmp_path / "no_urls.py").write_text("urlpatterns = []\n")
    return {"DJANGO_SETTINGS_MODULE": "misspelled"}


def _serve(tmp_path: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), **env_extra}
    return subprocess.run(
        [sys.executable, "-c", SERVE_TWO_REQUESTS],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_a_server_names_a_misspelled_key_once_with_no_logging_configured(tmp_path: Path) -> None:
    # No system checks, no LOGGING: Python's last-resort handler prints the app's ERROR to stderr.
    result = _serve(tmp_path, _misspelled_project(tmp_path))
    assert result.returncode == 0, result.stderr
    start, served = result.stderr.split("ready\n")
    assert "PTAH" not in start  # at the first request, not while the app is loading
    assert served.count("SESSIONLOG has an unknown key 'PTAH' (did you mean 'PATH'?)") == 1
    assert served.count("sessions are not logged") == 1


@pytest.mark.slow
def test_a_server_never_names_a_silenced_problem(tmp_path: Path) -> None:
    env = _misspelled_project(tmp_path, 'SILENCED_SYSTEM_CHECKS = ["django_sessionlog.E002"]\n')
    result = _serve(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "PTAH" not in result.stderr
    assert "django_sessionlog" not in result.stderr


@pytest.mark.slow
def test_manage_py_check_says_each_problem_once(tmp_path: Path) -> None:
    result = django_admin("check", env_extra=_misspelled_project(tmp_path), path=tmp_path)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).count("unknown key 'PTAH'") == 1
    assert "django_sessionlog.E002" in result.stderr


@pytest.mark.slow
def test_manage_py_check_honours_silenced_checks(tmp_path: Path) -> None:
    env = _misspelled_project(tmp_path, 'SILENCED_SYSTEM_CHECKS = ["django_sessionlog.E002"]\n')
    result = django_admin("check", env_extra=env, path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PTAH" not in result.stdout + result.stderr


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


def test_a_trace_header_with_an_underscore_is_refused_servers_drop_it() -> None:
    [error] = errors_for({"TRACE_HEADER": "X_Trace_Id"})
    assert error.id == "django_sessionlog.E009"
    assert "'_'" in error.msg


def test_a_roster_check_keyed_by_something_other_than_a_kind_is_refused() -> None:
    [error] = errors_for({"ROSTER_CHECKS": {1: "tests.roster.grounded"}})
    assert error.id == "django_sessionlog.E003"
    assert "not a kind" in error.msg


def test_a_price_too_large_for_a_float_is_refused_at_start_up() -> None:
    """Accepted as "finite" (an int), it overflowed when the figures priced a row."""
    [error] = errors_for({"PRICES": {"m": {"input_per_mtok": 10**400, "output_per_mtok": 1}}})
    assert error.id == "django_sessionlog.E017"


def test_a_sample_rate_below_the_least_a_row_may_carry_is_refused() -> None:
    [error] = errors_for({"SAMPLE_RATES": {"fill": 1e-30}})
    assert error.id == "django_sessionlog.E005"
    assert "2**-64" in error.msg
    assert errors_for({"SAMPLE_RATES": {"fill": 0.0, "email": 2.0**-64}}) == []
