#!/usr/bin/env python3
"""/metrics through the real binary: after events accepted (202), refused
(400) and sent to an unknown broker (404), with one trigger whose sink
answers 200, one whose sink answers 500 through its retries and then
dead-letters, and one whose filter matches nothing, a scrape (parsed
here) has Knative's legacy families with the right counts per label set;
every histogram is consistent (buckets monotone, +Inf = _count = the
counter of the same labels); a deleted trigger's series go; and every
metric and label the Grafana dashboard (deploy/grafana) queries is in
the scrape, so the dashboard cannot drift from what sluice emits."""
import json
import os
import re

from sluicetest import (Sink, Sluice, main, ready, request, send_event,
                        wait_for)

BACKEND = os.environ.get("SL_TEST_BACKEND", "Embedded")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "sluice-eventing.json")
BUCKETS = ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000",
           "2000", "5000", "10000", "+Inf"]

# ---- a small parser of the text format ----

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1),
                                                      m.group(1)), v)


class Scrape:
    def __init__(self, text):
        self.text = text
        self.samples = []       # (name, {labels}, value)
        self.types = {}         # family -> type
        self.empty_labels = {}  # family -> [labels] (no series yet)
        fam = None
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, fam, typ = line.split(" ", 3)
                self.types[fam] = typ
                continue
            if line.startswith("# sluice: no series yet; labels: "):
                self.empty_labels[fam] = line.split(": ", 2)[2].split(",")
                continue
            if line.startswith("#") or not line:
                continue
            m = LINE.match(line)
            assert m, "unparsable line %r" % line
            labels = {k: unescape(v) for k, v in LABEL.findall(m.group(3)
                                                               or "")}
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def find(self, name, **want):
        """Samples of 'name' whose labels include 'want'."""
        return [(lab, v) for n, lab, v in self.samples if n == name and
                all(lab.get(k) == str(x) for k, x in want.items())]

    def value(self, name, **want):
        got = self.find(name, **want)
        assert len(got) == 1, "want one %s%r, got %r" % (name, want, got)
        return got[0][1]

    def total(self, name, **want):
        return sum(v for _, v in self.find(name, **want))

    def labels_of(self, name):
        """Label names seen on samples of 'name' (None: no such name)."""
        seen = None
        for n, lab, _ in self.samples:
            if n == name:
                seen = (seen or set()) | set(lab)
        return seen


def scrape(s):
    r = request(s.metrics, "GET", "/metrics")
    assert r.status == 200, r
    ct = r.headers.get("Content-Type")
    assert ct == "text/plain; version=0.0.4; charset=utf-8", ct
    return Scrape(r.body.decode())


def check_histograms(sc, family, counter=None):
    """Every series of histogram 'family': buckets are Knative's and
    cumulative, +Inf = _count, and _count = the counter of the same
    labels when 'counter' is given. Returns how many series."""
    assert sc.types.get(family) == "histogram", family
    series = {}
    for lab, v in sc.find(family + "_bucket"):
        key = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
        series.setdefault(key, {})[lab["le"]] = v
    for key, b in series.items():
        assert list(b) == BUCKETS, (family, key, list(b))
        vals = [b[le] for le in BUCKETS]
        assert vals == sorted(vals), (family, key, vals)
        labels = dict(key)
        count = sc.value(family + "_count", **labels)
        assert b["+Inf"] == count, (family, key, b["+Inf"], count)
        assert sc.value(family + "_sum", **labels) >= 0, (family, key)
        if counter is not None:
            assert sc.value(counter, **labels) == count, (family, key)
    return len(series)


# ---- the dashboard's PromQL ----

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "offset", "and", "or", "unless", "le"}


