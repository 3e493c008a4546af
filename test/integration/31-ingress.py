#!/usr/bin/env python3
"""Every answer of the broker ingress, through the real binary: 202 once
durable (and delivered), OPTIONS, 405, 404 for paths and unknown
brokers, 400 naming the attribute, 415, 413 over --max-event-size, TTL
exhausted, batches all-or-nothing, 503 for a broker whose class this
process does not serve (with a not-Ready status saying why)."""
import json
import time

from sluicetest import (Sink, Sluice, main, ready, request, send_event,
                        wait_for)


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def test(s):
    sink = Sink()
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  broker: b
  subscriber: {uri: "%s"}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: k
  annotations: {eventing.knative.dev/broker.class: NoSuchClass}
""" % sink.url)
    ready(s, "trigger", "t")
    ing = s.ingress
    # The status says which backend serves a broker without a class.
    b = ready(s, "broker", "b")
    assert b["status"]["annotations"] == {"sluice.dev/backend": "Embedded"}, b

    r = request(ing, "OPTIONS", "/default/b")
    assert r.status == 200, r
    assert r.headers.get("Allow") == "POST, OPTIONS", r.headers
    assert request(ing, "GET", "/default/b").status == 405
    assert request(ing, "PUT", "/default/b", b"x").status == 405
    assert send_event(ing, "/", "a").status == 404
    r = send_event(ing, "/default/b/extra", "a")
    assert r.status == 400, r
    r = send_event(ing, "/default/nope", "a")
    assert r.status == 404, r
    assert b"nope" in r.body or b"broker" in r.body, r.body

    # Bad events name what is wrong.
    r = request(ing, "POST", "/default/b", b"{}", {
        "ce-specversion": "1.0", "ce-type": "t", "ce-source": "/s",
        "content-type": "application/json"})
    assert r.status == 400 and b"id" in r.body, r
    r = request(ing, "POST", "/default/b", b"{}", {
        "ce-specversion": "9.9", "ce-id": "1", "ce-type": "t",
        "ce-source": "/s"})
    assert r.status == 400 and b"specversion" in r.body, r
    r = request(ing, "POST", "/default/b", b"<xml/>", {
        "content-type": "application/cloudevents+xml"})
    assert r.status == 415, r
    r = request(ing, "POST", "/default/b", b"{not json", {
        "content-type": "application/cloudevents+json"})
    assert r.status == 400, r

    # Over --max-event-size (4096 here).
    r = send_event(ing, "/default/b", "big", data="x" * 5000)
    assert r.status == 413, r

    # TTL: 1 becomes 0 at this hop, so the event is refused.
    r = send_event(ing, "/default/b", "ttl", ext={"knativebrokerttl": 1})
    assert r.status == 400 and b"knativebrokerttl" in r.body, r

    # A batch with one bad event is refused whole; a good one goes in whole.
    def ev(i, **kw):
        e = {"specversion": "1.0", "id": i, "type": "t", "source": "/s"}
        e.update(kw)
        return e
    r = request(ing, "POST", "/default/b",
                json.dumps([ev("b1"), {"specversion": "1.0", "id": "b2"}]),
                {"content-type": "application/cloudevents-batch+json"})
    assert r.status == 400, r
    r = request(ing, "POST", "/default/b",
                json.dumps([ev("b3"), ev("b4", data={"k": 1})]),
                {"content-type": "application/cloudevents-batch+json"})
    assert r.status == 202, r
    # Structured mode.
    r = request(ing, "POST", "/default/b", json.dumps(ev("s1")),
                {"content-type": "application/cloudevents+json"})
    assert r.status == 202, r
    r = send_event(ing, "/default/b", "ok1")
    assert r.status == 202 and r.body == b"", r

    sink.wait(4)
    time.sleep(0.3)
    ids = sorted(sink.ids())
    assert ids == ["b3", "b4", "ok1", "s1"], ids

    # A class this sluice does not serve: 503, and the Broker says why.
    r = send_event(ing, "/default/k", "k1")
    assert r.status == 503, r

    def notready():
        o = json.loads(s.cli("get", "broker", "k", "-o", "json").stdout)
        c = cond(o, "IngressReady")
        assert "annotations" not in o["status"], o
        return c.get("status") == "False" and c
    c = wait_for(notready, 10, "broker k not ready")
    assert c["reason"] == "BrokerClassNotSupported", c


def run():
    s = Sluice("--max-event-size", "4096").start()
    try:
        test(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()


main(run)
