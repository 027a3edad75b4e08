#!/usr/bin/env bash
# The test command: installs what it needs itself (tox, Chromium), then runs
# every tox environment (Django 4.2, 5.2 and 6.1 on the Pythons this machine
# has, ruff, mypy). Arguments go to tox, e.g. `bash runtests.sh -e py312-django52 -- -k sink`.
set -euo pipefail
cd "$(dirname "$0")"

# pyenv machines keep several Pythons; put the newest 3.11, 3.12 and 3.13
# on PATH (their own bin folders, not pyenv's shims, which tox cannot use).
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for minor in 3.13 3.12 3.11; do
        newest=$(pyenv versions --bare 2>/dev/null | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -V | tail -n 1 || true)
        if [ -n "$newest" ] && [ -d "$root/versions/$newest/bin" ]; then
            PATH="$root/versions/$newest/bin:$PATH"
        fi
    done
    export PATH
fi

# The report's tests open it in a real browser: Debian's Chromium, installed
# here when it is missing and this machine lets us (CI runs as root).
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "runtests.sh: installing chromium for the report's browser tests..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null; }
    else
        echo "runtests.sh: the report tests need Chromium: apt-get install chromium, or set CHROMIUM" >&2
    fi
fi

# tox in a private virtualenv, so a bare machine needs only python3.
if [ ! -x .venv-tox/bin/tox ]; then
    python3 -m venv .venv-tox
    .venv-tox/bin/python -m pip install --quiet --disable-pip-version-check "tox>=4.2"
fi

exec .venv-tox/bin/tox run-parallel --parallel-no-spinner "$@"
