#!/usr/bin/env bash
# The demo, from a fresh clone: a private virtualenv with the app and the
# example project's needs, then the example service driven over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-demo/bin/python ]; then
    echo "Setting up .venv-demo (once)..."
    python3 -m venv .venv-demo
fi
.venv-demo/bin/python -m pip install -qq --disable-pip-version-check -e ".[duckdb,drf]" httpx
exec .venv-demo/bin/python example_project/demo.py "$@"
