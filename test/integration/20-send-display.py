#!/usr/bin/env python3
"""sluice send and sluice display against each other and against a
recording Python sink: binary, structured, extensions, data from a file
and from stdin, a v0.3 event, a batch; the event_display layout; replies
and server errors; one-line errors with exit 1; 400 for what is not an
event; --quiet counting; clean stops on SIGTERM and SIGINT."""
import base64
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading

import sluicetest
from sluicetest import (MULT, SLUICE, free_port, main,
                        one_line_error, request, run, tempdir, wait_for)

HEAD = "\u2601\ufe0f  cloudevents.Event"


class Display:
    """A `sluice display` process on a port it picks itself."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [SLUICE, "display", "--addr", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sluicetest._procs.append(self.proc)
        self.out = []
        self.err = []
        self.lock = threading.Lock()
        self.readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout,
                                                      self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr,
                                                      self.err), daemon=True)]
        for t in self.readers:
            t.start()
        first = wait_for(lambda: self.stdout().split("\n", 1)[0]
                         if "\n" in self.stdout() else self._alive(), 20,
                         "the 'listening on' line")
        assert first.startswith("listening on 127.0.0.1:"), first
        self.addr = first[len("listening on "):]
        assert int(self.addr.rsplit(":", 1)[1]) > 0, first
        self.url = "http://" + self.addr + "/"

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("display exited with %d: %s"
                                 % (self.proc.returncode, self.stderr()))
        return None

    def _read(self, f, into):
        for line in iter(f.readline, b""):
            with self.lock:
                into.append(line.decode("utf-8"))

    def stdout(self):
        with self.lock:
            return "".join(self.out)

    def stderr(self):
        with self.lock:
            return "".join(self.err)

    def events(self):
        """The printed events, parsed back: a list of dicts with
        'attrs', 'ext' (None without an Extensions section), 'data_head'
        and 'data' (None without data)."""
        blocks = self.stdout().split(HEAD + "\n")[1:]
        evs = []
        for b in blocks:
            lines = b.split("\n")
            assert lines[0] == "Context Attributes,", b
            ev = {"attrs": {}, "ext": None, "data_head": None, "data": None}
            cur = ev["attrs"]
            i = 1
            while i < len(lines) and lines[i].startswith("  "):
                k, v = lines[i][2:].split(": ", 1)
                cur[k] = v
                i += 1
                if i < len(lines) and lines[i] == "Extensions,":
                    ev["ext"] = cur = {}
                    i += 1
            if i < len(lines) and lines[i].startswith("Data"):
                ev["data_head"] = lines[i]
                ev["data"] = "\n".join(lines[i + 1:]).rstrip("\n")
            evs.append(ev)
        return evs

    def wait_events(self, n):
        return wait_for(lambda: len(self.events()) >= n and self.events(),
                        20, "%d events on display's output" % n)

    def stop(self, sig=signal.SIGTERM):
        """Signal it, require exit 0 (sanitizers report at exit) and
        return its whole stdout."""
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=20 * MULT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("display did not stop on %s" % sig)
        for t in self.readers:
            t.join(10 * MULT)
        assert rc == 0, "display exited with %d: %s" % (rc, self.stderr())
        return self.stdout()


class Recorder:
    """A Python sink recording every request and answering with the
    canned (status, headers, body) responses queued in 'answers'."""

    def __init__(self):
        rec = self
        self.requests = []
        self.answers = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                rec.requests.append(({k.lower(): v for k, v in
                                      self.headers.items()}, body))
                status, headers, out = (rec.answers.pop(0) if rec.answers
                                        else (202, {}, b""))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def ok(r):
    assert r.returncode == 0, "exit %d, stdout %r, stderr %r" % (
        r.returncode, r.stdout, r.stderr)
    return r


def test_display(d, tmp):
    # Binary mode with JSON data, subject and a given id.
    r = ok(run("send", d.url, "--type", "dev.example.order",
               "--source", "/orders", "--id", "b1", "--subject", "o-7",
               "--data", '{"n": 1, "items": [1, {"a": "x"}], "e": {}}'))
    assert r.stdout == "202 Accepted\n", r.stdout
    ev = d.wait_events(1)[0]
    a = ev["attrs"]
    assert list(a) == ["specversion", "type", "source", "subject", "id",
                       "time", "datacontenttype"], a
    assert a["specversion"] == "1.0" and a["type"] == "dev.example.order"
    assert a["source"] == "/orders" and a["subject"] == "o-7"
    assert a["id"] == "b1" and a["datacontenttype"] == "application/json", a
    assert a["time"].endswith("Z") and a["time"][:2] == "20", a
    assert ev["ext"] is None, ev
    assert ev["data_head"] == "Data,", ev
    assert ev["data"] == ('  {\n    "n": 1,\n    "items": [\n      1,\n'
                          '      {\n        "a": "x"\n      }\n    ],\n'
                          '    "e": {}\n  }'), ev["data"]

    # Structured mode, extensions, a default id (a v4 UUID).
    ok(run("send", d.url, "--type", "t.structured", "--source",
           "https://example.com/s", "--structured", "--ext", "region=eu",
           "--ext=partitionkey=42", "--data", "plain text"))
    ev = d.wait_events(2)[1]
    a = ev["attrs"]
    assert a["type"] == "t.structured", a
    assert a["datacontenttype"] == "text/plain; charset=utf-8", a
    uid = a["id"]
    assert len(uid) == 36 and uid[14] == "4" and uid[19] in "89ab", uid
    assert ev["ext"] == {"partitionkey": "42", "region": "eu"}, ev
    assert ev["data"] == "  plain text", ev

    # Data from a file with a content type, and from stdin.
    path = os.path.join(tmp, "data.xml")
    with open(path, "w") as f:
        f.write("<order id=\"3\"/>")
    ok(run("send", d.url, "--type", "t.file", "--source", "/f",
           "--data-file", path, "--content-type", "application/xml"))
    ev = d.wait_events(3)[2]
    assert ev["attrs"]["datacontenttype"] == "application/xml", ev
    assert ev["data"] == '  <order id="3"/>', ev
    ok(run("send", d.url, "--type", "t.stdin", "--source", "/f",
           "--data-file", "-", input='[true, null]'))
    ev = d.wait_events(4)[3]
    assert ev["attrs"]["datacontenttype"] == "application/json", ev
    assert ev["data"] == "  [\n    true,\n    null\n  ]", ev

    # Bytes that are not UTF-8 show as Base64.
    binpath = os.path.join(tmp, "data.bin")
    with open(binpath, "wb") as f:
        f.write(b"\x00\xff\xfe\x01")
    ok(run("send", d.url, "--type", "t.bin", "--source", "/f",
           "--data-file", binpath))
    ev = d.wait_events(5)[4]
    assert ev["attrs"]["datacontenttype"] == "application/octet-stream", ev
    assert ev["data_head"] == "Data (binary),", ev
    assert base64.b64decode(ev["data"].strip()) == b"\x00\xff\xfe\x01", ev

    # A v0.3 event, structured, with an extension.
    ok(run("send", d.url, "--specversion", "0.3", "--type", "t.v03",
           "--source", "/old", "--id", "v03", "--ext", "traceparent=00-x",
           "--structured"))
    ev = d.wait_events(6)[5]
    assert ev["attrs"]["specversion"] == "0.3", ev
    assert ev["attrs"]["id"] == "v03", ev
    assert ev["ext"] == {"traceparent": "00-x"}, ev
    assert ev["data"] is None, ev

    # A batch: both events are printed, in order.
    batch = os.path.join(tmp, "batch.json")
    with open(batch, "w") as f:
        json.dump([{"specversion": "1.0", "id": "k1", "source": "/b",
                    "type": "t.batch", "count": 3},
                   {"specversion": "1.0", "id": "k2", "source": "/b",
                    "type": "t.batch", "data": {"x": [1]}}], f)
    r = ok(run("send", d.url, "--batch", batch))
    assert r.stdout == "202 Accepted\n", r
    evs = d.wait_events(8)
    assert [e["attrs"]["id"] for e in evs[6:]] == ["k1", "k2"], evs[6:]
    assert evs[6]["ext"] == {"count": "3"}, evs[6]
    assert evs[7]["data"] == '  {\n    "x": [\n      1\n    ]\n  }', evs[7]

    # Not events: 400 naming what is wrong, the display goes on.
    def post(body, headers):
        return request(d.addr, "POST", "/", body, headers)

    r = post(b"garbage", {"Content-Type": "text/plain"})
    assert r.status == 400 and b"ce-specversion" in r.body, r
    r = post(b"", {"ce-specversion": "1.0", "ce-type": "t",
                   "ce-source": "/s"})
    assert r.status == 400 and b"ce-id" in r.body, r
    r = post(b"{not json", {"Content-Type": "application/cloudevents+json"})
    assert r.status == 400 and b"body" in r.body, r
    r = post(json.dumps({"specversion": "1.0", "id": "1", "source": "/s"}),
             {"Content-Type": "application/cloudevents+json"})
    assert r.status == 400 and b"type" in r.body, r
    r = post(b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"},1]',
             {"Content-Type": "application/cloudevents-batch+json"})
    assert r.status == 400 and b"[1]" in r.body, r
    r = post(b"<x/>", {"Content-Type": "application/cloudevents+xml"})
    assert r.status == 415, r
    r = request(d.addr, "GET", "/")
    assert r.status == 405 and r.headers.get("Allow") == "POST", r
    # A bare http.client request in binary mode is accepted: 202, no body.
    c = http.client.HTTPConnection("127.0.0.1",
                                   int(d.addr.rsplit(":", 1)[1]),
                                   timeout=10 * MULT)
    try:
        c.request("POST", "/any/path", body=b"", headers={
            "ce-specversion": "1.0", "ce-id": "raw", "ce-type": "t.raw",
            "ce-source": "/raw", "ce-myext": "v%20w"})
        resp = c.getresponse()
        assert resp.status == 202 and resp.read() == b"", resp.status
    finally:
        c.close()
    evs = d.wait_events(9)
    assert evs[8]["attrs"]["id"] == "raw" and \
        evs[8]["ext"] == {"myext": "v w"}, evs[8]
    assert len(d.events()) == 9
    assert d.stderr().count("rejected a request") == 6, d.stderr()


def test_send_errors(d, tmp):
    url = d.url
    base = ["send", url, "--type", "t", "--source", "/s"]
    one_line_error(run(*base, "--ext", "Bad=1"), "--ext", "Bad")
    one_line_error(run(*base, "--ext", "a-b=1"), "a-b")
    one_line_error(run(*base, "--ext", "id=1"), "'id'", "core attribute")
    one_line_error(run(*base, "--ext", "novalue"), "NAME=VALUE")
    one_line_error(run(*base, "--ext", "x=1", "--ext", "x=2"), "'x'")
    one_line_error(run(*base, "--specversion", "0.3", "--ext", "1abc=1"),
                   "1abc")
    one_line_error(run("send", url, "--type", "", "--source", "/s"),
                   "'type'")
    one_line_error(run("send", url, "--source", "/s"), "'type'")
    one_line_error(run("send", url, "--type", "t"), "'source'")
    one_line_error(run("send", url, "--type", "t", "--source", "/s",
                       "--id", ""), "'id'")
    one_line_error(run("send", "--type", "t", "--source", "/s"), "URL")
    one_line_error(run("send"), "URL")
    one_line_error(run(*base, "--data-file", os.path.join(tmp, "nope")),
                   "--data-file", "nope")
    one_line_error(run(*base, "--data-file", tmp), "--data-file")
    one_line_error(run(*base, "--data", "x", "--data-file", "-"), "--data")
    one_line_error(run(*base, "--content-type", "json"), "datacontenttype")
    one_line_error(run(*base, "--specversion", "2.0"), "2.0")
    one_line_error(run(*base, "--bogus"), "--bogus")
    one_line_error(run(*base, "--type"), "--type")
    one_line_error(run(*base, url), "unexpected argument")
    bad = os.path.join(tmp, "bad-batch.json")
    for content, needle in (('[{"specversion":"1.0","id":"1","source":"/s"}]',
                             "[0].type"),
                            ('{"specversion":"1.0"}', "invalid batch"),
                            ("[1,", "invalid batch")):
        with open(bad, "w") as f:
            f.write(content)
        one_line_error(run("send", url, "--batch", bad), needle)
    one_line_error(run("send", url, "--batch", os.path.join(tmp, "nope")),
                   "--batch")
    one_line_error(run("send", url, "--batch", bad, "--type", "t"),
                   "--type")
    one_line_error(run("send", "http://127.0.0.1:%d/" % free_port(),
                       "--type", "t", "--source", "/s"),
                   "cannot connect", "127.0.0.1")
    one_line_error(run("send", "ftp://127.0.0.1/", "--type", "t",
                       "--source", "/s"), "ftp://", "http://")
    one_line_error(run("send", "http://[", "--type", "t", "--source", "/s"),
                   "invalid URL")
    # None of these reached the display.
    assert d.events() == [], d.stdout()


def test_recorder(tmp):
    rec = Recorder()
    try:
        # Binary mode puts attributes in ce- headers; structured mode the
        # whole event in the body.
        ok(run("send", rec.url, "--type", "t", "--source", "/s", "--id",
               "h1", "--ext", "k=v w", "--data", '{"a":1}'))
        h, body = rec.requests[-1]
        assert h["ce-specversion"] == "1.0" and h["ce-id"] == "h1", h
        assert h["ce-k"] == "v%20w" and h["ce-time"], h
        assert h["content-type"] == "application/json", h
        assert body == b'{"a":1}', body
        ok(run("send", rec.url, "--type", "t", "--source", "/s", "--id",
               "h2", "--structured", "--data", '{"a":1}'))
        h, body = rec.requests[-1]
        assert h["content-type"].startswith(
            "application/cloudevents+json"), h
        assert "ce-id" not in h, h
        ev = json.loads(body)
        assert ev["id"] == "h2" and ev["data"] == {"a": 1}, ev
        # A batch goes out byte for byte.
        batch = os.path.join(tmp, "rec-batch.json")
        raw = b'[ {"specversion":"1.0","id":"r1","source":"/s","type":"t"} ]'
        with open(batch, "wb") as f:
            f.write(raw)
        ok(run("send", rec.url, "--batch", batch))
        h, body = rec.requests[-1]
        assert h["content-type"].startswith(
            "application/cloudevents-batch+json"), h
        assert body == raw, body

        # A reply event in the answer is printed after the status line.
        rec.answers.append((200, {"ce-specversion": "1.0", "ce-id": "re1",
                                  "ce-type": "t.reply", "ce-source": "/sink",
                                  "Content-Type": "application/json"},
                            b'{"ok":true}'))
        r = ok(run("send", rec.url, "--type", "t", "--source", "/s"))
        assert r.stdout == (
            "200 OK\n" + HEAD + "\nContext Attributes,\n"
            "  specversion: 1.0\n  type: t.reply\n  source: /sink\n"
            "  id: re1\n  datacontenttype: application/json\n"
            "Data,\n  {\n    \"ok\": true\n  }\n"), r.stdout
        # A reply that claims to be an event but is not: a warning, exit 0.
        rec.answers.append((202, {"ce-specversion": "1.0"}, b""))
        r = ok(run("send", rec.url, "--type", "t", "--source", "/s"))
        assert r.stdout == "202 Accepted\n", r
        assert "reply is not a valid CloudEvent" in r.stderr, r.stderr
        # A 2xx body that is no event is not printed.
        rec.answers.append((200, {"Content-Type": "text/plain"}, b"thanks"))
        r = ok(run("send", rec.url, "--type", "t", "--source", "/s"))
        assert r.stdout == "200 OK\n" and r.stderr == "", r

        # Failures: exit 1, the server's message on one line.
        rec.answers.append((400, {"Content-Type": "text/plain"},
                            b"type: unknown\nsecond line\n"))
        r = run("send", rec.url, "--type", "t", "--source", "/s")
        one_line_error(r, "400 Bad Request", "type: unknown second line")
        assert r.stdout == "400 Bad Request\n", r
        rec.answers.append((503, {}, b""))
        one_line_error(run("send", rec.url, "--type", "t", "--source", "/s"),
                       "503 Service Unavailable")
        rec.answers.append((599, {}, b"x" * 5000))
        line = one_line_error(run("send", rec.url, "--type", "t",
                                  "--source", "/s"), "599", "...")
        assert len(line) < 600, line
    finally:
        rec.close()


def test_quiet():
    d = Display("--quiet")
    try:
        for i in range(3):
            ok(run("send", d.url, "--type", "t", "--source", "/q",
                   "--data", str(i)))
        tmp = tempdir()
        batch = os.path.join(tmp, "b.json")
        with open(batch, "w") as f:
            json.dump([{"specversion": "1.0", "id": str(i), "source": "/q",
                        "type": "t"} for i in range(4)], f)
        ok(run("send", d.url, "--batch", batch))
        r = request(d.addr, "POST", "/", b"nope")
        assert r.status == 400, r
        assert d.stdout() == "listening on %s\n" % d.addr, d.stdout()
    finally:
        out = d.stop(signal.SIGINT)
    assert out == "listening on %s\nreceived 7 events\n" % d.addr, out
    assert d.stderr() == "", d.stderr()


def test_display_args():
    one_line_error(run("display", "--addr"), "--addr")
    one_line_error(run("display", "--bogus"), "--bogus")
    one_line_error(run("display", "extra"), "extra")
    one_line_error(run("display", "--addr", "nonsense"), "nonsense")
    # The port taken: one line, exit 1.
    d = Display()
    try:
        one_line_error(run("display", "--addr", d.addr, timeout=20),
                       d.addr.rsplit(":", 1)[1])
    finally:
        d.stop()
    r = run("send", "--help")
    assert r.returncode == 0 and "usage: sluice send" in r.stdout, r
    r = run("display", "--help")
    assert r.returncode == 0 and "usage: sluice display" in r.stdout, r


def test():
    tmp = tempdir()
    d = Display()
    try:
        test_send_errors(d, tmp)
        test_display(d, tmp)
    finally:
        out = d.stop()
    assert "received" not in out, out
    test_recorder(tmp)
    test_quiet()
    test_display_args()


main(test)
