#!/usr/bin/env python3
"""bench/run.py - sluice's data-plane benchmarks (`make bench`).

Not tests: nothing here asserts a time. Every measurement prints one line
with a ratio against a baseline measured in the same run, or against the
issue's target. Everything runs on loopback on this machine; every process
started here is stopped here (also on failure: sluicetest registers them).

Measurements (docs/performance.md explains the method):
  1. ingress ev/s, 1 KiB binary-mode events, 50 keep-alive connections,
     closed loop, per backend (Embedded; Redis with appendfsync always and
     everysec) vs bench/bare202 (libmicrohttpd answering 202, same model);
  2. end-to-end delivered ev/s to `sluice display --quiet` with one
     trigger, and p50/p99 ingress-to-sink latency at a paced 1,000 ev/s
     (bench/sink records arrival - ce-sentat, CLOCK_REALTIME);
  3. 100 triggers, each event matching one (filter on type): delivered
     ev/s vs the one-trigger rate of 2;
  4. VmRSS of sluice idle with 100 triggers, and its peak during 2;
  5. filters (section "filter"): evaluations per CPU second of one core for
     CESQL expressions (simple, complex) and the exact/prefix/suffix
     dialects, vs a bare strcmp of the attribute (bench/lib/filterbench.c);
  6. Kafka (section "kafka"), against the kafka-cluster test helper (3
     brokers in one process): ingress ev/s into a Broker of class Kafka
     and into a KafkaSink vs a bare librdkafka producer writing the same
     records with the same concurrency (bench/lib/kafka_produce.c:
     idempotent, acks=all, 50 in flight); KafkaSource records/s to
     `sluice display --quiet` vs a bare librdkafka consumer group reading
     the same topic (bench/lib/kafka_consume.c).

Sections: `bench/run.py` runs all; `bench/run.py filter` (or
`dataplane`, `kafka`) runs only the ones named (`make bench
BENCH_ARGS=filter`).

Load comes from bench/loadgen (one C thread; hey is run once against the
baseline to show why: see the "generator" line). BENCH_SECS sets the load
time of each throughput run (default 6).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
os.environ.setdefault("SLUICE", "build/sluice")
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))

from sluicetest import (KafkaCluster, Sluice, _procs,  # noqa: E402
                        free_port, tempdir, wait_for)

BIN = "build/bench"
SECS = float(os.environ.get("BENCH_SECS", "6"))
CONNS = 50
BODY = 1024
LAT_RATE = 1000
LAT_SECS = float(os.environ.get("BENCH_LAT_SECS", "8"))
NTRIG = 100
DRAIN_MAX = 30.0


def out(line):
    print(line, flush=True)


def spawn(args, **kw):
    p = subprocess.Popen(args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, **kw)
    _procs.append(p)
    return p


def stop(p, timeout=20):
    """SIGTERM one process we started, wait; its remaining output."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.stdout.read() if p.stdout else ""


def listening(p, port):
    """Wait until a helper we started accepts connections on port."""
    import socket

    def up():
        if p.poll() is not None:
            raise AssertionError("%s exited: %s" % (p.args, p.stdout.read()))
        with socket.create_connection(("127.0.0.1", port), 1):
            return True
    wait_for(up, 20, "%s listening" % p.args[0])


def cpu_seconds(pid):
    """utime + stime of a process (all threads) in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class RssPeak:
    """Samples VmRSS of pid every 50 ms in a thread; .peak in MB."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = rss_mb(pid)
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.done.wait(0.05):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return

    def stop(self):
        self.done.set()
        self.t.join()
        return self.peak


def loadgen(url, secs=SECS, rate=None, types=1):
    args = [BIN + "/loadgen", "-u", url, "-c", str(CONNS), "-d", str(secs),
            "-s", str(BODY), "-T", str(types)]
    if rate:
        args += ["-r", str(rate)]
    r = subprocess.run(args, capture_output=True, text=True,
                       timeout=secs + 60)
    if r.returncode != 0:
        raise AssertionError("loadgen failed: %s" % r.stderr)
    v = dict(kv.split("=") for kv in r.stdout.split())
    return {k: float(x) for k, x in v.items()}


