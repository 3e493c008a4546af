#!/usr/bin/env python3
"""The Kafka broker class against a cluster speaking the Kafka protocol
(test/helpers/kafka-cluster, librdkafka's mock cluster) with kcat as the
independent client: the delivery, bad-subscriber, life-cycle and CESQL
tests (30, 33, 36, 37) run again with SL_TEST_BACKEND=Kafka; events are
records in CloudEvents binary mode with key = partitionkey and the
pass-through headers beside them; records kcat writes straight into the
broker topic in binary and structured mode are delivered, and a record
that is no event is passed over; ordered delivery keeps per-key order
under retries; the topic comes from the cluster (pre-created), from an
external.topic annotation, or is reported missing and picked up once it
exists, without a restart; ConfigMap settings are checked by name; two
Brokers (Triggers) whose Knative topic (group) names collide are told
apart: the second is not Ready and names the first."""
import json
import os
import subprocess
import sys
import time

from sluicetest import (KafkaCluster, Sink, Sluice, main, ready, send_event,
                        wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def get(s, kind, name, ns="default"):
    r = s.cli("get", kind, name, "-n", ns, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def not_ready(s, kind, name, ns="default", seconds=20, reason=None):
    """Wait until Ready is False (with 'reason' when given); the condition."""
    def bad():
        c = cond(get(s, kind, name, ns) or {}, "Ready")
        if c.get("status") == "False" and (reason is None or
                                           c.get("reason") == reason):
            return c
        return None
    return wait_for(bad, seconds, "%s %s not Ready (%s)" % (kind, name,
                                                             reason))


def rerun():
    """The backend-neutral suites, each on a cluster of its own."""
    topics = {"30-delivery.py": ["knative-broker-default-b%d:4" % i
                                 for i in range(1, 6)],
              "33-bad-sinks.py": ["knative-broker-default-b:4"],
              "36-trigger-lifecycle.py": ["knative-broker-default-b:4"],
              # one partition: the test reads the fence in log order
              "37-cesql.py": ["knative-broker-default-cb:1"]}
    for t, tops in topics.items():
        kc = KafkaCluster(topics=tops).start()
        env = dict(os.environ)
        env["SL_TEST_BACKEND"] = "Kafka"
        env["SL_TEST_SLUICE_ARGS"] = "--kafka-bootstrap " + kc.bootstrap
        r = subprocess.run([sys.executable, os.path.join(HERE, t)], env=env,
                           capture_output=True, text=True, timeout=600)
        kc.stop()
        assert r.returncode == 0, "%s on Kafka:\n%s%s" % (
            t, r.stdout[-3000:], r.stderr[-3000:])


BROKER = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: %s
  namespace: %s
  annotations: {eventing.knative.dev/broker.class: Kafka%s}
"""


def trigger(name, broker, url, ns="default", extra=""):
    return """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: %s, namespace: %s%s}
spec:
  broker: %s
  subscriber: {uri: "%s"}
""" % (name, ns, extra, broker, url)


def records_and_kcat(kc):
    """Records in the topic, and records kcat writes into it."""
    topic = "knative-broker-default-kb"
    sink = Sink()
    s = Sluice("--kafka-bootstrap", kc.bootstrap).start()
    apply(s, BROKER % ("kb", "default", "") + "---" +
          trigger("all", "kb", sink.url))
    b = ready(s, "broker", "kb")
    assert b["status"]["annotations"] == {"sluice.dev/backend": "Kafka"}, b
    ready(s, "trigger", "all")

    # Binary mode, key = partitionkey, the pass-through header beside it.
    r = send_event(s.ingress, "/default/kb", "p1", data='{"a": 1}',
                   ext={"partitionkey": "k-1"},
                   headers={"X-Request-Id": "req-42"})
    assert r.status == 202, r
    sink.wait(1)
    q = sink.all()[0]
    assert q["event"]["id"] == "p1", q
    assert q["headers"].get("x-request-id") == "req-42", q["headers"]
    rec = kc.consume(topic, 1)[0]
    assert rec["key"] == "k-1", rec
    assert rec["payload"] == '{"a": 1}', rec
    h = rec["headers"]
    hd = dict(zip(h[0::2], h[1::2]))
    assert h[0] == "ce_specversion" and hd["ce_specversion"] == "1.0", h
    assert hd["ce_id"] == "p1" and hd["ce_partitionkey"] == "k-1", h
    assert hd["content-type"] == "application/json", h
    assert hd["X-Request-Id"] == "req-42", h
    assert "ce_knativearrivaltime" in hd, h

    # kcat writes: binary mode, a record that is no event, structured.
    kc.produce(topic, '{"b": 2}', key="kk",
               headers=[("ce_specversion", "1.0"), ("ce_id", "k1"),
                        ("ce_type", "dev.kcat"), ("ce_source", "/kcat"),
                        ("ce_color", "blue"),
                        ("content-type", "application/json")])
    kc.produce(topic, "just bytes")
    kc.produce(topic, json.dumps({
        "specversion": "1.0", "id": "k2", "type": "dev.kcat",
        "source": "/kcat", "data": {"c": 3}}),
        headers=[("content-type",
                  "application/cloudevents+json; charset=UTF-8")])
    wait_for(lambda: {"k1", "k2"} <= set(sink.ids()), 20,
             "the records kcat wrote")
    ev = {e["id"]: e for e in sink.events()}
    assert ev["k1"]["type"] == "dev.kcat" and ev["k1"]["color"] == "blue", ev
    assert ev["k1"]["data"] == '{"b": 2}', ev
    assert json.loads(ev["k2"]["data"]) == {"c": 3}, ev
    assert len(sink.all()) == 3, sink.ids()
    assert "is not an event" in s.output(), s.output()[-2000:]
    s.stop()


def ordered(kc):
    """Per-key order under retries (ordered delivery)."""
    seen = {}

    def respond(req):
        # The first attempt of every third event fails.
        i = req["event"]["id"]
        seen[i] = seen.get(i, 0) + 1
        n = int(i.split("-")[1])
        if n % 3 == 0 and seen[i] == 1:
            return (503, {}, b"")
        return (202, {}, b"")
    sink = Sink(respond)
    s = Sluice("--kafka-bootstrap", kc.bootstrap).start()
    apply(s, BROKER % ("ko", "default", "") + "---" +
          trigger("ord", "ko", sink.url, extra=", annotations: {"
                  "kafka.eventing.knative.dev/delivery.order: ordered}") +
          "  delivery: {retry: 3, backoffDelay: PT0.2S}\n")
    ready(s, "trigger", "ord")
    keys = ["red", "green", "blue"]
    n = 12
    for i in range(n):
        for k in keys:
            r = send_event(s.ingress, "/default/ko", "%s-%d" % (k, i),
                           ext={"partitionkey": k})
            assert r.status == 202, r
    wait_for(lambda: all(seen.get("%s-%d" % (k, n - 1), 0) >= 1
                         for k in keys) and
             len([q for q in sink.all()]) >= n * 3 + n, 30,
             "every event delivered")
    for k in keys:
        got = [q["event"]["id"] for q in sink.all()
               if q["event"]["id"].startswith(k + "-")]
        # Each id in order; a failed one is attempted again before the
        # next of its key.
        want = []
        for i in range(n):
            want += ["%s-%d" % (k, i)] * (2 if i % 3 == 0 else 1)
        assert got == want, (k, got)
    s.stop()


def topics(kc):
    """Pre-created, external, missing then created; config by name."""
    s = Sluice("--kafka-bootstrap", kc.bootstrap).start()
    sink = Sink()
    # External topic: used, never created.
    apply(s, BROKER % ("ext", "default",
                       ", kafka.eventing.knative.dev/external.topic: "
                       "ext-topic") + "---" +
          trigger("te", "ext", sink.url))
    ready(s, "broker", "ext")
    ready(s, "trigger", "te")
    assert send_event(s.ingress, "/default/ext", "x1").status == 202
    sink.wait(1)
    assert kc.consume("ext-topic", 1)[0]["key"] is None
    # An external topic that does not exist: not Ready, named.
    apply(s, BROKER % ("ext2", "default",
                       ", kafka.eventing.knative.dev/external.topic: "
                       "no-such-topic"))
    c = not_ready(s, "broker", "ext2", reason="TopicNotPresentOrInvalid")
    assert "no-such-topic does not exist" in c["message"], c
    assert send_event(s.ingress, "/default/ext2", "x").status == 503
    # A managed topic the cluster cannot create (the mock takes no
    # CreateTopics): not Ready with the cause; once it exists (kcat's
    # write makes it on the mock), Ready without a restart.
    apply(s, BROKER % ("late", "default", ""))
    c = not_ready(s, "broker", "late", seconds=30,
                  reason="TopicNotPresentOrInvalid")
    assert "knative-broker-default-late is not ready" in c["message"], c
    kc.produce("knative-broker-default-late", "make it")
    ready(s, "broker", "late", seconds=30)

    # Settings checked by key.
    apply(s, """
apiVersion: v1
kind: ConfigMap
metadata: {name: kcfg}
data: {bootstrap.servers: "%s", default.topic.partitions: "zero"}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: badcfg
  annotations: {eventing.knative.dev/broker.class: Kafka}
spec:
  config: {apiVersion: v1, kind: ConfigMap, name: kcfg}
""" % kc.bootstrap)
    c = not_ready(s, "broker", "badcfg", reason="InvalidConfig")
    assert "spec.config: default.topic.partitions" in c["message"], c
    apply(s, """
apiVersion: v1
kind: ConfigMap
metadata: {name: kcfg}
data: {bootstrap.servers: "%s", default.topic.partitions: "3",
       auth.secret.ref.name: kafka-auth}
""" % kc.bootstrap)
    c = not_ready(s, "broker", "badcfg", reason="SecretNotFound")
    assert "kafka-auth" in c["message"], c
    apply(s, """
apiVersion: v1
kind: Secret
metadata: {name: kafka-auth}
stringData: {protocol: SOMETHING}
""")
    c = not_ready(s, "broker", "badcfg", reason="InvalidConfig")
    assert "protocol 'SOMETHING'" in c["message"], c
    s.stop()
    # No bootstrap.servers anywhere: said so.
    s = Sluice().start()
    apply(s, BROKER % ("nob", "default", ""))
    c = not_ready(s, "broker", "nob", reason="InvalidConfig")
    assert "bootstrap.servers is required" in c["message"], c
    s.stop()


def conflicts(kc):
    """Knative's names collide: ns a-b/name c and ns a/name b-c."""
    s = Sluice("--kafka-bootstrap", kc.bootstrap).start()
    sink = Sink()
    apply(s, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a-b}\n---\n"
          "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    apply(s, BROKER % ("c", "a-b", ""))
    ready(s, "broker", "c", ns="a-b")
    apply(s, BROKER % ("b-c", "a", ""))
    c = not_ready(s, "broker", "b-c", ns="a", reason="TopicConflict")
    assert "a-b/c" in c["message"], c
    # Triggers: knative-trigger-a-b-x twice.
    apply(s, trigger("x", "c", sink.url, ns="a-b"))
    ready(s, "trigger", "x", ns="a-b")
    apply(s, BROKER % ("ok", "a", ""))
    ready(s, "broker", "ok", ns="a")
    apply(s, trigger("b-x", "ok", sink.url, ns="a"))
    c = not_ready(s, "trigger", "b-x", ns="a")
    sr = cond(get(s, "trigger", "b-x", "a"), "SubscriptionReady")
    assert sr.get("reason") == "ConsumerGroupConflict", sr
    assert "a-b/x" in sr["message"], sr
    # The first ones go: the second ones take the names.
    assert s.cli("delete", "trigger", "x", "-n", "a-b").returncode == 0
    ready(s, "trigger", "b-x", ns="a")
    assert s.cli("delete", "broker", "c", "-n", "a-b").returncode == 0
    ready(s, "broker", "b-c", ns="a", seconds=30)
    s.stop()


def test():
    rerun()
    kc = KafkaCluster(topics=["knative-broker-default-kb:4",
                              "knative-broker-default-ko:4",
                              "knative-broker-default-ext:2",
                              "ext-topic:2",
                              "knative-broker-a-b-c:2",
                              "knative-broker-a-ok:2"]).start()
    try:
        records_and_kcat(kc)
        ordered(kc)
        topics(kc)
        conflicts(kc)
    finally:
        kc.stop()


main(test)
