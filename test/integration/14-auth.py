#!/usr/bin/env python3
"""Bearer-token authentication and the refusal to expose an
unauthenticated API beyond loopback."""
import os

from sluicetest import Sluice, main, one_line_error, request, run, tempdir


def test():
    d = tempdir()
    tok = os.path.join(d, "token")
    with open(tok, "w") as f:
        f.write("s3cret-token\n")
    os.chmod(tok, 0o600)
    s = Sluice(token_file=tok).start()
    try:
        p = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
        r = request(s.api, "GET", p)
        assert r.status == 401 and b"Unauthorized" in r.body, r
        r = request(s.api, "GET", p, headers={"Authorization": "Bearer nope"})
        assert r.status == 401, r
        r = request(s.api, "GET", p,
                    headers={"Authorization": "Bearer s3cret-token-x"})
        assert r.status == 401, r
        r = request(s.api, "GET", p, headers={"Authorization": "s3cret-token"})
        assert r.status == 401, r
        assert s.call("GET", p).status == 200
        # Health endpoints stay open.
        assert request(s.api, "GET", "/healthz").status == 200
        # The CLI with and without the token file.
        r = s.cli("get", "brokers")
        assert r.returncode == 0, r
        one_line_error(s.cli("get", "brokers", env={"SLUICE_TOKEN_FILE": ""}),
                       "Unauthorized")
    finally:
        s.stop()

    # Non-loopback API address without a token file: refuse to start.
    r = run("serve", "--data-dir", tempdir(), "--api-addr", "0.0.0.0:0")
    one_line_error(r, "0.0.0.0", "--api-token-file")


main(test)
