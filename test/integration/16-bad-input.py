#!/usr/bin/env python3
"""Malformed, oversize and garbage input on every API endpoint gets a
clear 4xx and never crashes or stalls the daemon."""
import socket

from sluicetest import MULT, Sluice, apipath, main, request

P = apipath("eventing.knative.dev", "v1", "brokers", "default")
OBJ = P + "/b"


def status(s, method, path, body, ctype="application/json"):
    return s.call(method, path, body, {"Content-Type": ctype})


def raw(s, data, read=True, half_close=False):
    host, port = s.api.rsplit(":", 1)
    c = socket.create_connection((host, int(port)), timeout=10 * MULT)
    try:
        c.sendall(data)
        if half_close:
            c.shutdown(socket.SHUT_WR)
        if read:
            return c.recv(4096)
    finally:
        c.close()


def test(s):
    assert s.call("POST", P, {"apiVersion": "eventing.knative.dev/v1",
                              "kind": "Broker",
                              "metadata": {"name": "b"}}).status == 201
    bodies = [b"", b"{", b"\xff\xfe\x00", b"[1,2]", b"null", b"42",
              b'{"apiVersion": 1}', b"{" * 5000 + b"}" * 5000,
              b'{"kind":"Broker","apiVersion":"eventing.knative.dev/v1",'
              b'"metadata":{"name":"\xc3\x28"}}',
              b"a: [1\n", b"- just\n- a list\n", b"\x00" * 100]
    for body in bodies:
        for method, path in (("POST", P), ("PUT", OBJ),
                             ("PUT", OBJ + "/status")):
            for ct in ("application/json", "application/yaml"):
                r = status(s, method, path, body, ct)
                assert r.status in (400, 422), (method, path, body[:40], r)
                assert r.json()["kind"] == "Status", r
        r = status(s, "PATCH", OBJ, body, "application/merge-patch+json")
        assert r.status in (400, 422), (body[:40], r)
    # Unknown content types.
    r = status(s, "POST", P, b"{}", "text/plain")
    assert r.status == 415, r
    # Oversize body: 413 on every writing endpoint, before the body is
    # even sent (Content-Length over the limit), and for a chunked body
    # that grows past it.
    for method, path, ct in (("POST", P, "application/json"),
                             ("PUT", OBJ, "application/json"),
                             ("PATCH", OBJ, "application/merge-patch+json")):
        resp = raw(s, ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                       "Content-Length: %d\r\n\r\n"
                       % (method, path, ct, 4 << 20)).encode())
        assert resp.startswith(b"HTTP/1.1 413"), (method, resp[:80])
        assert b'"reason":"RequestEntityTooLarge"' in resp, resp
        chunk = b"a" * 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk)
                        for _ in range(64)) + b"0\r\n\r\n"
        resp = raw(s, ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"
                       % (method, path, ct)).encode() + body)
        assert resp == b"" or resp.startswith(b"HTTP/1.1 413"), \
            (method, resp[:80])
    # Garbage on the socket: 400, then the server still answers.
    # (bytes that are not HTTP at all get no answer, the connection is just
    # closed; without a line end that happens at the request-head deadline)
    resp = raw(s, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 20 +
               b"\r\n\r\n")
    assert resp == b"" or resp.startswith(b"HTTP/1.1 400"), resp[:80]
    resp = raw(s, b"GARBAGE GARBAGE GARBAGE\r\n\r\n")
    assert resp == b"" or resp.startswith(b"HTTP/1.1 400"), resp[:80]
    resp = raw(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
               b"X: " + b"a" * 100000 + b"\r\n\r\n")
    assert resp == b"" or b" 431 " in resp[:20] or b" 413 " in resp[:20] \
        or b" 400 " in resp[:20], resp[:80]
    # A half-sent request does not block others.
    host, port = s.api.rsplit(":", 1)
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"POST " + P.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    try:
        assert request(s.api, "GET", "/healthz").status == 200
        assert s.call("GET", OBJ).status == 200
    finally:
        slow.close()
    # Bad paths and query parameters.
    for path in ("/apis/eventing.knative.dev/v1/namespaces/default/nope",
                 "/apis/x/v1/namespaces/default/brokers",
                 "/apis/eventing.knative.dev/v9/namespaces/default/brokers",
                 "/apis/eventing.knative.dev/v1/namespaces/Bad_NS/brokers/x"):
        r = s.call("GET", path)
        assert r.status in (400, 404), (path, r)
    r = s.call("GET", P + "?labelSelector=%ff%fe")
    assert r.status == 400, r
    r = s.call("GET", P + "?watch=maybe")
    assert r.status == 400, r
    for q in ("fieldSelector=spec.x%3D1", "fieldSelector=metadata.name",
              "labelSelector=" + "a" * 5000, "dryRun=All"):
        for path in (P + "?" + q, P + "?watch=true&" + q,
                     P + "?watch=true&resourceVersion=1&" + q):
            r = s.call("GET", path)
            assert r.status == 400 and r.json()["kind"] == "Status", (q, r)
    r = s.call("POST", P + "?dryRun=All", {"apiVersion":
               "eventing.knative.dev/v1", "kind": "Broker",
               "metadata": {"name": "dry"}})
    assert r.status == 400, r
    assert s.call("GET", OBJ[:-1] + "dry").status == 404
    r = s.call("POST", P, {"apiVersion": "eventing.knative.dev/v1",
                           "kind": "Broker", "metadata": 5})
    assert r.status == 400 and "metadata" in r.json()["message"], r
    assert s.call("GET", "/healthz").status == 200


def run():
    s = Sluice().start()
    try:
        test(s)
    finally:
        s.stop()


main(run)
