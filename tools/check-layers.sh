#!/bin/sh
# tools/check-layers.sh - fail when an #include points up the layer list.
#
# DESIGN.md section 3: includes only point down this list (core at the
# bottom, cmd at the top). A file may include its own layer and any layer
# below it. test/, bench/ and tools/ sit above everything.
set -u
cd "$(dirname "$0")/.." || exit 1

LAYERS="core proto resource store net broker triggers sinks sources serving control api cmd"

rank() {
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo "$i"; return; }
        i=$((i + 1))
    done
    echo -1
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
bad=0
for f in $(git ls-files -co --exclude-standard '*.c' '*.h'); do
    top=${f%%/*}
    r=$(rank "$top")
    [ "$r" -ge 0 ] || continue
    # Project includes are quoted and name their folder: "proto/event.h".
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        while IFS= read -r line; do
            inc=$(echo "$line" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
            dep=${inc%%/*}
            dr=$(rank "$dep")
            if [ "$dr" -lt 0 ]; then
                echo "$f:${line%%:*}: include \"$inc\" is not under a layer folder"
                echo x
            elif [ "$dr" -gt "$r" ]; then
                echo "$f:${line%%:*}: $top/ may not include $dep/ (\"$inc\"): layers point down only"
                echo x
            fi
        done
done >"$tmp" 2>&1
if grep -q '^x$' "$tmp"; then
    grep -v '^x$' "$tmp"
    bad=1
fi
[ "$bad" = 0 ] && echo "layers: all includes point down"
exit "$bad"
