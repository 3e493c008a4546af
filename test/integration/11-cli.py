#!/usr/bin/env python3
"""The kubectl-like CLI against a real daemon: apply (created, configured,
unchanged), get in every output format, short names, -A, -l, describe,
delete by name and by file, and one-line errors with exit code 1."""
import json
import os

from sluicetest import Sluice, main, one_line_error, run, free_port, tempdir

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def test(s):
    ev = os.path.join(DATA, "eventing.yaml")
    r = s.cli("apply", "-f", ev)
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [
        "broker.eventing.knative.dev/default created",
        "broker.eventing.knative.dev/with-dls created",
        "trigger.eventing.knative.dev/my-service-trigger created",
        "trigger.eventing.knative.dev/uri-trigger created",
    ], r.stdout
    r = s.cli("apply", "-f", ev)
    assert r.returncode == 0 and r.stdout.count(" unchanged") == 4, r

    # A change shows as configured; stdin works.
    r = s.cli("apply", "-f", "-", input="""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: with-dls
spec:
  delivery:
    retry: 7
""")
    assert r.returncode == 0, r
    assert r.stdout == "broker.eventing.knative.dev/with-dls configured\n", r

    # A directory applies every YAML file in it, in name order.
    r = s.cli("apply", "-f", DATA)
    assert r.returncode == 0, r
    assert "pingsource.sources.knative.dev/test-ping-source created" in \
        r.stdout, r.stdout
    assert "service.serving.knative.dev/hello created" in r.stdout, r.stdout
    # eventing.yaml is in the directory too: with-dls goes back to retry 5.
    assert "broker.eventing.knative.dev/with-dls configured" in r.stdout, \
        r.stdout

    # get: table with Knative's columns, short names, output formats.
    r = s.cli("get", "brokers")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "URL", "AGE", "READY", "REASON"], lines
    assert lines[1].startswith("default ") and \
        "http://%s/default/default" % s.ingress in lines[1], lines
    r = s.cli("get", "trigger", "uri-trigger")
    assert r.returncode == 0 and "uri-trigger" in r.stdout, r
    assert "http://orders.example.com/events" in r.stdout, r.stdout
    r = s.cli("get", "ksvc")
    assert r.returncode == 0 and "hello" in r.stdout, r
    r = s.cli("get", "pingsources", "-o", "name")
    assert r.stdout == "pingsource.sources.knative.dev/test-ping-source\n", r
    r = s.cli("get", "broker", "with-dls", "-o", "json")
    b = json.loads(r.stdout)
    assert b["spec"]["delivery"]["retry"] == 5, b
    r = s.cli("get", "broker", "with-dls", "-o", "yaml")
    assert r.returncode == 0 and "retry: 5" in r.stdout, r
    assert r.stdout.startswith("apiVersion: eventing.knative.dev/v1\n"), r
    r = s.cli("get", "brokers", "-o", "yaml")
    assert "kind: List" in r.stdout and "items:" in r.stdout, r.stdout
    r = s.cli("get", "brokers,triggers")
    assert r.returncode == 0 and "my-service-trigger" in r.stdout, r
    r = s.cli("get", "brokers", "-A")
    assert r.stdout.splitlines()[0].startswith("NAMESPACE"), r.stdout
    r = s.cli("get", "brokers", "-l", "nope=1")
    assert r.returncode == 0 and r.stdout == "", r
    assert "No resources found in default namespace." in r.stderr, r

    # kubectl habits: attached short values, --server without a scheme,
    # per-command help.
    r = s.cli("get", "broker", "with-dls", "-oyaml", "-ndefault")
    assert r.returncode == 0 and "retry: 5" in r.stdout, r
    r = s.cli("get", "brokers", "--server", s.api, env={"SLUICE_SERVER": ""})
    assert r.returncode == 0 and "with-dls" in r.stdout, r
    r = s.cli("get", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: sluice get"), r
    # Nothing to apply is an error; a bad file in a directory is reported
    # and the other files still apply.
    one_line_error(s.cli("apply", "-f", "-", input=""), "no objects")
    d = tempdir()
    with open(os.path.join(d, "a.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    with open(os.path.join(d, "b.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n name: b\n"
                "  bad: [\n")
    with open(os.path.join(d, "c.yaml"), "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    r = s.cli("apply", "-f", d)
    assert r.returncode == 1 and "b.yaml" in r.stderr, r
    assert r.stdout == "configmap/a created\nconfigmap/c created\n", r
    # describe shows a ConfigMap's data, a Secret's type and value sizes.
    r = s.cli("apply", "-f", "-", input=(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kb\n"
        "data:\n  bootstrap.servers: localhost:9092\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pw\n"
        "stringData:\n  password: hunter22\n"))
    assert r.returncode == 0, r
    r = s.cli("describe", "cm", "kb")
    assert "bootstrap.servers:\n----\nlocalhost:9092" in r.stdout, r.stdout
    r = s.cli("describe", "secret", "pw")
    assert "Type:        Opaque" in r.stdout and "password:  8 bytes" in \
        r.stdout and "hunter22" not in r.stdout, r.stdout

    # describe
    r = s.cli("describe", "broker", "with-dls")
    assert r.returncode == 0, r
    for want in ("Name:", "with-dls", "Conditions:", "Ready",
                 "dls.example.com"):
        assert want in r.stdout, (want, r.stdout)

    # delete by name and by file
    r = s.cli("delete", "trigger", "uri-trigger")
    assert r.returncode == 0, r
    assert r.stdout == \
        'trigger.eventing.knative.dev "uri-trigger" deleted\n', r
    one_line_error(s.cli("delete", "trigger", "uri-trigger"), "NotFound")
    r = s.cli("delete", "-f", os.path.join(DATA, "serving.yaml"))
    assert r.returncode == 0 and "deleted" in r.stdout, r

    # Errors: one line, exit 1.
    one_line_error(s.cli("get", "brokerz"), "brokerz")
    one_line_error(s.cli("get", "broker", "nope"), "NotFound", "nope")
    one_line_error(s.cli("get"), "usage")
    one_line_error(s.cli("get", "brokers", "-o", "xml"), "xml")
    one_line_error(s.cli("apply"), "-f")
    one_line_error(s.cli("apply", "-f", "/no/such/file"), "/no/such/file")
    one_line_error(s.cli("apply", "-f", "-", input="a: [1\n"), "line")
    one_line_error(s.cli("apply", "-f", "-", input=(
        "apiVersion: eventing.knative.dev/v1\nkind: Brokr\n"
        "metadata:\n  name: x\n")), "<stdin>", "Brokr")
    one_line_error(s.cli("apply", "-f", "-", input=(
        "apiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
        "metadata:\n  name: x\nspec:\n  broker: default\n  filtre: {}\n"
        "  subscriber:\n    uri: http://a.example\n")), "spec.filtre")
    # The server unreachable.
    r = run("get", "brokers", "--server", "http://127.0.0.1:%d" % free_port())
    one_line_error(r, "127.0.0.1")


def run_test():
    s = Sluice().start()
    try:
        test(s)
    finally:
        s.stop()


main(run_test)
