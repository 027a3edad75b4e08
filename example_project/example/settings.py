"""Settings of the example iterate service.

Everything a deployment changes comes from the environment:
SESSIONLOG_PATH, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL,
DJANGO_DEBUG, DJANGO_SECRET_KEY, EXAMPLE_SPANS_PATH (telemetry.py). No
database: serving /v1/iterate needs no migrations.
"""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # its parent package is missing
        return False


DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "rest_framework",
    "django_sessionlog",
    "iterate",
]

MIDDLEWARE = [
    "django_sessionlog.middleware.TraceIdMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"
ASGI_APPLICATION = "example.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    # An open demo API: no users, so no database and no migrations.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

SESSIONLOG = {
    "PATH": os.environ.get("SESSIONLOG_PATH", str(BASE_DIR / "var" / "coordinator_sessions.jsonl")),
    "DAEMON": "example-coordinator",
    "ROSTER_CHECKS": {"fill": "iterate.roster.grounded"},
    # Loud in development, a warning in production.
    "RAISE_ERRORS": DEBUG,
    # A span per session and per attempt, when OpenTelemetry is installed
    # (the otel extra); without it the setting would be an error (E015).
    "OTEL_SPANS": _installed("opentelemetry.trace"),
    # The demo model has no public price; say what its tokens would cost
    # (USD per million tokens), so `sessionlog stats` shows a cost line.
    "PRICES": {"demo-7b": {"input_per_mtok": 0.15, "output_per_mtok": 0.60}},
}

OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "qwen2.5:7b")
OPENAI_TIMEOUT = float(os.environ.get("OPENAI_TIMEOUT", "60"))
# The demo model answers after a short, realistic pause (0 in tests).
DEMO_LATENCY = float(os.environ.get("DEMO_LATENCY", "1"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_sessionlog": {"handlers": ["console"], "level": "WARNING"}},
}
