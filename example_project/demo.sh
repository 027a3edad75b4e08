#!/usr/bin/env bash
# The demo, from a fresh clone: a private virtualenv with the app and the
# example project's needs, then the example service driven over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-demo/bin/python ]; then
    echo "Setting up .venv-demo (once)..."
    python3 -m venv .venv-demo
fi
# otel: the example service's spans (its server span's trace id is each row's session id);
# instructor: /v1/fill-instructor, a fill through instructor's own retry loop.
.venv-demo/bin/python -m pip install -qq --disable-pip-version-check -e ".[duckdb,drf,otel,instructor]" httpx \
    opentelemetry-sdk opentelemetry-instrumentation-django
exec .venv-demo/bin/python example_project/demo.py "$@"
