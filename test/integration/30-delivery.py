#!/usr/bin/env python3
"""Broker and Trigger end to end through the real binary on the backend
named by SL_TEST_BACKEND (default Embedded): an event POSTed to the
ingress reaches the subscriber with Knative's headers; legacy and new
filters route; retries follow the delivery spec (count, spacing, which
codes retry); a dead-letter sink gets the extensions; replies go back
into the broker with the TTL rule, and a reply loop stops."""
import base64
import json
import os
import time

from sluicetest import (Sink, Sluice, main, ready, send_event, wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()


def broker_yaml(name, delivery=None):
    b = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
         "metadata": {"name": name, "annotations": {
             "eventing.knative.dev/broker.class": BACKEND}},
         "spec": {}}
    if delivery is not None:
        b["spec"]["delivery"] = delivery
    return b


def trigger(name, broker, url, filt=None, filters=None, delivery=None,
            annotations=None):
    t = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
         "metadata": {"name": name},
         "spec": {"broker": broker, "subscriber": {"uri": url}}}
    if filt is not None:
        t["spec"]["filter"] = {"attributes": filt}
    if filters is not None:
        t["spec"]["filters"] = filters
    if delivery is not None:
        t["spec"]["delivery"] = delivery
    if annotations is not None:
        t["metadata"]["annotations"] = annotations
    return t


def apply(s, *objs):
    r = s.cli("apply", "-f", "-", input="\n---\n".join(
        json.dumps(o) for o in objs))
    assert r.returncode == 0, r.stderr


def test_headers_and_filters(s):
    sink = Sink()
    other = Sink()
    apply(s, broker_yaml("b1"),
          trigger("all", "b1", sink.url + "/all"),
          trigger("legacy", "b1", other.url + "/legacy",
                  filt={"type": "dev.sluice.order", "region": ""}),
          trigger("exact", "b1", other.url + "/exact",
                  filters=[{"exact": {"source": "/shop"}}]))
    for t in ("all", "legacy", "exact"):
        ready(s, "trigger", t)
    b = ready(s, "broker", "b1")
    addr = b["status"]["address"]["url"]
    assert addr == "http://%s/default/b1" % s.ingress, addr

    r = send_event(s.ingress, "/default/b1", "e1", data='{"n": 1}',
                   ext={"region": "eu"}, type="dev.sluice.order")
    assert r.status == 202, r
    assert r.body == b"", r
    r = send_event(s.ingress, "/default/b1", "e2", source="/shop",
                   ext={"region": ""}, type="dev.sluice.order")
    assert r.status == 202, r
    got = sink.wait(2)
    byid = {q["event"]["id"]: q for q in got}
    q = byid["e1"]
    h = q["headers"]
    assert h["prefer"] == "reply", h
    assert h["kn-namespace"] == "default", h
    assert "ce-knativearrivaltime" in h, h
    assert "ce-knativebrokerttl" not in h, h
    assert q["event"]["region"] == "eu", q
    assert json.loads(q["body"]) == {"n": 1}, q
    assert q["path"] == "/all", q
    # legacy: e1 (type matches, region non-empty); exact: e2 (source).
    got = other.wait(2)
    paths = sorted((q["path"], q["event"]["id"]) for q in got)
    assert paths == [("/exact", "e2"), ("/legacy", "e1")], paths
    time.sleep(0.3)
    assert len(other.all()) == 2, other.all()


def test_retries_and_dls(s):
    calls = []

    def failing(req):
        calls.append(req)
        return (503, {}, b"down")
    sub = Sink(failing)
    dls = Sink()
    bad = Sink(lambda req: (400, {}, b"no thanks"))
    apply(s, broker_yaml("b2"),
          trigger("retry", "b2", sub.url, delivery={
              "retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT0.2S",
              "deadLetterSink": {"uri": dls.url + "/dls"}}),
          trigger("noretry", "b2", bad.url, filt={"type": "dev.bad"},
                  delivery={"retry": 5, "backoffDelay": "PT0.1S",
                            "deadLetterSink": {"uri": dls.url + "/dls2"}}))
    ready(s, "trigger", "retry")
    ready(s, "trigger", "noretry")
    assert send_event(s.ingress, "/default/b2", "r1").status == 202
    got = sub.wait(4, 20)
    dl = dls.wait(1, 20)
    times = [q["time"] for q in got]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # linear: 0.2, 0.4, 0.6 s (a lower bound; scheduling adds a little).
    for want, gap in zip((0.2, 0.4, 0.6), gaps):
        assert gap >= want - 0.05, gaps
    ev = dl[0]["event"]
    assert ev["id"] == "r1", ev
    assert ev["knativeerrordest"] == sub.url, ev
    assert ev["knativeerrorcode"] == "503", ev
    assert base64.b64decode(ev["knativeerrordata"]) == b"down", ev
    assert dl[0]["path"] == "/dls", dl[0]
    time.sleep(0.5)
    assert len(sub.all()) == 4, len(sub.all())

    # 400 is not retried: straight to the dead-letter sink.
    assert send_event(s.ingress, "/default/b2", "n1",
                      type="dev.bad").status == 202
    dl = wait_for(lambda: [q for q in dls.all() if q["path"] == "/dls2"],
                  20, "dead letter of n1")
    assert dl[0]["event"]["knativeerrorcode"] == "400", dl
    assert len(bad.all()) == 1, bad.all()