def start_redis(fsync):
    port = free_port()
    d = tempdir("sluice-bench-redis-")
    p = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
         "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(p)
    import socket

    def up():
        if p.poll() is not None:
            raise AssertionError("redis-server exited")
        with socket.create_connection(("127.0.0.1", port), 1) as c:
            c.sendall(b"PING\r\n")
            return c.recv(64).startswith(b"+PONG")
    wait_for(up, 20, "redis-server")
    return p, "redis://127.0.0.1:%d" % port


def apply(s, objs):
    r = s.cli("apply", "-f", "-",
              input="\n---\n".join(json.dumps(o) for o in objs))
    if r.returncode != 0:
        raise AssertionError("apply: " + r.stderr)


def broker(name, cls):
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "metadata": {"name": name, "annotations": {
                "eventing.knative.dev/broker.class": cls}}, "spec": {}}


def trigger(name, brk, url, typ=None):
    t = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
         "metadata": {"name": name},
         "spec": {"broker": brk, "subscriber": {"uri": url}}}
    if typ is not None:
        t["spec"]["filter"] = {"attributes": {"type": typ}}
    return t


def all_ready(s, kind, n, seconds=60):
    """Wait until n objects of kind exist and all say Ready True."""
    def ok():
        r = s.cli("get", kind, "-o", "json")
        if r.returncode != 0:
            return False
        o = json.loads(r.stdout)
        items = o.get("items", [o]) if o.get("kind") == "List" else [o]
        good = 0
        for it in items:
            for c in it.get("status", {}).get("conditions", []):
                if c["type"] == "Ready" and c["status"] == "True":
                    good += 1
        return good >= n
    wait_for(ok, seconds, "%d %s Ready" % (n, kind), interval=0.2)


def sluice_with(cls, objs, args=()):
    s = Sluice(*args, data_dir=tempdir("sluice-bench-"))
    s.start()
    apply(s, objs)
    kinds = {}
    for o in objs:
        kinds[o["kind"].lower() + "s"] = kinds.get(
            o["kind"].lower() + "s", 0) + 1
    for k, n in kinds.items():
        all_ready(s, k, n)
    return s


def ratio_line(what, val, base_what, base, target):
    r = val / base if base else 0.0
    return "%s: %.0f ev/s  %s: %.0f ev/s  ratio %.2f (target >= %.1f%s)" % (
        what, val, base_what, base, r, target,
        ", met" if r >= target else ", MISSED")


# ---- 1. ingress ----

def bench_bare():
    port = free_port()
    p = spawn([BIN + "/bare202", str(port)])
    listening(p, port)
    url = "http://127.0.0.1:%d/default/b" % port
    c0 = cpu_seconds(p.pid)
    r = loadgen(url)
    cpu = (cpu_seconds(p.pid) - c0) / r["secs"]
    hey = None
    if shutil.which("hey"):
        body = os.path.join(tempdir("sluice-bench-"), "body")
        with open(body, "wb") as f:
            f.write(b'{"d":"' + b"x" * (BODY - 8) + b'"}')
        h = subprocess.run(
            ["hey", "-c", str(CONNS), "-z", "%ds" % max(2, int(SECS / 2)),
             "-m", "POST", "-H", "ce-specversion: 1.0", "-H", "ce-id: x",
             "-H", "ce-type: bench.t0", "-H", "ce-source: /bench",
             "-T", "application/json", "-D", body, url],
            capture_output=True, text=True, timeout=SECS + 60)
        for line in h.stdout.splitlines():
            if "Requests/sec" in line:
                hey = float(line.split()[1])
    stop(p)
    return r["rate"], cpu, hey


def bench_ingress(cls, args=()):
    s = sluice_with(cls, [broker("b", cls)], args)
    c0 = cpu_seconds(s.proc.pid)
    r = loadgen("http://%s/default/b" % s.ingress)
    cpu = (cpu_seconds(s.proc.pid) - c0) / r["secs"]
    s.stop()
    return r, cpu


# ---- 2 and 3: delivery through display --quiet ----

def start_display():
    port = free_port()
    p = spawn([os.environ["SLUICE"], "display", "--addr",
               "127.0.0.1:%d" % port, "--quiet"])
    listening(p, port)
    return p, "http://127.0.0.1:%d" % port


