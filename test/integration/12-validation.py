#!/usr/bin/env python3
"""Every validation rule family answers 422 Invalid with the field path in
details.causes, as Knative's webhook and kubectl's strict validation do;
immutable fields are refused on update."""
import copy
import json

from sluicetest import Sluice, apipath, main

TRIGGER = {
    "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
    "metadata": {"name": "t"},
    "spec": {"broker": "default",
             "subscriber": {"uri": "http://sink.example.com/"}},
}
BROKER = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
          "metadata": {"name": "b"}}
PING = {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
        "metadata": {"name": "p"},
        "spec": {"schedule": "*/2 * * * *",
                 "sink": {"uri": "http://sink.example.com/"}}}
KSVC = {"apiVersion": "serving.knative.dev/v1", "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
KSRC = {"apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
        "metadata": {"name": "k"},
        "spec": {"bootstrapServers": ["localhost:9092"], "topics": ["t"],
                 "sink": {"uri": "http://sink.example.com/"}}}

PATHS = {
    "Trigger": apipath("eventing.knative.dev", "v1", "triggers", "default"),
    "Broker": apipath("eventing.knative.dev", "v1", "brokers", "default"),
    "PingSource": apipath("sources.knative.dev", "v1", "pingsources",
                          "default"),
    "KafkaSource": apipath("sources.knative.dev", "v1", "kafkasources",
                           "default"),
    "Service": apipath("serving.knative.dev", "v1", "services", "default"),
}


def with_(base, path, value):
    """A copy of base with the dotted path set (None deletes)."""
    o = copy.deepcopy(base)
    cur = o
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur.setdefault(k, {})
    if value is None:
        cur.pop(keys[-1], None)
    else:
        cur[keys[-1]] = value
    return o


def invalid(s, obj, field, text=None):
    r = s.call("POST", PATHS[obj["kind"]], obj)
    assert r.status == 422, (field, r)
    st = r.json()
    assert st["kind"] == "Status" and st["reason"] == "Invalid", st
    causes = st["details"]["causes"]
    fields = [c.get("field") or "" for c in causes]
    # The path may go deeper than the test names (a map key, a member).
    assert any(f == field or f.startswith(field + "[") or
               f.startswith(field + ".") for f in fields), (field, st)
    if text:
        assert text in st["message"], (text, st["message"])


def test(s):
    # Strict decoding: unknown fields at any depth, wrong types.
    invalid(s, with_(TRIGGER, "spec.filtre", {}), "spec.filtre",
            'unknown field "spec.filtre"')
    invalid(s, with_(TRIGGER, "spec.subscriber.ref", {
        "apiVersion": "v1", "kind": "Service", "name": "x", "nam": "y"}),
        "spec.subscriber.ref.nam")
    invalid(s, with_(TRIGGER, "metadata.labelz", {}), "metadata.labelz")
    invalid(s, with_(BROKER, "spec", {"delivery": {"retry": "x"}}),
            "spec.delivery.retry")
    # Metadata rules.
    invalid(s, with_(BROKER, "metadata.name", "Bad_Name"), "metadata.name")
    invalid(s, with_(BROKER, "metadata.name", None), "metadata.name")
    invalid(s, with_(BROKER, "metadata.labels", {"a": "x" * 64}),
            "metadata.labels")
    # Destinations (reference 2.4).
    invalid(s, with_(TRIGGER, "spec.subscriber", {}), "spec.subscriber")
    invalid(s, with_(TRIGGER, "spec.subscriber", {"uri": "/relative"}),
            "spec.subscriber.uri")
    invalid(s, with_(TRIGGER, "spec.subscriber", None), "spec.subscriber")
    # Delivery (reference 3.1).
    for f, v in (("retry", -1), ("backoffPolicy", "random"),
                 ("backoffDelay", "5s"), ("timeout", "PT0S"),
                 ("retryAfterMax", "PT1S"), ("format", "xml")):
        invalid(s, with_(BROKER, "spec", {"delivery": {f: v}}),
                "spec.delivery." + f)
    invalid(s, with_(BROKER, "spec", {"delivery": {
        "deadLetterSink": {"uri": "not a url"}}}),
        "spec.delivery.deadLetterSink.uri")
    # Filters (reference 2.2, 2.3).
    invalid(s, with_(TRIGGER, "spec.filter", {"attributes": {"Type": "x"}}),
            "spec.filter.attributes[Type]")
    invalid(s, with_(TRIGGER, "spec.filters", [
        {"exact": {"type": "a"}, "prefix": {"type": "b"}}]),
        "spec.filters[0]", "multiple dialects found")
    invalid(s, with_(TRIGGER, "spec.filters", [
        {"not": {"exact": {"A-B": "x"}}}]), "spec.filters[0].not.exact[A-B]")
    # broker / brokerRef
    invalid(s, with_(TRIGGER, "spec.brokerRef", {"name": "x"}), "spec",
            "expected exactly one, got both")
    invalid(s, with_(TRIGGER, "spec.broker", None), "spec.broker")
    # PingSource (reference 4.1).
    invalid(s, with_(PING, "spec.schedule", "61 * * * *"), "spec.schedule")
    invalid(s, with_(PING, "spec.schedule", "@every 1m"), "spec.schedule")
    invalid(s, with_(PING, "spec.timezone", "Mars/Olympus"), "spec.timezone")
    both = with_(PING, "spec.data", "x")
    both["spec"]["dataBase64"] = "eA=="
    invalid(s, both, "spec")
    js = with_(PING, "spec.data", "[1,2]")
    js["spec"]["contentType"] = "application/json"
    invalid(s, js, "spec.data")
    # KafkaSource (reference 6.1).
    invalid(s, with_(KSRC, "spec.topics", []), "spec.topics")
    invalid(s, with_(KSRC, "spec.initialOffset", "middle"),
            "spec.initialOffset")
    # Serving traffic (reference 9.3).
    t = with_(KSVC, "spec.traffic", [{"percent": 50, "latestRevision": True},
                                     {"percent": 20, "revisionName": "s-1"}])
    invalid(s, t, "spec.traffic")

    # Immutable fields on update.
    p = PATHS["Trigger"]
    r = s.call("POST", p, TRIGGER)
    assert r.status == 201, r
    r = s.call("PATCH", p + "/t", json.dumps({"spec": {"broker": "other"}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 422 and r.json()["reason"] == "Invalid", r
    assert "spec.broker" in [c.get("field") for c in
                             r.json()["details"]["causes"]], r
    p = PATHS["Broker"]
    assert s.call("POST", p, BROKER).status == 201
    r = s.call("PATCH", p + "/b", json.dumps({"metadata": {"annotations": {
        "eventing.knative.dev/broker.class": "Kafka"}}}),
        {"Content-Type": "application/merge-patch+json"})
    assert r.status == 422, r
    # The failed updates changed nothing.
    r = s.call("GET", PATHS["Trigger"] + "/t")
    assert r.json()["spec"]["broker"] == "default", r


def run():
    s = Sluice().start()
    try:
        test(s)
    finally:
        s.stop()


main(run)
