#!/usr/bin/env python3
"""The Redis broker class against a real redis-server: the delivery,
crash, bad-subscriber, life-cycle and CESQL tests (30, 32, 33, 36, 37) run
again with SL_TEST_BACKEND=Redis; events are readable as stream fields with
redis-cli; the broker's config ConfigMap may name the server
(redis.url); redis-server killed and restarted under load gives 503s
while it is down, a Broker status saying so, and no loss of any event
that got a 202; and redis-server frozen (SIGSTOP) gives a 503 within the
command timeout (redis.command.timeout.ms), a Broker status saying the
server does not answer, and a sluice that still stops on SIGTERM."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from sluicetest import (MULT, RedisServer, Sink, Sluice, main, ready,
                        send_event, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def rerun(redis):
    env = dict(os.environ)
    env["SL_TEST_BACKEND"] = "Redis"
    env["SL_TEST_SLUICE_ARGS"] = "--redis-url " + redis.url
    for t in ("30-delivery.py", "32-kill9.py", "33-bad-sinks.py",
              "36-trigger-lifecycle.py", "37-cesql.py"):
        r = subprocess.run([sys.executable, os.path.join(HERE, t)], env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, "%s on Redis:\n%s%s" % (t, r.stdout[-3000:],
                                                        r.stderr[-3000:])


def restart_under_load(redis):
    sink = Sink()
    # The server comes from the Broker's config ConfigMap, not a flag.
    s = Sluice().start()
    r = s.cli("apply", "-f", "-", input="""
apiVersion: v1
kind: ConfigMap
metadata: {name: redis-cfg}
data: {redis.url: "%s"}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: rb
  annotations: {eventing.knative.dev/broker.class: Redis}
spec:
  config: {apiVersion: v1, kind: ConfigMap, name: redis-cfg}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  broker: rb
  subscriber: {uri: "%s"}
""" % (redis.url, sink.url))
    assert r.returncode == 0, r.stderr
    ready(s, "trigger", "t")
    b = ready(s, "broker", "rb")
    assert b["status"]["annotations"] == {"sluice.dev/backend": "Redis"}, b

    # Attributes are stream fields.
    assert send_event(s.ingress, "/default/rb", "first",
                      data='{"a": 1}').status == 202
    sink.wait(1)
    out = subprocess.run(["redis-cli", "-p", str(redis.port), "XRANGE",
                          "knative-broker:default:rb", "-", "+"],
                         capture_output=True, text=True).stdout.split("\n")
    assert "id" in out and "first" in out and "type" in out, out

    accepted, codes = [], {}
    stop = threading.Event()

    def produce():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                r = send_event(s.ingress, "/default/rb", "e%d" % n,
                               timeout=5)
                codes[r.status] = codes.get(r.status, 0) + 1
                if r.status == 202:
                    accepted.append("e%d" % n)
            except OSError:
                pass
            time.sleep(0.002)
    th = threading.Thread(target=produce)
    th.start()
    try:
        wait_for(lambda: len(accepted) >= 100, 20, "events flowing")
        redis.kill()
        wait_for(lambda: codes.get(503, 0) >= 5, 20, "503s while Redis is down")

        def down():
            o = json.loads(s.cli("get", "broker", "rb", "-o", "json").stdout)
            c = cond(o, "Ready")
            return c.get("status") == "False" and c
        c = wait_for(down, 20, "broker not Ready while Redis is down")
        assert "unreachable" in c.get("message", ""), c
        n = len(accepted)
        redis.start()
        wait_for(lambda: len(accepted) >= n + 100, 30,
                 "events accepted again after the restart")
        ready(s, "broker", "rb")
    finally:
        stop.set()
        th.join()
    want = set(accepted) | {"first"}
    wait_for(lambda: want <= set(sink.ids()), 60,
             "every accepted event delivered")
    s.stop()


def frozen_server():
    redis = RedisServer().start()
    sink = Sink()
    s = Sluice().start()
    r = s.cli("apply", "-f", "-", input="""
apiVersion: v1
kind: ConfigMap
metadata: {name: redis-frozen}
data: {redis.url: "%s", redis.command.timeout.ms: "1000"}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: fb
  annotations: {eventing.knative.dev/broker.class: Redis}
spec:
  config: {apiVersion: v1, kind: ConfigMap, name: redis-frozen}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: ft}
spec:
  broker: fb
  subscriber: {uri: "%s"}
""" % (redis.url, sink.url))
    assert r.returncode == 0, r.stderr
    ready(s, "trigger", "ft")
    assert send_event(s.ingress, "/default/fb", "before").status == 202
    sink.wait(1)
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        # The append waits for the timeout, then fails: 503, not a hang.
        t0 = time.time()
        r = send_event(s.ingress, "/default/fb", "frozen", timeout=10 * MULT)
        assert r.status == 503, r.status
        assert time.time() - t0 < 5 * MULT, time.time() - t0

        def down():
            o = json.loads(s.cli("get", "broker", "fb", "-o", "json").stdout)
            c = cond(o, "Ready")
            return c.get("status") == "False" and c
        c = wait_for(down, 20, "broker not Ready while Redis is frozen")
        assert "does not answer" in c.get("message", ""), c
        # SIGTERM with the server still frozen: closing the log gives up
        # on the pending replies after the timeout.
        t0 = time.time()
        s.stop(timeout=15)
        assert time.time() - t0 < 10 * MULT, time.time() - t0
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
        redis.stop()


def test():
    redis = RedisServer().start()
    rerun(redis)
    restart_under_load(redis)
    redis.stop()
    frozen_server()


main(test)
