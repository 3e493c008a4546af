#!/usr/bin/env python3
"""At least once across a crash: events flow into a broker while its
subscriber is slow and fails some first attempts (so deliveries, retries
and a backlog are pending); sluice is killed with SIGKILL mid-stream and
started again on the same data directory. Every event that got a 202
must reach the subscriber (duplicates allowed, loss not). Backend from
SL_TEST_BACKEND (default Embedded; Redis needs SL_TEST_REDIS_URL)."""
import os
import threading
import time

from sluicetest import (Sink, Sluice, main, ready, send_event, wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()


def test():
    seen = set()
    lock = threading.Lock()

    def respond(req):
        i = req["event"].get("id", "")
        with lock:
            first = i not in seen
            seen.add(i)
        time.sleep(0.02)
        # One first attempt in five fails: a retry is pending.
        if first and i.endswith(("3", "7")):
            return (503, {}, b"")
        return (202, {}, b"")
    sink = Sink(respond)
    s = Sluice(*EXTRA).start()
    r = s.cli("apply", "-f", "-", input="""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  annotations: {eventing.knative.dev/broker.class: %s}
spec:
  delivery: {retry: 5, backoffPolicy: linear, backoffDelay: PT0.5S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: t
  annotations: {sluice.dev/max-in-flight: "4"}
spec:
  broker: b
  subscriber: {uri: "%s"}
""" % (BACKEND, sink.url))
    assert r.returncode == 0, r.stderr
    ready(s, "trigger", "t")

    accepted = []
    stop = threading.Event()

    def produce():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                r = send_event(s.ingress, "/default/b", "e%d" % n, timeout=5)
                if r.status == 202:
                    accepted.append("e%d" % n)
            except OSError:
                pass
    th = threading.Thread(target=produce)
    th.start()
    wait_for(lambda: len(accepted) >= 300 and len(sink.all()) >= 50, 30,
             "events flowing")
    s.kill9()
    stop.set()
    th.join()
    before = len(set(sink.ids()))
    assert before < len(accepted), (before, len(accepted))

    s2 = Sluice(*EXTRA, data_dir=s.data_dir)
    s2.api, s2.ingress, s2.metrics = s.api, s.ingress, s.metrics
    s2.start()
    try:
        want = set(accepted)
        wait_for(lambda: want <= set(sink.ids()), 60,
                 "every accepted event delivered after the restart")
    except AssertionError:
        missing = sorted(set(accepted) - set(sink.ids()))
        print("missing %d of %d, e.g. %s" % (len(missing), len(accepted),
                                              missing[:10]))
        print(s2.output()[-3000:])
        raise
    s2.stop()


main(test)
