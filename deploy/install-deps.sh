#!/bin/sh
# deploy/install-deps.sh - install what sluice needs to build and test on Debian 12.
#
# Idempotent: checks each Debian package with dpkg-query and installs only the
# missing ones, with apt-get when run as root, through sudo otherwise; when it
# can do neither it prints the exact command and exits 1. With everything
# present it prints one line and changes nothing.
set -eu

# Build libraries (pkg-config names in the Makefile), compilers and checkers,
# time zones (PingSource timezone), and the servers and clients the tests
# drive.
PKGS="make gcc pkg-config clang libclang-rt-14-dev clang-format valgrind
libmicrohttpd-dev libcurl4-openssl-dev libjson-c-dev libyaml-dev libsqlite3-dev
libhiredis-dev librdkafka-dev librabbitmq-dev
tzdata
redis-server rabbitmq-server kcat python3 curl hey"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "install-deps: all $(echo $PKGS | wc -w) packages present, nothing to do"
    exit 0
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "install-deps: not root and no sudo; run as root:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Servers installed here must not stay running as system services: tests start
# their own on free ports. policy-rc.d keeps apt from starting them.
pol=/usr/sbin/policy-rc.d
made_pol=no
if [ ! -e "$pol" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$pol" >/dev/null
    $SUDO chmod 755 "$pol"
    made_pol=yes
fi
rc=0
$SUDO apt-get update -qq || rc=$?
if [ "$rc" = 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?
fi
[ "$made_pol" = yes ] && $SUDO rm -f "$pol"
exit "$rc"
