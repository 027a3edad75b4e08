from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed


class SessionLogConfig(AppConfig):
    name = "django_sessionlog"
    verbose_name = "Session log"

    def ready(self) -> None:
        # Wiring only: nothing here touches the disk (the sink opens its
        # file on the first row), so start-up never fails on the log.
        from .checks import check_settings, log_problems
        from .write import configured, receivers, scrub
        from .write.signals import iterate_finished

        checks.register(check_settings)
        # gunicorn, uWSGI and ASGI servers never run the system checks: a
        # misspelled key would switch logging off without a word.
        log_problems()
        iterate_finished.connect(
            receivers.log_finished_session,
            dispatch_uid="django_sessionlog.log_finished_session",
        )
        setting_changed.connect(configured.reset, dispatch_uid="django_sessionlog.reset")
        setting_changed.connect(scrub.reset, dispatch_uid="django_sessionlog.reset_scrubber")
