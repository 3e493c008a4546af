#!/usr/bin/env python3
"""Resources survive kill -9: everything the API answered 201/200 for is
there after a restart, with the same uid, and resourceVersions keep
growing."""
import threading

from sluicetest import Sluice, apipath, main

P = apipath("eventing.knative.dev", "v1", "brokers", "default")


def broker(name):
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "metadata": {"name": name}}


def test():
    s = Sluice().start()
    r = s.call("POST", P, broker("first"))
    assert r.status == 201, r
    uid = r.json()["metadata"]["uid"]
    rv = int(r.json()["metadata"]["resourceVersion"])

    # Create brokers from a thread and kill -9 the daemon mid-stream.
    created = []
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            try:
                r = s.call("POST", P, broker("b%d" % i), timeout=5)
            except OSError:
                return
            if r.status == 201:
                created.append("b%d" % i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    while len(created) < 20:
        t.join(0.01)
    s.kill9()
    stop.set()
    t.join()

    s2 = Sluice(data_dir=s.data_dir).start()
    try:
        r = s2.call("GET", P + "/first")
        assert r.status == 200 and r.json()["metadata"]["uid"] == uid, r
        items = s2.call("GET", P).json()["items"]
        names = {i["metadata"]["name"] for i in items}
        missing = [n for n in created if n not in names]
        assert not missing, "lost after kill -9: %r" % missing
        r = s2.call("POST", P, broker("after"))
        assert r.status == 201, r
        assert int(r.json()["metadata"]["resourceVersion"]) > rv
        assert max(int(i["metadata"]["resourceVersion"]) for i in items) < \
            int(r.json()["metadata"]["resourceVersion"])
    finally:
        s2.stop()

    # A second daemon on the same data directory is refused.
    s3 = Sluice(data_dir=s.data_dir).start()
    try:
        s4 = Sluice(data_dir=s.data_dir)
        s4.start(wait=False)
        rc = s4.proc.wait(timeout=20)
        assert rc == 1, rc
        assert s.data_dir in s4.output(), s4.output()
    finally:
        s3.stop()


main(test)
