#!/usr/bin/env python3
"""PingSource through the real binary: a 6-field schedule delivers to a
recording sink (sink.uri) in binary mode with Knative's exact attributes,
Kn-Namespace and the ceOverrides extension, 0-499 ms into its second;
data as text, dataBase64 (arriving decoded) and an application/json
object; through a Broker and Trigger (sink.ref Broker) on the Embedded
backend and on Redis; the zone of spec.timezone (and of a CRON_TZ=
prefix) decides the hour, computed here with zoneinfo; the sources'
fixed retry policy (503 twice then 200: three attempts spaced 100 and
200 ms; always 503: six attempts, then given up in the log; 500 and 400:
one attempt); a spec change (data and schedule) takes effect; delete
stops the events; the status (sinkUri, ceAttributes, SinkProvided,
Deployed, Ready) and an unresolvable sink (nothing runs until the Broker
exists); after a restart the source runs again without replaying the
ticks missed while sluice was down."""
import base64
import datetime
import json
import re
import time
import zoneinfo

from sluicetest import (MULT, RedisServer, Sink, Sluice, main, ready,
                        request, wait_for)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  r"[0-9a-f]{12}$")


def apply(s, text):
    r = s.cli("apply", "-f", "-", input=text)
    assert r.returncode == 0, r.stderr


def ping(name, sink, schedule="* * * * * *", extra=""):
    """A PingSource; 'sink' is a URL or a YAML flow mapping for sink."""
    if not sink.startswith("{"):
        sink = '{uri: "%s"}' % sink
    return """
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {name: %s}
spec:
  schedule: "%s"
  sink: %s
%s""" % (name, schedule, sink, extra)


def get(s, kind, name):
    r = s.cli("get", kind, name, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cond(o, t):
    for c in o.get("status", {}).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def ce_time(ev):
    t = ev["time"]
    assert t.endswith("Z"), t
    head, _, frac = t[:-1].partition(".")
    d = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return d.timestamp() + (float("0." + frac) if frac else 0.0)


def check_ping_event(req, ns, name, data=None, ct=None, ext=None):
    """Exactly Knative's attributes (reference 4.2), binary mode."""
    h = req["headers"]
    ev = req["event"]
    want = {"specversion", "id", "source", "type", "time"}
    if data is not None and ct is not None:
        want.add("datacontenttype")
    want |= set(ext or {})
    got = {k for k in ev if k != "data"}
    got -= {"knativearrivaltime"}  # added by a broker on the way
    assert got == want, (got, want)
    assert ev["specversion"] == "1.0", ev
    assert ev["type"] == "dev.knative.sources.ping", ev
    assert ev["source"] == "/apis/v1/namespaces/%s/pingsources/%s" % (
        ns, name), ev
    assert UUID.match(ev["id"]), ev
    assert h.get("kn-namespace") == ns, h
    assert "ce-datacontenttype" not in h, h  # binary mode: Content-Type
    for k, v in (ext or {}).items():
        assert ev[k] == v, (k, ev)
    if ct is not None and data is not None:
        assert h.get("content-type") == ct, h
    if data is None:
        assert req["body"] == b"", req
    else:
        assert req["body"] == data, (req["body"], data)
    # time is the send time: 0-499 ms into the tick's second, and close
    # to the arrival.
    t = ce_time(ev)
    assert t % 1 < 0.5 + 0.3 * MULT, ev["time"]
    return t


def test_direct(s):
    text = Sink()
    b64 = Sink()
    js = Sink()
    apply(s, ping("text", text.url, extra="""  data: hello
  contentType: text/plain
  ceOverrides: {extensions: {team: blue, Region: EU}}
""") + "---" + ping("bin", b64.url, extra="""  dataBase64: "AAH+/2JpbmFyeQ=="
  contentType: application/octet-stream
""") + "---" + ping("json", js.url, schedule="*/2 * * * * *", extra="""  data: '{"msg": "hi", "n": 1}'
  contentType: application/json
"""))
    reqs = text.wait(3, 15)
    times = [check_ping_event(r, "default", "text", b"hello", "text/plain",
                              {"team": "blue", "region": "EU"})
             for r in reqs[:3]]
    assert "prefer" not in reqs[0]["headers"], reqs[0]["headers"]
    ids = [r["event"]["id"] for r in reqs]
    assert len(set(ids)) == len(ids), ids
    # One per second: never two in one second, none skipped (a loop held
    # up for a whole second would skip one; allow that much).
    secs = [int(t) for t in times]
    assert all(1 <= b - a <= 2 for a, b in zip(secs, secs[1:])), times

    r = b64.wait(1, 10)[0]
    check_ping_event(r, "default", "bin", b"\x00\x01\xfe\xffbinary",
                     "application/octet-stream")

    reqs = js.wait(2, 15)
    for r in reqs[:2]:
        check_ping_event(r, "default", "json", b'{"msg": "hi", "n": 1}',
                         "application/json")
        assert json.loads(r["body"]) == {"msg": "hi", "n": 1}
        assert int(ce_time(r["event"])) % 2 == 0, r["event"]["time"]

    # The status, as Knative's PingSource shows it.
    o = get(s, "pingsource", "text")
    st = o["status"]
    assert st["sinkUri"] == text.url, st
    assert st["ceAttributes"] == [{
        "source": "/apis/v1/namespaces/default/pingsources/text",
        "type": "dev.knative.sources.ping"}], st
    for c in ("SinkProvided", "Deployed", "Ready"):
        assert cond(o, c).get("status") == "True", (c, st)
    for name in ("text", "bin", "json"):
        assert s.cli("delete", "pingsource", name).returncode == 0


def test_broker(s, cls):
    sub = Sink()
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: pb
  annotations: {eventing.knative.dev/broker.class: %s}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: pings}
