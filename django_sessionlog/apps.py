from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.signals import request_started, setting_changed

_FIRST_USE = "django_sessionlog.first_use"


class SessionLogConfig(AppConfig):
    name = "django_sessionlog"
    verbose_name = "Session log"

    def ready(self) -> None:
        # Wiring only: nothing here touches the disk (the sink opens its
        # file on the first row), so start-up never fails on the log.
        from .checks import system_check
        from .write import configured, receivers, scrub_policy
        from .write.signals import iterate_finished

        checks.register(system_check)
        # gunicorn, uWSGI, ASGI servers and task workers never run the
        # system checks: a misspelled key would switch logging off without
        # a word. Their first request or session names it; a check that
        # ran first (runserver) has said it already.
        request_started.connect(_first_use, dispatch_uid=_FIRST_USE)
        iterate_finished.connect(_first_use, dispatch_uid=_FIRST_USE)
        iterate_finished.connect(
            receivers.log_finished_session,
            dispatch_uid="django_sessionlog.log_finished_session",
        )
        setting_changed.connect(configured.reset, dispatch_uid="django_sessionlog.reset")
        setting_changed.connect(scrub_policy.reset, dispatch_uid="django_sessionlog.reset_scrubber")


def _first_use(**kwargs: Any) -> None:
    """Log the settings' problems once, then stop listening (a request or a session costs nothing more)."""
    from .checks import log_problems
    from .write.signals import iterate_finished

    request_started.disconnect(dispatch_uid=_FIRST_USE)
    iterate_finished.disconnect(dispatch_uid=_FIRST_USE)
    log_problems()
