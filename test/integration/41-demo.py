#!/usr/bin/env python3
"""`make demo` itself, for a few seconds (DEMO_SECONDS): it must start
sluice with deploy/examples/quickstart.yaml, show PingSource heartbeats at
the 'pings' subscriber and only the EU orders at the 'eu-orders' one, stop
by itself with exit 0, and leave no process or temporary directory behind.
Also: a bad DEMO_SECONDS is a one-line error with exit 1."""
import os
import re
import subprocess

from sluicetest import MULT, SLUICE, main

SECS = 9


def make_demo(secs):
    env = dict(os.environ, SLUICE=SLUICE, DEMO_SECONDS=str(secs))
    return subprocess.run(["make", "--no-print-directory", "-s", "demo"],
                          capture_output=True, text=True, env=env,
                          timeout=(SECS + 90) * MULT)


def events(out, who):
    """The events one subscriber printed, as dicts of attribute -> value
    (event_display's 'Context Attributes' and 'Extensions' lines)."""
    evs = []
    for line in out.splitlines():
        if not line.startswith("[%s] " % who):
            continue
        line = line[len(who) + 3:]
        if line.startswith("\u2601"):
            evs.append({})
        m = re.match(r"^  ([a-z0-9]+): (.*)$", line)
        if m and evs:
            evs[-1][m.group(1)] = m.group(2)
        if line.strip().startswith('"message"') and evs:
            evs[-1]["message"] = line.strip()
    return evs


def cmdlines():
    """The command lines of every process (from /proc: no procps needed)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                out.append(f.read().replace(b"\0", b" ").decode(
                    errors="replace"))
        except OSError:
            pass
    return out


def test():
    r = make_demo(SECS)
    out = r.stdout
    assert r.returncode == 0, "make demo exited %d:\n%s\n%s" % (
        r.returncode, out[-3000:], r.stderr[-3000:])

    pings = events(out, "pings")
    assert len(pings) >= 2, "fewer than 2 heartbeats in %d s:\n%s" % (
        SECS, out[-3000:])
    for ev in pings:
        assert ev.get("type") == "dev.knative.sources.ping", ev
        assert ev.get("source") == \
            "/apis/v1/namespaces/default/pingsources/heartbeat", ev
        assert ev.get("datacontenttype") == "application/json", ev
        assert "Hello from sluice" in ev.get("message", ""), ev

    orders = events(out, "eu-orders")
    sent = re.findall(r"^\[send\] order (\d+) region (eu|us): (.*)$", out,
                      re.M)
    assert len(sent) >= 3, "fewer than 3 orders sent:\n" + out[-3000:]
    for _, _, status in sent:
        assert status == "202 Accepted", sent
    eu = sum(1 for s in sent if s[1] == "eu")
    assert len(orders) == eu, "%d EU orders sent, %d shown:\n%s" % (
        eu, len(orders), out[-3000:])
    for ev in orders:
        assert ev.get("type") == "com.example.order", ev
        assert ev.get("region") == "eu", ev
    assert not any(l.startswith("[pings]") and "com.example.order" in l
                   for l in out.splitlines()), "an order reached 'pings'"

    # Everything it started is gone, and so is its directory.
    m = re.search(r"data in (\S+)/data\)", out)
    assert m, "no data directory line:\n" + out[:2000]
    work = m.group(1)
    assert not os.path.exists(work), "demo left %s behind" % work
    left = [c for c in cmdlines() if work in c]
    assert not left, "demo left processes: %r" % left
    assert "[demo] done" in out, out[-2000:]

    # A bad DEMO_SECONDS is refused in one line.
    r = make_demo("soon")
    assert r.returncode != 0, r.stdout
    assert "DEMO_SECONDS must be a whole number" in r.stderr, r.stderr


if __name__ == "__main__":
    main(test)