def test_replies_and_ttl(s):
    def replier(req):
        ev = req["event"]
        n = int(ev.get("hop", "0"))
        return (200, {"ce-specversion": "1.0", "ce-id": "%s-%d" % (
            ev["id"], n + 1), "ce-type": "dev.sluice.loop",
            "ce-source": "/replier", "ce-hop": str(n + 1)}, b"")
    loop = Sink(replier)
    apply(s, broker_yaml("b3"), trigger("loop", "b3", loop.url))
    ready(s, "trigger", "loop")
    # TTL 4 at the client: the ingress leaves 3; each reply hop takes
    # one more, and the reply that would carry 0 is dropped.
    assert send_event(s.ingress, "/default/b3", "x",
                      ext={"knativebrokerttl": 4}).status == 202
    got = loop.wait(3, 20)
    time.sleep(1.0)
    ids = sorted(q["event"]["id"] for q in loop.all())
    assert ids == ["x", "x-1", "x-1-2"], ids
    hops = {q["event"]["id"]: q["event"] for q in got}
    assert hops["x-1"]["source"] == "/replier", hops
    assert "knativearrivaltime" in hops["x-1-2"], hops


def test_dialects_format_order_rate(s):
    seen = Sink()
    order_fail = set()

    def flaky(req):
        i = req["event"]["id"]
        if i == "o3" and i not in order_fail:
            order_fail.add(i)
            return (500, {}, b"")
        return (202, {}, b"")
    ordered = Sink(flaky)
    slow = Sink()
    apply(s, broker_yaml("b4"),
          trigger("dialects", "b4", seen.url + "/d", filters=[
              {"prefix": {"type": "dev.sluice."}},
              {"suffix": {"source": "/eu"}},
              {"any": [{"exact": {"subject": "a"}},
                       {"exact": {"subject": "b"}}]},
              {"not": {"exact": {"id": "skip"}}},
              {"all": [{"prefix": {"id": "d"}}]}],
              delivery={"format": "json"}),
          trigger("ordered", "b4", ordered.url, filt={"type": "dev.order"},
                  delivery={"retry": 3, "backoffDelay": "PT0.1S"},
                  annotations={"kafka.eventing.knative.dev/delivery.order":
                               "ordered"}),
          trigger("rate", "b4", slow.url, filt={"type": "dev.rate"},
                  annotations={"sluice.dev/max-rate": "20"}))
    for t in ("dialects", "ordered", "rate"):
        ready(s, "trigger", t)
    cases = [("d1", "dev.sluice.x", "/shop/eu", "a", True),
             ("d2", "dev.sluice.x", "/shop/eu", "c", False),
             ("d3", "dev.other", "/shop/eu", "b", False),
             ("d4", "dev.sluice.y", "/shop/us", "b", False),
             ("skip", "dev.sluice.x", "/shop/eu", "a", False),
             ("e5", "dev.sluice.x", "/shop/eu", "a", False),
             ("d6", "dev.sluice.z", "/x/eu", "b", True)]
    for i, t, src, subj, _ in cases:
        assert send_event(s.ingress, "/default/b4", i, type=t, source=src,
                          headers={"ce-subject": subj}).status == 202
    got = seen.wait(2)
    time.sleep(0.5)
    ids = sorted(q["event"]["id"] for q in seen.all())
    assert ids == sorted(c[0] for c in cases if c[4]), ids
    # delivery.format json: structured mode.
    ct = seen.all()[0]["headers"]["content-type"]
    assert ct.startswith("application/cloudevents+json"), ct

    # Ordered per partition key, also across a retry of o3.
    for n in range(1, 9):
        assert send_event(s.ingress, "/default/b4", "o%d" % n,
                          type="dev.order",
                          ext={"partitionkey": "k"}).status == 202
    ordered.wait(9, 20)
    ok = [q["event"]["id"] for q in ordered.all()]
    assert ok == ["o1", "o2", "o3", "o3", "o4", "o5", "o6", "o7", "o8"], ok

    # max-rate 20/s with a one-second burst: 60 events need >= 2 s.
    t0 = time.monotonic()
    for n in range(60):
        assert send_event(s.ingress, "/default/b4", "r%d" % n,
                          type="dev.rate").status == 202
    slow.wait(60, 30)
    took = slow.all()[-1]["time"] - t0
    assert took >= 1.8, took


def test_which_codes_retry(s):
    """DESIGN 4.6: no response, 404, 408, 409, 429 and 5xx retry; other
    statuses do not (each event asks its sink for one status)."""
    sub = Sink(lambda req: (int(req["event"]["code"]), {}, b""))
    dls = Sink()
    apply(s, broker_yaml("b5"),
          trigger("codes", "b5", sub.url, delivery={
              "retry": 1, "deadLetterSink": {"uri": dls.url}}))
    ready(s, "trigger", "codes")
    retried = (404, 408, 409, 429, 500, 501, 502, 503, 504, 599)
    final = (300, 301, 304, 400, 401, 403, 405, 410, 413, 422, 499)
    for c in retried + final:
        assert send_event(s.ingress, "/default/b5", "c%d" % c,
                          ext={"code": c}).status == 202
    dls.wait(len(retried + final), 30)
    n = {}
    for q in sub.all():
        n[q["event"]["id"]] = n.get(q["event"]["id"], 0) + 1
    for c in retried:
        assert n["c%d" % c] == 2, (c, n)
    for c in final:
        assert n["c%d" % c] == 1, (c, n)
    codes = sorted(int(q["event"]["knativeerrorcode"]) for q in dls.all())
    assert codes == sorted(retried + final), codes


def test(s):
    test_which_codes_retry(s)
    test_dialects_format_order_rate(s)
    test_headers_and_filters(s)
    test_retries_and_dls(s)
    test_replies_and_ttl(s)


def run():
    s = Sluice(*EXTRA).start()
    try:
        test(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()


main(run)
