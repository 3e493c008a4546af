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
