#!/usr/bin/env python3
"""KafkaSource through the real binary against the Kafka cluster helper,
with kcat as the independent producer: plain records (key, headers,
content-type) arrive at a recording sink as dev.knative.kafka.event with
exactly the attributes of reference 6.2 (plus Knative's
knativekafkapartition/knativekafkaoffset), the id, subject and time
matching the record kcat reads back; CloudEvent records in binary and
structured mode are forwarded as they are, ceOverrides added; the default
consumer group is immutable; initialOffset earliest reads
what was there before, latest only what comes after; the key-type label
int reads a 4-byte big-endian key; ordered delivery keeps each key's
order while the sink answers 503 a few times; retries end at the
dead-letter sink with knativeerrordest/knativeerrorcode; consumers: 2
runs two consumers; the status (SinkProvided, ConsumerGroup, Ready,
sinkUri, consumers, ceAttributes) and truthful reasons: a missing Secret
named by its field, an unreachable cluster, a cluster that goes down and
comes back (the source recovers by itself); delete stops the source; a
kill -9 in mid-stream loses nothing: after the restart every record is
delivered at least once, resuming from the committed offsets."""
import json
import socketserver
import struct
import threading
import time

from sluicetest import (MULT, KafkaCluster, Sink, Sluice, deadline,
                        free_port, main, wait_for)

# An unordered KafkaSource starts up to 100 deliveries at once; the test
# sinks' listen backlog (socketserver's default, 5) would drop most of
# those connections and leave them to TCP's retransmission back-off.
socketserver.TCPServer.request_queue_size = 128

TOPICS = ["plain:4", "ce:2", "early:1", "ints:1", "order:2", "dls:1",
          "multi:4", "restart:4", "gone:1"]


def apply(s, obj):
    r = s.cli("apply", "-f", "-", input=json.dumps(obj))
    assert r.returncode == 0, r.stderr


def ksrc(name, topics, bootstrap, sink, **spec):
    labels = spec.pop("labels", None)
    o = {"apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
         "metadata": {"name": name},
         "spec": {"bootstrapServers": bootstrap.split(","), "topics": topics,
                  "sink": {"uri": sink}}}
    if labels:
        o["metadata"]["labels"] = labels
    o["spec"].update(spec)
    return o


def produce_many(kc, topic, records):
    """Produce (key, value) records with one kcat run."""
    data = b"".join(k.encode() + b"\x1f" + v.encode() + b"\x1e"
                    for k, v in records)
    r = kc.kcat("-P", "-t", topic, "-K", "\x1f", "-D", "\x1e", input=data)
    assert r.returncode == 0, r.stderr


def get(s, name):
    r = s.cli("get", "kafkasource", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def ready(s, name, seconds=30):
    def ok():
        o = get(s, name)
        return o if cond(o, "Ready").get("status") == "True" else None
    return wait_for(ok, seconds, "KafkaSource %s Ready" % name)


def events_with(sink, pred):
    return [e for e in sink.events() if pred(e)]


def check_plain(s, kc, sink):
    """6.2: a record that is not a CloudEvent becomes a new event."""
    apply(s, ksrc("plain", ["plain"], kc.bootstrap, sink.url,
                  initialOffset="earliest"))
    o = ready(s, "plain")
    st = o["status"]
    assert st["sinkUri"] == sink.url, st
    assert st["consumers"] == 1, st
    assert st["ceAttributes"] == [
        {"source": "/apis/v1/namespaces/default/kafkasources/plain#plain",
         "type": "dev.knative.kafka.event"}], st
    assert cond(o, "ConsumerGroup")["status"] == "True", o
    assert cond(o, "SinkProvided")["status"] == "True", o
    group = o["spec"]["consumerGroup"]
    assert group.startswith("knative-kafka-source-"), o
    # The group is immutable.
    changed = ksrc("plain", ["plain"], kc.bootstrap, sink.url,
                   initialOffset="earliest", consumerGroup="other")
    r = s.cli("apply", "-f", "-", input=json.dumps(changed))
    assert r.returncode != 0 and "spec.consumerGroup" in r.stderr, r
    assert get(s, "plain")["spec"]["consumerGroup"] == group
    kc.produce("plain", '{"n":1}', key="k1",
               headers=[("Content-Type", "Application/JSON"),
                        ("X-Trace_Id", "abc"), ("h2", "v2")])
    kc.produce("plain", "no key, no headers")
    reqs = sink.wait(2, what="two plain records")
    recs = {r["payload"]: r for r in kc.consume("plain", 2)}
    for req in reqs:
        ev = req["event"]
        rec = recs[ev["data"]]
        p, off = rec["partition"], rec["offset"]
        assert ev["type"] == "dev.knative.kafka.event", ev
        assert ev["specversion"] == "1.0", ev
        assert ev["id"] == "partition:%d/offset:%d" % (p, off), ev
        assert ev["subject"] == "partition:%d#%d" % (p, off), ev
        assert ev["source"] == \
            "/apis/v1/namespaces/default/kafkasources/plain#plain", ev
        assert ev["knativekafkapartition"] == str(p), ev
        assert ev["knativekafkaoffset"] == str(off), ev
        ts = rec["ts"]
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1000))
        if ts % 1000:
            t += ("." + "%03d" % (ts % 1000)).rstrip("0")
        assert ev["time"] == t + "Z", (ev, ts)
        assert req["headers"].get("kn-namespace") == "default", req
        want = {"specversion", "id", "source", "type", "subject", "time",
                "knativekafkapartition", "knativekafkaoffset"}
        if ev["data"] == '{"n":1}':
            assert ev["datacontenttype"] == "application/json", ev
            assert ev["key"] == "k1" and ev["partitionkey"] == "k1", ev
            assert ev["kafkaheaderxtraceid"] == "abc", ev
            assert ev["kafkaheaderh2"] == "v2", ev
            want |= {"datacontenttype", "key", "partitionkey",
                     "kafkaheaderxtraceid", "kafkaheaderh2"}
        got = {k for k in ev if k != "data"}
        assert got == want, (got ^ want, ev)


