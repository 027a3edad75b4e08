#!/usr/bin/env bash
# Mutation testing of the modules that hold the row and its file (setup.cfg's
# [mutmut] section lists them), then a second look at every survivor.
#
#   pip install mutmut && bash tools/mutation.sh      (about 40 minutes on 2 cores)
#
# mutmut runs each mutant against the tests that reached the mutated
# function in its own process. Some code runs elsewhere: `as_row` is
# generated at import, big logs are read in child processes, and the
# disk-full tests start writers of their own. So each survivor is run again
# in a fresh process against the tests of its part of the package (children
# inherit MUTANT_UNDER_TEST, so they run the mutant too); what survives that
# is listed in mutants/survivors.txt with its diff.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${PYTHON:-python3}
jobs=${JOBS:-2}

if ! "$PYTHON" -c "import mutmut" 2>/dev/null; then
    echo "tools/mutation.sh: $PYTHON has no mutmut: $PYTHON -m pip install mutmut (or set PYTHON)" >&2
    exit 2
fi
rm -rf mutants
"$PYTHON" -m mutmut run --max-children "$jobs" >mutants.log 2>&1
if [ ! -d mutants ]; then
    echo "tools/mutation.sh: mutmut run made no mutants; its output is in mutants.log" >&2
    exit 2
fi
mv mutants.log mutants/run.log
"$PYTHON" -m mutmut results --all true 2>/dev/null | sed 's/^ *//' >mutants/first-pass.txt
# A run whose clean test pass failed checks no mutant; that is no score.
unchecked=$(grep -cE ': not checked$' mutants/first-pass.txt || true)
if [ "$unchecked" -gt 0 ]; then
    echo "tools/mutation.sh: $unchecked mutants were not checked (did the tests pass unmutated? see mutants/run.log)" >&2
    exit 2
fi

recheck() {
    local mutant=$1 tests marks="not slow and not browser"
    case $mutant in
        *write.sink*) tests="tests/write" marks="not browser" ;;
        *write.encoding*) tests="tests/write tests/test_golden.py tests/test_row.py" ;;
        *read.*) tests="tests/read tests/commands" ;;
        *) tests="tests/test_row.py tests/test_jsonl.py tests/test_golden.py tests/write tests/commands" ;;
    esac
    # shellcheck disable=SC2086
    if (cd mutants && MUTANT_UNDER_TEST=$mutant PYTHONPATH=. timeout 300 "$PYTHON" -m pytest -x -q \
        -p no:cacheprovider -m "$marks" $tests >/dev/null 2>&1); then
        echo "$mutant"
    fi
}
export -f recheck
grep -E ': (survived|no tests)$' mutants/first-pass.txt | cut -d: -f1 \
    | xargs -P "$jobs" -I{} bash -c 'recheck "$@"' _ {} | sort >mutants/survivors.txt

total=$(wc -l <mutants/first-pass.txt)
left=$(wc -l <mutants/survivors.txt)
for mutant in $(cat mutants/survivors.txt); do
    echo "== $mutant"
    "$PYTHON" -m mutmut show "$mutant" 2>/dev/null | grep -E '^[-+] '
done >mutants/survivors-diff.txt
killed=$(grep -cE ': (killed|timeout|segfault)$' mutants/first-pass.txt || true)
killed=$((killed + $(grep -cE ': (survived|no tests)$' mutants/first-pass.txt || true) - left))  # survivors killed on the second look
echo "mutants: $total; killed or timed out: $killed; survived: $left (score $(( killed * 1000 / total / 10 )).$(( killed * 1000 / total % 10 ))%)"
echo "survivors and their diffs: mutants/survivors-diff.txt"
