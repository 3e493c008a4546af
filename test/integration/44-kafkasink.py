#!/usr/bin/env python3
"""KafkaSink through the real binary against a Kafka-protocol cluster (the
kafka-cluster helper) with kcat as the independent reader: events POSTed
in binary and structured HTTP mode land in the topic in binary mode
(ce_ headers, key = partitionkey, no knativearrivaltime) or, with
contentMode structured, as JSON; the record is in the topic when the 202
arrives; 404 for an unknown sink, 400 for a bad event, 503 for a sink
whose topic is missing and while the cluster is gone, and recovery on a
new cluster; a KafkaSink as a Trigger's subscriber, as a dead-letter sink
and as a PingSource's sink; status conditions (Addressable, TopicReady,
ConfigParsed, Ready) including an address conflict with a Broker and an
auth Secret; deleting the KafkaSink keeps its topic."""
import base64
import json
import time

from sluicetest import (KafkaCluster, Sink, Sluice, main, ready, request,
                        send_event, wait_for)

V1A1 = "eventing.knative.dev/v1alpha1"


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def get(s, kind, name):
    r = s.cli("get", kind, name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def sink_yaml(name, topic, kc, extra=""):
    servers = ", ".join('"%s"' % b for b in kc.bootstrap.split(","))
    return """
apiVersion: %s
kind: KafkaSink
metadata: {name: %s}
spec:
  topic: %s
  bootstrapServers: [%s]
%s""" % (V1A1, name, topic, servers, extra)


def ref(name):
    return "{ref: {apiVersion: %s, kind: KafkaSink, name: %s}}" % (V1A1,
                                                                    name)


def headers(rec):
    """kcat -J headers (alternating names and values) as a dict."""
    h = rec.get("headers") or []
    return dict(zip(h[0::2], h[1::2]))


def wait_cond(s, name, typ, status, reason=None, seconds=30):
    def ok():
        c = cond(get(s, "kafkasink", name), typ)
        if c.get("status") == status and (reason is None
                                          or c.get("reason") == reason):
            return c
        return None
    return wait_for(ok, seconds, "KafkaSink %s %s=%s %s" % (name, typ, status,
                                                            reason or ""))


def test_binary_structured(s, kc):
    ks = ready(s, "kafkasink", "ks-bin")
    url = "http://%s/default/ks-bin" % s.ingress
    assert ks["status"]["address"]["url"] == url, ks["status"]
    assert ks["status"]["addresses"][0]["url"] == url
    for t in ("Addressable", "TopicReady", "ConfigParsed", "Ready"):
        assert cond(ks, t)["status"] == "True", ks["status"]

    # Binary HTTP in; the record is in the topic as soon as the 202 is.
    r = send_event(s.ingress, "/default/ks-bin", "b1", type="dev.k.bin",
                   data='{"n": 1}', ext={"partitionkey": "user-7",
                                         "knativebrokerttl": "1"})
    assert r.status == 202, r
    rec = kc.consume("sink-bin", 1, seconds=5)[0]
    h = headers(rec)
    assert h["ce_specversion"] == "1.0" and h["ce_id"] == "b1", h
    assert h["ce_type"] == "dev.k.bin" and h["ce_source"] == "/test", h
    assert h["ce_partitionkey"] == "user-7", h
    assert h["content-type"] == "application/json", h
    # A sink takes the event as it is: no arrival time, the TTL untouched.
    assert "ce_knativearrivaltime" not in h, h
    assert h["ce_knativebrokerttl"] == "1", h
    assert rec["key"] == "user-7", rec
    assert json.loads(rec["payload"]) == {"n": 1}, rec

    # Structured HTTP in: stored in the sink's mode (binary); no key
    # without a partitionkey.
    ev = {"specversion": "1.0", "id": "b2", "source": "/s", "type": "dev.k.st",
          "datacontenttype": "text/plain", "data": "hello", "color": "red"}
    r = request(s.ingress, "POST", "/default/ks-bin", json.dumps(ev),
                {"Content-Type": "application/cloudevents+json"})
    assert r.status == 202, r
    recs = kc.consume("sink-bin", 2, seconds=5)
    rec = [x for x in recs if headers(x).get("ce_id") == "b2"][0]
    h = headers(rec)
    assert h["ce_color"] == "red" and h["content-type"] == "text/plain", h
    assert rec["payload"] == "hello" and rec["key"] is None, rec

    # Same partitionkey, same partition.
    for i in range(6):
        assert send_event(s.ingress, "/default/ks-bin", "k%d" % i,
                          ext={"partitionkey": "user-7"}).status == 202
    recs = kc.consume("sink-bin", 8, seconds=5)
    parts = {x["partition"] for x in recs if x["key"] == "user-7"}
    assert len(parts) == 1, recs

    # contentMode structured: JSON records.
    ready(s, "kafkasink", "ks-str")
    assert send_event(s.ingress, "/default/ks-str", "s1", data='{"a": 2}',
                      ext={"partitionkey": "p"}).status == 202
    rec = kc.consume("sink-str", 1, seconds=5)[0]
    h = headers(rec)
    assert h["content-type"].startswith("application/cloudevents+json"), h
    assert not any(k.startswith("ce_") for k in h), h
    body = json.loads(rec["payload"])
    assert body["id"] == "s1" and body["data"] == {"a": 2}, body
    assert body["partitionkey"] == "p" and rec["key"] == "p", rec


def test_refusals(s):
    r = send_event(s.ingress, "/default/nope", "x")
    assert r.status == 404, r
    r = request(s.ingress, "POST", "/default/ks-bin", "{}",
                {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "/s",
                 "content-type": "application/json"})
    assert r.status == 400 and b"id" in r.body, r
    r = request(s.ingress, "GET", "/default/ks-bin")
    assert r.status == 405, r

    # A topic that does not exist (and is not to be created): not Ready,
    # and the ingress answers 503.
    c = wait_cond(s, "ks-missing", "TopicReady", "False",
                  "Topic is not present or invalid")
    assert "not-there" in c["message"], c
    assert cond(get(s, "kafkasink", "ks-missing"), "Ready")["status"] == \
        "False"
    r = send_event(s.ingress, "/default/ks-missing", "m1")
    assert r.status == 503 and b"default/ks-missing" in r.body, r


def test_subscriber_and_dead_letter(s, kc):
    bad = Sink(lambda req: (500, {}, b"broken"))
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-kafka}
spec:
  broker: b
  filter: {attributes: {type: dev.k.sub}}
  subscriber: %s
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-dls}
spec:
  broker: b
  filter: {attributes: {type: dev.k.fail}}
  subscriber: {uri: "%s"}
  delivery:
    retry: 1
    backoffDelay: PT0.1S
    deadLetterSink: %s
