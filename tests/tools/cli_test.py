#!/usr/bin/env python3
"""upc's command line: exit statuses, options, standard input, JSON, colour."""
import json
import os
import subprocess
import sys
import tempfile

upc, plans = sys.argv[1], sys.argv[2]
good = os.path.join(plans, "identityserver.upg")
failures = []


def run(args, stdin=None, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    return subprocess.run([upc, *args], input=stdin, capture_output=True, env=e)


def expect(name, cond, r=None):
    if not cond:
        detail = "" if r is None else f"\n  status {r.returncode}\n  stdout {r.stdout[:500]!r}\n  stderr {r.stderr[:500]!r}"
        failures.append(name + detail)
    else:
        print("ok", name)


with tempfile.TemporaryDirectory() as tmp:
    bad = os.path.join(tmp, "bad.upg")
    warn = os.path.join(tmp, "warn.upg")
    with open(bad, "w") as f:
        f.write('plan "p" { dialects sqlite; }\nversion "1.0" { drop table Nope; }\n')
    with open(warn, "w") as f:
        f.write('plan "p" { dialects sqlite; }\nversion "1.0" { create table A (Id int, V int); }\n'
                'version "1.1" { alter table A drop column V; }\n')

    r = run(["check", good])
    expect("a clean plan: exit 0, no output", r.returncode == 0 and not r.stdout and not r.stderr, r)
    r = run(["check", "-v", good])
    expect("--verbose: one summary line", r.returncode == 0 and r.stderr.count(b"\n") == 1, r)
    r = run(["check", bad])
    expect("errors: exit 1", r.returncode == 1 and b"bad.upg:2:28: error:" in r.stderr, r)
    r = run(["check", warn])
    expect("warnings only: exit 0", r.returncode == 0 and b"warning:" in r.stderr, r)
    r = run(["check", "-Werror", warn])
    expect("-Werror: warnings fail", r.returncode == 1, r)
    r = run(["check", "--quiet", warn])
    expect("--quiet: warnings hidden", r.returncode == 0 and not r.stderr, r)
    r = run(["check", "--quiet", bad])
    expect("--quiet: errors shown, no summary", r.returncode == 1 and b"error:" in r.stderr
           and b"generated" not in r.stderr, r)
    r = run(["check", "--json", bad])
    try:
        objs = [json.loads(l) for l in r.stdout.decode().splitlines()]
        ok = r.returncode == 1 and len(objs) == 1 and objs[0]["code"] == "E0320" and \
            objs[0]["line"] == 2 and objs[0]["col"] == 28 and objs[0]["severity"] == "error"
    except ValueError:
        ok = False
    expect("--json: one object per diagnostic on stdout", ok, r)
    with open(good, "rb") as f:
        r = run(["check", "-"], stdin=f.read())
    expect("standard input", r.returncode == 0 and not r.stderr, r)
    r = run(["check", "-"], stdin=b'plan "p" { dialects sqlite; }\nversion "1.0" { drop table X; }\n')
    expect("standard input: diagnostics name <stdin>", r.returncode == 1 and r.stderr.startswith(b"<stdin>:2:"), r)
    r = run(["check", os.path.join(tmp, "missing.upg")])
    expect("a missing file: exit 2", r.returncode == 2 and b"could not open" in r.stderr, r)
    r = run(["check", good, os.path.join(tmp, "missing.upg"), bad])
    expect("several plans: the worst status wins", r.returncode == 2, r)
    r = run(["check"])
    expect("no plan: usage error, exit 2", r.returncode == 2, r)
    r = run(["frobnicate", good])
    expect("unknown command: exit 2", r.returncode == 2 and b"unknown command" in r.stderr, r)
    r = run(["check", "--bogus", good])
    expect("unknown option: exit 2", r.returncode == 2 and b"unknown option" in r.stderr, r)
    r = run(["check", "--error-limit=x", good])
    expect("bad option value: exit 2", r.returncode == 2, r)
    r = run(["--help"])
    expect("--help: exit 0, on stdout", r.returncode == 0 and b"usage: upc" in r.stdout and b"Exit status" in r.stdout, r)
    r = run(["--version"])
    expect("--version", r.returncode == 0 and r.stdout.startswith(b"upc "), r)
    r = run(["check", "--color=always", bad])
    expect("--color=always: ANSI colours", b"\x1b[" in r.stderr, r)
    r = run(["check", bad])
    expect("not a terminal: no colours", b"\x1b[" not in r.stderr, r)
    r = run(["check", "--color=always", bad], env={"NO_COLOR": "1"})
    expect("--color=always wins over NO_COLOR", b"\x1b[" in r.stderr, r)
    r = run(["check", "--error-limit=1", bad, bad])
    expect("--error-limit", r.returncode == 1, r)
    r = run(["check", "--dump=ast", good])
    expect("--dump=ast prints the tree", r.returncode == 0 and b'version "7.0"' in r.stdout, r)

    # upc sql and upc schema
    r = run(["sql", good])
    expect("sql: several dialects need --dialect (exit 2)", r.returncode == 2 and b"--dialect" in r.stderr, r)
    r = run(["sql", good, "--dialect", "oracle"])
    expect("sql: unknown dialect (exit 2)", r.returncode == 2, r)
    r = run(["sql", good, "--dialect=postgres", "--from", "6.0", "--to", "7.0"])
    # 7.0's change marked online, the plain way: psql -1 can run it
    expect("sql: a path", r.returncode == 0 and r.stdout.count(b"BEGIN;") == 3
           and b"-- step up 6.1 -> 6.2: no schema change" in r.stdout, r)
    r = run(["sql", good, "--dialect=postgres", "--from", "6.3", "--to", "7.0", "--online"])
    expect("sql --online: 7.0's online change in units (expand, verify, swap, contract transactions, "
           "the backfill, the index built concurrently)", r.returncode == 0 and
           r.stdout.count(b"BEGIN;") == 4 and b"CREATE UNIQUE INDEX CONCURRENTLY" in r.stdout and
           b"$1::text IS NULL" in r.stdout, r)
    r = run(["schema", good, "--at", "7.0", "--dialect", "postgres", "--online"])
    expect("--online is for upc sql only (exit 2)", r.returncode == 2 and b"--online" in r.stderr, r)
    r = run(["sql", good, "--dialect", "postgres", "--from", "7.0", "--to", "6.0"])
    expect("sql: no upgrade path backwards (exit 2)", r.returncode == 2 and b"no upgrade path" in r.stderr, r)
    r = run(["sql", good, "--dialect", "postgres", "--to", "9.9"])
    expect("sql: unknown version (exit 2)", r.returncode == 2 and b"no version" in r.stderr, r)
    r = run(["sql", good, "--dialect", "sqlite", "--down", "--to", "6.3"])
    expect("sql --down: the rollback of 7.0", r.returncode == 0 and b"-- step down 7.0 -> 6.3" in r.stdout
           and b"PRAGMA foreign_keys = OFF;" in r.stdout, r)
    irr = os.path.join(tmp, "irr.upg")
    with open(irr, "w") as f:
        f.write('plan "p" { dialects sqlite; }\nversion "1.0" { create table A (Id int); }\n'
                'version "1.1" { sql { up "DELETE FROM A"; irreversible "gone"; } }\n')
    r = run(["sql", irr, "--down"])
    expect("sql --down through an irreversible step: exit 1, nothing printed",
           r.returncode == 1 and not r.stdout and b"irreversible (gone)" in r.stderr, r)
    r = run(["sql", bad])
    expect("sql on a plan with errors: exit 1", r.returncode == 1 and not r.stdout, r)
    r = run(["schema", good, "--dialect", "sqlite", "--at", "6.0"])
    try:
        names = [t["name"] for t in json.loads(r.stdout)["tables"]]
        ok = r.returncode == 0 and len(names) == 25 and "ServerSideSessions" not in names
    except ValueError:
        ok = False
    expect("schema --at 6.0: 25 tables", ok, r)

    # upc keygen and upc build: usage
    r = run(["keygen"])
    expect("keygen without -o: exit 2", r.returncode == 2 and b"-o PREFIX" in r.stderr, r)
    kp = os.path.join(tmp, "key")
    r = run(["keygen", "-o", kp])
    expect("keygen", r.returncode == 0 and os.stat(kp + ".key").st_mode & 0o077 == 0, r)
    first = open(kp + ".key").read()
    r = run(["keygen", "-o", kp])
    expect("keygen does not overwrite a key", r.returncode == 2 and b"already exists" in r.stderr
           and open(kp + ".key").read() == first, r)
    r = run(["keygen", "-o", kp, "--force"])
    expect("keygen --force overwrites", r.returncode == 0 and open(kp + ".key").read() != first, r)
    r = run(["build", good])
    expect("build without -o: exit 2", r.returncode == 2, r)
    r = run(["build", bad, "-o", os.path.join(tmp, "bb")])
    expect("build of a plan with errors: exit 1, no bundle", r.returncode == 1
           and not os.path.exists(os.path.join(tmp, "bb")), r)
    r = run(["build", good, "-o", os.path.join(tmp, "bb"), "--key", os.path.join(tmp, "nokey")])
    expect("build with a missing key: exit 2, no bundle", r.returncode == 2
           and not os.path.exists(os.path.join(tmp, "bb")), r)
    r = run(["build", good, "-o", os.path.join(tmp, "bb"), "--dialect", "oracle"])
    expect("build --dialect unknown: exit 2", r.returncode == 2, r)

    # per-command help, and options that belong to another command
    for cmd in ("check", "sql", "schema", "build", "keygen", "guide", "graph"):
        r = run(["help", cmd])
        r2 = run([cmd, "--help"])
        expect(f"upc help {cmd} and upc {cmd} --help: its usage and its options, exit 0",
               r.returncode == 0 and r.stdout.startswith(f"usage: upc {cmd}".encode()) and
               r2.returncode == 0 and r2.stdout == r.stdout, r)
    r = run(["help", "sql"])
    expect("upc help sql names its own options, not another command's",
           b"--down" in r.stdout and b"--at=V" not in r.stdout and b"--key" not in r.stdout, r)
    r = run(["help", "nosuch"])
    expect("upc help of an unknown command: exit 2", r.returncode == 2 and b"unknown command" in r.stderr, r)
    r = run(["guide", good, "--at", "6.1"])
    expect("an option of another command is refused, not ignored: exit 2, named",
           r.returncode == 2 and b"--at does not apply to upc guide" in r.stderr and not r.stdout, r)
    r = run(["keygen", "-o", os.path.join(tmp, "k2"), "-Werror"])
    expect("keygen refuses the compiler's options", r.returncode == 2 and b"does not apply to upc keygen" in r.stderr, r)
    r = run(["--help"])
    expect("upc --help: the commands, exit 0", r.returncode == 0 and b"Commands:" in r.stdout, r)

for f in failures:
    print("FAILED", f, file=sys.stderr)
sys.exit(1 if failures else 0)
