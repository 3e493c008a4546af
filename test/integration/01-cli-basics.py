#!/usr/bin/env python3
"""The sluice binary answers version and help, and refuses unknown input
with exit code 1 and a single line on stderr."""
import os
import subprocess
import sys

SLUICE = os.environ.get("SLUICE", "build/asan/sluice")


def run(*args):
    return subprocess.run([SLUICE, *args], capture_output=True, text=True,
                          timeout=30)


def main():
    r = run("version")
    assert r.returncode == 0, r
    assert r.stdout.startswith("sluice "), r.stdout

    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("sluice "), r

    r = run("help")
    assert r.returncode == 0 and "usage: sluice" in r.stdout, r

    r = run("no-such-command")
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-command" in lines[0], r.stderr

    r = run("version", "extra")
    assert r.returncode == 1, r
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

    r = run()
    assert r.returncode == 1, r
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
