#!/usr/bin/env python3
"""Triggers and brokers coming and going, through the real binary
(backend from SL_TEST_BACKEND): a Trigger that cannot dispatch keeps
saying why across reconciles; a deleted Trigger's consumer group goes
with it, so a Trigger re-created with the same name starts at the end of
the log instead of replaying what was sent meanwhile; a deleted Broker's
events go with it, so a Broker re-created with the same name starts
empty."""
import json
import os
import time

from sluicetest import Sink, Sluice, main, ready, send_event, wait_for

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()

BROKER = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  annotations: {eventing.knative.dev/broker.class: %s}
""" % BACKEND


def trigger(name, url, extra=""):
    return """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: %s}
spec:
  broker: b
  subscriber: {uri: "%s"}
%s""" % (name, url, extra)


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def get(s, kind, name):
    r = s.cli("get", kind, name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def test(s):
    sink = Sink()
    apply(s, BROKER + "---" + trigger("t", sink.url))
    ready(s, "trigger", "t")

    # A Trigger the data plane cannot run (an annotation admission lets
    # through, the dispatcher refuses): False with the reason, also after
    # later reconciles (a label change queues one).
    bad = trigger("bad", sink.url).replace(
        "metadata: {name: bad}",
        "metadata: {name: bad, annotations: {sluice.dev/max-in-flight: "
        "\"0\"}}")
    apply(s, bad)

    def why():
        c = cond(get(s, "trigger", "bad") or {}, "SubscriptionReady")
        return c.get("status") == "False" and c
    c = wait_for(why, 10, "bad trigger not ready")
    assert c["reason"] == "InvalidAnnotation", c
    assert "max-in-flight" in c["message"], c
    r = s.cli("label", "trigger", "bad", "x=y")
    if r.returncode != 0:
        apply(s, bad.replace("name: bad,", "name: bad, labels: {x: y},"))
    time.sleep(0.5)
    c = wait_for(why, 10, "bad trigger still not ready")
    assert c["reason"] == "InvalidAnnotation" and c["message"], c

    # Delete the trigger, send, re-create: nothing sent meanwhile arrives.
    assert send_event(s.ingress, "/default/b", "before").status == 202
    sink.wait(1)
    assert s.cli("delete", "trigger", "t").returncode == 0
    wait_for(lambda: get(s, "trigger", "t") is None, 10, "trigger gone")
    time.sleep(0.3)
    assert send_event(s.ingress, "/default/b", "meanwhile").status == 202
    apply(s, trigger("t", sink.url))
    ready(s, "trigger", "t")
    assert send_event(s.ingress, "/default/b", "after").status == 202
    wait_for(lambda: "after" in sink.ids(), 10, "the event sent after")
    time.sleep(0.5)
    ids = sink.ids()
    assert "meanwhile" not in ids, ids

    # A broker deleted with events pending retry, then re-created: the
    # new broker starts empty.
    failing = Sink(lambda req: (503, {}, b""))
    apply(s, trigger("slow", failing.url,
                     "  delivery: {retry: 5, backoffDelay: PT1S,"
                     " backoffPolicy: linear}\n"))
    ready(s, "trigger", "slow")
    assert send_event(s.ingress, "/default/b", "old").status == 202
    failing.wait(1)
    assert s.cli("delete", "broker", "b").returncode == 0
    wait_for(lambda: send_event(s.ingress, "/default/b", "x").status == 404,
             10, "broker gone")
    n = len(failing.all())
    apply(s, BROKER)
    ready(s, "trigger", "slow", seconds=20)
    time.sleep(3)
    assert len(failing.all()) == n, failing.ids()


def run():
    s = Sluice(*EXTRA).start()
    try:
        test(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()


main(run)