def bench_delivery(ntrig):
    """Load for SECS (closed loop), then let the backlog drain; delivered
    rate = events display received / (first send .. display idle)."""
    disp, durl = start_display()
    if ntrig == 1:
        objs = [broker("b", "Embedded"), trigger("t0", "b", durl + "/t0")]
    else:
        objs = [broker("b", "Embedded")] + [
            trigger("t%d" % i, "b", durl + "/t%d" % i, "bench.t%d" % i)
            for i in range(ntrig)]
    s = sluice_with("Embedded", objs)
    pid = s.proc.pid
    time.sleep(1.0)
    idle_rss = rss_mb(pid)
    peak = RssPeak(pid)
    t0 = time.monotonic()
    res = {}
    th = threading.Thread(target=lambda: res.update(
        loadgen("http://%s/default/b" % s.ingress, types=ntrig)))
    th.start()
    # display idle (no CPU for 0.5 s) after the load ended = drained
    last_cpu, last_change = cpu_seconds(disp.pid), time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        c = cpu_seconds(disp.pid)
        if c != last_cpu:
            last_cpu, last_change = c, now
        if not th.is_alive() and now - last_change > 0.5:
            break
        if now - t0 > SECS + DRAIN_MAX:
            last_change = now
            break
    th.join()
    elapsed = last_change - t0
    peak_rss = peak.stop()
    text = stop(disp)
    got = int(text.split("received")[1].split()[0])
    s.stop()
    return {"delivered": got, "secs": elapsed, "rate": got / elapsed,
            "accepted": res["ok"], "ingress_rate": res["rate"],
            "idle_rss": idle_rss, "peak_rss": peak_rss}


# ---- 2: latency ----

def bench_latency(cls, args=()):
    port = free_port()
    sink = spawn([BIN + "/sink", str(port)])
    listening(sink, port)
    surl = "http://127.0.0.1:%d" % port
    s = sluice_with(cls, [broker("b", cls), trigger("t0", "b", surl)], args)
    r = loadgen("http://%s/default/b" % s.ingress, secs=LAT_SECS,
                rate=LAT_RATE)

    def stats():
        with urllib.request.urlopen(surl + "/stats", timeout=5) as f:
            return dict(kv.split("=") for kv in f.read().decode().split())
    st = wait_for(lambda: (lambda v: int(v["count"]) >= r["ok"] and v)(
        stats()), 20, "all events at the sink")
    s.stop()
    stop(sink)
    return r, {k: float(v) for k, v in st.items()}


def bench_dataplane():
    for b in ("sluice", "bench/bare202", "bench/loadgen", "bench/sink"):
        if not os.path.exists("build/" + b):
            sys.exit("build/%s missing: run 'make bench'" % b)
    out("sluice bench: %d cores, %d connections, %d-byte binary events, "
        "%gs per throughput run (loadgen: bench/loadgen.c)"
        % (os.cpu_count(), CONNS, BODY, SECS))

    bare, bare_cpu, hey = bench_bare()
    out("baseline bare mhd: %.0f ev/s  (server %.2f cores)" % (bare, bare_cpu))
    if hey is not None:
        out("generator: hey on bare mhd: %.0f ev/s  loadgen: %.0f ev/s  "
            "ratio %.2f (hey's own CPU caps it; loadgen used)"
            % (hey, bare, hey / bare))

    r, cpu = bench_ingress("Embedded")
    out(ratio_line("ingress embedded", r["rate"], "bare mhd", bare, 0.5)
        + "  (sluice %.2f cores, errors %d)" % (cpu, r["err"]))
    redis_ok = shutil.which("redis-server") is not None
    for fsync in ("always", "everysec"):
        if not redis_ok:
            out("ingress redis: skipped (no redis-server)")
            break
        rp, url = start_redis(fsync)
        r, cpu = bench_ingress("Redis", ["--redis-url", url])
        rcpu = cpu_seconds(rp.pid)
        out(ratio_line("ingress redis (appendfsync %s)" % fsync, r["rate"],
                       "bare mhd", bare, 0.5)
            + "  (sluice %.2f cores, redis %.1f cpu-s, errors %d)"
            % (cpu, rcpu, r["err"]))
        stop(rp)

    one = bench_delivery(1)
    out("e2e embedded, 1 trigger -> display --quiet: %.0f ev/s delivered "
        "(%d events in %.1fs; ingress accepted %.0f ev/s while loading)"
        % (one["rate"], one["delivered"], one["secs"], one["ingress_rate"]))
    out("rss under load (peak during e2e, 1 trigger): %.1f MB  (idle %.1f MB)"
        % (one["peak_rss"], one["idle_rss"]))

    lr, st = bench_latency("Embedded")
    out("latency embedded at %d ev/s: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms"
        "  max %.2f ms  (%d events, %d sent late) (target p99 < 10 ms, %s)"
        % (LAT_RATE, st["p50_us"] / 1e3, st["p90_us"] / 1e3,
           st["p99_us"] / 1e3, st["max_us"] / 1e3, st["timed"], lr["late"],
           "met" if st["p99_us"] < 10000 else "MISSED"))
    if redis_ok:
        rp, url = start_redis("always")
        lr, st = bench_latency("Redis", ["--redis-url", url])
        out("latency redis (appendfsync always) at %d ev/s: p50 %.2f ms  "
            "p90 %.2f ms  p99 %.2f ms  max %.2f ms  (%d events)"
            % (LAT_RATE, st["p50_us"] / 1e3, st["p90_us"] / 1e3,
               st["p99_us"] / 1e3, st["max_us"] / 1e3, st["timed"]))
        stop(rp)

    many = bench_delivery(NTRIG)
    out(ratio_line("e2e embedded, %d triggers (1 match each)" % NTRIG,
                   many["rate"], "1 trigger", one["rate"], 0.5)
        + "  (%d events in %.1fs; ingress accepted %.0f ev/s while loading)"
        % (many["delivered"], many["secs"], many["ingress_rate"]))
    out("rss idle with %d triggers: %.1f MB (target < 20 MB, %s)  "
        "peak under load %.1f MB"
        % (NTRIG, many["idle_rss"],
           "met" if many["idle_rss"] < 20 else "MISSED", many["peak_rss"]))


