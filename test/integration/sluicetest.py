"""sluicetest - shared helpers for the integration tests (Python 3 stdlib).

Tests start the real binary on free loopback ports in a temporary data
directory, poll with deadlines instead of sleeping, and stop every process
they started (also when an assertion fails: processes are registered and
killed at exit). SL_TEST_TIMEOUT_MULT scales every deadline.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SLUICE = os.environ.get("SLUICE", "build/asan/sluice")
MULT = float(os.environ.get("SL_TEST_TIMEOUT_MULT", "1"))

_procs = []
_dirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def deadline(seconds):
    """Absolute monotonic deadline, scaled by SL_TEST_TIMEOUT_MULT."""
    return time.monotonic() + seconds * MULT


def wait_for(fn, seconds=10, what="condition", interval=0.02):
    """Call fn until it returns a true value; fail after 'seconds'."""
    end = deadline(seconds)
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except (OSError, http.client.HTTPException) as e:
            last = e
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s (last error: %r)"
                                 % (what, last))
        time.sleep(interval)


def free_port():
    """A port that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tempdir(prefix="sluice-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(d)
    return d


def run(*args, input=None, env=None, timeout=30):
    """Run the sluice CLI; returns CompletedProcess with text output."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([SLUICE, *args], capture_output=True, text=True,
                          input=input, env=e, timeout=timeout * MULT)


def one_line_error(r, *needles):
    """Assert a CLI failure: exit 1, one line on stderr containing needles."""
    assert r.returncode == 1, "exit %d, stderr %r" % (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, "want one line on stderr, got %r" % r.stderr
    for n in needles:
        assert n in lines[0], "%r not in %r" % (n, lines[0])
    return lines[0]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def request(addr, method, path, body=None, headers=None, timeout=10):
    """One HTTP request to host:port; body may be bytes, str or a dict."""
    host, port = addr.rsplit(":", 1)
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    c = http.client.HTTPConnection(host, int(port), timeout=timeout * MULT)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return Response(r.status, dict(r.getheaders()), r.read())
    finally:
        c.close()


class Sluice:
    """A `sluice serve` process on free ports with its own data dir."""

    def __init__(self, *args, data_dir=None, env=None, token_file=None,
                 ingress_url=True):
        self.data_dir = data_dir or tempdir()
        self.api = "127.0.0.1:%d" % free_port()
        self.ingress = "127.0.0.1:%d" % free_port()
        self.metrics = "127.0.0.1:%d" % free_port()
        self.token_file = token_file
        self.ingress_url = ingress_url
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "sluice.log")

    def start(self, wait=True):
        cmd = [SLUICE, "serve", "--data-dir", self.data_dir,
               "--api-addr", self.api, "--ingress-addr", self.ingress,
               "--metrics-addr", self.metrics, *self.args]
        if self.ingress_url:
            cmd += ["--ingress-url", "http://" + self.ingress]
        if self.token_file:
            cmd += ["--api-token-file", self.token_file]
        e = dict(os.environ)
        if self.env:
            e.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=e)
        _procs.append(self.proc)
        if wait:
            self.wait_ready()
        return self

    def headers(self):
        if self.token_file:
            with open(self.token_file) as f:
                return {"Authorization": "Bearer " + f.read().strip()}
        return {}

    def wait_ready(self, seconds=20):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("sluice exited with %d:\n%s"
                                     % (self.proc.returncode, self.output()))
            return request(self.api, "GET", "/readyz",
                           headers=self.headers()).status == 200
        wait_for(ready, seconds, "sluice /readyz")

    def call(self, method, path, body=None, headers=None, timeout=10):
        h = self.headers()
        h.update(headers or {})
        return request(self.api, method, path, body, h, timeout)

    def cli(self, *args, input=None, env=None):
        """Run a CLI command against this daemon's API."""
        e = {"SLUICE_SERVER": "http://" + self.api}
        if self.token_file:
            e["SLUICE_TOKEN_FILE"] = self.token_file
        e.update(env or {})
        return run(*args, input=input, env=e)

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=20):
        """SIGTERM, wait, and require a clean exit (sanitizers report at
        exit, so a leak or error makes this fail)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout * MULT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("sluice did not stop on SIGTERM:\n"
                                 + self.output())
        out = self.output()
        self.log.close()
        if rc != 0:
            raise AssertionError("sluice exited with %d:\n%s" % (rc, out))

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def main(fn):
    """Run a test's main function: 'ok' on success, exit 1 on failure."""
    try:
        fn()
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("ok")