def check_cloudevents(s, kc, sink):
    """Binary- and structured-mode CloudEvent records pass as they are."""
    apply(s, ksrc("ce", ["ce"], kc.bootstrap, sink.url,
                  initialOffset="earliest",
                  ceOverrides={"extensions": {"team": "blue"}}))
    ready(s, "ce")
    kc.produce("ce", '{"a":1}', key="kb",
               headers=[("ce_specversion", "1.0"), ("ce_id", "bin-1"),
                        ("ce_source", "/producer"), ("ce_type", "com.ex.bin"),
                        ("ce_myext", "mine"),
                        ("content-type", "application/json")])
    kc.produce("ce", json.dumps({
        "specversion": "1.0", "id": "str-1", "source": "urn:str",
        "type": "com.ex.str", "subject": "s", "datacontenttype":
        "text/plain", "data": "hello"}),
        headers=[("content-type", "application/cloudevents+json")])
    wait_for(lambda: len(events_with(sink, lambda e: e.get("id") in
                                     ("bin-1", "str-1"))) >= 2,
             20, "both CloudEvent records")
    b = events_with(sink, lambda e: e.get("id") == "bin-1")[0]
    assert b["source"] == "/producer" and b["type"] == "com.ex.bin", b
    assert b["myext"] == "mine" and b["data"] == '{"a":1}', b
    assert b["datacontenttype"] == "application/json", b
    assert "key" not in b and "subject" not in b, b
    got = {k for k in b if k != "data"}
    assert got == {"specversion", "id", "source", "type", "myext",
                   "datacontenttype", "knativekafkapartition",
                   "knativekafkaoffset", "team"}, got
    assert b["team"] == "blue", b
    t = events_with(sink, lambda e: e.get("id") == "str-1")[0]
    assert t["source"] == "urn:str" and t["subject"] == "s", t
    assert t["team"] == "blue", t
    assert t["data"] == "hello" and t["datacontenttype"] == "text/plain", t


def check_offsets(s, kc):
    """earliest reads what was there; latest only what comes after."""
    early, late = Sink(), Sink()
    for i in range(2):
        kc.produce("early", "pre-%d" % i)
    apply(s, ksrc("early-src", ["early"], kc.bootstrap, early.url,
                  initialOffset="earliest"))
    apply(s, ksrc("late-src", ["early"], kc.bootstrap, late.url))
    assert get(s, "late-src")["spec"]["initialOffset"] == "latest"
    ready(s, "early-src")
    ready(s, "late-src")
    # A latest consumer starts at the end once it has its partition: keep
    # producing until it sees one.
    end = deadline(30)
    i = 0
    while not late.all():
        assert time.monotonic() < end, "latest never saw a new record"
        kc.produce("early", "post-%d" % i)
        i += 1
        time.sleep(0.3)
    wait_for(lambda: {"pre-0", "pre-1"} <=
             {e.get("data") for e in early.events()}, 20, "earliest")
    assert not [e for e in late.events() if e["data"].startswith("pre-")], \
        late.events()


