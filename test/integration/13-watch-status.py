#!/usr/bin/env python3
"""Watch (initial ADDED events, live changes, resume from a
resourceVersion, too-old resourceVersion, bookmarks) and the status
subresource (status writes never bump generation; status in a main
resource write is ignored)."""
import http.client
import json
import socket

from sluicetest import MULT, Sluice, apipath, main, wait_for

P = apipath("eventing.knative.dev", "v1", "brokers", "default")


class Watch:
    """A watch stream: events() yields parsed lines as they arrive."""

    def __init__(self, s, query):
        host, port = s.api.rsplit(":", 1)
        self.c = http.client.HTTPConnection(host, int(port),
                                            timeout=10 * MULT)
        self.c.request("GET", P + "?watch=true" + query, headers=s.headers())
        self.r = self.c.getresponse()
        assert self.r.status == 200, self.r.status

    def next(self):
        line = self.r.readline()
        assert line, "watch stream ended"
        return json.loads(line)

    def close(self):
        self.c.close()


def broker(name):
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "metadata": {"name": name}}


def test(s):
    assert s.call("POST", P, broker("a")).status == 201
    w = Watch(s, "")
    e = w.next()
    assert e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "a", e
    assert s.call("POST", P, broker("b")).status == 201
    # Status writes by the reconciler show up as MODIFIED; find b's ADDED.
    seen = []
    while True:
        e = w.next()
        seen.append((e["type"], e["object"]["metadata"]["name"]))
        if seen[-1] == ("ADDED", "b"):
            break
    rv_b = int(e["object"]["metadata"]["resourceVersion"])
    w.close()

    # Changes made while nobody watched are replayed from rv_b, in order.
    r = s.call("PATCH", P + "/a", json.dumps({"metadata": {"labels": {
        "x": "1"}}}), {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200
    assert s.call("DELETE", P + "/b").status == 200
    w = Watch(s, "&resourceVersion=%d" % rv_b)
    got = []
    last = rv_b
    while ("DELETED", "b") not in got:
        e = w.next()
        rv = int(e["object"]["metadata"]["resourceVersion"])
        assert rv > last, (rv, last)
        last = rv
        got.append((e["type"], e["object"]["metadata"]["name"]))
    assert ("MODIFIED", "a") in got, got
    w.close()

    # Bookmarks when asked for.
    w = Watch(s, "&resourceVersion=%d&allowWatchBookmarks=true" % last)
    e = w.next()
    while e["type"] != "BOOKMARK":
        e = w.next()
    assert int(e["object"]["metadata"]["resourceVersion"]) >= last, e
    w.close()

    # Status subresource.
    cur = s.call("GET", P + "/a").json()
    gen = cur["metadata"]["generation"]
    st = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
          "metadata": {"name": "a"},
          "status": {"conditions": [{"type": "Custom", "status": "True"}]}}
    r = s.call("PUT", P + "/a/status", st)
    assert r.status == 200, r
    assert r.json()["metadata"]["generation"] == gen, r
    r = s.call("GET", P + "/a/status")
    assert r.status == 200 and "status" in r.json(), r
    # A status patch that does not name status changes nothing.
    r = s.call("PATCH", P + "/a/status", json.dumps({"metadata": {}}),
               {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r
    # The Namespace status subresource exists too.
    r = s.call("GET", "/api/v1/namespaces/default/status")
    assert r.status == 200 and r.json()["metadata"]["name"] == "default", r
    # A field selector narrows a watch to one object (kubectl get -w NAME).
    w = Watch(s, "&fieldSelector=metadata.name%3Da")
    e = w.next()
    assert e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "a", e
    assert s.call("POST", P, broker("c")).status == 201
    r = s.call("PATCH", P + "/a", json.dumps({"metadata": {"labels": {
        "y": "2"}}}), {"Content-Type": "application/merge-patch+json"})
    e = w.next()
    while e["object"]["metadata"]["name"] == "a" and \
            e["object"]["metadata"].get("labels", {}).get("y") != "2":
        e = w.next()
    assert e["object"]["metadata"]["name"] == "a", e
    w.close()
    # A main-resource write with a status keeps the stored status.
    cur = s.call("GET", P + "/a").json()
    cur["status"] = {"bogus": True}
    r = s.call("PUT", P + "/a", cur)
    assert r.status == 200 and "bogus" not in r.json().get("status", {}), r

    # A resourceVersion older than the history kept: one ERROR event, 410.
    for i in range(30):
        r = s.call("PATCH", P + "/a", json.dumps({"metadata": {"labels": {
            "n": str(i)}}}), {"Content-Type": "application/merge-patch+json"})
        assert r.status == 200
    w = Watch(s, "&resourceVersion=1")
    e = w.next()
    assert e["type"] == "ERROR", e
    assert e["object"]["code"] == 410 and \
        e["object"]["reason"] == "Expired", e
    w.close()
    # Bad resourceVersion values are a 400.
    r = s.call("GET", P + "?watch=true&resourceVersion=abc")
    assert r.status == 400, r


def run():
    s = Sluice("--watch-history", "10").start()
    try:
        test(s)
    finally:
        s.stop()


main(run)