spec:
  broker: pb
  filter: {attributes: {type: dev.knative.sources.ping}}
  subscriber: {uri: "%s"}
""" % (cls, sub.url) + "---" + ping(
        "via-broker", "{ref: {apiVersion: eventing.knative.dev/v1, "
        "kind: Broker, name: pb}}", extra="""  data: through the broker
  contentType: text/plain
  ceOverrides: {extensions: {hop: broker}}
"""))
    ready(s, "trigger", "pings")
    o = ready(s, "pingsource", "via-broker")
    assert o["status"]["sinkUri"] == "http://%s/default/pb" % s.ingress, o
    reqs = sub.wait(2, 20)
    for r in reqs[:2]:
        assert "knativearrivaltime" in r["event"], r["event"]
        check_ping_event(r, "default", "via-broker", b"through the broker",
                         "text/plain", {"hop": "broker"})
    for k, n in (("pingsource", "via-broker"), ("trigger", "pings"),
                 ("broker", "pb")):
        assert s.cli("delete", k, n).returncode == 0


def wait_hour_margin(zone, margin=25):
    """Wait until the hour in 'zone' has at least 'margin' s left."""
    while True:
        now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
        left = 3600 - (now.minute * 60 + now.second)
        if left > margin:
            return now.hour
        time.sleep(left + 1)


def test_timezone(s):
    yes = Sink()
    prefix = Sink()
    no = Sink()
    hour = wait_hour_margin("Asia/Kolkata")
    other = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Berlin")).hour
    assert other != hour  # 3.5 or 4.5 hours apart
    sched = "* * %d * * *" % hour
    apply(s, ping("kolkata", yes.url, sched, "  timezone: Asia/Kolkata\n")
          + "---" + ping("cron-tz", prefix.url, "CRON_TZ=Asia/Kolkata "
                         + sched)
          + "---" + ping("berlin", no.url, sched,
                         "  timezone: Europe/Berlin\n"))
    yes.wait(2, 15)
    prefix.wait(2, 15)
    for name in ("kolkata", "cron-tz", "berlin"):
        o = ready(s, "pingsource", name)
        assert cond(o, "Deployed")["status"] == "True", o
    # Kolkata ticked twice (at least 1 s); Berlin's hour is another one.
    assert no.all() == [], no.all()
    for name in ("kolkata", "cron-tz", "berlin"):
        assert s.cli("delete", "pingsource", name).returncode == 0


def by_id(sink):
    out = {}
    for r in sink.all():
        out.setdefault(r["event"]["id"], []).append(r)
    return out


def test_retries(s):
    # Each event: 503, 503, then 200.
    seen = {}

    def twice(req):
        i = req["event"]["id"]
        seen[i] = seen.get(i, 0) + 1
        return (503 if seen[i] <= 2 else 200), {}, b"busy"

    flaky = Sink(twice)
    down = Sink(lambda req: (503, {}, b"down"))
    broken = Sink(lambda req: (500, {}, b"boom"))
    bad = Sink(lambda req: (400, {}, b"no"))
    apply(s, ping("flaky", flaky.url, "*/5 * * * * *")
          + "---" + ping("down", down.url, "*/10 * * * * *")
          + "---" + ping("broken", broken.url, "*/10 * * * * *")
          + "---" + ping("bad", bad.url, "*/10 * * * * *"))

    reqs = flaky.wait(3, 20)
    first = reqs[0]["event"]["id"]
    att = by_id(flaky)[first]
    assert len(att) == 3, len(att)
    gaps = [att[i + 1]["time"] - att[i]["time"] for i in range(2)]
    assert 0.09 <= gaps[0] <= 0.1 + 0.4 * MULT, gaps
    assert 0.19 <= gaps[1] <= 0.2 + 0.4 * MULT, gaps
    assert all(a["event"] == att[0]["event"] for a in att), att

    # Always 503: six attempts, then the event is lost (logged).
    down.wait(1, 20)
    lost = down.all()[0]["event"]["id"]
    wait_for(lambda: ("event %s lost after 6 attempts" % lost) in s.output(),
             15, "the give-up log line")
    att = by_id(down)[lost]
    assert len(att) == 6, len(att)
    waits = [att[i + 1]["time"] - att[i]["time"] for i in range(5)]
    for k, w in enumerate(waits, 1):
        assert 0.05 * 2 ** k - 0.01 <= w <= 0.05 * 2 ** k + 0.4 * MULT, waits

    # 500 and 400 are not retried by the sources' client.
    for sink in (broken, bad):
        sink.wait(1, 20)
        i = sink.all()[0]["event"]["id"]
        wait_for(lambda: re.search(r"event %s lost after 1 attempt to \S+: "
                                   r"the sink answered \d+ \(not retried\)"
                                   % i, s.output()), 10, "not retried")
        assert len(by_id(sink)[i]) == 1

    # Knative's source metrics count the same: each retried attempt, and
    # each event's final outcome.
    m = source_metrics(s)
    assert m.get(("event", "flaky", "200"), 0) >= 1, m
    assert m.get(("retry", "flaky", "503"), 0) >= 2, m
    assert m.get(("event", "down", "503"), 0) >= 1, m
    assert m.get(("retry", "down", "503"), 0) >= 5, m
    for name, code in (("broken", "500"), ("bad", "400")):
        assert m.get(("event", name, code), 0) >= 1, m
        assert not any(k[0] == "retry" and k[1] == name for k in m), m
    for name in ("flaky", "down", "broken", "bad"):
        assert s.cli("delete", "pingsource", name).returncode == 0
    # Their series go with them.
    wait_for(lambda: not source_metrics(s), 10, "the series to go")


def source_metrics(s):
    """(event|retry, name, response_code) -> value of the PingSource
    families on /metrics (namespace default, resource group checked)."""
    r = request(s.metrics, "GET", "/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.body.decode().splitlines():
        m = re.match(r'^pingsource_mt_adapter_(event|retry_event)_count'
                     r'\{(.*)\} (\S+)$', line)
        if not m:
            continue
        lab = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        assert lab["resource_group"] == "pingsources.sources.knative.dev", lab
        assert lab["namespace_name"] == "default", lab
        assert lab["event_type"] == "dev.knative.sources.ping", lab
        kind = "event" if m.group(1) == "event" else "retry"
        key = (kind, lab["name"], lab["response_code"])
        out[key] = out.get(key, 0) + float(m.group(3))
    return out


def test_change_and_delete(s):
    sink = Sink()
    apply(s, ping("chg", sink.url, extra="  data: v1\n"))
    sink.wait(1, 15)
    # A new schedule and data take effect from the next tick.
    apply(s, ping("chg", sink.url, "*/2 * * * * *", "  data: v2\n"))
    wait_for(lambda: len([r for r in sink.all() if r["body"] == b"v2"]) >= 2,
             15, "two v2 events")
    reqs = sink.all()
    firstv2 = next(i for i, r in enumerate(reqs) if r["body"] == b"v2")
    # At most one v1 was in its jitter when the change came.
    assert all(r["body"] == b"v2" for r in reqs[firstv2:]), reqs
    v2 = [int(ce_time(r["event"])) for r in reqs[firstv2:]]
    assert all(t % 2 == 0 for t in v2), v2
    assert v2[1] - v2[0] == 2, v2

    # Delete: the events stop.
    assert s.cli("delete", "pingsource", "chg").returncode == 0
    wait_for(lambda: s.cli("get", "pingsource", "chg").returncode != 0, 10,
             "pingsource gone")
    wait_for(lambda: 'obj=default/chg msg="PingSource stopped"'
             in s.output(), 10, "stopped log")
    n = len(sink.all())
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        assert len(sink.all()) == n, "an event after delete"
        time.sleep(0.1)


def test_unresolved_sink(s):
    sub = Sink()
    apply(s, ping("waits", "{ref: {apiVersion: eventing.knative.dev/v1, "
                  "kind: Broker, name: later}}"))

    def no_sink():
        o = get(s, "pingsource", "waits")
        return cond(o, "SinkProvided").get("status") == "False" and o
    o = wait_for(no_sink, 10, "SinkProvided False")
    assert cond(o, "Ready")["status"] == "False", o
    assert cond(o, "Deployed").get("status") != "True", o
    assert "sinkUri" not in o["status"], o
    # The Broker appears: the source resolves it and runs.
    apply(s, """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: later}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: later-all}