def check_int_keys(s, kc, sink):
    apply(s, ksrc("ints", ["ints"], kc.bootstrap, sink.url,
                  initialOffset="earliest",
                  labels={"kafkasources.sources.knative.dev/key-type": "int"}))
    ready(s, "ints")
    kc.produce("ints", "int-key", key=struct.pack(">i", 2147483646))
    kc.produce("ints", "neg-key", key=struct.pack(">i", -7))
    kc.produce("ints", "odd-key", key=b"abc")
    wait_for(lambda: len(events_with(sink, lambda e: e.get("data", "")
                                     .endswith("-key"))) >= 3, 20, "int keys")
    by = {e["data"]: e for e in events_with(
        sink, lambda e: e.get("data", "").endswith("-key"))}
    assert by["int-key"]["key"] == "2147483646", by
    assert by["int-key"]["partitionkey"] == "2147483646", by
    assert by["neg-key"]["key"] == "-7", by
    assert by["odd-key"]["key"] == "abc", by  # not 4 bytes: a string


def check_ordered(s, kc):
    """Per key, one at a time in log order while the sink answers 503."""
    fails = {"a-2": 3, "b-1": 2}
    lock = threading.Lock()

    def respond(req):
        d = req["event"].get("data", "")
        with lock:
            if fails.get(d, 0) > 0:
                fails[d] -= 1
                return (503, {}, b"")
        return (202, {}, b"")
    sink = Sink(respond)
    apply(s, ksrc("ord", ["order"], kc.bootstrap, sink.url,
                  initialOffset="earliest", ordering="ordered",
                  delivery={"retry": 5, "backoffPolicy": "linear",
                            "backoffDelay": "PT0.1S"}))
    ready(s, "ord")
    for i in range(5):
        kc.produce("order", "a-%d" % i, key="A")
        kc.produce("order", "b-%d" % i, key="B")
    wait_for(lambda: sum(1 for r in sink.all() if r["event"]["data"]
                         in ("a-4", "b-4")) >= 2, 30, "all ordered records")
    for k in "ab":
        seq = [r["event"]["data"] for r in sink.all()
               if r["event"]["data"].startswith(k + "-")]
        # Each record is tried until it succeeds before the next starts.
        firsts = []
        for d in seq:
            if not firsts or firsts[-1] != d:
                firsts.append(d)
        assert firsts == ["%s-%d" % (k, i) for i in range(5)], seq
    assert [r["event"]["data"] for r in sink.all()].count("a-2") == 4
    assert [r["event"]["data"] for r in sink.all()].count("b-1") == 3


def check_dls(s, kc):
    sink = Sink(lambda req: (500, {}, b"nope"))
    dls = Sink()
    apply(s, ksrc("dl", ["dls"], kc.bootstrap, sink.url,
                  initialOffset="earliest",
                  delivery={"retry": 2, "backoffPolicy": "linear",
                            "backoffDelay": "PT0.1S",
                            "deadLetterSink": {"uri": dls.url}}))
    ready(s, "dl")
    kc.produce("dls", "doomed", key="x")
    req = dls.wait(1, what="the dead-lettered event")[0]
    ev = req["event"]
    assert ev["data"] == "doomed" and ev["type"] == "dev.knative.kafka.event"
    assert ev["knativeerrordest"] == sink.url, ev
    assert ev["knativeerrorcode"] == "500", ev
    assert len(sink.all()) == 3, len(sink.all())


def check_status(s, kc, sink):
    # A Secret that does not exist: nothing runs, the field is named.
    apply(s, ksrc("sasl", ["plain"], kc.bootstrap, sink.url, net={
        "sasl": {"enable": True,
                 "user": {"secretKeyRef": {"name": "kafka-auth",
                                           "key": "user"}},
                 "password": {"secretKeyRef": {"name": "kafka-auth",
                                               "key": "password"}}}}))

    def why(name, reason):
        def f():
            c = cond(get(s, name), "ConsumerGroup")
            return c if c.get("reason") == reason else None
        return f
    c = wait_for(why("sasl", "SecretNotFound"), 20, "SecretNotFound")
    assert "spec.net.sasl.user.secretKeyRef" in c["message"], c
    assert "kafka-auth" in c["message"], c
    o = get(s, "sasl")
    assert cond(o, "Ready")["status"] == "False", o
    assert o["status"]["consumers"] == 0, o
    # The Secret with one key missing: the other field is named.
    apply(s, {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "kafka-auth"},
              "stringData": {"user": "alice"}})
    c = wait_for(why("sasl", "SecretNotFound"), 20, "SecretNotFound")
    wait_for(lambda: "spec.net.sasl.password" in
             cond(get(s, "sasl"), "ConsumerGroup").get("message", ""), 20,
             "the password named")
    s.cli("delete", "kafkasource", "sasl")
    # A cluster nobody answers at.
    apply(s, ksrc("nowhere", ["t"], "127.0.0.1:%d" % free_port(), sink.url))
    c = wait_for(why("nowhere", "ClusterUnreachable"), 30,
                 "ClusterUnreachable")
    assert cond(get(s, "nowhere"), "Ready")["status"] == "False"
    s.cli("delete", "kafkasource", "nowhere")


