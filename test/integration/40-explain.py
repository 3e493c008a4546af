#!/usr/bin/env python3
"""`sluice explain trigger` through the real binary and a real `sluice
serve`: a Broker and Triggers with legacy and new filters, events from a
file and from stdin, exit codes (0 matches, 2 does not, 1 error with one
line) and key lines; what explain says agrees with what the broker does
(the same events sent to the broker reach exactly the Triggers explain
said they match); a Trigger whose broker is missing says it is not Ready;
a bad event names its field; an unknown Trigger is one line; -f explains
a Trigger from a file with no server at all; -o json."""
import json
import os
import time

from sluicetest import (MULT, Sink, Sluice, free_port, main, one_line_error,
                        ready, request, run, tempdir, wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
EXTRA = os.environ.get("SL_TEST_SLUICE_ARGS", "").split()

BROKER = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  annotations: {eventing.knative.dev/broker.class: %s}
""" % BACKEND


def trigger(name, url, filters, broker="b"):
    return """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: %s}
spec:
  broker: %s
  subscriber: {uri: "%s"}
%s""" % (name, broker, url, filters)


# name -> filter YAML (indented under spec)
FILTERS = {
    # legacy: exact type, and subject present and non-empty
    "legacy": "  filter:\n"
              "    attributes: {type: com.example.order.created, subject: ''}\n",
    # new: created, and from the warehouse or about order 42; the legacy
    # filter beside it is ignored
    "orders": "  filter: {attributes: {type: never.this}}\n"
              "  filters:\n"
              "  - exact: {type: com.example.order.created}\n"
              "  - any:\n"
              "    - prefix: {source: /warehouse}\n"
              "    - suffix: {subject: /42}\n",
    # not from the EU shop
    "not-eu": "  filters:\n"
              "  - not: {prefix: {source: /shop/eu}}\n",
    # CESQL, evaluated fail-fast: an event without 'region' is an error
    # (MissingAttributeError), so no match even when the OR's right side
    # would be true
    "sql": "  filters:\n"
           "  - cesql: \"region = 'eu' OR subject LIKE '%/42'\"\n",
    # a typo: no event has 'sorce'
    "typo": "  filters:\n"
            "  - exact: {sorce: /shop/eu}\n",
}

EVENTS = {
    "e1": {"type": "com.example.order.created", "source": "/shop/eu",
           "subject": "orders/42"},
    "e2": {"type": "com.example.order.created", "source": "/warehouse/1"},
    "e3": {"type": "com.example.order.deleted", "source": "/shop/eu",
           "subject": "orders/42", "region": "eu"},
    # matches legacy, orders and not-eu: sent last to the broker
    "last": {"type": "com.example.order.created", "source": "/warehouse/9",
             "subject": "s/42"},
}


def event_json(eid):
    ev = {"specversion": "1.0", "id": eid, "datacontenttype":
          "application/json", "data": {"n": 1}}
    ev.update(EVENTS[eid])
    return json.dumps(ev)


def explain(s, name, ev_path=None, stdin=None, *extra):
    args = ["explain", "trigger", name, "--event",
            ev_path if ev_path else "-", *extra]
    return s.cli(*args, input=stdin)


def check_exit(r, want_match, what):
    assert r.returncode == (0 if want_match else 2), \
        "%s: exit %d\nstdout:\n%s\nstderr:\n%s" % (what, r.returncode,
                                                   r.stdout, r.stderr)
    assert r.stderr == "", "%s: stderr %r" % (what, r.stderr)


def test(s, d):
    sinks = {n: Sink() for n in FILTERS}
    docs = BROKER + "".join("---" + trigger(n, sinks[n].url, f)
                            for n, f in FILTERS.items())
    with open(os.path.join(d, "config.yaml"), "w") as f:
        f.write(docs)
    r = s.cli("apply", "-f", os.path.join(d, "config.yaml"))
    assert r.returncode == 0, r.stderr
    for n in FILTERS:
        ready(s, "trigger", n)
    paths = {}
    for eid in EVENTS:
        paths[eid] = os.path.join(d, eid + ".json")
        with open(paths[eid], "w") as f:
            f.write(event_json(eid))

    # Every Trigger x event, from a file; one of each from stdin.
    said = {n: set() for n in FILTERS}
    for n in FILTERS:
        for eid in EVENTS:
            r = explain(s, n, paths[eid])
            assert r.returncode in (0, 2), (n, eid, r.returncode, r.stderr)
            first = r.stdout.splitlines()[0]
            if r.returncode == 0:
                said[n].add(eid)
                assert first == "trigger default/%s: event %s MATCHES" % (
                    n, eid), first
            else:
                assert first == ("trigger default/%s: event %s does NOT "
                                 "match" % (n, eid)), first
            assert "\nbroker: b\n" in r.stdout, r.stdout
            assert "\nstatus: Ready\n" in r.stdout, r.stdout
            r2 = explain(s, n, None, event_json(eid))
            assert r2.returncode == r.returncode and r2.stdout == r.stdout, \
                (n, eid, r2.returncode, r2.stdout, r.stdout)
    assert said == {"legacy": {"e1", "last"}, "orders": {"e1", "e2", "last"},
                    "not-eu": {"e2", "last"}, "sql": {"e3"},
                    "typo": set()}, said

    # Key lines.
    r = explain(s, "legacy", paths["e2"])
    check_exit(r, False, "legacy e2")
    assert "spec.filter.attributes: FAIL" in r.stdout, r.stdout
    assert ("subject: FAIL: attribute 'subject' is not set (the value \"\" "
            "asks for it to be present and non-empty)") in r.stdout, r.stdout
    assert ("type: PASS: is \"com.example.order.created\", as wanted"
            in r.stdout), r.stdout
    r = explain(s, "orders", paths["e3"])
    check_exit(r, False, "orders e3")
    assert "note: spec.filter is ignored" in r.stdout, r.stdout
    assert ("spec.filters: FAIL: every element must pass, and "
            "spec.filters[0].exact did not") in r.stdout, r.stdout
    assert ("type: FAIL: is \"com.example.order.deleted\", wanted exactly "
            "\"com.example.order.created\"") in r.stdout, r.stdout
    assert "spec.filters[1].any: not evaluated" in r.stdout, r.stdout
    r = explain(s, "orders", paths["e2"])
    check_exit(r, True, "orders e2")
    assert ("spec.filters[1].any: PASS: spec.filters[1].any[0].prefix passed"
            in r.stdout), r.stdout
    assert ("spec.filters[1].any[1].suffix: not evaluated" in r.stdout), \
        r.stdout
    r = explain(s, "not-eu", paths["e1"])
    check_exit(r, False, "not-eu e1")
    assert ("spec.filters[0].not: FAIL: spec.filters[0].not.prefix passed, "
            "so 'not' fails") in r.stdout, r.stdout
    r = explain(s, "sql", paths["e1"])
    check_exit(r, False, "sql e1")
    assert ("spec.filters[0].cesql: FAIL: evaluation failed with "
            "MissingAttributeError") in r.stdout, r.stdout
    assert "region = 'eu' OR subject LIKE '%/42'" in r.stdout, r.stdout
    r = explain(s, "sql", paths["e3"])
    check_exit(r, True, "sql e3")
    assert "spec.filters[0].cesql: PASS: the expression is TRUE" in \
        r.stdout, r.stdout
    r = explain(s, "typo", paths["e1"])
    check_exit(r, False, "typo e1")
    assert ("hint: the event has no 'sorce' but has 'source' = \"/shop/eu\""
            in r.stdout), r.stdout

    # -o json says the same.
    r = explain(s, "orders", paths["e3"], None, "-o", "json")
    check_exit(r, False, "orders e3 json")
    o = json.loads(r.stdout)
    assert o["matches"] is False and o["broker"] == "b", o
    assert o["trigger"] == {"namespace": "default", "name": "orders"}, o
    assert o["event"]["id"] == "e3", o
    assert o["ready"]["status"] == "True", o
    assert o["filter"]["path"] == "spec.filters", o
    assert o["filter"]["elements"][0]["result"] == "fail", o
    assert o["notes"] and "spec.filter is ignored" in o["notes"][0], o

    # What explain said is what the broker does: send the same events
    # (structured mode, the very bytes of the files), "last" at the end.
    for eid in EVENTS:
        with open(paths[eid], "rb") as f:
            body = f.read()
        resp = request(s.ingress, "POST", "/default/b", body,
                       {"Content-Type": "application/cloudevents+json"})
        assert resp.status == 202, (eid, resp)
    for n in FILTERS:
        if said[n]:
            wait_for(lambda: said[n] <= set(sinks[n].ids()), 20,
                     "trigger %s to get %s" % (n, sorted(said[n])))
    time.sleep(1 * MULT)  # room for a delivery that should not come
    for n in FILTERS:
        got = sinks[n].ids()
        assert sorted(got) == sorted(said[n]), (n, got, said[n])

    # A Trigger whose broker does not exist is not Ready, and says so.
    orphan = trigger("orphan", sinks["legacy"].url, "", broker="missing")
    r = s.cli("apply", "-f", "-", input=orphan)
    assert r.returncode == 0, r.stderr

    def orphan_says():
        r = explain(s, "orphan", paths["e1"])
        return "BrokerDoesNotExist" in r.stdout and r
    r = wait_for(orphan_says, 20, "the orphan trigger's Ready condition")
    check_exit(r, True, "orphan e1")
    lines = r.stdout.splitlines()
    assert lines[0] == ("trigger default/orphan: event e1 MATCHES, but the "
                        "Trigger is not Ready, so it does not fire"), lines
    assert lines[1] == "broker: missing", lines
    assert lines[2].startswith("status: not Ready (Ready is False, "
                               "BrokerDoesNotExist: Broker \"missing\" does "
                               "not exist)"), lines
    assert "spec.filter: no filter" in r.stdout, r.stdout

    # Errors: one line, exit 1.
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write('{"specversion": "1.0", "source": "/x", "type": "t"}')
    one_line_error(explain(s, "orders", bad), "sluice explain:", "id",
                   "missing required attribute")
    one_line_error(explain(s, "orders", None,
                           '{"specversion": "1.0", "id": "1", "source": '
                           '"/x", "type": "t", "Region": "eu"}'),
                   "Region", "invalid attribute name")
    one_line_error(explain(s, "orders", None, '{"specversion": '),
                   "invalid JSON")
    one_line_error(explain(s, "orders", os.path.join(d, "nope.json")),
                   "cannot read event", "No such file or directory")
    one_line_error(explain(s, "nosuch", paths["e1"]), "NotFound", "nosuch")
    one_line_error(s.cli("explain", "trigger", "orders"), "--event")
    one_line_error(s.cli("explain", "broker", "b", "--event", paths["e1"]),
                   "only triggers")
    one_line_error(explain(s, "orders", paths["e1"], None, "-o", "wide"),
                   "unknown output format")


def offline(d):
    """-f: a Trigger from a file, no server (an address nobody listens
    on proves it); the same verdicts as the server gave."""
    env = {"SLUICE_SERVER": "127.0.0.1:%d" % free_port()}
    cfg = os.path.join(d, "config.yaml")
    r = run("explain", "trigger", "orders", "-f", cfg, "--event",
            os.path.join(d, "e2.json"), env=env)
    check_exit(r, True, "offline orders e2")
    assert r.stdout.startswith("trigger default/orders: event e2 MATCHES\n"
                               "broker: b\nstatus: unknown"), r.stdout
    r = run("explain", "trigger", "legacy", "-f", cfg, "--event", "-",
            input=event_json("e3"), env=env)
    check_exit(r, False, "offline legacy e3")
    # The only Trigger of a file needs no name; several do.
    one = os.path.join(d, "one.yaml")
    with open(one, "w") as f:
        f.write(trigger("solo", "http://127.0.0.1:1/",
                        "  filters: [{exact: {Type: x}}]\n"))
    r = run("explain", "trigger", "-f", one, "--event",
            os.path.join(d, "e1.json"), env=env)
    check_exit(r, False, "offline solo")
    assert "note: the API server would refuse this Trigger" in r.stdout, \
        r.stdout
    assert "write the name in lower case" in r.stdout, r.stdout
    one_line_error(run("explain", "trigger", "-f", cfg, "--event",
                       os.path.join(d, "e1.json"), env=env),
                   "name the one to explain")
    one_line_error(run("explain", "trigger", "nosuch", "-f", cfg, "--event",
                       os.path.join(d, "e1.json"), env=env),
                   "no Trigger named 'nosuch'")
    one_line_error(run("explain", "trigger", "-f", "-", "--event", "-",
                       input="", env=env), "stdin")


def start():
    d = tempdir()
    s = Sluice(*EXTRA).start()
    try:
        test(s, d)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()
    offline(d)


main(start)
