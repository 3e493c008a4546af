#!/usr/bin/env python3
"""The Kafka broker class under failures and with several processes:
sluice killed with SIGKILL while events flow loses none (every event
answered 202 arrives at least once after the restart); two sluice
processes (separate data directories, the same Broker and Trigger YAML,
the same cluster) split a trigger's work, and when one is killed the
other takes its partitions over and delivers what it left; the cluster
unreachable (its brokers taken down) gives 503 at the ingress and a
Broker that is not Ready, and both recover when it is back, without a
restart."""
import json
import threading
import time

from sluicetest import (KafkaCluster, Sink, Sluice, main, ready, request,
                        send_event, wait_for)

TOPIC = "knative-broker-default-kb"

YAML = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: kb
  annotations: {eventing.knative.dev/broker.class: Kafka}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  broker: kb
  subscriber: {uri: "%s"}
"""


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def start(kc, sink, data_dir=None):
    s = Sluice("--kafka-bootstrap", kc.bootstrap, data_dir=data_dir).start()
    r = s.cli("apply", "-f", "-", input=YAML % sink.url)
    assert r.returncode == 0, r.stderr
    ready(s, "broker", "kb")
    ready(s, "trigger", "t")
    return s


class Producer:
    """Sends events to one or more ingresses in a thread; records the ids
    answered 202 and the status codes."""

    def __init__(self, ingresses, prefix):
        self.ingresses = list(ingresses)
        self.prefix = prefix
        self.accepted = []
        self.codes = {}
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self.run)

    def run(self):
        n = 0
        while not self.stop_ev.is_set():
            n += 1
            id = "%s%d" % (self.prefix, n)
            addr = self.ingresses[n % len(self.ingresses)]
            try:
                r = send_event(addr, "/default/kb", id, timeout=15)
                self.codes[r.status] = self.codes.get(r.status, 0) + 1
                if r.status == 202:
                    self.accepted.append(id)
            except OSError:
                self.codes["err"] = self.codes.get("err", 0) + 1
            time.sleep(0.003)

    def __enter__(self):
        self.th.start()
        return self

    def __exit__(self, *a):
        self.stop_ev.set()
        self.th.join()


def delivered(s):
    """Events this process delivered for trigger t (its /metrics)."""
    r = request(s.metrics, "GET", "/metrics")
    n = 0
    for line in r.body.decode().splitlines():
        if line.startswith("mt_broker_filter_event_count{") and \
                'trigger_name="t"' in line:
            n += float(line.rsplit(" ", 1)[1])
    return n


def kill9(kc):
    sink = Sink()
    s = start(kc, sink)
    with Producer([s.ingress], "a") as p:
        wait_for(lambda: len(sink.all()) >= 150, 30, "events flowing")
        s.kill9()
        time.sleep(0.3)
    assert p.accepted, p.codes
    s2 = start(kc, sink, data_dir=s.data_dir)
    want = set(p.accepted)
    wait_for(lambda: want <= set(sink.ids()), 60,
             "every accepted event after the restart")
    s2.stop()


def two_processes(kc):
    sink = Sink()
    a = start(kc, sink)
    b = start(kc, sink)
    with Producer([a.ingress, b.ingress], "b") as p:
        # Both get partitions (4 partitions, 2 members) and deliver.
        wait_for(lambda: delivered(a) >= 20 and delivered(b) >= 20, 60,
                 "both processes delivering")
        # One dies: the other takes over, also what it left unsettled.
        a.kill9()
        n = len(p.accepted)
        wait_for(lambda: len(p.accepted) >= n + 100, 30,
                 "the survivor accepting")
        time.sleep(0.5)
    want = set(p.accepted)
    wait_for(lambda: want <= set(sink.ids()), 60,
             "every accepted event delivered by the survivor")
    b.stop()


def unreachable(kc):
    sink = Sink()
    s = start(kc, sink)
    assert send_event(s.ingress, "/default/kb", "before").status == 202
    wait_for(lambda: "before" in sink.ids(), 30, "the first event")
    kc.down()
    try:
        def refused():
            r = send_event(s.ingress, "/default/kb", "x", timeout=20)
            return r.status == 503 and r
        wait_for(refused, 30, "503 while the cluster is down")

        def down():
            o = json.loads(s.cli("get", "broker", "kb", "-o", "json").stdout)
            c = cond(o, "Ready")
            return c.get("status") == "False" and c
        c = wait_for(down, 30, "broker not Ready while the cluster is down")
        assert "Kafka cluster unreachable" in c.get("message", ""), c
        # Fast: the ingress knows, it does not wait for a timeout.
        t0 = time.time()
        assert send_event(s.ingress, "/default/kb", "y").status == 503
        assert time.time() - t0 < 2, time.time() - t0
    finally:
        kc.up()
    ready(s, "broker", "kb", seconds=60)

    def accepted():
        return send_event(s.ingress, "/default/kb", "after",
                          timeout=20).status == 202
    wait_for(accepted, 60, "202 once the cluster is back")
    wait_for(lambda: "after" in sink.ids(), 60, "delivery after recovery")
    s.stop()


def test():
    kc = KafkaCluster(topics=[TOPIC + ":4"]).start()
    try:
        kill9(kc)
    finally:
        kc.stop()
    kc = KafkaCluster(topics=[TOPIC + ":4"]).start()
    try:
        two_processes(kc)
    finally:
        kc.stop()
    kc = KafkaCluster(topics=[TOPIC + ":4"]).start()
    try:
        unreachable(kc)
    finally:
        kc.stop()


main(test)