""" % (ref("ks-sub"), bad.url, ref("ks-dls")))
    t = ready(s, "trigger", "to-kafka")
    assert t["status"]["subscriberUri"] == \
        "http://%s/default/ks-sub" % s.ingress, t["status"]
    t = ready(s, "trigger", "to-dls")
    assert t["status"]["deadLetterSinkUri"] == \
        "http://%s/default/ks-dls" % s.ingress, t["status"]

    assert send_event(s.ingress, "/default/b", "sub1", type="dev.k.sub",
                      data='"x"').status == 202
    rec = kc.consume("sink-sub", 1, seconds=20)[0]
    h = headers(rec)
    assert h["ce_id"] == "sub1", h
    # The broker stamped it; the KafkaSink kept what it got.
    assert "ce_knativearrivaltime" in h, h

    assert send_event(s.ingress, "/default/b", "dl1", type="dev.k.fail",
                      data='"y"').status == 202
    rec = kc.consume("sink-dls", 1, seconds=20)[0]
    h = headers(rec)
    assert h["ce_id"] == "dl1", h
    assert h["ce_knativeerrorcode"] == "500", h
    assert h["ce_knativeerrordest"] == bad.url, h
    assert base64.b64decode(h["ce_knativeerrordata"]) == b"broken", h
    assert len(bad.all()) == 2  # the attempt and its one retry


def test_pingsource(s, kc):
    apply(s, """
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: ping-kafka}
spec:
  schedule: "* * * * * *"
  data: '{"ping": true}'
  sink: %s
