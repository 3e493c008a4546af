#!/usr/bin/env python3
"""`sluice serve -f` applies resources at start (files and directories,
again on every start without errors), a bad file stops the start with one
line naming it, and SIGTERM stops the daemon cleanly (exit 0)."""
import os

from sluicetest import Sluice, apipath, main, request, tempdir, wait_for

BROKERS = apipath("eventing.knative.dev", "v1", "brokers", "default")


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def test():
    d = tempdir()
    write(d, "a-ns.yaml", "apiVersion: v1\nkind: Namespace\n"
          "metadata:\n  name: team\n")
    write(d, "b-broker.yaml", "apiVersion: eventing.knative.dev/v1\n"
          "kind: Broker\nmetadata:\n  name: b\n  namespace: team\n")
    one = write(tempdir(), "one.yaml", "apiVersion: eventing.knative.dev/v1\n"
                "kind: Broker\nmetadata:\n  name: solo\n")
    s = Sluice("-f", d, "-f", one).start()
    try:
        r = s.call("GET", apipath("eventing.knative.dev", "v1", "brokers",
                                  "team", "b"))
        assert r.status == 200, r
        assert s.call("GET", BROKERS + "/solo").status == 200
    finally:
        s.stop()
    # A restart with the same files: unchanged, still fine. Without
    # --ingress-url, brokers publish http://<ingress-addr>; /healthz and
    # /readyz answer on --metrics-addr too.
    s2 = Sluice("-f", d, data_dir=s.data_dir, ingress_url=False).start()
    try:
        r = s2.call("GET", BROKERS + "/solo")
        wait_for(lambda: s2.call("GET", BROKERS + "/solo").json().get(
            "status", {}).get("address"), 10, "broker address")
        url = s2.call("GET", BROKERS + "/solo").json()["status"]["address"]
        assert url["url"] == "http://%s/default/solo" % s2.ingress, url
        assert request(s2.metrics, "GET", "/healthz").status == 200
        assert request(s2.metrics, "GET", "/readyz").status == 200
        assert request(s2.metrics, "GET", "/metrics").status == 200
    finally:
        s2.stop()

    bad = write(tempdir(), "bad.yaml", "apiVersion: eventing.knative.dev/v1\n"
                "kind: Broker\nmetadata:\n  name: Bad_Name\n")
    s3 = Sluice("-f", bad)
    s3.start(wait=False)
    rc = s3.proc.wait(timeout=30)
    out = s3.output().strip().splitlines()
    assert rc == 1, (rc, out)
    errs = [l for l in out if l.startswith("sluice:")]
    assert len(errs) == 1 and "metadata.name" in errs[0], out

    # A document whose kind is null is an error, not a crash.
    bad = write(tempdir(), "null.yaml", "apiVersion: v1\nkind: ~\n"
                "metadata:\n  name: x\n")
    s4 = Sluice("-f", bad)
    s4.start(wait=False)
    rc = s4.proc.wait(timeout=30)
    out = s4.output().strip().splitlines()
    assert rc == 1, (rc, out)
    assert len([l for l in out if l.startswith("sluice:")]) == 1, out
    assert not [l for l in out if "runtime error" in l or "Sanitizer" in l], \
        out


main(test)