# ---- 5: filters ----

FILTER_TARGET = 2e6  # simple CESQL evaluations per second per core


def bench_filter():
    exe = BIN + "/lib/filterbench"
    if not os.path.exists(exe):
        sys.exit("%s missing: run 'make bench'" % exe)
    r = subprocess.run([exe], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("filterbench failed: %s" % r.stderr)
    rows = [line.split("\t") for line in r.stdout.splitlines() if line]
    out("filters: evaluations per CPU second of one core, one event, best "
        "of 3 (bench/lib/filterbench.c)")
    for name, rate, ratio in rows:
        line = "filter %-31s %12.0f /s  ratio %.3f vs baseline" % (
            name, float(rate), float(ratio))
        if name == "cesql simple":
            line += "  (target >= %.0f M/s per core, %s)" % (
                FILTER_TARGET / 1e6,
                "met" if float(rate) >= FILTER_TARGET else "MISSED")
        out(line)


# ---- 6: Kafka ----

KAFKA_PARTS = 10  # Knative's default.topic.partitions
KAFKA_SRC_PARTS = 20
# Records for the KafkaSource run. The test cluster keeps only about
# 5 MB per partition (older records are dropped), so the topic is filled
# evenly and stays under that.
KAFKA_RECORDS = int(os.environ.get("BENCH_KAFKA_RECORDS", "40000"))


def kv_line(text):
    return {k: float(v) for k, v in
            (x.split("=") for x in text.split())}


def kafka_produce(boot, topic, stamps=False, count=None, parts=None):
    args = [BIN + "/lib/kafka_produce", "-b", boot, "-t", topic,
            "-s", str(BODY)]
    if count is not None:
        args += ["-n", str(count), "-w", "2000"]
    else:
        args += ["-d", str(SECS), "-w", str(CONNS)]
    if stamps:
        args.append("-k")
    if parts:
        args += ["-P", str(parts)]
    r = subprocess.run(args, capture_output=True, text=True,
                       timeout=SECS + 120)
    if r.returncode != 0:
        raise AssertionError("kafka_produce failed: %s" % r.stderr)
    return kv_line(r.stdout)


def kafka_consume(boot, topic, n, decode=False):
    args = [BIN + "/lib/kafka_consume", "-b", boot, "-t", topic,
            "-n", str(n)] + (["-D"] if decode else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=200)
    if r.returncode != 0:
        raise AssertionError("kafka_consume failed: %s%s"
                             % (r.stdout, r.stderr))
    return kv_line(r.stdout)


def ready_or_why(s, kind, name, seconds=60):
    """None once kind/name is Ready, else its Ready condition's reason and
    message after 'seconds' (the part is not in this build yet...)."""
    last = {}
    # Reasons that will not change by waiting: this build lacks the part.
    absent = ("BrokerClassNotSupported", "DataPlaneNotAvailable")

    def ok():
        r = s.cli("get", kind, name, "-o", "json")
        if r.returncode != 0:
            return False
        for c in json.loads(r.stdout).get("status", {}).get("conditions",
                                                            []):
            if c["type"] == "Ready":
                last.update(c)
                return c["status"] == "True" or c.get("reason") in absent
        return False
    try:
        wait_for(ok, seconds, "%s %s Ready" % (kind, name), interval=0.2)
        if last.get("status") == "True":
            return None
    except AssertionError:
        pass
    return "%s: %s" % (last.get("reason", "not Ready"),
                       last.get("message", ""))


def kafka_servers(kc):
    return kc.bootstrap.split(",")


def kafka_ingress(kc, what):
    """loadgen into a Broker of class Kafka ('broker') or a KafkaSink
    ('sink'), as a Knative user writes them. (result, cpu) or (None, why)."""
    if what == "broker":
        objs = [{"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "kafka-broker-config"},
                 "data": {"bootstrap.servers": kc.bootstrap,
                          "default.topic.partitions": str(KAFKA_PARTS),
                          "default.topic.replication.factor": "3"}},
                {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                 "metadata": {"name": "b", "annotations": {
                     "eventing.knative.dev/broker.class": "Kafka"}},
                 "spec": {"config": {"apiVersion": "v1",
                                     "kind": "ConfigMap",
                                     "name": "kafka-broker-config"}}}]
        kind, name = "broker", "b"
    else:
        objs = [{"apiVersion": "eventing.knative.dev/v1alpha1",
                 "kind": "KafkaSink", "metadata": {"name": "ks"},
                 "spec": {"topic": "bench-sink",
                          "bootstrapServers": kafka_servers(kc)}}]
        kind, name = "kafkasink", "ks"
    s = Sluice(data_dir=tempdir("sluice-bench-"))
    s.start()
    apply(s, objs)
    why = ready_or_why(s, kind, name)
    if why is not None:
        s.stop()
        return None, why
    c0 = cpu_seconds(s.proc.pid)
    r = loadgen("http://%s/default/%s" % (s.ingress, name))
    cpu = (cpu_seconds(s.proc.pid) - c0) / r["secs"]
    s.stop()
    return r, cpu


def kafka_source(kc, topic, n, ordering):
    """A KafkaSource reading 'topic' (n records) from the beginning to
    display --quiet. Delivered rate = received / (display's first ..
    last activity); (result, None) or (None, why)."""
    disp, durl = start_display()
    s = Sluice(data_dir=tempdir("sluice-bench-"))
    s.start()
    apply(s, [{"apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
               "metadata": {"name": "src"},
               "spec": {"bootstrapServers": kafka_servers(kc),
                        "topics": [topic],
                        "consumerGroup": "bench-sluice-" + ordering,
                        "initialOffset": "earliest", "ordering": ordering,
                        "sink": {"uri": durl}}}])
    t0 = time.monotonic()
    why = ready_or_why(s, "kafkasource", "src")
    if why is not None:
        stop(disp)
        s.stop()
        return None, why
    base = cpu_seconds(disp.pid)
    first = last = None
    scpu = [0.0, 0.0]  # sluice's CPU seconds at the first and last activity
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        c = cpu_seconds(disp.pid)
        if c != base:
            base = c
            last = now
            scpu[1] = cpu_seconds(s.proc.pid)
            if first is None:
                first = now
                scpu[0] = scpu[1]
        if first is not None and now - last > 1.0:
            break
        if now - t0 > 120:
            break
    text = stop(disp)
    got = int(text.split("received")[1].split()[0])
    s.stop()
    if first is None or got == 0:
        return None, "display received nothing in 120 s"
    secs = max(last - first, 1e-3)
    return {"got": got, "secs": secs, "rate": got / secs,
            "start": first - t0, "cpu": (scpu[1] - scpu[0]) / secs}, None


def bench_kafka():
    for b in ("sluice", "bench/loadgen", "bench/lib/kafka_produce",
              "bench/lib/kafka_consume", "helpers/kafka-cluster"):
        if not os.path.exists("build/" + b):
            sys.exit("build/%s missing: run 'make bench'" % b)
    kc = KafkaCluster(brokers=3, topics=[
        "knative-broker-default-b:%d" % KAFKA_PARTS,
        "bench-raw:%d" % KAFKA_PARTS, "bench-sink:%d" % KAFKA_PARTS,
        "bench-src:%d" % KAFKA_SRC_PARTS]).start()
    try:
        out("kafka: test cluster of 3 brokers in one process (librdkafka's "
            "mock), topics of %d partitions, replication 3, %d-byte "
            "binary events, %d connections = %d records in flight, %gs per "
            "run" % (KAFKA_PARTS, BODY, CONNS, CONNS, SECS))
        raw_k = kafka_produce(kc.bootstrap, "bench-raw", stamps=True)
        raw = kafka_produce(kc.bootstrap, "bench-raw")
        out("baseline raw librdkafka producer (idempotent, acks=all, %d in "
            "flight): %.0f rec/s with a broker's stamps, %.0f rec/s "
            "without (errors %d)" % (CONNS, raw_k["rate"], raw["rate"],
                                     raw_k["err"] + raw["err"]))
        r, cpu = kafka_ingress(kc, "broker")
        if r is None:
            out("ingress kafka broker: not measured (%s)" % cpu)
        else:
            out("ingress kafka broker: %.0f ev/s  raw producer: %.0f rec/s  "
                "ratio %.2f  (sluice %.2f cores, errors %d)"
                % (r["rate"], raw_k["rate"], r["rate"] / raw_k["rate"], cpu,
                   r["err"]))
        r, cpu = kafka_ingress(kc, "sink")
        if r is None:
            out("ingress kafkasink: not measured (%s)" % cpu)
        else:
            out("ingress kafkasink: %.0f ev/s  raw producer: %.0f rec/s  "
                "ratio %.2f  (sluice %.2f cores, errors %d)"
                % (r["rate"], raw["rate"], r["rate"] / raw["rate"], cpu,
                   r["err"]))

        fill = kafka_produce(kc.bootstrap, "bench-src", count=KAFKA_RECORDS,
                             parts=KAFKA_SRC_PARTS)
        if fill["ok"] != KAFKA_RECORDS:
            raise AssertionError("filled %d of %d records"
                                 % (fill["ok"], KAFKA_RECORDS))
        rc = kafka_consume(kc.bootstrap, "bench-src", KAFKA_RECORDS)
        rd = kafka_consume(kc.bootstrap, "bench-src", KAFKA_RECORDS,
                           decode=True)
        out("baseline raw librdkafka consumer (%d records, %d partitions): "
            "%.0f rec/s, %.0f rec/s decoding each into a CloudEvent "
            "(group join %.1fs, not counted)"
            % (KAFKA_RECORDS, KAFKA_SRC_PARTS, rc["rate"], rd["rate"],
               rc["join"]))
        for ordering in ("ordered", "unordered"):
            r, why = kafka_source(kc, "bench-src", KAFKA_RECORDS, ordering)
            if r is None:
                out("kafkasource (%s) -> display --quiet: not measured (%s)"
                    % (ordering, why))
                continue
            out("kafkasource (%s) -> display --quiet: %.0f ev/s  raw "
                "consumer: %.0f rec/s  ratio %.3f  (%d events in %.1fs, "
                "first after %.1fs; sluice %.2f cores)"
                % (ordering, r["rate"], rc["rate"], r["rate"] / rc["rate"],
                   r["got"], r["secs"], r["start"], r["cpu"]))
    finally:
        kc.stop()


SECTIONS = {"dataplane": bench_dataplane, "filter": bench_filter,
            "kafka": bench_kafka}


def main():
    names = sys.argv[1:] or list(SECTIONS)
    for n in names:
        if n not in SECTIONS:
            sys.exit("bench: unknown section '%s' (have: %s)"
                     % (n, ", ".join(SECTIONS)))
    for n in names:
        SECTIONS[n]()


if __name__ == "__main__":
    t = time.monotonic()
    try:
        main()
    except AssertionError as e:
        sys.exit("bench failed: %s" % e)
    out("bench done in %.0fs" % (time.monotonic() - t))
