#!/usr/bin/env python3
"""CESQL Trigger filters through the real binary, on the backend named by
SL_TEST_BACKEND (default Embedded; 34-redis.py runs this again on Redis):
a Trigger whose cesql does not compile is refused by `sluice apply` and
by the REST API with the field (spec.filters[0].cesql) and the position
of the error; Triggers with CESQL filters (simple, complex with
AND/OR/LIKE/functions, a missing attribute, a non-Boolean result,
mixed with other dialects, under not) receive exactly the events whose
expression is Boolean true without an error.

Every Trigger delivers in order (delivery.order: ordered) and also takes a
last "fence" event; when the fence has arrived at a subscriber, every
earlier event has been delivered to it or filtered out, so "did not
arrive" is checked without sleeping."""
import json
import os

from sluicetest import (Sink, Sluice, apipath, main, ready, request,
                        send_event, wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()
ORDERED = {"kafka.eventing.knative.dev/delivery.order": "ordered"}
FENCE = {"exact": {"type": "fence"}}


def trigger(name, url, filters):
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": name, "annotations": ORDERED},
            "spec": {"broker": "cb", "subscriber": {"uri": url},
                     "filters": filters}}


def apply(s, *objs):
    r = s.cli("apply", "-f", "-", input="\n---\n".join(
        json.dumps(o) for o in objs))
    assert r.returncode == 0, r.stderr


def test_admission(s):
    bad = """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: bad}
spec:
  broker: cb
  subscriber: {uri: "http://127.0.0.1:9/"}
  filters:
    - cesql: "type = 'a' AND"
"""
    r = s.cli("apply", "-f", "-", input=bad)
    assert r.returncode != 0, r
    assert "spec.filters[0].cesql" in r.stderr, r.stderr
    assert "at position 15: expected an expression but found end of " \
        "expression" in r.stderr, r.stderr

    # The daemon's admission says the same over REST (422 Invalid).
    t = trigger("bad2", "http://127.0.0.1:9/",
                [{"exact": {"type": "x"}},
                 {"all": [{"not": {"cesql": "source LIKE 'a%' OR (x = "}}]}])
    r = s.call("POST", apipath("eventing.knative.dev", "v1", "triggers",
                               "default"), t)
    assert r.status == 422, r
    st = r.json()
    fields = [c.get("field") for c in st["details"]["causes"]]
    assert "spec.filters[1].all[0].not.cesql" in fields, st
    assert "at position 26: expected an expression but found end of " \
        "expression" in st["message"], st

    # Nothing of either was stored; a good expression is.
    for name in ("bad", "bad2"):
        assert s.cli("get", "trigger", name).returncode != 0
    r = s.cli("apply", "-f", "-",
              input=bad.replace("type = 'a' AND", "type = 'a'"))
    assert r.returncode == 0, r.stderr
    assert s.cli("delete", "trigger", "bad").returncode == 0


# name -> (filters, ids expected in order)
CASES = {
    "simple": ([{"any": [FENCE, {"cesql": "type = 'com.example.order'"}]}],
               ["e1", "e2", "e4", "e5"]),
    "complex": ([{"any": [FENCE, {"cesql":
                 "(source LIKE '%/eu/%' AND INT(count) >= 10) OR "
                 "LOWER(subject) = 'vip'"}]}],
                ["e1", "e2"]),
    "missing": ([{"any": [FENCE, {"cesql": "priority = 'high'"}]}],
                ["e3"]),
    "functions": ([{"any": [FENCE, {"cesql":
                   "CONCAT_WS('/', type, subject) LIKE 'com.example.%/a%' "
                   "AND NOT EXISTS skip"}]}],
                  ["e1"]),
    "nonboolean": ([{"any": [FENCE, {"cesql": "subject"}]}], []),
    "mixed": ([{"any": [FENCE, {"all": [
        {"prefix": {"type": "com.example."}},
        {"cesql": "count IN (1, 2, 3)"}]}]}],
        ["e2", "e5"]),
    # A failed expression is no match, so its negation passes.
    "negated": ([{"not": {"cesql": "priority = 'high'"}}],
                ["e1", "e2", "e4", "e5", "e6"]),
}


def send_structured(s, ev):
    r = request(s.ingress, "POST", "/default/cb", json.dumps(ev),
                {"Content-Type": "application/cloudevents+json"})
    assert r.status == 202, r


def test_filters(s):
    sink = Sink()
    broker = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
              "metadata": {"name": "cb", "annotations": {
                  "eventing.knative.dev/broker.class": BACKEND}}}
    apply(s, broker, *[trigger(n, sink.url + "/" + n, f)
                       for n, (f, _) in CASES.items()])
    for n in CASES:
        ready(s, "trigger", n)

    def send(id, type, source, ext):
        r = send_event(s.ingress, "/default/cb", id, type=type,
                       source=source, ext=ext)
        assert r.status == 202, r

    # Binary mode: extensions arrive as strings (count "12").
    send("e1", "com.example.order", "/shop/eu/1",
         {"subject": "a1", "count": "12"})
    send("e2", "com.example.order", "/shop/us/1",
         {"subject": "VIP", "count": "1"})
    send("e3", "com.example.refund", "/shop/eu/2",
         {"subject": "b", "count": "5", "priority": "high"})
    send("e4", "com.example.order", "/shop/eu/3",
         {"subject": "a2", "count": "x", "skip": "1"})
    # Structured mode keeps the Integer type of count.
    send_structured(s, {"specversion": "1.0", "id": "e5",
                        "type": "com.example.order", "source": "/shop/eu/4",
                        "subject": "c", "count": 2, "priority": "low"})
    send("e6", "other.thing", "/x", {"count": "3"})
    send("fence", "fence", "/fence", {})

    def fenced():
        got = {}
        for q in sink.all():
            got.setdefault(q["path"].strip("/"), []).append(
                q["event"]["id"])
        return all("fence" in got.get(n, []) for n in CASES) and got
    got = wait_for(fenced, 30, "the fence at every subscriber")
    for n, (_, want) in CASES.items():
        ids = got[n]
        assert ids[-1] == "fence", (n, ids)
        assert ids[:-1] == want, (n, ids, want)
    # The structured event's count reached the subscriber as sent.
    e5 = [q["event"] for q in sink.all() if q["event"]["id"] == "e5"]
    assert e5 and e5[0]["count"] == "2", e5


def run():
    s = Sluice(*EXTRA).start()
    try:
        test_admission(s)
        test_filters(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()


main(run)
