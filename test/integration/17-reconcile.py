#!/usr/bin/env python3
"""The reconcile loop: Broker addresses, destination resolution for every
kind of reference, a Trigger waiting for its Broker, dependents
re-reconciled when what they point at changes, and statuses that say
truthfully what is ready and what is not."""
import json

from sluicetest import Sluice, apipath, main, wait_for

EV = "eventing.knative.dev"


def path(kind, name=None, group=EV, version="v1"):
    return apipath(group, version, kind, "default", name)


def cond(obj, t):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return None


def settled(s, kind, name, pred, group=EV, what=None):
    """Wait until the object's status satisfies pred; return it."""
    box = {}

    def check():
        r = s.call("GET", path(kind, name, group))
        if r.status != 200:
            return False
        o = r.json()
        box["o"] = o
        st = o.get("status", {})
        return st.get("observedGeneration") == \
            o["metadata"]["generation"] and pred(o)
    try:
        wait_for(check, 10, what or "%s/%s status" % (kind, name))
    except AssertionError:
        raise AssertionError("last seen: %s" % json.dumps(box.get("o")))
    return box["o"]


def post(s, kind, obj, group=EV):
    r = s.call("POST", path(kind, None, group), obj)
    assert r.status == 201, r


def test(s):
    # A Trigger before its Broker: BrokerReady False, BrokerDoesNotExist.
    post(s, "triggers", {
        "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {"broker": "b", "subscriber": {
            "ref": {"apiVersion": "v1", "kind": "Service", "name": "disp"},
            "uri": "/events"}}})
    t = settled(s, "triggers", "t",
                lambda o: cond(o, "BrokerReady") is not None)
    assert cond(t, "BrokerReady")["status"] == "False", t
    assert cond(t, "BrokerReady")["reason"] == "BrokerDoesNotExist", t
    assert cond(t, "Ready")["status"] == "False", t
    # ref to a core Service plus a relative uri.
    assert t["status"]["subscriberUri"] == \
        "http://disp.default.svc.cluster.local/events", t
    assert cond(t, "SubscriberResolved")["status"] == "True"
    assert cond(t, "DeadLetterSinkResolved")["reason"] == \
        "DeadLetterSinkNotConfigured"

    # The Broker appears: the Trigger is reconciled again by itself.
    post(s, "brokers", {
        "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
        "metadata": {"name": "b"},
        "spec": {"delivery": {"deadLetterSink": {"ref": {
            "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "name": "dead"}}}}})
    b = settled(s, "brokers", "b",
                lambda o: (cond(o, "IngressReady") or {}).get("status")
                == "True", what="broker b's log open")
    assert b["status"]["address"]["url"] == \
        "http://%s/default/b" % s.ingress, b
    assert cond(b, "Addressable")["status"] == "True"
    # The log is open, but the dead-letter sink does not resolve.
    assert cond(b, "Ready")["status"] == "False", b
    assert cond(b, "Ready")["reason"] == \
        "Unable to get the dead letter sink's URI", b
    # Its dead-letter sink (another Broker) does not exist yet.
    assert cond(b, "DeadLetterSinkResolved")["status"] == "False", b
    t = settled(s, "triggers", "t", lambda o: cond(
        o, "BrokerReady")["reason"] != "BrokerDoesNotExist")
    # The Trigger inherits the Broker's dead-letter sink once it resolves.
    post(s, "brokers", {"apiVersion": "eventing.knative.dev/v1",
                        "kind": "Broker", "metadata": {"name": "dead"}})
    b = settled(s, "brokers", "b", lambda o: cond(
        o, "DeadLetterSinkResolved")["status"] == "True")
    assert b["status"]["deadLetterSinkUri"] == \
        "http://%s/default/dead" % s.ingress, b
    t = settled(s, "triggers", "t",
                lambda o: o["status"].get("deadLetterSinkUri"))
    assert t["status"]["deadLetterSinkUri"] == \
        "http://%s/default/dead" % s.ingress, t

    # A subscriber that is a Knative Service without an address yet.
    post(s, "triggers", {
        "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
        "metadata": {"name": "t2", "annotations": {
            "knative.dev/dependency": json.dumps({
                "kind": "PingSource", "name": "p",
                "apiVersion": "sources.knative.dev/v1"})}},
        "spec": {"broker": "b", "subscriber": {"ref": {
            "apiVersion": "serving.knative.dev/v1", "kind": "Service",
            "name": "ksvc"}}}})
    t2 = settled(s, "triggers", "t2",
                 lambda o: cond(o, "SubscriberResolved") is not None)
    assert cond(t2, "SubscriberResolved")["status"] == "False", t2
    assert cond(t2, "DependencyReady")["reason"] == \
        "DependencyDoesNotExist", t2

    # A PingSource resolves its Broker sink; the dependent Trigger notices.
    post(s, "pingsources", {
        "apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
        "metadata": {"name": "p"},
        "spec": {"schedule": "* * * * *", "sink": {"ref": {
            "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "name": "b"}}}}, group="sources.knative.dev")
    p = settled(s, "pingsources", "p",
                lambda o: o["status"].get("sinkUri"),
                group="sources.knative.dev")
    assert p["status"]["sinkUri"] == "http://%s/default/b" % s.ingress, p
    assert p["status"]["ceAttributes"] == [{
        "source": "/apis/v1/namespaces/default/pingsources/p",
        "type": "dev.knative.sources.ping"}], p
    # The PingSource runs (Deployed), so it is Ready and so is the
    # dependency.
    settled(s, "triggers", "t2", lambda o: cond(
        o, "DependencyReady")["status"] == "True")

    # Deleting the Broker takes the Trigger back to BrokerDoesNotExist.
    assert s.call("DELETE", path("brokers", "b")).status == 200
    settled(s, "triggers", "t", lambda o: cond(
        o, "BrokerReady")["reason"] == "BrokerDoesNotExist")
    settled(s, "pingsources", "p", lambda o: cond(
        o, "SinkProvided")["status"] == "False",
        group="sources.knative.dev")

    # A spec change bumps generation; observedGeneration follows.
    r = s.call("PATCH", path("triggers", "t"), json.dumps(
        {"spec": {"subscriber": {"uri": "/other"}}}),
        {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["metadata"]["generation"] == 2, r
    t = settled(s, "triggers", "t", lambda o: True)
    assert t["status"]["subscriberUri"] == \
        "http://disp.default.svc.cluster.local/other", t


def run():
    s = Sluice().start()
    try:
        test(s)
    finally:
        s.stop()


main(run)
