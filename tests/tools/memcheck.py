#!/usr/bin/env python3
"""upc and uprun under valgrind's memcheck: no invalid access, no leak.

upc: check on clean and bad plans, guide and graph, and build. uprun: every command on a SQLite
database (apply, status, plan --sql, verify, rollback, baseline, verify-bundle),
a failing step, a refused bundle, --json (its lines validated against docs/events.schema.json),
drift refused before any change, a SQLite rebuild carrying a trigger and a view, an interrupted
step, and usage errors."""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uprun_events  # noqa: E402

upc, uprun, root = sys.argv[1], sys.argv[2], sys.argv[3]
VG = ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
      "--error-exitcode=99"]
bad = 0
runs = 0


def memcheck(args, ok_codes, name):
    global bad, runs
    runs += 1
    r = subprocess.run(VG + args, capture_output=True)
    if r.returncode == 99 or r.returncode not in ok_codes:
        print(f"{name}: memcheck status {r.returncode}\n{r.stderr.decode()[-3000:]}", file=sys.stderr)
        bad += 1
    if "--json" in args:
        for p in uprun_events.problems(root, r.stdout.decode()):
            print(f"{name}: --json: {p}", file=sys.stderr)
            bad += 1


cases = [os.path.join(root, "plans", "identityserver.upg")] + \
    sorted(glob.glob(os.path.join(root, "tests", "diag", "*.upg")))[::6]
for c in cases:
    memcheck([upc, "check", c], (0, 1), c)
for c in [os.path.join(root, "plans", "identityserver.upg")] + sorted(glob.glob(os.path.join(root, "tests", "emit", "*.upg"))):
    memcheck([upc, "guide", c, "-o", "/dev/null"], (0,), "upc guide " + c)
    memcheck([upc, "graph", c], (0,), "upc graph " + c)

with tempfile.TemporaryDirectory() as tmp:
    plan = os.path.join(root, "plans", "identityserver.upg")
    subprocess.run([upc, "keygen", "-o", f"{tmp}/k"], check=True, capture_output=True)
    memcheck([upc, "build", plan, "-o", f"{tmp}/b", "--key", f"{tmp}/k.key"], (0,), "upc build")
    base = [uprun, "--bundle", f"{tmp}/b", "--pubkey", f"{tmp}/k.pub", "--db", f"sqlite:{tmp}/app.db"]
    for args, codes in ((["verify-bundle"], (0,)), (["plan", "--sql"], (0,)), (["apply", "--to", "6.1"], (0,)),
                        (["status"], (0,)), (["plan", "--sql"], (0,)), (["apply"], (6,)),
                        (["--json", "apply", "--ack-all"], (0,)), (["verify"], (0,)),
                        (["rollback", "--to", "6.0"], (0,)), (["apply", "--to", "9.9"], (8,)),
                        (["baseline", "--version", "6.0"], (4,))):
        memcheck(base + args, codes, "uprun " + " ".join(args))
    fails = os.path.join(tmp, "fails.upg")
    open(fails, "w").write('plan "f" { dialects sqlite; }\nversion "1.0" { create table A (Id int); }\n'
                           'version "1.1" { sql { up "SELECT nope FROM A"; down "SELECT 1"; } }\n')
    subprocess.run([upc, "build", fails, "-o", f"{tmp}/f", "--key", f"{tmp}/k.key"], check=True, capture_output=True)
    memcheck([uprun, "--bundle", f"{tmp}/f", "--pubkey", f"{tmp}/k.pub", "--db", f"sqlite:{tmp}/f.db", "apply"],
             (1,), "uprun apply (a failing step)")
    for args, codes in ((["--json", "status"], (0,)), (["--json", "--bogus"], (2,)), (["status", "--atomic"], (2,)),
                        (["apply", "--help"], (0,)), (["apply", "--ack", "typo"], (2,)),
                        (["--json", "verify-bundle"], (0,))):
        memcheck(base + args, codes, "uprun " + " ".join(args))
    subprocess.run(["sqlite3", f"{tmp}/app.db", 'ALTER TABLE "Clients" ADD COLUMN "Hand" integer'], check=True)
    memcheck(base + ["--json", "apply", "--ack-all"], (7,), "uprun apply (drift refused)")
    memcheck(base + ["--json", "verify"], (7,), "uprun verify (drift)")
    # a rebuild that carries a trigger and a view of a sql block
    carry = os.path.join(tmp, "carry.upg")
    open(carry, "w").write(
        'plan "c" { dialects sqlite; }\nversion "1.0" { create table A (Id int identity primary key, V int);\n'
        '  sql { up $$CREATE TRIGGER "t" AFTER INSERT ON "A" BEGIN SELECT 1; END;\n'
        'CREATE VIEW "v" AS SELECT "V" FROM "A"$$; down $$DROP VIEW "v"; DROP TRIGGER "t"$$; } }\n'
        'version "1.1" { alter table A alter column V type bigint allow sqlite_rebuild; }\n')
    subprocess.run([upc, "build", carry, "-o", f"{tmp}/c", "--key", f"{tmp}/k.key"], check=True, capture_output=True)
    memcheck([uprun, "--bundle", f"{tmp}/c", "--pubkey", f"{tmp}/k.pub", "--db", f"sqlite:{tmp}/c.db", "--json",
              "apply"], (0,), "uprun apply (a rebuild carrying a trigger and a view)")
    # interrupted: SIGINT during a long statement
    slow = os.path.join(tmp, "slow.upg")
    open(slow, "w").write('plan "s" { dialects sqlite; }\nversion "1.0" { create table A (Id int); }\n'
                          'version "1.1" { sql { up "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 '
                          'FROM c WHERE x < 2000000000) SELECT count(*) FROM c"; down "SELECT 1"; } }\n')
    subprocess.run([upc, "build", slow, "-o", f"{tmp}/s", "--key", f"{tmp}/k.key"], check=True, capture_output=True)
    runs += 1
    p = subprocess.Popen(VG + [uprun, "--bundle", f"{tmp}/s", "--pubkey", f"{tmp}/k.pub", "--db",
                               f"sqlite:{tmp}/s.db", "--json", "apply"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    for line in p.stdout:
        out += line
        if b'"state":"begin"' in line and b'"step":2,' in line:
            break
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=300)
    if p.returncode != 9:
        print(f"uprun apply (interrupted): memcheck status {p.returncode}\n{err.decode()[-3000:]}", file=sys.stderr)
        bad += 1
    with open(f"{tmp}/b/manifest.json", "a") as f:
        f.write(" ")
    memcheck(base + ["status"], (3,), "uprun status (a refused bundle)")

print(f"{runs} runs under memcheck, {bad} with problems")
sys.exit(1 if bad else 0)
