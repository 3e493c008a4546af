#!/bin/sh
# tools/demo.sh - what `make demo` runs: sluice on the embedded backend with
# deploy/examples/quickstart.yaml, showing the events as they arrive.
#
# Starts two `sluice display` sinks (one per Trigger of the quickstart) and
# `sluice serve -f quickstart.yaml` on free loopback ports (the YAML's
# subscriber URIs are rewritten to those ports in a private copy), then sends
# an order event every 3 seconds, alternating region eu and us, so that the
# CESQL Trigger shows what it lets through. The PingSource sends its
# heartbeat every 2 seconds. Every line of output is prefixed with who
# printed it: [pings] and [eu-orders] are the two subscribers, [send] the
# orders sent, [demo] this script.
#
# Runs until Ctrl-C, or for DEMO_SECONDS seconds when that is set. Every
# process it starts is stopped and its temporary directory removed on exit.
# SLUICE names the binary (default build/sluice).
set -eu

SLUICE=${SLUICE:-build/sluice}
SECS=${DEMO_SECONDS:-0}
YAML=${DEMO_YAML:-deploy/examples/quickstart.yaml}

case $SECS in
'' | *[!0-9]*)
    echo "demo: DEMO_SECONDS must be a whole number of seconds, not '$SECS'" >&2
    exit 1
    ;;
esac
[ -x "$SLUICE" ] || { echo "demo: $SLUICE not built (run make)" >&2; exit 1; }
[ -r "$YAML" ] || { echo "demo: cannot read $YAML" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
pids=""

cleanup() {
    trap - EXIT INT TERM
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "[demo] stopping"; exit 0' INT TERM

say() { echo "[demo] $*"; }

freeport() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One subscriber: `sluice display` on PORT, its lines prefixed with [NAME].
display() {
    mkfifo "$work/$1.fifo"
    "$SLUICE" display --addr "127.0.0.1:$2" >"$work/$1.fifo" 2>&1 &
    pids="$pids $!"
    sed -u "s/^/[$1] /" <"$work/$1.fifo" &
    pids="$pids $!"
}

api=$(freeport)
ing=$(freeport)
srv=$(freeport)
met=$(freeport)
pings=$(freeport)
orders=$(freeport)

sed -e "s|127.0.0.1:8090|127.0.0.1:$pings|" \
    -e "s|127.0.0.1:8091|127.0.0.1:$orders|" "$YAML" >"$work/quickstart.yaml"

display pings "$pings"
display eu-orders "$orders"

"$SLUICE" serve --data-dir "$work/data" --default-backend embedded \
    --api-addr "127.0.0.1:$api" --ingress-addr "127.0.0.1:$ing" \
    --serving-addr "127.0.0.1:$srv" --metrics-addr "127.0.0.1:$met" \
    -f "$work/quickstart.yaml" >"$work/serve.log" 2>&1 &
serve=$!
pids="$pids $serve"

# Ready when the Broker, both Triggers and the PingSource say so (READY is
# the column before REASON in each table; at most 30 s).
ready=no
i=0
while [ $i -lt 300 ]; do
    if ! kill -0 "$serve" 2>/dev/null; then
        break
    fi
    if "$SLUICE" get brokers,triggers,pingsources --server "127.0.0.1:$api" \
        2>/dev/null | awk '/^NAME/ || NF == 0 { next }
                           { n++; if ($(NF - 1) != "True") bad = 1 }
                           END { exit !(n >= 4 && !bad) }'; then
        ready=yes
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
if [ $ready = no ]; then
    say "sluice did not become ready; its log:"
    sed 's/^/[serve] /' "$work/serve.log" >&2
    exit 1
fi

say "sluice is running (embedded backend, data in $work/data)"
"$SLUICE" get brokers,triggers,pingsources --server "127.0.0.1:$api" | sed 's/^/[demo]   /'
say "PingSource 'heartbeat' sends to Broker 'default' every 2 s; Trigger 'pings'"
say "takes type dev.knative.sources.ping; Trigger 'eu-orders' takes"
say "  type LIKE 'com.example.%' AND region = 'eu'   (CESQL)"
say "orders are sent every 3 s, alternating region eu and us."
say "Try, in another terminal:"
say "  $SLUICE get triggers --server 127.0.0.1:$api"
say "  curl -s http://127.0.0.1:$met/metrics | grep mt_broker"
say "  $SLUICE send http://127.0.0.1:$ing/default/default --type com.example.order --source /shop --ext region=eu"
say "  echo '{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/shop\",\"type\":\"com.example.order\",\"region\":\"us\"}' |"
say "    $SLUICE explain trigger eu-orders --server 127.0.0.1:$api --event -"
if [ "$SECS" -gt 0 ]; then
    say "stopping after $SECS s (DEMO_SECONDS)"
else
    say "Ctrl-C stops it"
fi

t=0
n=0
while [ "$SECS" -eq 0 ] || [ $t -lt "$SECS" ]; do
    if [ $((t % 3)) -eq 0 ]; then
        n=$((n + 1))
        if [ $((n % 2)) -eq 1 ]; then region=eu; else region=us; fi
        st=$("$SLUICE" send "http://127.0.0.1:$ing/default/default" \
            --type com.example.order --source /shop --ext "region=$region" \
            --data "{\"order\": $n}" 2>&1 | head -n 1)
        echo "[send] order $n region $region: $st"
    fi
    if ! kill -0 "$serve" 2>/dev/null; then
        say "sluice stopped unexpectedly; its log:"
        sed 's/^/[serve] /' "$work/serve.log" >&2
        exit 1
    fi
    sleep 1
    t=$((t + 1))
done
say "done"
