#!/usr/bin/env python3
"""`sluice serve --check-config` reads flags, SLUICE_* variables and a
config file with the documented precedence, prints `configuration ok` and
the effective settings (never a token), and refuses bad values with exit
code 1 and one line on stderr that names the setting."""
import os

import sluicetest as st


def check_config(*args, env=None):
    return st.run("serve", "--check-config", *args, env=env)


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def setting(out, name):
    """The 'name: value  # source' line of a dump, as (value, source)."""
    for line in out.splitlines():
        if line.startswith(name + ":"):
            value, _, source = line[len(name) + 1:].partition("  # ")
            return value.strip(), source
    raise AssertionError("no %s in dump:\n%s" % (name, out))


def main():
    tmp = st.tempdir()
    data = os.path.join(tmp, "data")

    # Defaults.
    r = check_config("--data-dir", data)
    assert r.returncode == 0, r
    assert r.stderr == "", r.stderr
    assert r.stdout.startswith("configuration ok\n"), r.stdout
    assert setting(r.stdout, "api-addr") == ('"127.0.0.1:8001"', "default")
    assert setting(r.stdout, "ingress-url") == ("http://127.0.0.1:8080",
                                                "default")
    assert setting(r.stdout, "api-max-body") == ("3MiB", "default")
    assert setting(r.stdout, "data-dir") == (data, "--data-dir")

    # defaults < config file < environment < flags.
    conf = write(os.path.join(tmp, "sluice.yaml"),
                 "api-addr: 127.0.0.1:1001\n"
                 "ingress-addr: 127.0.0.1:1002\n"
                 "metrics-addr: 127.0.0.1:1003\n"
                 "log-level: debug\n"
                 "data-dir: data\n"
                 "filename: [a.yaml]\n")
    write(os.path.join(tmp, "a.yaml"), "")
    env = {"SLUICE_API_ADDR": "127.0.0.1:2001",
           "SLUICE_INGRESS_ADDR": "127.0.0.1:2002",
           "SLUICE_MAX_EVENT_SIZE": "512KiB"}
    r = check_config("--config", conf, "--api-addr=127.0.0.1:3001", env=env)
    assert r.returncode == 0, r
    out = r.stdout
    assert setting(out, "api-addr") == ('"127.0.0.1:3001"', "--api-addr")
    assert setting(out, "ingress-addr") == ('"127.0.0.1:2002"',
                                            "SLUICE_INGRESS_ADDR")
    assert setting(out, "metrics-addr") == ('"127.0.0.1:1003"', conf)
    assert setting(out, "serving-addr") == ('"127.0.0.1:8081"', "default")
    assert setting(out, "log-level") == ("debug", conf)
    assert setting(out, "max-event-size") == ("512KiB",
                                              "SLUICE_MAX_EVENT_SIZE")
    # Paths in the file are relative to the file.
    assert setting(out, "data-dir") == (data, conf)
    assert "- " + os.path.join(tmp, "a.yaml") in out, out
    # SLUICE_CONFIG names the file too.
    r = check_config(env={"SLUICE_CONFIG": conf})
    assert r.returncode == 0, r
    assert setting(r.stdout, "log-level") == ("debug", conf)
    # -f is repeatable and replaces the file's list.
    r = check_config("--config", conf, "-f", conf, "-f", tmp)
    assert r.returncode == 0, r
    assert "filename:  # -f\n- %s\n- %s\n" % (conf, tmp) in r.stdout, r.stdout

    # A token file makes a non-loopback API address acceptable; the token
    # itself never shows.
    token = write(os.path.join(tmp, "token"), "tok-3f9a8b7c6d5e\n")
    r = check_config("--data-dir", data, "--api-addr", "0.0.0.0:8001",
                     "--api-token-file", token)
    assert r.returncode == 0, r
    assert "tok-3f9a8b7c6d5e" not in r.stdout + r.stderr
    assert setting(r.stdout, "api-token-file") == (token, "--api-token-file")
    # A password in redis-url is masked.
    r = check_config("--data-dir", data, "--redis-url",
                     "redis://:hunter2@127.0.0.1:6379/0")
    assert r.returncode == 0, r
    assert "hunter2" not in r.stdout
    assert "redis://:***@127.0.0.1:6379/0" in r.stdout, r.stdout

    # Bad values: exit 1, one line, naming the setting and the value.
    bad = [
        (["--api-addr", "foo"], None,
         ["invalid --api-addr 'foo': expected host:port"]),
        (["--ingress-url", "127.0.0.1:8080"], None,
         ["--ingress-url", "absolute http:// or https:// URL"]),
        (["--max-event-size", "huge"], None,
         ["--max-event-size 'huge'", "expected a size"]),
        ([], {"SLUICE_MAX_EVENT_SIZE": "huge"},
         ["SLUICE_MAX_EVENT_SIZE 'huge'"]),
        ([], {"SLUICE_LOG_LEVEL": "loud"}, ["SLUICE_LOG_LEVEL 'loud'"]),
        (["--shutdown-timeout", "30s"], None,
         ["--shutdown-timeout '30s'", "ISO-8601"]),
        (["--max-connections", "0"], None, ["--max-connections '0'"]),
        (["--default-backend", "memory"], None,
         ["--default-backend 'memory'", "embedded, redis or kafka"]),
        (["--default-backend", "redis"], None,
         ["--default-backend redis needs --redis-url"]),
        (["--default-backend", "kafka"], None,
         ["--default-backend kafka needs --kafka-bootstrap"]),
        (["--check-config=perhaps"], None, ["--check-config 'perhaps'"]),
        (["--api-adr", "x"], None, ["unknown flag '--api-adr'"]),
        (["--data-dir"], None, ["--data-dir needs a value"]),
        (["stray"], None, ["unexpected argument 'stray'"]),
        (["--api-addr", "0.0.0.0:8001"], None,
         ["refusing to serve the API on non-loopback address "
          "'0.0.0.0:8001' without --api-token-file"]),
        (["--ingress-addr", "127.0.0.1:8001"], None,
         ["--api-addr", "--ingress-addr", "same port"]),
        (["-f", os.path.join(tmp, "missing.yaml")], None,
         ["cannot read -f", "missing.yaml"]),
        (["--config", os.path.join(tmp, "missing.yaml")], None,
         ["cannot read config file", "missing.yaml"]),
    ]
    for args, env, needles in bad:
        st.one_line_error(check_config("--data-dir", data, *args, env=env),
                          *needles)

    # Config file errors name the key and the file.
    cases = [
        ("api-adr: 127.0.0.1:1\n", ["unknown setting 'api-adr'"]),
        ("api-addr: foo\n", ["invalid api-addr 'foo' in", "host:port"]),
        ("check-config: true\n", ["'check-config' cannot be used"]),
        ("- a\n", ["must be a YAML mapping"]),
        ("api-addr: [\n", ["line 2 column 1"]),
    ]
    for text, needles in cases:
        path = write(os.path.join(tmp, "bad.yaml"), text)
        st.one_line_error(check_config("--config", path), path, *needles)

    # Token files other users could read or that hold no token.
    for text, mode, needle in [("tok\n", 0o644, "open to other users"),
                               ("\n", 0o600, "is empty"),
                               ("two words\n", 0o600, "one token")]:
        token = write(os.path.join(tmp, "token"), text, mode)
        line = st.one_line_error(
            check_config("--api-token-file", token, "--data-dir", data),
            "--api-token-file", token, needle)
        assert "two words" not in line
    line = st.one_line_error(
        check_config("--data-dir", data,
                     env={"SLUICE_API_TOKEN_FILE": token}),
        "SLUICE_API_TOKEN_FILE")

    # Without --check-config the same checks stop serve before it starts.
    st.one_line_error(st.run("serve", "--api-addr", "foo"),
                      "invalid --api-addr 'foo'")
    st.one_line_error(st.run("serve", "--api-addr", "0.0.0.0:1",
                             "--data-dir", data), "refusing")

    # Help: every flag, with its variable and default; exit 0.
    r = st.run("serve", "--help")
    assert r.returncode == 0, r
    for needle in ["usage: sluice serve", "--api-addr HOST:PORT",
                   "[SLUICE_API_ADDR, default 127.0.0.1:8001]",
                   "-f, --filename PATH", "--check-config"]:
        assert needle in r.stdout, (needle, r.stdout)
    r = st.run("help")
    assert "serve" in r.stdout, r.stdout
    # Nothing above created the data directory.
    assert not os.path.exists(data), "check-config created " + data


if __name__ == "__main__":
    st.main(main)
