#!/usr/bin/env python3
"""Subscribers that misbehave, through the real binary: one that hangs
(the per-attempt timeout ends each attempt, then the dead-letter sink
gets the event without knativeerrorcode), one that resets connections,
one that answers bytes that are not HTTP, one that answers 2xx with a
body that is not an event (retried), one that answers 429 with
Retry-After; and a slow one (2 s per answer) under load, which gets
every event exactly once while another trigger keeps flowing."""
import os
import socket
import threading
import time

from sluicetest import (Sink, Sluice, _sinks, main, ready, send_event,
                        wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()


class RawSink:
    """Answers every connection with 'reply' bytes (or nothing) and closes."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.count = 0
        self.reply = reply
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            try:
                c.settimeout(2)
                c.recv(65536)
                if self.reply:
                    c.sendall(self.reply)
            except OSError:
                pass
            c.close()


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def trig(name, url, typ, delivery):
    return """
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: %s}
spec:
  broker: b
  filter: {attributes: {type: %s}}
  subscriber: {uri: "%s"}
  delivery: %s
""" % (name, typ, url, delivery)


def test(s):
    dls = Sink()
    hang_release = threading.Event()
    hang = Sink(lambda req: (hang_release.wait(30), (202, {}, b""))[1])
    reset = RawSink(b"")
    garbage = RawSink(b"this is not HTTP at all\r\n\r\n")
    notevent = Sink(lambda req: (200, {"content-type": "text/plain"},
                                 b"thanks!"))
    tries = []

    def busy(req):
        tries.append(time.monotonic())
        if len(tries) == 1:
            return (429, {"Retry-After": "1"}, b"")
        return (202, {}, b"")
    limited = Sink(busy)
    slow = Sink(lambda req: (time.sleep(2), (202, {}, b""))[1])
    fast = Sink()
    # retryAfterMax is behind Knative's delivery-retryafter feature flag.
    r = s.cli("apply", "-f", "-", input=trig(
        "limited", limited.url, "limited", "{retryAfterMax: PT5S}"))
    assert r.returncode == 1 and "retryAfterMax" in r.stderr, r
    apply(s, """
apiVersion: v1
kind: Namespace
metadata: {name: knative-eventing}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config-features, namespace: knative-eventing}
data: {delivery-retryafter: enabled}
""")
    d = ("{retry: 1, backoffDelay: PT0.1S, timeout: PT0.5S, "
         "deadLetterSink: {uri: '%s'}}" % dls.url)
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  annotations: {eventing.knative.dev/broker.class: %s}
""" % BACKEND + trig("hang", hang.url, "hang", d)
          + trig("reset", reset.url, "reset", d)
          + trig("garbage", garbage.url, "garbage", d)
          + trig("notevent", notevent.url, "notevent", d)
          + trig("limited", limited.url, "limited",
                 "{retry: 2, backoffDelay: PT0.01S, retryAfterMax: PT5S}")
          + trig("slow", slow.url, "slow", "{retry: 0}")
          + trig("fast", fast.url, "fast", "{retry: 0}"))
    for t in ("hang", "reset", "garbage", "notevent", "limited", "slow",
              "fast"):
        ready(s, "trigger", t)

    for t in ("hang", "reset", "garbage", "notevent", "limited"):
        assert send_event(s.ingress, "/default/b", t + "-1",
                          type=t).status == 202
    got = dls.wait(4, 30, "four dead letters")
    by = {q["event"]["id"]: q["event"] for q in got}
    for t in ("hang", "reset", "garbage"):
        ev = by[t + "-1"]
        assert "knativeerrorcode" not in ev, ev
        assert ev["knativeerrordest"].startswith("http://127.0.0.1:"), ev
    assert by["notevent-1"]["knativeerrorcode"] == "200", by
    hang_release.set()
    assert len(hang.all()) == 2, len(hang.all())
    assert reset.count == 2 and garbage.count == 2, (reset.count,
                                                     garbage.count)
    assert len(notevent.all()) == 2
    # 429 with Retry-After: 1 (retryAfterMax 5 s) waits about a second.
    wait_for(lambda: len(tries) >= 2, 10, "the retry after 429")
    assert tries[1] - tries[0] >= 0.9, tries

    # A slow subscriber under load: every event once; the fast one flows.
    for i in range(40):
        assert send_event(s.ingress, "/default/b", "s%d" % i,
                          type="slow").status == 202
        assert send_event(s.ingress, "/default/b", "f%d" % i,
                          type="fast").status == 202
    fast.wait(40, 10, "the fast trigger flowing meanwhile")
    slow.wait(40, 30)
    time.sleep(2.5)
    ids = slow.ids()
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 40, ids


def run():
    s = Sluice(*EXTRA).start()
    try:
        test(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()
    for x in _sinks:
        x.stop()


main(run)
