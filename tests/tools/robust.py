#!/usr/bin/env python3
"""Robustness of upc check against bad input (issue 2's acceptance list).

Every truncation, token deletion and byte mutation of a valid plan, binary
junk, a 100 MB line and 10,000 nested parentheses must end in exit status 0
(the damaged text may still be a valid plan) or 1 with at least one located
diagnostic "file:line:col: error:", never a crash, a hang, a sanitizer report
or another status.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

LOCATED = re.compile(rb"^[^\n:]+:\d+:\d+: error: ", re.M)


def check(upc, data, what, tmp, timeout=120):
    path = os.path.join(tmp, "case.upg")
    with open(path, "wb") as f:
        f.write(data)
    try:
        p = subprocess.run([upc, "check", "--color=never", path], capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"{what}: hang (no answer in {timeout} s)"
    err = p.stderr
    if b"Sanitizer" in err or b"runtime error:" in err:
        return f"{what}: sanitizer report:\n{err[-3000:].decode('utf-8', 'replace')}"
    if p.returncode == 0:
        return None
    if p.returncode != 1:
        return f"{what}: exit status {p.returncode}\n{err[-2000:].decode('utf-8', 'replace')}"
    if not LOCATED.search(err):
        return f"{what}: exit 1 without a located error:\n{err[-2000:].decode('utf-8', 'replace')}"
    return None


def tokens(text):
    """Byte ranges of the plan's tokens (a rough scanner: words, strings, punctuation)."""
    return [m.span() for m in re.finditer(rb'"(?:[^"\\\n]|\\.)*"|`[^`\n]*`|[A-Za-z_0-9.]+|[(){},;-]', text)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upc", required=True)
    ap.add_argument("plan")
    ap.add_argument("--samples", type=int, default=150)
    a = ap.parse_args()
    upc = os.path.abspath(a.upc)
    plan = open(a.plan, "rb").read()
    rng = random.Random(20261122)
    failures = []
    cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        def run(data, what, timeout=120):
            nonlocal cases
            cases += 1
            r = check(upc, data, what, tmp, timeout)
            if r:
                failures.append(r)

        # The plan itself is clean, and so is a big valid plan (over the 64 KiB of the first
        # read buffer: a plan cut at a buffer boundary once went unnoticed).
        run(plan, "the plan as it is")
        big_ok = [b'plan "big" { dialects postgres, sqlite; }\n']
        for i in range(3000):
            big_ok.append(b'version "1.%d" { create table T%d (Id int identity primary key, '
                          b'Name string(50) not null); notice "Version 1.%d adds T%d."; }\n' % (i, i, i, i))
        data = b"".join(big_ok)
        path = os.path.join(tmp, "big.upg")
        with open(path, "wb") as f:
            f.write(data)
        cases += 1
        r = subprocess.run([upc, "check", path], capture_output=True)
        if r.returncode != 0 or r.stderr:
            failures.append(f"a valid plan of {len(data)} bytes does not check clean:\n"
                            f"{r.stderr[-2000:].decode('utf-8', 'replace')}")
        r = subprocess.run([upc, "check", "-"], input=data, capture_output=True)
        cases += 1
        if r.returncode != 0 or r.stderr:
            failures.append(f"the same plan on standard input does not check clean:\n"
                            f"{r.stderr[-2000:].decode('utf-8', 'replace')}")
        # Cut anywhere: every line end, and a sample of arbitrary offsets.
        cuts = sorted(set([m.end() for m in re.finditer(rb"\n", plan)][:: max(1, plan.count(b"\n") // a.samples)] +
                          [rng.randrange(len(plan)) for _ in range(a.samples)]))
        for c in cuts:
            run(plan[:c], f"cut at byte {c}")
        # Delete one token.
        toks = tokens(plan)
        for s, e in rng.sample(toks, min(a.samples, len(toks))):
            run(plan[:s] + plan[e:], f"token at byte {s} deleted")
        # Replace one byte with another.
        for _ in range(a.samples):
            i = rng.randrange(len(plan))
            b = bytes([rng.randrange(256)])
            run(plan[:i] + b + plan[i + 1:], f"byte {i} set to {b!r}")
        # Binary junk, alone and after a valid header.
        junk = bytes(rng.randrange(256) for _ in range(1 << 20))
        run(junk, "1 MiB of random bytes")
        run(plan[:200] + junk[:4096], "random bytes after the header")
        # A 100 MB line: an identifier, an unterminated string, a comment.
        big = 100 * 1024 * 1024
        head = b'plan "p" { dialects postgres, sqlite; }\nversion "1.0" {\n'
        run(head + b"create table " + b"a" * big + b" (x int);\n}\n", "a 100 MB identifier", 300)
        run(head + b'notice "' + b"x" * big + b"\n}\n", "a 100 MB unterminated string", 300)
        run(head + b"/* " + b"y" * big, "a 100 MB unterminated comment", 300)
        # Deep nesting.
        run(head + b"create table A " + b"(" * 10000 + b")" * 10000 + b";\n}\n",
            "10,000 nested parentheses")
        run(b"(" * 10000, "10,000 opening parentheses alone")
        run(b"{" * 10000 + b"}" * 10000, "10,000 nested braces")
        # Empty and whitespace-only files.
        run(b"", "an empty file")
        run(b" \n\t\n", "whitespace only")
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{cases} inputs, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
