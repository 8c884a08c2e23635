#!/usr/bin/env python3
"""The hotfix test (issue 13): tests/emit/hotfix.upg has a line 1.2 -> 1.2.1
that 2.0 merges. On a real database of the dialect:
  - a database at 1.2.1 reaches 2.0, and the last version, by uprun apply, through
    the derived step 1.2.1 -> 2.0, and ends with the plan's schema (uprun verify);
  - uprun status at 1.2.1 names the way (not "at the last version");
  - it rolls back to 1.2.1 through the same step, schema verified, rows kept;
  - a database at 1.2 takes the composite step 1.2 -> 2.0 and ends in the same schema;
  - a bundle whose 2.0 does not merge 1.2.1 leaves 1.2.1 with no way (status says
    so, apply refuses with exit 8) and upc warns about it (W0315).
usage: hotfix_test.py --upc UPC --uprun UPRUN --root SRC --dialect D"""
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbkit import Checks, Databases, run, signed_bundle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
a = ap.parse_args()
ck = Checks(f"hotfix ({a.dialect})")
plan = os.path.join(a.root, "tests", "emit", "hotfix.upg")

with tempfile.TemporaryDirectory(prefix="upg-hotfix-") as tmp:
    dbs = Databases(a.dialect, tmp)
    bundle, pub = signed_bundle(a.upc, plan, tmp)

    def uprun(url, *args):
        return run([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url] + list(args))

    def version_of(url):
        r = uprun(url, "status")
        m = re.search(r"current version: (\S+)", r.stderr + r.stdout)
        return m.group(1) if m else None

    db = dbs.new()
    r = uprun(db, "apply", "--to", "1.2.1")
    ck.expect("apply --to 1.2.1", r.returncode == 0, r)
    dbs.sql(db, 'INSERT INTO "Users" ("Email", "Name", "Checked") VALUES (\'a@x\', \'A\', true)')
    r = uprun(db, "status")
    out = r.stdout + r.stderr
    ck.expect("status at 1.2.1 lists 2.0 and 2.1 as targets", "upgrade targets: 2.0, 2.1" in out, r)
    ck.expect("status at 1.2.1 names the way through the derived step",
              "the way to 2.1: step 6 (1.2.1 -> 2.0), step 5 (2.0 -> 2.1)" in out, r)
    r = uprun(db, "plan")
    ck.expect("plan from 1.2.1 takes step 6", r.returncode == 0 and "1.2.1 -> 2.0" in r.stdout + r.stderr, r)
    r = uprun(db, "apply", "--ack-all")
    ck.expect("apply from 1.2.1 to the last version", r.returncode == 0, r)
    ck.expect("the database is at 2.1", version_of(db) == "2.1")
    r = uprun(db, "verify")
    ck.expect("verify at 2.1 after the derived step: no drift", r.returncode == 0, r)
    rows = dbs.sql(db, 'SELECT "Email", "Name", "Active" FROM "Users"')
    ck.expect("the row of 1.2.1 is kept, with 2.0's default", len(rows) == 1 and rows[0][0] == "a@x"
              and rows[0][1] == "A" and rows[0][2] in ("1", "t", "true"), None)
    r = uprun(db, "rollback", "--to", "1.2.1")
    ck.expect("rollback --to 1.2.1 through the derived step", r.returncode == 0, r)
    r = uprun(db, "verify")
    ck.expect("verify at 1.2.1 after the rollback: no drift", r.returncode == 0, r)
    rows = dbs.sql(db, 'SELECT "Email", "Checked" FROM "Users"')
    ck.expect("the row is still there at 1.2.1", len(rows) == 1 and rows[0][0] == "a@x")
    r = uprun(db, "apply", "--to", "2.0", "--ack-all")
    ck.expect("apply --to 2.0 again from 1.2.1", r.returncode == 0 and version_of(db) == "2.0", r)
    r = uprun(db, "verify")
    ck.expect("verify at 2.0 (derived): no drift", r.returncode == 0, r)

    # from 1.2: the composite step, into the same schema
    db2 = dbs.new()
    r = uprun(db2, "apply", "--to", "1.2")
    ck.expect("apply --to 1.2", r.returncode == 0, r)
    r = uprun(db2, "apply", "--to", "2.0", "--ack-all")
    ck.expect("apply 1.2 -> 2.0 (the composite step)", r.returncode == 0 and "1.2 -> 2.0 applied" in r.stdout + r.stderr, r)
    r = uprun(db2, "verify")
    ck.expect("verify at 2.0 (composite): no drift", r.returncode == 0, r)
    r = uprun(db2, "status")
    ck.expect("the history of the composite way fits the bundle", r.returncode == 0, r)

    # the same plan without the merge: 1.2.1 is a dead end, and everyone is told
    with open(plan) as f:
        text = f.read()
    nomerge = os.path.join(tmp, "nomerge.upg")
    with open(nomerge, "w") as f:
        f.write(text.replace('version "2.0" from "1.2" merges "1.2.1"', 'version "2.0" from "1.2"'))
    r = run([a.upc, "check", nomerge])
    ck.expect("upc warns that 1.2.1 cannot reach 2.1 (W0315)",
              r.returncode == 0 and "W0315" in r.stderr and '"1.2.1" cannot be upgraded to "2.1"' in r.stderr, r)
    b2, pub2 = signed_bundle(a.upc, nomerge, tmp, "nomerge")
    db3 = dbs.new()

    def uprun2(*args):
        return run([a.uprun, "--bundle", b2, "--pubkey", pub2, "--db", db3] + list(args))

    r = uprun2("apply", "--to", "1.2.1")
    ck.expect("apply --to 1.2.1 (no merge)", r.returncode == 0, r)
    r = uprun2("status")
    out = r.stdout + r.stderr
    ck.expect("status at a dead end says there is no way, not 'at the last version'",
              "at the last version" not in out and "the way to 2.1: none" in out, r)
    r = uprun2("apply", "--ack-all")
    ck.expect("apply from a dead end is refused (exit 8)", r.returncode == 8, r)

ck.finish()
