#!/usr/bin/env python3
"""Pass-through headers (Knative's allow-list, DESIGN 4.9) through the real
binary: a producer sends X-Request-Id, Knative-Foo, X-B3-TraceId, a W3C
traceparent and a header not on the list; the subscriber gets exactly the
first four, as plain headers (never as ce- attributes), on the Embedded
class and on Redis. On Embedded the event waits in the log across a
restart (the subscriber answering 503 until then) and still carries them."""
import threading

from sluicetest import (RedisServer, Sink, Sluice, main, ready, send_event,
                        wait_for)

SENT = {"X-Request-Id": "req-35", "Knative-Foo": "foo: bar",
        "X-B3-TraceId": "463ac35c9f6413ad",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-"
                       "b7ad6b7169203331-01",
        "X-Not-Allowed": "secret"}
WANT = {"x-request-id": "req-35", "knative-foo": "foo: bar",
        "x-b3-traceid": "463ac35c9f6413ad",
        "traceparent": SENT["traceparent"]}
# What every delivery carries besides the event and the pass-through set.
BASE = {"host", "accept", "user-agent", "content-type", "content-length",
        "prefer", "kn-namespace"}


def passed(req):
    return {k: v for k, v in req["headers"].items()
            if not k.startswith("ce-") and k not in BASE}


def apply(s, cls, sink):
    r = s.cli("apply", "-f", "-", input="""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: pb
  annotations: {eventing.knative.dev/broker.class: %s}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: pt}
spec:
  broker: pb
  subscriber: {uri: "%s"}
  delivery: {retry: 100, backoffPolicy: linear, backoffDelay: PT0.2S}
""" % (cls, sink.url))
    assert r.returncode == 0, r.stderr
    ready(s, "trigger", "pt")


def exactly_the_allow_list(cls, args):
    sink = Sink()
    s = Sluice(*args).start()
    apply(s, cls, sink)
    r = send_event(s.ingress, "/default/pb", "p1", data='{"a": 1}',
                   headers=SENT)
    assert r.status == 202, (r.status, r.body)
    req = sink.wait(1)[0]
    assert passed(req) == WANT, passed(req)
    ev = req["event"]
    assert ev["id"] == "p1", ev
    for k in ("x-request-id", "knative-foo", "request-id", "knativefoo"):
        assert k not in ev, ev
    # Each request carries its own headers: none leak to the next event.
    r = send_event(s.ingress, "/default/pb", "p2", headers={"Knative-Foo": "2"})
    assert r.status == 202, (r.status, r.body)
    req = sink.wait(2)[1]
    assert passed(req) == {"knative-foo": "2"}, passed(req)
    s.stop()
    sink.stop()


def across_a_restart():
    up = threading.Event()
    sink = Sink(lambda req: (202, {}, b"") if up.is_set() else (503, {}, b""))
    s = Sluice().start()
    apply(s, "Embedded", sink)
    r = send_event(s.ingress, "/default/pb", "r1", headers=SENT)
    assert r.status == 202, (r.status, r.body)
    sink.wait(1)
    s.stop()
    n = len(sink.all())
    up.set()
    s = Sluice(data_dir=s.data_dir).start()
    got = wait_for(lambda: len(sink.all()) > n and sink.all()[-1], 30,
                   "the event delivered after the restart")
    assert got["event"]["id"] == "r1", got["event"]
    assert passed(got) == WANT, passed(got)
    s.stop()
    sink.stop()


def test():
    exactly_the_allow_list("Embedded", [])
    across_a_restart()
    redis = RedisServer().start()
    try:
        exactly_the_allow_list("Redis", ["--redis-url", redis.url])
    finally:
        redis.stop()


main(test)
