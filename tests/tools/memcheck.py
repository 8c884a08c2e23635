#!/usr/bin/env python3
"""upc and uprun under valgrind's memcheck: no invalid access, no leak.

upc: check on clean and bad plans, guide and graph, and build. uprun: every command on a SQLite
database (apply, status, plan --sql, verify, rollback, baseline, verify-bundle),
a failing step, a refused bundle, and --json."""
import glob
import os
import subprocess
import sys
import tempfile

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
    for args, codes in ((["verify-bundle"], (0,)), (["plan", "--sql"], (2,)), (["apply", "--to", "6.1"], (0,)),
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
    with open(f"{tmp}/b/manifest.json", "a") as f:
        f.write(" ")
    memcheck(base + ["status"], (3,), "uprun status (a refused bundle)")

print(f"{runs} runs under memcheck, {bad} with problems")
sys.exit(1 if bad else 0)