def promql_refs(expr):
    """(metric names, label names) an expression refers to."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)     # strings
    e = re.sub(r'\[[^\]]*\]', '', e)                  # ranges
    e = re.sub(r'\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?', '', e)  # variables
    labels = set()
    for body in re.findall(r'\{([^}]*)\}', e):
        labels |= set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)',
                                 body))
    e2 = re.sub(r'\{[^}]*\}', ' ', e)
    grouping = r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\('
    for body in re.findall(grouping + r'([^)]*)\)', e2):
        labels |= {x.strip() for x in body.split(",") if x.strip()}
    e3 = re.sub(grouping + r'[^)]*\)', ' ', e2)
    names = set()
    for m in re.finditer(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?', e3):
        tok, call = m.group(1), m.group(2)
        if call or tok in KEYWORDS or re.match(r'^\d', tok):
            continue
        names.add(tok)
    return names, labels


def dashboard_queries():
    with open(DASHBOARD) as f:
        d = json.load(f)
    out = []

    def panels(ps):
        for p in ps:
            for t in p.get("targets", []):
                out.append(("panel %r" % p["title"], t["expr"]))
            panels(p.get("panels", []))
    panels(d["panels"])
    for v in d["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.match(r'^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$', q)
        assert m, q
        out.append(("variable %r" % v["name"], m.group(1) + " by (%s)"
                    % m.group(2)))
    return out


def check_dashboard(sc):
    queries = dashboard_queries()
    assert len(queries) >= 10, queries
    for where, expr in queries:
        names, labels = promql_refs(expr)
        assert names, (where, expr)
        for n in names:
            have = sc.labels_of(n)
            if have is None:
                # A family without series yet must be declared, and names
                # its labels (histogram parts: le is implied).
                fam = re.sub(r'_(bucket|sum|count)$', '', n)
                fam = fam if fam in sc.types and fam != n else n
                assert fam in sc.types, "%s: %s not in /metrics" % (where, n)
                assert fam in sc.empty_labels, (where, n)
                have = set(sc.empty_labels[fam]) | (
                    {"le"} if n.endswith("_bucket") else set())
            missing = labels - have
            assert not missing, "%s: %s has no label %s (has %s)" % (
                where, n, sorted(missing), sorted(have))


# ---- the test ----

def apply(s, *objs):
    r = s.cli("apply", "-f", "-", input="\n---\n".join(
        json.dumps(o) for o in objs))
    assert r.returncode == 0, r.stderr


def trigger(name, url, filt=None, delivery=None):
    t = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
         "metadata": {"name": name},
         "spec": {"broker": "b", "subscriber": {"uri": url}}}
    if filt is not None:
        t["spec"]["filter"] = {"attributes": filt}
    if delivery is not None:
        t["spec"]["delivery"] = delivery
    return t


def test(s):
    ok = Sink(lambda req: (200, {}, b""))
    bad = Sink(lambda req: (500, {}, b"down"))
    dls = Sink()
    apply(s, {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
              "metadata": {"name": "b", "annotations": {
                  "eventing.knative.dev/broker.class": BACKEND}}},
          trigger("ok", ok.url, filt={"type": "dev.sluice.m"}),
          trigger("bad", bad.url, delivery={
              "retry": 2, "backoffPolicy": "linear", "backoffDelay": "PT0.05S",
              "deadLetterSink": {"uri": dls.url}}),
          trigger("none", ok.url + "/none", filt={"type": "never.sent"}))
    for t in ("ok", "bad", "none"):
        ready(s, "trigger", t)

    # Declared before any traffic, with the labels they will carry.
    sc = scrape(s)
    assert sc.types["mt_broker_ingress_event_count"] == "counter", sc.types
    assert "pingsource_mt_adapter_event_count" in sc.empty_labels, sc.types

    n = 5
    for i in range(n):
        r = send_event(s.ingress, "/default/b", "e%d" % i, type="dev.sluice.m")
        assert r.status == 202, r
    r = request(s.ingress, "POST", "/default/b", b"{}",
                {"ce-specversion": "1.0", "ce-type": "dev.sluice.m"})
    assert r.status == 400, r
    assert send_event(s.ingress, "/default/nope", "x").status == 404
    ok.wait(n)
    dls.wait(n, 30)
    bad.wait(3 * n)

    def settled():
        c = scrape(s)
        return c.total("mt_broker_filter_event_count",
                       filter_request_type="dls_forward") == n and c
    sc = wait_for(settled, 20, "dead-letter sends counted")

    # Ingress: one series per label set, counted per event.
    host = sc.value("mt_broker_ingress_event_count", broker_name="b",
                    response_code=202) and sc.find(
        "mt_broker_ingress_event_count", broker_name="b")[0][0]["unique_name"]
    assert host, sc.text
    assert sc.value("mt_broker_ingress_event_count", namespace_name="default",
                    broker_name="b", event_type="dev.sluice.m",
                    event_scheme="http", response_code=202,
                    response_code_class="2xx", container_name="ingress") == n
    assert sc.value("mt_broker_ingress_event_count", broker_name="b",
                    event_type="", response_code=400,
                    response_code_class="4xx") == 1
    # An unknown broker's name is not a label value.
    assert sc.value("mt_broker_ingress_event_count", namespace_name="",
                    broker_name="", response_code=404) == 1
    assert "nope" not in sc.text
    assert check_histograms(sc, "mt_broker_ingress_event_dispatch_latencies",
                            "mt_broker_ingress_event_count") == 3

    # Filter: per attempt, with the response code; filtered-out events
    # are not counted (Knative counts them at the ingress only).
    assert sc.value("mt_broker_filter_event_count", trigger_name="ok",
                    broker_name="b", namespace_name="default",
                    filter_type="dev.sluice.m", filter_request_type="filter",
                    event_scheme="http", response_code=200,
                    response_code_class="2xx", container_name="filter",
                    unique_name=host) == n
    assert sc.value("mt_broker_filter_event_count", trigger_name="bad",
                    filter_type="any", filter_request_type="filter",
                    response_code=500, response_code_class="5xx") == 3 * n
    assert sc.value("mt_broker_filter_event_count", trigger_name="bad",
                    filter_type="any", filter_request_type="dls_forward",
                    response_code=202) == n
    assert sc.find("mt_broker_filter_event_count", trigger_name="none") == []
    assert check_histograms(sc, "mt_broker_filter_event_dispatch_latencies",
                            "mt_broker_filter_event_count") == 3
    assert check_histograms(
        sc, "mt_broker_filter_event_processing_latencies") == 2
    assert sc.value("mt_broker_filter_event_processing_latencies_count",
                    trigger_name="ok") == n
    assert sc.value("mt_broker_filter_event_processing_latencies_count",
                    trigger_name="bad") == 3 * n
    assert sc.find("mt_broker_filter_event_processing_latencies_count",
                   response_code="500") == []

    # Process metrics and the cap bookkeeping.
    assert sc.value("process_resident_memory_bytes") > 0
    assert sc.value("process_open_fds") > 0
    assert sc.value("sluice_metrics_folded_total",
                    metric="mt_broker_ingress_event_count") == 0

    # The dashboard queries only what is there.
    check_dashboard(sc)

    # A deleted trigger takes its series with it; the others stay.
    assert s.cli("delete", "trigger", "bad").returncode == 0

    def gone():
        c = scrape(s)
        return not any(lab.get("trigger_name") == "bad"
                       for _, lab, _ in c.samples) and c
    sc = wait_for(gone, 10, "series of trigger bad removed")
    assert sc.value("mt_broker_filter_event_count", trigger_name="ok",
                    response_code=200) == n
    # A producer's event type longer than 255 bytes is not a label value:
    # it is counted under event_type="other".
    long_type = "dev.sluice." + "x" * 300
    assert send_event(s.ingress, "/default/b", "long",
                      type=long_type).status == 202
    sc = scrape(s)
    assert sc.value("mt_broker_ingress_event_count", broker_name="b",
                    event_type="other", response_code=202) == 1, sc.text
    assert long_type not in sc.text
    assert sc.value("sluice_metrics_folded_total",
                    metric="mt_broker_ingress_event_count") == 1
    # So does a deleted broker (ingress and filter series).
    assert s.cli("delete", "broker", "b").returncode == 0

    def broker_gone():
        c = scrape(s)
        return not any(lab.get("broker_name") == "b"
                       for _, lab, _ in c.samples) and c
    sc = wait_for(broker_gone, 10, "series of broker b removed")
    assert sc.value("mt_broker_ingress_event_count", response_code=404) == 1


def run():
    s = Sluice().start()
    try:
        test(s)
    except AssertionError:
        print(s.output()[-4000:])
        raise
    s.stop()


if __name__ == "__main__":
    main(run)
