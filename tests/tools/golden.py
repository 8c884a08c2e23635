#!/usr/bin/env python3
"""Golden tests for diagnostics (tests/diag): NAME.upg is checked by upc and
its standard error is compared byte for byte with NAME.err.

upc runs in the tests/ folder with the path diag/NAME.upg, so the paths in the
expected output are relative to tests/. The exit status must be 1 when the
expected output holds an error, 0 otherwise. With --update the .err files are
rewritten from the actual output (review the diff before committing).

Flags for upc may be given on the first line of NAME.upg as: -- upc: -Werror
"""
import argparse
import difflib
import os
import subprocess
import sys


def run_case(upc, testdir, rel, update):
    src = os.path.join(testdir, rel)
    err_path = src[:-4] + ".err"
    with open(src, "rb") as f:
        first = f.readline().decode("utf-8", "replace")
    flags = first.split("upc:", 1)[1].split() if first.startswith("-- upc:") else []
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run([upc, "check", "--color=never", *flags, rel], cwd=testdir,
                       capture_output=True, env=env, timeout=60)
    actual = p.stderr.decode("utf-8", "replace")
    if update:
        with open(err_path, "w", encoding="utf-8") as f:
            f.write(actual)
        print(f"updated {err_path}")
        return True
    if not os.path.exists(err_path):
        print(f"{rel}: missing {err_path}; run golden.py --update", file=sys.stderr)
        return False
    with open(err_path, encoding="utf-8") as f:
        expected = f.read()
    ok = True
    if actual != expected:
        sys.stderr.writelines(difflib.unified_diff(
            expected.splitlines(True), actual.splitlines(True),
            fromfile=err_path, tofile="actual"))
        ok = False
    want_status = 1 if ": error:" in expected else 0
    if p.returncode != want_status:
        print(f"{rel}: exit status {p.returncode}, expected {want_status}", file=sys.stderr)
        ok = False
    if p.returncode not in (0, 1) or p.returncode < 0:
        print(f"{rel}: upc crashed or failed (status {p.returncode})", file=sys.stderr)
        ok = False
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upc", required=True)
    ap.add_argument("--dir", required=True, help="the tests/ folder")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("cases", nargs="*", help="paths relative to --dir, e.g. diag/x.upg")
    a = ap.parse_args()
    cases = a.cases or sorted("diag/" + n for n in os.listdir(os.path.join(a.dir, "diag"))
                              if n.endswith(".upg"))
    results = [run_case(os.path.abspath(a.upc), a.dir, c, a.update) for c in cases]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
