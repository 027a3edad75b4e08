#!/usr/bin/env bash
# The test command: installs what it needs itself (tox, Chromium, logrotate),
# then runs every tox environment (Django 4.2, 5.2 and 6.1 on the Pythons
# this machine has, ruff, mypy, the docs built with warnings as errors) and
# prints each one's test counts.
# Arguments go to tox, e.g. `bash runtests.sh -e py312-django52 -- -k sink`.
#
# Under CI=true an environment whose Python is missing fails the run; on a
# laptop it is skipped with a warning. Tests that need a tool this machine
# lacks (Chromium, logrotate, unshare, /dev/full) behave the same way.
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

# The tests run the real tools users meet: Debian's Chromium (the report's
# page), logrotate (the README's stanza), a JRE for Spark (the export). Installed here when missing and
# this machine lets us (CI runs as root).
wanted=()
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then wanted+=(chromium); fi
if ! command -v logrotate >/dev/null 2>&1 && [ ! -x /usr/sbin/logrotate ]; then wanted+=(logrotate); fi
# Spark (the export test) needs a Java runtime.
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then wanted+=(openjdk-17-jre-headless); fi
if [ "${#wanted[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "runtests.sh: installing ${wanted[*]} for the tests that use them..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${wanted[@]}" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${wanted[@]}" >/dev/null; }
    else
        echo "runtests.sh: some tests need ${wanted[*]}: apt-get install ${wanted[*]} (they are skipped without)" >&2
    fi
fi
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac  # logrotate lives there

# tox in a private virtualenv, so a bare machine needs only python3.
if [ ! -x .venv-tox/bin/tox ]; then
    python3 -m venv .venv-tox
    .venv-tox/bin/python -m pip install --quiet --disable-pip-version-check "tox>=4.2"
fi

skip_missing=true
case "${CI:-}" in 1 | true | TRUE | True | yes) skip_missing=false ;; esac

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
.venv-tox/bin/tox run-parallel --parallel-no-spinner --skip-missing-interpreters "$skip_missing" \
    --result-json "$results" "$@" || status=$?

# tox keeps each environment's output to itself when it runs them in
# parallel: print pytest's closing line of each run, and say which
# environments did not run.
python3 - "$results" <<'EOF' || true
import json, re, sys

try:
    with open(sys.argv[1]) as handle:
        environments = json.load(handle).get("testenvs", {})
except (OSError, ValueError):
    sys.exit(0)
summary = re.compile(r"^=+ (.*\b(passed|failed|error|errors|skipped|deselected)\b.*) =+$")
print()
for name, report in environments.items():
    result = report.get("result")
    if not result:
        continue
    if result.get("skipped"):
        print(f"WARNING: {name} did not run: its Python is not on this machine", file=sys.stderr)
        continue
    counted = False
    for command in report.get("test", []):
        lines = [m.group(1) for m in map(summary.match, command.get("output", "").splitlines()) if m]
        target = "example project" if "example_project" in command["command"] else "app"
        if lines:
            counted = True
            print(f"{name} ({target}): {lines[-1]}")
    if not counted:
        # ruff, mypy, docs: no test counts, only whether they passed.
        print(f"{name}: {'ok' if result.get('success') else 'FAILED'}")
EOF
exit "$status"
