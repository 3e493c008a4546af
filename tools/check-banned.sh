#!/bin/sh
# tools/check-banned.sh - reject banned functions (STYLE.md section 9).
#
# Unsafe or locale/overflow-prone libc calls anywhere, and raw allocators
# outside core/alloc.c (tests included: they count live allocations).
set -u
cd "$(dirname "$0")/.." || exit 1

files=$(git ls-files -co --exclude-standard '*.c' '*.h')
bad=0
pat='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|rand)[[:space:]]*\('
if grep -nE "$pat" $files; then
    echo "banned function above (use snprintf, sl_strlcpy, sl_str_to_i64, getrandom)"
    bad=1
fi
alloc='\b(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\('
if grep -nE "$alloc" $(echo "$files" | grep -v '^core/alloc\.c$') |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)'; then
    echo "raw allocator above: use sl_xmalloc/sl_free (core/alloc.h)"
    bad=1
fi
[ "$bad" = 0 ] && echo "banned: none found"
exit "$bad"