def check_consumers(s, kc):
    sink = Sink()
    apply(s, ksrc("multi", ["multi"], kc.bootstrap, sink.url,
                  initialOffset="earliest", consumers=2,
                  ordering="unordered"))
    wait_for(lambda: get(s, "multi")["status"].get("consumers") == 2, 30,
             "two consumers")
    produce_many(kc, "multi", [("key-%d" % i, "m-%d" % i)
                               for i in range(40)])
    wait_for(lambda: {"m-%d" % i for i in range(40)} <=
             {e["data"] for e in sink.events()}, 30, "40 records")


def check_delete(s, kc):
    sink = Sink()
    apply(s, ksrc("gone", ["gone"], kc.bootstrap, sink.url,
                  initialOffset="earliest"))
    ready(s, "gone")
    kc.produce("gone", "before")
    sink.wait(1)
    r = s.cli("delete", "kafkasource", "gone")
    assert r.returncode == 0, r.stderr
    time.sleep(1 * MULT)
    kc.produce("gone", "after")
    time.sleep(2 * MULT)
    assert [e["data"] for e in sink.events()] == ["before"], sink.events()


def check_cluster_down(s, kc, sink):
    """The status follows the cluster: down, then back (same source)."""
    kc.down()

    def reason():
        c = cond(get(s, "plain"), "ConsumerGroup")
        return c if c.get("reason") == "ClusterUnreachable" else None
    c = wait_for(reason, 30, "plain ClusterUnreachable")
    assert c["status"] == "False" and "unreachable" in c["message"], c
    assert cond(get(s, "plain"), "Ready")["status"] == "False"
    kc.up()
    ready(s, "plain", 60)
    n = len(sink.all())
    kc.produce("plain", "after the outage", key="k9")
    wait_for(lambda: "after the outage" in
             [e.get("data") for e in sink.events()[n:]], 30,
             "a record after the outage")


def check_restart(s, kc):
    """kill -9 mid-stream: every record at least once, from the committed
    offsets (records already delivered before the kill are not all sent
    again)."""
    sink = Sink(lambda req: (time.sleep(0.005), (202, {}, b""))[1])
    apply(s, ksrc("rs", ["restart"], kc.bootstrap, sink.url,
                  initialOffset="earliest", ordering="unordered"))
    ready(s, "rs")
    produce_many(kc, "restart", [("k%d" % (i % 7), "r-%d" % i)
                                 for i in range(100)])
    wait_for(lambda: len({e["data"] for e in sink.events()}) >= 100, 30,
             "the first 100")
    time.sleep(3 * MULT)  # let the consumers commit what is final
    produce_many(kc, "restart", [("k%d" % (i % 7), "r-%d" % i)
                                 for i in range(100, 150)])
    time.sleep(0.05)
    s.kill9()
    before = len(sink.all())
    produce_many(kc, "restart", [("k%d" % (i % 7), "r-%d" % i)
                                 for i in range(150, 200)])
    s2 = Sluice(data_dir=s.data_dir).start()
    try:
        wait_for(lambda: {"r-%d" % i for i in range(200)} <=
                 {e["data"] for e in sink.events()}, 60, "all 200 records")
        after = len(sink.all()) - before
        # Resumed from committed offsets: not everything came again.
        assert after < 200, (before, after)
    finally:
        s2.stop()


def run():
    kc = KafkaCluster(brokers=3, topics=TOPICS).start()
    s = Sluice().start()
    try:
        sink = Sink()
        check_plain(s, kc, sink)
        check_cloudevents(s, kc, Sink())
        check_offsets(s, kc)
        check_int_keys(s, kc, Sink())
        check_ordered(s, kc)
        check_dls(s, kc)
        check_status(s, kc, Sink())
        check_consumers(s, kc)
        check_delete(s, kc)
        check_cluster_down(s, kc, sink)
        check_restart(s, kc)
    except BaseException:
        print(s.output()[-6000:])
        raise
    finally:
        s.stop() if s.proc and s.proc.poll() is None else None
        kc.stop()


if __name__ == "__main__":
    main(run)
