#!/bin/sh
# tools/run-tests.sh - run sluice's tests and print one summary line.
#
#   tools/run-tests.sh all|unit|integration|fuzz|lint|tsan|valgrind
#
# Each test is one command; its output goes to build/test-logs/<name>.log
# and is shown (last 40 lines) only when it fails. The last line printed is
# "N passed, N failed"; the exit status is 1 when anything failed or
# nothing ran. Binaries come from build/asan (sanitizers) except in
# valgrind mode, which uses the uninstrumented build/valgrind tests.
set -u
mode=${1:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=build/test-logs
mkdir -p "$logs"

export SL_TEST_ROOT="$top"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SLUICE="${SLUICE:-$top/build/asan/sluice}"

passed=0
failed=0
failures=""

# run NAME CMD...: one test.
run() {
    name=$1
    shift
    log="$logs/$(echo "$name" | tr '/ ' '__').log"
    start=$(date +%s.%N)
    "$@" >"$log" 2>&1
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        printf 'ok    %-44s %6ss\n' "$name" "$secs"
    else
        failed=$((failed + 1))
        failures="$failures $name"
        printf 'FAIL  %-44s %6ss (exit %s, log %s)\n' "$name" "$secs" "$rc" "$log"
        tail -n 40 "$log" | sed 's/^/    | /'
    fi
}

lint_tests() {
    run lint/layers ./tools/check-layers.sh
    run lint/banned ./tools/check-banned.sh
    run lint/format ./tools/check-format.sh
}

unit_tests() {
    dir=$1
    wrap=$2
    found=0
    for t in "$dir"/test/unit/*_test; do
        [ -x "$t" ] || continue
        found=1
        # shellcheck disable=SC2086
        run "unit/$(basename "$t")" $wrap "$t"
    done
    [ "$found" = 1 ] || run "unit/none-built" false
}

integration_tests() {
    for t in test/integration/[0-9]*.py; do
        [ -f "$t" ] || continue
        run "integration/$(basename "$t" .py)" python3 "$t"
    done
}

# Replay every committed corpus input once through its fuzz target.
fuzz_replay() {
    for c in test/fuzz/corpus/*/; do
        target=$(basename "$c")
        bin=build/fuzz/fuzz_$target
        if [ ! -x "$bin" ]; then
            run "fuzz/$target" sh -c "echo 'no fuzz target $bin for corpus $c'; false"
            continue
        fi
        run "fuzz/$target" sh -c "ls '$c' | grep -q . && find '$c' -type f -print0 | xargs -0 '$bin' -runs=1 >/dev/null 2>&1 || { find '$c' -type f -print0 | xargs -0 '$bin' -runs=1; exit 1; }"
    done
}

case "$mode" in
all)
    lint_tests
    unit_tests build/asan ""
    integration_tests
    fuzz_replay
    ;;
unit) unit_tests build/asan "" ;;
integration) integration_tests ;;
fuzz) fuzz_replay ;;
lint) lint_tests ;;
tsan)
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tools/tsan.supp" unit_tests build/tsan ""
    ;;
valgrind)
    unit_tests build/valgrind "valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1"
    ;;
*)
    echo "run-tests: unknown mode '$mode'" >&2
    exit 2
    ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
