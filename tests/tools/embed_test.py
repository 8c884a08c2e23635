#!/usr/bin/env python3
"""libuprun embedded (tests/run/embed_example.c): a product applies a bundle through
the public API, gets events, and a tampered bundle is refused before the database
file is created."""
import os
import subprocess
import sys
import tempfile

embed, upc, root = sys.argv[1:4]
fail = 0


def expect(name, cond, out=""):
    global fail
    print(("ok " if cond else "FAILED ") + name + ("" if cond else "\n" + out))
    fail |= not cond


with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([upc, "keygen", "-o", f"{tmp}/k"], check=True, capture_output=True)
    subprocess.run([upc, "build", f"{root}/plans/identityserver.upg", "-o", f"{tmp}/b", "--key", f"{tmp}/k.key"],
                   check=True, capture_output=True)
    r = subprocess.run([embed, f"{tmp}/b", f"{tmp}/k.pub", f"sqlite:{tmp}/app.db", "6.1"], capture_output=True, text=True)
    expect("apply to 6.1 through the API", r.returncode == 0 and "2 steps applied, schema verified" in r.stdout,
           r.stdout + r.stderr)
    r = subprocess.run([embed, f"{tmp}/b", f"{tmp}/k.pub", f"sqlite:{tmp}/app.db"], capture_output=True, text=True)
    expect("then on to the last version, with the breaking change events",
           r.returncode == 0 and "3 steps applied" in r.stdout and
           "breaking change v7.0-iidentityservertools (acknowledged)" in r.stdout, r.stdout + r.stderr)
    with open(f"{tmp}/b/sqlite/0003-6.1-to-6.2.up.sql", "a") as f:
        f.write("-- changed\n")
    r = subprocess.run([embed, f"{tmp}/b", f"{tmp}/k.pub", f"sqlite:{tmp}/new.db"], capture_output=True, text=True)
    expect("a tampered bundle: error 3, and no database file", r.returncode == 3 and
           not os.path.exists(f"{tmp}/new.db"), r.stdout + r.stderr)
sys.exit(fail)
