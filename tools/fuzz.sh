#!/bin/sh
# tools/fuzz.sh SECONDS [TARGET...] - run libFuzzer targets for a while.
#
# Each target runs for SECONDS with a scratch corpus (build/fuzz-corpus/X)
# seeded from test/fuzz/corpus/X, so the repository corpus only grows by
# hand: copy a crash input there together with its fix. Crash inputs are
# written to build/fuzz-crashes/X/. Exit status 1 when any target failed.
set -u
secs=${1:-60}
shift || true
cd "$(dirname "$0")/.." || exit 1
targets=${*:-$(ls test/fuzz/corpus)}
status=0
for t in $targets; do
    bin=build/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: no target $bin"; status=1; continue; }
    mkdir -p "build/fuzz-corpus/$t" "build/fuzz-crashes/$t"
    echo "fuzz: $t for ${secs}s"
    if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="build/fuzz-crashes/$t/" -print_final_stats=1 \
        "build/fuzz-corpus/$t" "test/fuzz/corpus/$t" \
        >"build/fuzz-$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see build/fuzz-$t.log and build/fuzz-crashes/$t/"
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "build/fuzz-$t.log" | sed "s/^/  $t /"
done
exit "$status"
