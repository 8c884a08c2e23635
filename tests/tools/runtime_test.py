#!/usr/bin/env python3
"""Tests of uprun on real databases (SQLite files, and a PostgreSQL server that
with_postgres.sh started: UPG_TEST_PGURI in keyword form). One check per
sub-command, each with databases of its own:

  lifecycle    apply empty -> 7.0 one version at a time, roll back to 6.0, apply again;
               verify clean at every version; status shows the history
  failure      a step that fails on its third statement: rolled back, the database stays at
               the previous version, the message names file, line, statement and origin;
               a fixed bundle then applies
  tamper       a tampered bundle is refused before any database is opened
  drift        a column added by hand and an index dropped are reported by verify
  history      a bundle of another plan, or one whose applied SQL differs, is refused
  gates        acknowledgements, irreversible and lossy rollbacks, unknown versions
  baseline     a database made by hand is baselined (and refused when it differs)
  atomic       --atomic applies the path in one transaction, and rolls all of it back
  backup       --backup writes a usable copy first (SQLite)
  json         --json writes one JSON object per line
  lock         a runner that cannot get the lock in --lock-timeout exits 5
  crash        fault injection: exit after the Nth statement, for every N, then resume;
               the end state equals an uninterrupted run's, rows included
  kill         kill -9 at random moments (50 runs), then resume: same end state
  concurrency  4 runners at once: every step applied once, all exit 0 or 5
  branches     a plan whose versions branch: targets, the hint to cross branches, both tips
  terminal     on a terminal: progress during a long step, and the acknowledgement prompt;
               in a pipe or with --json, neither
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--schema-dump", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
ap.add_argument("check")
a = ap.parse_args()
UPC, UPRUN, DUMP = (os.path.abspath(x) for x in (a.upc, a.uprun, a.schema_dump))
PLAN = os.path.join(a.root, "plans", "identityserver.upg")
PG = a.dialect == "postgres"
failures = []
counter = [0]


def expect(name, cond, r=None):
    if cond:
        print("ok", name)
        return True
    detail = ""
    if r is not None:
        detail = f"\n  status {r.returncode}\n  stdout {r.stdout[-1500:]}\n  stderr {r.stderr[-1500:]}"
    failures.append(name + detail)
    print("FAILED", name + detail)
    return False


def run(args, env=None, **kw):
    e = dict(os.environ)
    e.pop("UPG_FAULT_EXIT_AFTER", None)
    e.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, env=e, **kw)


# --- databases -----------------------------------------------------------------

def psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr}")
    return r.stdout


def new_db(tmp, template=None):
    """A fresh database URL (a copy of template's when given)."""
    counter[0] += 1
    if PG:
        base = os.environ["UPG_TEST_PGURI"]
        name = f"upg_rt_{os.getpid()}_{counter[0]}"
        if template:
            tname = template.rsplit("dbname=", 1)[1]
            psql(base, f'CREATE DATABASE "{name}" TEMPLATE "{tname}"')
        else:
            psql(base, f'CREATE DATABASE "{name}"')
        return f"{base} dbname={name}"
    path = os.path.join(tmp, f"db{counter[0]}.sqlite")
    if template:
        shutil.copy(template[len("sqlite:"):], path)
    return "sqlite:" + path


def sql(url, text):
    """Runs statements; returns rows as lists of strings."""
    if PG:
        out = psql(url, text)
        return [l.split("|") for l in out.splitlines() if l]
    con = sqlite3.connect(url[len("sqlite:"):])
    try:
        cur = con.executescript(text) if ";" in text.strip()[:-1] else con.execute(text)
        rows = [[("" if v is None else str(v)) for v in row] for row in cur.fetchall()]
        con.commit()
        return rows
    finally:
        con.close()


def dump_rows(url):
    """Every user table's rows, sorted, as text (the history table left out)."""
    if PG:
        tables = [r[0] for r in sql(url, "SELECT relname FROM pg_class c JOIN pg_namespace n ON "
                                         "n.oid = c.relnamespace WHERE relkind = 'r' AND nspname = "
                                         "current_schema() AND relname <> 'upgrade_plan_history' "
                                         "ORDER BY 1")]
    else:
        tables = [r[0] for r in sql(url, "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                         "name NOT LIKE 'sqlite_%' AND name <> 'upgrade_plan_history' "
                                         "ORDER BY 1")]
    out = {}
    for t in tables:
        q = '"' + t.replace('"', '""') + '"'
        if PG:
            rows = sql(url, f"SELECT t::text FROM {q} t")
        else:
            con = sqlite3.connect(url[len("sqlite:"):])
            rows = [[repr(tuple(r))] for r in con.execute(f"SELECT * FROM {q}")]
            con.close()
        out[t] = sorted("|".join(r) for r in rows)
    return out


def has_table(url, name):
    if PG:
        return bool(sql(url, f"SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             f"WHERE relname = '{name}' AND nspname = current_schema()"))
    return bool(sql(url, f"SELECT 1 FROM sqlite_schema WHERE name = '{name}'"))


def schema(url):
    r = run([DUMP, url])
    return r.stdout


def history(url, where="TRUE"):
    return sql(url, "SELECT step, direction, status, coalesce(from_version, ''), "
                    f"coalesce(to_version, '') FROM upgrade_plan_history WHERE {where} ORDER BY id")


# --- bundles -------------------------------------------------------------------

def build(tmp, plan, name, key):
    out = os.path.join(tmp, name)
    r = run([UPC, "build", plan, "-o", out, "--key", key])
    if r.returncode != 0:
        raise RuntimeError(f"upc build {plan}: {r.stderr}")
    return out


def uprun(bundle, pub, url, *args, env=None, **kw):
    return run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", url, *args], env=env, **kw)


SEED_6_0 = """
INSERT INTO "PersistedGrants" ("Key", "Type", "ClientId", "CreationTime", "Data") VALUES
  ('grant-1', 'refresh_token', 'web', '2024-01-01 10:00:00', 'd1'),
  ('grant-2', 'refresh_token', 'web', '2024-01-01 10:00:01', 'd2'),
  ('grant-3', 'reference_token', 'api', '2024-01-01 10:00:02', 'it''s data');
INSERT INTO "DeviceCodes" ("UserCode", "DeviceCode", "ClientId", "CreationTime", "Expiration", "Data")
  VALUES ('u1', 'd1', 'tv', '2024-01-01 10:00:00', '2024-01-02 10:00:00', 'x');
INSERT INTO "ApiScopes" ("Enabled", "Name", "Required", "Emphasize", "ShowInDiscoveryDocument", "Created", "NonEditable")
  VALUES (TRUE, 'api1', FALSE, FALSE, TRUE, '2024-01-01 10:00:00', FALSE);
INSERT INTO "ApiScopeClaims" ("ScopeId", "Type") VALUES (1, 'role'), (1, 'name');
"""


def seed_6_0(url, extra_grants=0):
    text = SEED_6_0 if PG else SEED_6_0.replace("TRUE", "1").replace("FALSE", "0")
    if extra_grants:
        if PG:
            text += (f"INSERT INTO \"PersistedGrants\" (\"Key\", \"Type\", \"ClientId\", \"CreationTime\", \"Data\") "
                     f"SELECT 'bulk-' || g, 'refresh_token', 'web', '2024-01-01', repeat('x', 200) "
                     f"FROM generate_series(1, {extra_grants}) g;")
        else:
            text += (f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {extra_grants}) "
                     f"INSERT INTO \"PersistedGrants\" (\"Key\", \"Type\", \"ClientId\", \"CreationTime\", \"Data\") "
                     f"SELECT 'bulk-' || n, 'refresh_token', 'web', '2024-01-01', printf('%.200c', 'x') FROM g;")
    sql(url, text)


def main(tmp):
    r = run([UPC, "keygen", "-o", os.path.join(tmp, "k")])
    key, pub = os.path.join(tmp, "k.key"), os.path.join(tmp, "k.pub")
    bundle = build(tmp, PLAN, "bundle", key)
    versions = ["6.0", "6.1", "6.2", "6.3", "7.0"]
    c = a.check

    if c == "lifecycle":
        url = new_db(tmp)
        for v in versions:
            r = uprun(bundle, pub, url, "apply", "--to", v, "--ack-all")
            expect(f"apply --to {v}", r.returncode == 0, r)
            r = uprun(bundle, pub, url, "verify")
            expect(f"verify clean at {v}", r.returncode == 0 and f"matches version {v}" in r.stdout, r)
        r = uprun(bundle, pub, url, "apply", "--ack-all")
        expect("apply at the last version: nothing to do", r.returncode == 0 and "nothing to do" in r.stdout, r)
        r = uprun(bundle, pub, url, "rollback", "--to", "6.0")
        expect("rollback --to 6.0", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "verify")
        expect("verify clean at 6.0 after the rollback", r.returncode == 0 and "6.0" in r.stdout, r)
        for v in ["6.3", "6.1"]:
            r = uprun(bundle, pub, url, "rollback", "--to", v)
            expect(f"rollback --to {v} from above it", r.returncode == 8, r)
        r = uprun(bundle, pub, url, "apply", "--ack-all")
        expect("apply again to 7.0", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "verify")
        expect("verify clean at 7.0 again", r.returncode == 0, r)
        h = history(url)
        expect("the history holds every step, in order",
               [x[1] for x in h] == ["up"] * 5 + ["down"] * 4 + ["up"] * 4 and
               all(x[2] in ("applied", "reverted") for x in h), None)
        r = uprun(bundle, pub, url, "status")
        expect("status: version, history, no step half done", r.returncode == 0 and
               "current version: 7.0" in r.stdout and r.stdout.count(" step ") >= 13 and
               "half done" in r.stdout, r)
        r = uprun(bundle, pub, url, "plan", "--to", "6.1")
        expect("plan: a rollback path, dry", r.returncode == 0 and "rollback from 7.0 to 6.1" in r.stdout, r)
        r = uprun(bundle, pub, url, "rollback", "--to", "empty")
        expect("rollback to an empty database", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "verify")
        expect("verify: empty, nothing but the history", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "plan", "--sql")
        expect("plan --sql shows the path's SQL", r.returncode == 0 and "CREATE TABLE" in r.stdout and
               "5 steps" in r.stdout and "finding (" in r.stdout, r)

    elif c == "failure":
        bad = os.path.join(tmp, "fails.upg")
        good = os.path.join(tmp, "fixed.upg")
        base = ('plan "failing" { dialects postgres, sqlite; }\n'
                'version "1.0" { create table Items (Id int identity primary key, Name string(20)); }\n')
        open(bad, "w").write(base + 'version "1.1" {\n'
                             '  alter table Items add column Price int;\n'
                             '  create index IX_Items_Name on Items (Name);\n'
                             '  sql { up "UPDATE \\"Items\\" SET \\"Prize\\" = 1"; down "SELECT 1"; }\n'
                             '  alter table Items add column Stock int;\n}\n')
        open(good, "w").write(base + 'version "1.1" {\n'
                              '  alter table Items add column Price int;\n'
                              '  create index IX_Items_Name on Items (Name);\n'
                              '  sql { up "UPDATE \\"Items\\" SET \\"Price\\" = 1"; down "SELECT 1"; }\n'
                              '  alter table Items add column Stock int;\n}\n')
        bb = build(tmp, bad, "bad", key)
        gb = build(tmp, good, "good", key)
        url = new_db(tmp)
        r = uprun(bb, pub, url, "apply", "--to", "1.0")
        expect("apply 1.0", r.returncode == 0, r)
        sql(url, "INSERT INTO \"Items\" (\"Name\") VALUES ('a'), ('b')")
        before = schema(url)
        r = uprun(bb, pub, url, "apply")
        expect("a failing step: exit 1", r.returncode == 1, r)
        expect("the message names the step, the file, the line, the statement and the origin",
               re.search(r"step 2 \(1\.0 -> 1\.1, up\) failed", r.stderr) and
               re.search(rf"--> {a.dialect}/0002-1\.0-to-1\.1\.up\.sql:\d+ \(statement 3 of 4\), from fails\.upg:6:3", r.stderr)
               and "Prize" in r.stderr and "rolled back; the database is at version 1.0" in r.stderr, r)
        expect("the schema is as before the step", schema(url) == before)
        expect("the rows are untouched", sql(url, "SELECT count(*) FROM \"Items\"") == [["2"]])
        r = uprun(bb, pub, url, "status")
        expect("status: still at 1.0, the failure in the history", "current version: 1.0" in r.stdout
               and "failed" in r.stdout, r)
        r = uprun(gb, pub, url, "apply")
        expect("the fixed bundle applies cleanly", r.returncode == 0, r)
        r = uprun(gb, pub, url, "verify")
        expect("and verifies", r.returncode == 0, r)

    elif c == "tamper":
        t = os.path.join(tmp, "tampered")
        shutil.copytree(bundle, t)
        with open(os.path.join(t, a.dialect, "0002-6.0-to-6.1.up.sql"), "a") as f:
            f.write("DROP TABLE \"Clients\";\n")
        if PG:
            url = "host=/nonexistent/socket/dir dbname=never user=nobody connect_timeout=1"
            r = uprun(t, pub, url, "apply", "--ack-all")
            expect("a tampered bundle is refused (exit 3) before connecting (a connection would fail "
                   "with exit 2)", r.returncode == 3 and
                   "0002-6.0-to-6.1.up.sql" in r.stderr, r)
            expect("and no connection was tried", r.returncode == 3 and "connect" not in r.stderr.lower(), r)
        else:
            path = os.path.join(tmp, "never.db")
            r = uprun(t, pub, "sqlite:" + path, "apply", "--ack-all")
            expect("a tampered bundle is refused (exit 3)", r.returncode == 3 and
                   "0002-6.0-to-6.1.up.sql" in r.stderr, r)
            expect("and the database file was not even created", not os.path.exists(path))
        for cmd in (["status"], ["verify"], ["rollback", "--to", "6.0"], ["baseline", "--version", "6.0"]):
            r = uprun(t, pub, "sqlite:" + os.path.join(tmp, "never2.db"), *cmd)
            expect(f"{cmd[0]} refuses the tampered bundle too", r.returncode == 3, r)
        wrong = os.path.join(tmp, "w")
        run([UPC, "keygen", "-o", wrong])
        r = uprun(bundle, wrong + ".pub", "sqlite:" + os.path.join(tmp, "never3.db"), "status")
        expect("another release's key is refused", r.returncode == 3 and "signed with key" in r.stderr, r)

    elif c == "drift":
        url = new_db(tmp)
        uprun(bundle, pub, url, "apply", "--ack-all")
        sql(url, 'ALTER TABLE "Clients" ADD COLUMN "Hacked" integer')
        sql(url, 'DROP INDEX "IX_Keys_Use"')
        r = uprun(bundle, pub, url, "verify")
        expect("verify finds the drift: exit 7", r.returncode == 7, r)
        expect("a column added by hand is named", 'unexpected column "Hacked"' in r.stdout, r)
        expect("a dropped index is named", 'index "IX_Keys_Use" is missing' in r.stdout, r)
        r = uprun(bundle, pub, url, "--json", "verify")
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        expect("--json: one drift event per difference, then the result",
               sum(1 for x in lines if x["event"] == "drift") == 2 and lines[-1]["code"] == 7, r)

    elif c == "history":
        other = os.path.join(tmp, "other.upg")
        open(other, "w").write('plan "someone-else" { dialects postgres, sqlite; }\n'
                               'version "1.0" { create table X (Id int); }\n')
        ob = build(tmp, other, "other", key)
        url = new_db(tmp)
        uprun(bundle, pub, url, "apply", "--to", "6.1")
        r = uprun(ob, pub, url, "apply")
        expect("a bundle of another plan is refused: exit 4", r.returncode == 4 and
               'names plan "duende-identityserver"' in r.stderr, r)
        changed = os.path.join(tmp, "identityserver.upg")
        text = open(PLAN).read().replace("Data text not null\n  );\n  create index IX_ServerSideSessions",
                                         "Data text not null, Extra int\n  );\n  create index IX_ServerSideSessions", 1)
        assert text != open(PLAN).read()
        open(changed, "w").write(text)
        cb = build(tmp, changed, "changed", key)
        r = uprun(cb, pub, url, "apply", "--ack-all")
        expect("a bundle whose applied step differs is refused: exit 4", r.returncode == 4 and
               "other SQL than this bundle's" in r.stderr, r)
        trimmed = os.path.join(tmp, "trimmed.upg")
        open(trimmed, "w").write(open(PLAN).read().split('version "6.1"')[0])
        tb = build(tmp, trimmed, "trimmed", key)
        r = uprun(tb, pub, url, "status")
        expect("a database at a version the bundle does not know is refused: exit 4",
               r.returncode == 4 and "does not know" in r.stderr, r)

    elif c == "gates":
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "apply", "--to", "6.3")
        expect("without --ack: exit 6", r.returncode == 6 and "not acknowledged" in r.stdout, r)
        expect("and nothing was changed", not has_table(url, "upgrade_plan_history") and
               '"tables": []' in schema(url).replace("\n", "").replace("  ", ""), None)
        r = uprun(bundle, pub, url, "apply", "--to", "6.3", "--ack", "v6.3-rotated-refresh-tokens-deleted")
        expect("with --ack ID", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "apply", "--to", "9.9")
        expect("an unknown version: exit 8", r.returncode == 8, r)
        irr = os.path.join(tmp, "irr.upg")
        open(irr, "w").write('plan "gates" { dialects postgres, sqlite; }\n'
                             'version "1.0" { create table A (Id int identity primary key, V text); }\n'
                             'version "1.1" { sql { up "DELETE FROM \\"A\\""; irreversible "deleted rows are gone"; } }\n'
                             'version "1.2" { alter table A drop column V allow data_loss; }\n')
        ib = build(tmp, irr, "irr", key)
        url2 = new_db(tmp)
        uprun(ib, pub, url2, "apply")
        r = uprun(ib, pub, url2, "rollback", "--to", "1.1")
        expect("a lossy rollback without --allow-data-loss: exit 8", r.returncode == 8 and
               "--allow-data-loss" in r.stderr, r)
        r = uprun(ib, pub, url2, "rollback", "--to", "1.1", "--allow-data-loss")
        expect("with --allow-data-loss", r.returncode == 0, r)
        r = uprun(ib, pub, url2, "rollback", "--to", "1.0")
        expect("through an irreversible step: exit 8, with the reason", r.returncode == 8 and
               "deleted rows are gone" in r.stderr, r)
        r = uprun(ib, pub, url2, "apply", "--to", "1.0")
        expect("apply backwards: exit 8, pointing to rollback", r.returncode == 8 and "rollback" in r.stderr, r)
        if not PG:
            missing = os.path.join(tmp, "missing.db")
            for cmd in (["status"], ["plan"], ["verify"], ["rollback", "--to", "6.0"],
                        ["baseline", "--version", "6.0"]):
                r = uprun(bundle, pub, "sqlite:" + missing, *cmd)
                expect(f"{cmd[0]} on a missing SQLite file: exit 2, and no file is created",
                       r.returncode == 2 and "does not exist" in r.stderr and not os.path.exists(missing), r)
            for cmd, code in ((["apply"], 6), (["apply", "--to", "9.9"], 8)):
                r = uprun(bundle, pub, "sqlite:" + missing, *cmd)
                expect(f"a refused {' '.join(cmd)} leaves no file behind (exit {code})",
                       r.returncode == code and not os.path.exists(missing), r)

    elif c == "baseline":
        url = new_db(tmp)
        r = run([UPC, "sql", PLAN, "--dialect", a.dialect, "--to", "6.1"])
        if PG:
            subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=r.stdout,
                           text=True, capture_output=True, check=True)
        else:
            subprocess.run(["sqlite3", "-bail", url[7:]], input=r.stdout, text=True, check=True)
        r = uprun(bundle, pub, url, "baseline", "--version", "6.0")
        expect("baseline at the wrong version: exit 7 with the differences", r.returncode == 7 and
               "drift:" in r.stdout, r)
        r = uprun(bundle, pub, url, "baseline", "--version", "6.1")
        expect("baseline at the right version", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "baseline", "--version", "6.1")
        expect("a second baseline is refused: exit 4", r.returncode == 4, r)
        r = uprun(bundle, pub, url, "apply", "--ack-all")
        expect("apply from the baseline to 7.0", r.returncode == 0 and "from 6.1 to 7.0" in r.stdout, r)
        r = uprun(bundle, pub, url, "verify")
        expect("verify after the baseline and apply", r.returncode == 0, r)
        url2 = new_db(tmp)
        sql(url2, 'CREATE TABLE "Legacy" (id integer)')
        r = uprun(bundle, pub, url2, "baseline", "--version", "6.0", "--force")
        expect("baseline --force despite differences", r.returncode == 0, r)

    elif c == "atomic":
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "apply", "--ack-all", "--atomic")
        expect("apply --atomic", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "verify")
        expect("verify after --atomic", r.returncode == 0, r)
        bad = os.path.join(tmp, "fails.upg")
        open(bad, "w").write('plan "atomic" { dialects postgres, sqlite; }\n'
                             'version "1.0" { create table A (Id int identity primary key); }\n'
                             'version "1.1" { alter table A add column B int; }\n'
                             'version "1.2" { sql { up "SELECT * FROM \\"Nope\\""; down "SELECT 1"; } }\n')
        bb = build(tmp, bad, "atomic-bad", key)
        url2 = new_db(tmp)
        r = uprun(bb, pub, url2, "apply", "--atomic")
        expect("--atomic with a failing last step: exit 1, the whole path rolled back",
               r.returncode == 1 and "the whole path was rolled back (--atomic); the database is at version empty"
               in r.stderr and "to commit with the whole path" in r.stdout, r)
        expect("and the whole path was rolled back (no table A, no history row)",
               '"name": "A"' not in schema(url2) and
               history(url2, "status <> 'failed'") == [], None)

    elif c == "backup":
        if PG:
            url = new_db(tmp)
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", os.path.join(tmp, "b.db"))
            expect("--backup on PostgreSQL is refused (exit 2), nothing changed", r.returncode == 2 and
                   "pg_dump" in r.stderr, r)
        else:
            url = new_db(tmp)
            uprun(bundle, pub, url, "apply", "--to", "6.0")
            seed_6_0(url)
            bk = os.path.join(tmp, "backup.db")
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", bk)
            expect("apply --backup", r.returncode == 0 and "backup written" in r.stdout, r)
            r = uprun(bundle, pub, "sqlite:" + bk, "status")
            expect("the backup is a database at 6.0", r.returncode == 0 and "current version: 6.0" in r.stdout, r)
            expect("with the rows", sql("sqlite:" + bk, 'SELECT count(*) FROM "PersistedGrants"') == [["3"]])
            before = open(bk, "rb").read()
            r = uprun(bundle, pub, url, "rollback", "--to", "6.3")
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", bk)
            expect("an existing backup file is refused (exit 2), untouched, before any change",
                   r.returncode == 2 and "already exists" in r.stderr and open(bk, "rb").read() == before
                   and "current version: 6.3" in uprun(bundle, pub, url, "status").stdout, r)

    elif c == "json":
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "--json", "apply", "--ack-all")
        try:
            lines = [json.loads(l) for l in r.stdout.splitlines()]
        except ValueError:
            lines = []
        expect("--json: every line is a JSON object", r.returncode == 0 and lines, r)
        expect("--json: step events and a result", sum(1 for x in lines if x.get("state") == "done") == 5
               and lines[-1] == {"event": "result", "code": 0, "message": "ok", "hint": ""}, r)
        expect("--json: no progress lines or terminal codes", "\x1b" not in r.stdout and "\x1b" not in r.stderr, r)

    elif c == "lock":
        url = new_db(tmp)
        uprun(bundle, pub, url, "apply", "--to", "6.0")
        if PG:
            key_int = 0xcbf29ce484222325
            for ch in b"upgrade-plan:duende-identityserver":
                key_int = ((key_int ^ ch) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
            if key_int >= 1 << 63:
                key_int -= 1 << 64
            holder = subprocess.Popen(["psql", url, "-Atq", "-c",
                                       f"SELECT pg_advisory_lock({key_int}); SELECT pg_sleep(8);"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        else:
            holder = subprocess.Popen(["sqlite3", url[7:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
            holder.stdin.write("BEGIN IMMEDIATE;\nINSERT INTO \"Keys\" VALUES ('k','1','2024','u','a',0,0,'d');\n")
            holder.stdin.flush()
        time.sleep(1.0)
        t0 = time.time()
        r = uprun(bundle, pub, url, "apply", "--ack-all", "--lock-timeout", "2")
        waited = time.time() - t0
        expect("a runner that cannot get the lock: exit 5", r.returncode == 5 and "lock" in r.stderr, r)
        expect("after waiting about --lock-timeout", 1.5 <= waited <= 20, None)
        holder.kill()
        holder.wait()
        r = uprun(bundle, pub, url, "apply", "--ack-all")
        expect("once the lock is free, the apply goes through", r.returncode == 0, r)

    elif c in ("crash", "kill"):
        base = new_db(tmp)
        r = uprun(bundle, pub, base, "apply", "--to", "6.0")
        seed_6_0(base, extra_grants=0 if c == "crash" else 20000)
        ref = new_db(tmp, template=base)
        r = uprun(bundle, pub, ref, "apply", "--ack-all", env={"UPG_FAULT_COUNT": "1"})
        m = re.search(r"fault injection: (\d+) statements", r.stderr)
        if not expect("an uninterrupted run (and its statement count)", r.returncode == 0 and m, r):
            return
        total = int(m.group(1))
        ref_schema, ref_rows = schema(ref), dump_rows(ref)
        expect("the reference run has the seeded rows", len(ref_rows.get("PersistedGrants", [])) >= 3)
        if c == "crash":
            crashed = 0
            for n in range(1, total + 1):
                url = new_db(tmp, template=base)
                r = uprun(bundle, pub, url, "apply", "--ack-all", env={"UPG_FAULT_EXIT_AFTER": str(n)})
                if r.returncode != 99:
                    expect(f"the run crashes after statement {n}", False, r)
                    continue
                crashed += 1
                r = uprun(bundle, pub, url, "apply", "--ack-all")
                ok = r.returncode == 0
                ok = ok and schema(url) == ref_schema and dump_rows(url) == ref_rows
                applied = [h[0] for h in history(url, "status = 'applied' AND direction = 'up'")]
                ok = ok and sorted(applied) == sorted(set(applied))
                if not expect(f"crash after statement {n} of {total}, then resume: the same end state", ok, r):
                    if n > 3:
                        break
                if PG:
                    psql(os.environ["UPG_TEST_PGURI"], f'DROP DATABASE "{url.rsplit("dbname=", 1)[1]}"')
                else:
                    os.remove(url[7:])
            print(f"crashed and resumed at each of {crashed} statement boundaries")
        else:
            timing = new_db(tmp, template=base)
            t0 = time.time()
            uprun(bundle, pub, timing, "apply", "--ack-all")
            span = max(time.time() - t0, 0.05)
            rng = random.Random(1)
            killed = 0
            for i in range(50):
                url = new_db(tmp, template=base)
                p = subprocess.Popen([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", url, "apply",
                                      "--ack-all", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                time.sleep(rng.uniform(0, span * 1.1))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    killed += 1
                p.wait()
                r = uprun(bundle, pub, url, "apply", "--ack-all")
                same = r.returncode == 0 and schema(url) == ref_schema and dump_rows(url) == ref_rows
                if not expect(f"kill -9 run {i + 1}, then resume: the same end state", same, r):
                    break
                if PG:
                    psql(os.environ["UPG_TEST_PGURI"], f'DROP DATABASE "{url.rsplit("dbname=", 1)[1]}"')
                else:
                    os.remove(url[7:])
            print(f"50 runs, {killed} killed with SIGKILL before they finished (a run takes about {span:.2f} s)")
            expect("most runs were really killed mid-way", killed >= 25)

    elif c == "concurrency":
        for round_ in range(3):
            url = new_db(tmp)
            procs = [subprocess.Popen([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", url, "apply",
                                       "--ack-all", "--lock-timeout", "60"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(4)]
            outs = [p.communicate() for p in procs]
            codes = [p.returncode for p in procs]
            expect(f"round {round_ + 1}: 4 runners exit 0 or with the lock code: {codes}",
                   all(x in (0, 5) for x in codes) and 0 in codes,
                   None if all(x in (0, 5) for x in codes) else subprocess.CompletedProcess([], codes[0], outs[0][0], outs[0][1]))
            steps = [h[0] for h in history(url, "status = 'applied'")]
            expect(f"round {round_ + 1}: every step applied exactly once", sorted(steps) == ["1", "2", "3", "4", "5"],
                   None)
            r = uprun(bundle, pub, url, "verify")
            expect(f"round {round_ + 1}: the database verifies at 7.0", r.returncode == 0 and "7.0" in r.stdout, r)
    elif c == "branches":
        bb = build(tmp, os.path.join(a.root, "tests", "emit", "branches.upg"), "branches", key)
        url = new_db(tmp)
        r = uprun(bb, pub, url, "apply", "--to", "1.0")
        expect("apply --to 1.0", r.returncode == 0, r)
        r = uprun(bb, pub, url, "status")
        expect("status: the targets of both branches", "upgrade targets: 1.1, 1.2, 2.0" in r.stdout, r)
        r = uprun(bb, pub, url, "apply", "--to", "1.2")
        expect("apply --to 1.2", r.returncode == 0, r)
        for cmd in (["apply", "--to", "2.0"], ["plan", "--to", "2.0"], ["rollback", "--to", "2.0"]):
            r = uprun(bb, pub, url, *cmd)
            expect(f"{cmd[0]} to the other branch: exit 8, with the way round", r.returncode == 8 and
                   "different branches of the plan, which part at 1.0" in r.stderr and
                   "uprun rollback --to 1.0" in r.stderr, r)
        r = uprun(bb, pub, url, "rollback", "--to", "1.0")
        expect("rollback to where the branches part", r.returncode == 0, r)
        r = uprun(bb, pub, url, "apply", "--to", "2.0")
        expect("then the other branch applies", r.returncode == 0, r)
        r = uprun(bb, pub, url, "verify")
        expect("and verifies at 2.0", r.returncode == 0 and "2.0" in r.stdout, r)
        r = uprun(bb, pub, url, "status")
        expect("status at the tip of a branch: no targets", "none (at the last version)" in r.stdout, r)
    elif c == "terminal":
        import pty
        slow = os.path.join(tmp, "slow.upg")
        open(slow, "w").write(
            'plan "slow" { dialects postgres, sqlite; }\n'
            'version "1.0" { create table A (Id int identity primary key); }\n'
            'version "1.1" {\n'
            '  breaking "b1" "A takes a while now.";\n'
            '  sql postgres { up "SELECT pg_sleep(3)"; down "SELECT 1"; }\n'
            '  sql sqlite { up "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 12000000) '
            'SELECT count(*) FROM c"; down "SELECT 1"; }\n'
            '}\n')
        sb = build(tmp, slow, "slow", key)

        def on_pty(args, answer=None):
            """Runs uprun with a pseudo-terminal as its stdin, stdout and stderr; answers the prompt."""
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(UPRUN, [UPRUN, "--bundle", sb, "--pubkey", pub, *args])
            out, answered = b"", False
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if answer and not answered and b"to acknowledge it" in out:
                    os.write(fd, answer.encode() + b"\n")
                    answered = True
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), out.decode(errors="replace")

        url = new_db(tmp)
        code, out = on_pty(["--db", url, "apply"], answer="b1")
        expect("on a terminal, uprun asks to acknowledge the breaking change; typing its id goes on",
               code == 0 and 'Type "b1" to acknowledge it' in out, subprocess.CompletedProcess([], code, out, ""))
        expect("and shows the long step's progress: step i of n, elapsed",
               re.search(r"step 2 of 2 \(1\.0 -> 1\.1\) running for \d+ s", out) is not None,
               subprocess.CompletedProcess([], code, out, ""))
        url = new_db(tmp)
        code, out = on_pty(["--db", url, "apply"], answer="no")
        expect("a wrong answer stops with exit 6, nothing changed", code == 6 and
               not has_table(url, "upgrade_plan_history"), subprocess.CompletedProcess([], code, out, ""))
        url = new_db(tmp)
        r = uprun(sb, pub, url, "apply", "--ack", "b1")
        expect("in a pipe: no progress, no prompt", r.returncode == 0 and "running for" not in r.stdout + r.stderr
               and "\x1b" not in r.stdout + r.stderr, r)
        url = new_db(tmp)
        code, out = on_pty(["--db", url, "--json", "apply", "--ack", "b1"])
        lines = [l for l in out.replace("\r", "").splitlines() if l.strip()]
        ok = code == 0 and "running for" not in out and "\x1b" not in out
        try:
            ok = ok and all(isinstance(json.loads(l), dict) for l in lines)
        except ValueError:
            ok = False
        expect("--json on a terminal: JSON lines only, no progress", ok, subprocess.CompletedProcess([], code, out, ""))
    else:
        sys.exit(f"unknown check {c}")


with tempfile.TemporaryDirectory() as tmp:
    main(tmp)
for f in failures:
    print("FAILED", f.splitlines()[0], file=sys.stderr)
print(f"{a.check} on {a.dialect}: {len(failures)} failures")
sys.exit(1 if failures else 0)
