#!/usr/bin/env python3
"""REST API basics through the real daemon: create, get, list, replace,
merge-patch, delete, defaults written into stored objects, resourceVersion
and generation rules, namespaces, label selectors, discovery."""
import json

from sluicetest import Sluice, apipath, main

EV = ("eventing.knative.dev", "v1")


def broker(name, ns="default", **spec):
    o = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
         "metadata": {"name": name, "namespace": ns}}
    if spec:
        o["spec"] = spec
    return o


def test(s):
    p = apipath(*EV, "brokers", "default")
    r = s.call("POST", p, broker("b1"))
    assert r.status == 201, r
    b = r.json()
    md = b["metadata"]
    assert md["name"] == "b1" and md["namespace"] == "default"
    assert md["uid"] and md["creationTimestamp"].endswith("Z")
    assert md["generation"] == 1, md
    rv1 = int(md["resourceVersion"])
    # Knative's webhook defaults, written into the object.
    assert md["annotations"]["eventing.knative.dev/broker.class"], md
    d = b["spec"]["delivery"]
    assert d == {"retry": 10, "backoffPolicy": "exponential",
                 "backoffDelay": "PT0.2S"}, d

    r = s.call("POST", p, broker("b1"))
    assert r.status == 409 and r.json()["reason"] == "AlreadyExists", r

    r = s.call("GET", p + "/b1")
    assert r.status == 200 and r.json()["metadata"]["uid"] == md["uid"], r

    # YAML bodies are accepted too.
    r = s.call("POST", p, "apiVersion: eventing.knative.dev/v1\n"
               "kind: Broker\nmetadata:\n  name: b2\n  labels:\n"
               "    team: a\n", {"Content-Type": "application/yaml"})
    assert r.status == 201, r

    # List, all namespaces, label selector.
    r = s.call("GET", p)
    items = r.json()["items"]
    assert r.status == 200 and [i["metadata"]["name"] for i in items] == \
        ["b1", "b2"], r
    assert r.json()["kind"] == "BrokerList"
    assert int(r.json()["metadata"]["resourceVersion"]) >= rv1
    r = s.call("GET", p + "?labelSelector=team%3Da")
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["b2"], r
    r = s.call("GET", p + "?labelSelector=team%20in%20(x,y)")
    assert r.json()["items"] == [], r
    r = s.call("GET", p + "?labelSelector=team%20in%20(x")
    assert r.status == 400 and r.json()["reason"] == "BadRequest", r

    # Another namespace: must exist first.
    r = s.call("POST", apipath(*EV, "brokers", "team-a"), broker("b", "team-a"))
    assert r.status == 404 and r.json()["reason"] == "NotFound", r
    r = s.call("POST", "/api/v1/namespaces",
               {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "team-a"}})
    assert r.status == 201, r
    r = s.call("POST", apipath(*EV, "brokers", "team-a"), broker("b", "team-a"))
    assert r.status == 201, r
    r = s.call("GET", "/apis/eventing.knative.dev/v1/brokers")
    names = [(i["metadata"]["namespace"], i["metadata"]["name"])
             for i in r.json()["items"]]
    assert names == [("default", "b1"), ("default", "b2"), ("team-a", "b")], r
    # Namespace mismatch between path and body.
    r = s.call("POST", p, broker("x", "team-a"))
    assert r.status == 400 and r.json()["reason"] == "BadRequest", r

    # Merge patch of the spec bumps generation; labels only do not.
    r = s.call("PATCH", p + "/b1",
               json.dumps({"spec": {"delivery": {"retry": 3}}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    b = r.json()
    assert b["spec"]["delivery"]["retry"] == 3
    assert b["spec"]["delivery"]["backoffPolicy"] == "exponential"
    assert b["metadata"]["generation"] == 2, b
    rv2 = int(b["metadata"]["resourceVersion"])
    assert rv2 > rv1
    r = s.call("PATCH", p + "/b1",
               json.dumps({"metadata": {"labels": {"x": "y"}}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["metadata"]["generation"] == 2, r
    # An unchanged patch writes nothing: same resourceVersion.
    rv3 = r.json()["metadata"]["resourceVersion"]
    r = s.call("PATCH", p + "/b1",
               json.dumps({"metadata": {"labels": {"x": "y"}}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["metadata"]["resourceVersion"] == rv3
    # Other patch types are refused.
    r = s.call("PATCH", p + "/b1", "[]",
               {"Content-Type": "application/json-patch+json"})
    assert r.status == 415, r

    # PUT with a stale resourceVersion conflicts; with the current one works.
    cur = s.call("GET", p + "/b1").json()
    stale = dict(cur)
    stale["metadata"] = dict(cur["metadata"], resourceVersion=str(rv1))
    r = s.call("PUT", p + "/b1", stale)
    assert r.status == 409 and r.json()["reason"] == "Conflict", r
    cur["spec"]["delivery"]["retry"] = 4
    r = s.call("PUT", p + "/b1", cur)
    assert r.status == 200 and r.json()["spec"]["delivery"]["retry"] == 4, r
    assert r.json()["metadata"]["uid"] == md["uid"]

    # Delete returns the object; then it is gone.
    r = s.call("DELETE", p + "/b2")
    assert r.status == 200 and r.json()["metadata"]["name"] == "b2", r
    r = s.call("GET", p + "/b2")
    assert r.status == 404 and r.json()["kind"] == "Status", r
    assert r.json()["code"] == 404
    r = s.call("DELETE", p + "/b2")
    assert r.status == 404, r

    # Deleting a namespace deletes what is in it.
    r = s.call("DELETE", "/api/v1/namespaces/team-a")
    assert r.status == 200, r
    r = s.call("GET", apipath(*EV, "brokers", "team-a", "b"))
    assert r.status == 404, r

    # Core kinds.
    r = s.call("POST", "/api/v1/namespaces/default/configmaps",
               {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kafka-broker-config"},
                "data": {"bootstrap.servers": "localhost:9092",
                         "default.topic.partitions": "10"}})
    assert r.status == 201, r
    assert r.json()["data"]["default.topic.partitions"] == "10"

    # Defaults Knative derives from a random UUID: KafkaSource's group.
    ks = apipath("sources.knative.dev", "v1", "kafkasources", "default")
    r = s.call("POST", ks, {
        "apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
        "metadata": {"name": "ks"},
        "spec": {"bootstrapServers": ["localhost:9092"], "topics": ["t"],
                 "sink": {"uri": "http://sink.example.com/"}}})
    assert r.status == 201, r
    group = r.json()["spec"]["consumerGroup"]
    assert group.startswith("knative-kafka-source-") and len(group) == 57, r
    r = s.call("PATCH", ks + "/ks", json.dumps({"spec": {"topics": ["t2"]}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["spec"]["consumerGroup"] == group, r

    # Discovery, health, version.
    r = s.call("GET", "/apis/eventing.knative.dev/v1")
    assert r.status == 200, r
    res = {x["name"]: x for x in r.json()["resources"]}
    assert res["brokers"]["kind"] == "Broker" and res["brokers"]["namespaced"]
    assert "triggers/status" in res, res.keys()
    r = s.call("GET", "/apis")
    groups = [g["name"] for g in r.json()["groups"]]
    for g in ("eventing.knative.dev", "sources.knative.dev",
              "serving.knative.dev"):
        assert g in groups, groups
    for path in ("/healthz", "/readyz", "/version"):
        assert s.call("GET", path).status == 200, path
    assert s.call("GET", "/no/such/path").status == 404
    assert s.call("DELETE", "/healthz").status == 405


def run():
    s = Sluice().start()
    try:
        test(s)
    finally:
        s.stop()


main(run)