spec:
  broker: later
  subscriber: {uri: "%s"}
""" % sub.url)
    ready(s, "pingsource", "waits")
    ready(s, "trigger", "later-all")
    sub.wait(1, 15)
    for k, n in (("pingsource", "waits"), ("trigger", "later-all"),
                 ("broker", "later")):
        assert s.cli("delete", k, n).returncode == 0


def test_restart():
    sink = Sink()
    s = Sluice().start()
    apply(s, ping("survivor", sink.url))
    sink.wait(2, 15)
    s.stop()
    down_from = time.time()
    n = len(sink.all())
    time.sleep(3)  # ticks missed while sluice is down
    s2 = Sluice(data_dir=s.data_dir).start()
    up_at = time.time()
    wait_for(lambda: len(sink.all()) >= n + 2, 15, "events after restart")
    after = [ce_time(r["event"]) for r in sink.all()[n:]]
    # Nothing for the seconds missed: every event is from after the start,
    # one per second (no burst of catch-up ticks).
    assert all(t >= up_at - 0.5 for t in after), (down_from, up_at, after)
    secs = [int(t) for t in after]
    assert len(set(secs)) == len(secs), after
    o = ready(s2, "pingsource", "survivor")
    assert cond(o, "Deployed")["status"] == "True", o
    s2.stop()


def run():
    s = Sluice().start()
    test_direct(s)
    test_broker(s, "Embedded")
    test_timezone(s)
    test_retries(s)
    test_change_and_delete(s)
    test_unresolved_sink(s)
    s.stop()

    redis = RedisServer().start()
    s = Sluice("--redis-url", redis.url).start()
    test_broker(s, "Redis")
    s.stop()
    redis.stop()

    test_restart()


if __name__ == "__main__":
    main(run)