def apipath(group, version, plural, ns=None, name=None, sub=None):
    """The REST path of a collection or object."""
    base = "/api/v1" if group == "" else "/apis/%s/%s" % (group, version)
    p = base + ("/namespaces/%s" % urllib.parse.quote(ns) if ns else "")
    p += "/" + plural
    if name:
        p += "/" + urllib.parse.quote(name)
    if sub:
        p += "/" + sub
    return p


class Sink:
    """A recording HTTP sink on a free port (a thread per connection,
    keep-alive). Every POST is recorded as a dict: 'headers' (lower-case
    names), 'body' (bytes), 'time' (monotonic), 'event' (binary-mode ce-*
    headers or the structured JSON turned into one attribute dict, with
    'data' as text when there is a body). 'respond(req)' decides the
    answer: it returns (status, headers, body) and may sleep; the default
    answers 202 with no body. 'close' in a response's headers dict
    (key None) makes the sink close the connection without answering."""

    def __init__(self, respond=None):
        import http.server
        import threading
        sink = self
        self.lock = threading.Lock()
        self.requests = []
        self.respond = respond or (lambda req: (202, {}, b""))

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                req = {"headers": {k.lower(): v for k, v in
                                   self.headers.items()},
                       "body": body, "time": time.monotonic(),
                       "path": self.path}
                req["event"] = Sink.parse(req["headers"], body)
                with sink.lock:
                    sink.requests.append(req)
                status, headers, out = sink.respond(req)
                if None in headers:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        class S(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.srv = S(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()
        _sinks.append(self)

    @staticmethod
    def parse(headers, body):
        ct = headers.get("content-type", "")
        if ct.startswith("application/cloudevents+json"):
            ev = json.loads(body)
            if "data" in ev and not isinstance(ev["data"], str):
                ev["data"] = json.dumps(ev["data"])
            return ev
        ev = {k[3:]: urllib.parse.unquote(v) for k, v in headers.items()
              if k.startswith("ce-")}
        if ct:
            ev["datacontenttype"] = ct
        if body:
            ev["data"] = body.decode("utf-8", "replace")
        return ev

    def all(self):
        with self.lock:
            return list(self.requests)

    def events(self):
        return [r["event"] for r in self.all()]

    def ids(self):
        return [e.get("id") for e in self.events()]

    def wait(self, n, seconds=20, what=None):
        """Wait until at least n requests arrived; return them all."""
        return wait_for(lambda: len(self.all()) >= n and self.all(),
                        seconds, what or "%d requests at the sink" % n)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


_sinks = []


def _stop_sinks():
    for s in _sinks:
        try:
            s.srv.shutdown()
            s.srv.server_close()
        except Exception:
            pass


atexit.register(_stop_sinks)


def send_event(addr, path, id, type="dev.sluice.test", source="/test",
               data=None, ext=None, headers=None, timeout=10):
    """POST one binary-mode CloudEvent to the ingress; the Response."""
    h = {"ce-specversion": "1.0", "ce-id": id, "ce-type": type,
         "ce-source": source}
    for k, v in (ext or {}).items():
        h["ce-" + k] = str(v)
    if data is not None:
        h["content-type"] = "application/json"
    h.update(headers or {})
    return request(addr, "POST", path,
                   data.encode() if isinstance(data, str) else data, h,
                   timeout)


def ready(s, kind, name, ns="default", seconds=20):
    """Wait until 'sluice get <kind> <name> -o json' says Ready True."""
    def ok():
        r = s.cli("get", kind, name, "-n", ns, "-o", "json")
        if r.returncode != 0:
            return None
        o = json.loads(r.stdout)
        for c in o.get("status", {}).get("conditions", []):
            if c["type"] == "Ready" and c["status"] == "True":
                return o
        return None
    return wait_for(ok, seconds, "%s %s Ready" % (kind, name))


class RedisServer:
    """A real redis-server on a free port, append-only with fsync on every
    write (so an acknowledged XADD survives a kill), in its own dir."""

    def __init__(self, port=None, dir=None):
        self.port = port or free_port()
        self.dir = dir or tempdir("sluice-redis-")
        self.url = "redis://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _procs.append(self.proc)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited with %d"
                                     % self.proc.returncode)
            with socket.create_connection(("127.0.0.1", self.port), 1) as c:
                c.sendall(b"PING\r\n")
                return c.recv(64).startswith(b"+PONG")
        wait_for(up, 20, "redis-server on port %d" % self.port)
        return self

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


KAFKA_CLUSTER = os.environ.get("SL_KAFKA_CLUSTER", "build/helpers/kafka-cluster")


class KafkaCluster:
    """A Kafka cluster speaking the real protocol: librdkafka's mock cluster
    as its own process (test/helpers/kafka-cluster), N brokers on loopback.
    'topics' are NAME:PARTITIONS strings created at start (the mock cannot
    create topics through the admin API; auto-creation also works). kcat is
    the independent client: produce(), consume(), metadata()."""

    def __init__(self, brokers=3, topics=()):
        self.brokers = brokers
        self.topics = list(topics)
        self.proc = None
        self.bootstrap = None

    def start(self):
        if not os.access(KAFKA_CLUSTER, os.X_OK):
            raise AssertionError("%s is not built (make all)" % KAFKA_CLUSTER)
        self.proc = subprocess.Popen(
            [KAFKA_CLUSTER, "--brokers", str(self.brokers)] + self.topics,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _procs.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError("kafka-cluster did not start: %s"
                                 % self.proc.stderr.read())
        self.bootstrap = line
        return self

    def kill(self):
        """SIGKILL: the cluster vanishes at once (clients see refused
        connections)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    def down(self):
        """Take every broker down (SIGUSR1): connections are dropped and
        refused, the data stays."""
        self.proc.send_signal(signal.SIGUSR1)

    def up(self):
        """Bring the brokers up again on the same ports (SIGUSR2)."""
        self.proc.send_signal(signal.SIGUSR2)

    def kcat(self, *args, input=None, timeout=30):
        """Run kcat against this cluster; returns CompletedProcess (bytes)."""
        return subprocess.run(["kcat", "-b", self.bootstrap] + list(args),
                              input=input, capture_output=True,
                              timeout=timeout)

    def produce(self, topic, value, key=None, headers=(), partition=None):
        """Produce one record with kcat (-Z: an empty value is NULL).
        'headers' are (name, value) pairs. Raises when kcat fails."""
        args = ["-P", "-t", topic, "-D", "\x1e"]
        if key is not None:
            args += ["-K", "\x1f"]
        if partition is not None:
            args += ["-p", str(partition)]
        for n, v in headers:
            args += ["-H", "%s=%s" % (n, v)]
        if isinstance(value, str):
            value = value.encode()
        data = value
        if key is not None:
            data = (key.encode() if isinstance(key, str) else key) \
                + b"\x1f" + value
        r = self.kcat(*args, input=data + b"\x1e")
        if r.returncode != 0:
            raise AssertionError("kcat produce: %s" % r.stderr.decode())

    def consume(self, topic, n, seconds=20):
        """Read the first n records of 'topic' from the beginning with kcat
        (JSON envelope: -J); returns a list of dicts with key, payload,
        headers (list of alternating names and values), partition,
        offset."""
        r = self.kcat("-C", "-t", topic, "-o", "beginning", "-c", str(n),
                      "-J", "-q", timeout=seconds)
        if r.returncode != 0:
            raise AssertionError("kcat consume: %s" % r.stderr.decode())
        out = [json.loads(l) for l in r.stdout.decode().splitlines()
               if l.strip()]
        if len(out) < n:
            raise AssertionError("kcat read %d of %d records from %s"
                                 % (len(out), n, topic))
        return out

    def metadata(self):
        """kcat -L -J: the cluster's metadata as a dict."""
        r = self.kcat("-L", "-J")
        if r.returncode != 0:
            raise AssertionError("kcat -L: %s" % r.stderr.decode())
        return json.loads(r.stdout.decode())

    def topic_names(self):
        return sorted(t["topic"] for t in self.metadata().get("topics", []))
