#!/bin/sh
# tools/check-format.sh - fail when a C file differs from clang-format's
# output (.clang-format, STYLE.md section 11).
set -u
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null || { echo "clang-format not installed (make deps)"; exit 1; }
bad=0
for f in $(git ls-files -co --exclude-standard '*.c' '*.h'); do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "$f: not clang-formatted (run 'make format')"
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "format: all files clean"
exit "$bad"