""" % ref("ks-ping"))
    p = ready(s, "pingsource", "ping-kafka")
    assert p["status"]["sinkUri"] == "http://%s/default/ks-ping" % s.ingress
    rec = kc.consume("sink-ping", 1, seconds=20)[0]
    h = headers(rec)
    assert h["ce_type"] == "dev.knative.sources.ping", h
    assert json.loads(rec["payload"]) == {"ping": True}, rec
    r = s.cli("delete", "pingsource", "ping-kafka")
    assert r.returncode == 0, r.stderr


def test_conflict_and_secret(s, kc):
    # A Broker of the same name owns /default/clash.
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: clash}
""" + "\n---\n" + sink_yaml("clash", "sink-bin", kc))
    c = wait_cond(s, "clash", "Addressable", "False", "AddressConflict")
    assert "Broker" in c["message"], c
    o = get(s, "kafkasink", "clash")
    assert cond(o, "Ready")["reason"] == "AddressConflict", o["status"]
    assert "address" not in o["status"], o["status"]
    r = s.cli("delete", "broker", "clash")
    assert r.returncode == 0, r.stderr
    ready(s, "kafkasink", "clash")

    # An auth Secret: missing, invalid, then PLAINTEXT (what the cluster
    # speaks).
    apply(s, sink_yaml("authed", "sink-bin", kc,
                       "  auth: {secret: {ref: {name: kafka-auth}}}"))
    wait_cond(s, "authed", "ConfigParsed", "False", "SecretNotFound")
    apply(s, """
apiVersion: v1
kind: Secret
metadata: {name: kafka-auth}
stringData: {user: nobody}
""")
    c = wait_cond(s, "authed", "ConfigParsed", "False", "InvalidSecret")
    assert "protocol" in c["message"], c
    assert cond(get(s, "kafkasink", "authed"), "Ready")["reason"] == \
        "InvalidSecret"
    r = send_event(s.ingress, "/default/authed", "a0")
    assert r.status == 404, r  # nothing runs with an unparsed config
    apply(s, """
apiVersion: v1
kind: Secret
metadata: {name: kafka-auth}
stringData: {protocol: PLAINTEXT}
""")
    ready(s, "kafkasink", "authed")
    assert send_event(s.ingress, "/default/authed", "a1").status == 202


def test_cluster_loss(s, kc):
    # The cluster vanishes: 503 (at once once the producer notices) and a
    # status saying why.
    kc.kill()

    def refused():
        r = send_event(s.ingress, "/default/ks-bin", "lost", timeout=20)
        return r.status == 503 and r
    r = wait_for(refused, 30, "503 from a KafkaSink without its cluster")
    assert b"sink default/ks-bin" in r.body, r
    t0 = time.monotonic()
    assert send_event(s.ingress, "/default/ks-bin", "lost2").status == 503
    assert time.monotonic() - t0 < 2.0
    c = wait_cond(s, "ks-bin", "TopicReady", "False", "ClusterUnreachable")
    assert "no broker" in c["message"], c

    # Recovery: a new cluster, the KafkaSink pointed at it.
    kc2 = KafkaCluster(brokers=1, topics=["sink-bin:3"]).start()
    apply(s, sink_yaml("ks-bin", "sink-bin", kc2))
    wait_cond(s, "ks-bin", "TopicReady", "True")
    ready(s, "kafkasink", "ks-bin")
    assert send_event(s.ingress, "/default/ks-bin", "back",
                      ext={"partitionkey": "z"}).status == 202
    rec = kc2.consume("sink-bin", 1, seconds=5)[0]
    assert headers(rec)["ce_id"] == "back" and rec["key"] == "z", rec

    # Its answers are counted under its name, as a broker's.
    m = request(s.metrics, "GET", "/metrics").body.decode()
    assert 'broker_name="ks-bin"' in m, m[-2000:]

    # Deleted: 404, its series gone; the topic is the user's and stays.
    r = s.cli("delete", "kafkasink", "ks-bin")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: send_event(s.ingress, "/default/ks-bin",
                                "gone").status == 404, 20, "404 once deleted")
    wait_for(lambda: 'broker_name="ks-bin"' not in request(
        s.metrics, "GET", "/metrics").body.decode(), 20,
        "the deleted KafkaSink's series gone")
    assert "sink-bin" in kc2.topic_names()
    kc2.stop()


def run():
    kc = KafkaCluster(brokers=3, topics=[
        "sink-bin:3", "sink-str:1", "sink-sub:2", "sink-dls:1",
        "sink-ping:1"]).start()
    s = Sluice().start()
    try:
        apply(s, "\n---\n".join([
            sink_yaml("ks-bin", "sink-bin", kc),
            sink_yaml("ks-str", "sink-str", kc, "  contentMode: structured"),
            sink_yaml("ks-sub", "sink-sub", kc),
            sink_yaml("ks-dls", "sink-dls", kc),
            sink_yaml("ks-ping", "sink-ping", kc),
            sink_yaml("ks-missing", "not-there", kc)]))
        test_binary_structured(s, kc)
        test_refusals(s)
        test_subscriber_and_dead_letter(s, kc)
        test_pingsource(s, kc)
        test_conflict_and_secret(s, kc)
        test_cluster_loss(s, kc)
        s.stop()
    except AssertionError:
        print(s.output()[-6000:])
        raise
    finally:
        kc.stop()


if __name__ == "__main__":
    main(run)
