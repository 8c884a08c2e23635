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
  backup       --backup writes a usable copy first (SQLite's backup API; pg_dump -Fc on
               PostgreSQL, refused clearly when pg_dump is missing or fails)
  json         --json writes one JSON object per line
  lock         a runner that cannot get the lock in --lock-timeout exits 5
  crash        fault injection: exit after the Nth statement, for every N, then resume;
               the end state equals an uninterrupted run's, rows included
  kill         kill -9 at random moments (50 runs), then resume: same end state
  concurrency  4 runners at once: every step applied once, all exit 0 or 5
  branches     a plan whose versions branch: targets, the hint to cross branches, both tips
  terminal     on a terminal: progress during a long step, and the acknowledgement prompt;
               in a pipe, neither; with --json, progress events only
  preflight    drift stops apply and rollback before any change (issue 10: a column added by
               hand, with data, destroyed by the SQLite rebuild of 7.0); --allow-drift goes on,
               and a SQLite rebuild still refuses to drop what the plan does not know
  carry        SQLite rebuilds carry the triggers and views of sql blocks, and indexes added by
               hand; one that cannot be carried fails the step, naming it
  defaults     PostgreSQL: a default expression changed by hand is drift, named by its field
  waits        --db-lock-timeout, --retries, --statement-timeout: another session's lock makes
               the step give up after 1 + retries tries, the database unchanged
  cancel       SIGINT during a long statement: cancelled on the server, the step rolled back,
               exit 9; a second signal exits at once
  events       --json: every kind of event, each line valid against docs/events.schema.json,
               and a result line after usage errors too
  cli          URLs, per-command help and options, --ack typos, plan's refusals, step numbers,
               the failed statement's first line, the smaller items of issue 10

Every --json output of every check is validated against docs/events.schema.json
(uprun_events.py). With --secret (PostgreSQL), the databases are named by URLs that carry a
password (URI and keyword forms, alternately), of a role that needs it; every output and every
history row is searched for it.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uprun_events  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--schema-dump", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
ap.add_argument("--secret", action="store_true", help="PostgreSQL: URLs with a password (see above)")
ap.add_argument("checks", nargs="+")
a = ap.parse_args()
UPC, UPRUN, DUMP = (os.path.abspath(x) for x in (a.upc, a.uprun, a.schema_dump))
PLAN = os.path.join(a.root, "plans", "identityserver.upg")
PG = a.dialect == "postgres"
failures = []
counter = [0]
SECRET = "Zq7-s3cr3t-pw" if a.secret else None
DBNAMES = {}  # url -> PostgreSQL database name


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


def check_output(args, r, complete=True):
    """Every --json output validates against the schema; with --secret, no output holds the password."""
    if "--json" in args:
        bad = uprun_events.problems(a.root, r.stdout, complete=complete)
        if bad:
            expect(f"--json output of {' '.join(args[-3:])} fits docs/events.schema.json: " + "; ".join(bad[:3]),
                   False, r)
    if SECRET and (SECRET in (r.stdout or "") or SECRET in (r.stderr or "")):
        expect(f"the password appears in the output of {' '.join(x for x in args if SECRET not in x)[-200:]}",
               False, r)


def run(args, env=None, **kw):
    e = dict(os.environ)
    e.pop("UPG_FAULT_EXIT_AFTER", None)
    e.update(env or {})
    r = subprocess.run(args, capture_output=True, text=True, env=e, **kw)
    if args and args[0] == UPRUN:
        check_output(args, r)
    return r


# --- databases -----------------------------------------------------------------

def psql(url, sql):
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr}")
    return r.stdout


def pg_url(name):
    """The URL of database name: libpq's keyword form; with --secret, alternately a URI and a
    keyword string, both with the password."""
    base = os.environ["UPG_TEST_PGURI"]
    if not SECRET:
        return f"{base} dbname={name}"
    kv = dict(x.split("=", 1) for x in base.split())
    if counter[0] % 2:
        url = (f"postgresql://upg_secret:{SECRET}@/{name}?host={kv.get('host', '')}"
               f"&port={kv.get('port', '5432')}")
    else:
        url = f"host={kv.get('host', '')} port={kv.get('port', '5432')} user=upg_secret password={SECRET} dbname={name}"
    return url


def dbname(url):
    return DBNAMES[url]


def drop_db(url):
    if PG:
        psql(os.environ["UPG_TEST_PGURI"], f'DROP DATABASE "{dbname(url)}"')
        DBNAMES.pop(url, None)
    else:
        os.remove(url[7:])


def new_db(tmp, template=None):
    """A fresh database URL (a copy of template's when given)."""
    counter[0] += 1
    if PG:
        base = os.environ["UPG_TEST_PGURI"]
        name = f"upg_rt_{os.getpid()}_{counter[0]}"
        if template:
            psql(base, f'CREATE DATABASE "{name}" TEMPLATE "{dbname(template)}"')
        else:
            psql(base, f'CREATE DATABASE "{name}"')
        url = pg_url(name)
        DBNAMES[url] = name
        return url
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


SLOW_PLAN = ('plan "slowstep" { dialects postgres, sqlite; }\n'
             'version "1.0" { create table A (Id int identity primary key, V int); }\n'
             'version "1.1" {\n'
             '  alter table A add column W int;\n'
             '  sql postgres { up "SELECT pg_sleep(%d)"; down "SELECT 1"; }\n'
             '  sql sqlite { up "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) '
             'SELECT count(*) FROM c"; down "SELECT 1"; }\n'
             '}\n')


def has_column(url, table, column):
    if PG:
        return bool(sql(url, f"SELECT 1 FROM information_schema.columns WHERE table_name = '{table}' AND "
                             f"column_name = '{column}' AND table_schema = current_schema()"))
    return bool(sql(url, f"SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'"))


def hold_lock(url, table="ServerSideSessions"):
    """Another session that holds a lock until released: PostgreSQL LOCK TABLE, SQLite's write lock."""
    if PG:
        p = subprocess.Popen(["psql", url, "-Atq", "-c", f'BEGIN; LOCK TABLE "{table}"; SELECT pg_sleep(600);'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(os.environ, PGAPPNAME="upg_lock_holder"))
        for _ in range(300):
            if sql(url, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE "
                        "a.application_name = 'upg_lock_holder' AND l.granted AND "
                        "l.mode = 'AccessExclusiveLock' AND l.relation IS NOT NULL") != [["0"]]:
                break
            time.sleep(0.1)
        return p
    p = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys\n"
                          "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                          "c.execute('BEGIN IMMEDIATE')\n"
                          "print('locked', flush=True)\n"
                          "sys.stdin.read()\n", url[7:]],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.readline()  # "locked": the write lock is held
    return p


def release_lock(url, p):
    """Ends the session of hold_lock (PostgreSQL: its backend too, which would sleep on otherwise)."""
    if PG:
        sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'upg_lock_holder'")
    p.kill()
    p.wait()
    if PG:
        for _ in range(300):
            if sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'upg_lock_holder'") == [["0"]]:
                return
            time.sleep(0.1)


def start_uprun(args, until_step):
    """Starts uprun, and returns once it has begun step until_step (it must print begin events:
    --json, or the human 'upgrading' line then a pause); returns the process and what it printed."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    if "--json" in args:
        for line in p.stdout:
            out += line
            if '"state":"begin"' in line and f'"step":{until_step},' in line:
                break
    else:
        time.sleep(2.0)
    return p, out


def wait_no_backend(url):
    """True once pg_stat_activity shows no uprun backend (polled: at most 300 tries, 0.1 s apart)."""
    for _ in range(300):
        if sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'uprun'") == [["0"]]:
            return True
        time.sleep(0.1)
    return False


def main(tmp):
    r = run([UPC, "keygen", "-o", os.path.join(tmp, "k")])
    key, pub = os.path.join(tmp, "k.key"), os.path.join(tmp, "k.pub")
    bundle = build(tmp, PLAN, "bundle", key)
    versions = ["6.0", "6.1", "6.2", "6.3", "7.0"]
    for c in a.checks:
        print(f"== {c} on {a.dialect}{' (URLs with a password)' if SECRET else ''}")
        one_check(c, tmp, key, pub, bundle, versions)


def one_check(c, tmp, key, pub, bundle, versions):

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
        if not PG:
            # a merged SQLite rebuild that fails names its internal table: the hint says what it
            # is, and the origin names every plan statement of the rebuild (issue 13)
            rp = os.path.join(tmp, "rebuild-fails.upg")
            open(rp, "w").write('plan "rebuild" { dialects sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key, A int); }\n'
                                'version "1.1" {\n'
                                '  alter table T alter column A type bigint allow sqlite_rebuild;\n'
                                '  alter table T alter column A set not null allow sqlite_rebuild;\n}\n')
            rbb = build(tmp, rp, "rebuild-fails", key)
            url = new_db(tmp)
            uprun(rbb, pub, url, "apply", "--to", "1.0")
            sql(url, 'INSERT INTO "T" VALUES (1, NULL)')
            r = uprun(rbb, pub, url, "apply")
            expect("a failed merged rebuild: _upg_new_T explained, both plan statements named",
                   r.returncode == 1 and "from rebuild-fails.upg:4:3,5:3" in r.stderr and
                   '"_upg_new_T" is the new copy of table "T"' in r.stderr, r)

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
            for cmd in (["verify"], ["rollback", "--to", "6.0"], ["baseline", "--version", "6.0"]):
                r = uprun(bundle, pub, "sqlite:" + missing, *cmd)
                expect(f"{cmd[0]} on a missing SQLite file: exit 2, and no file is created",
                       r.returncode == 2 and "does not exist" in r.stderr and not os.path.exists(missing), r)
            # issue 10: a fresh install can be previewed
            r = uprun(bundle, pub, "sqlite:" + missing, "status")
            expect("status on a SQLite file that does not exist yet: an empty database, exit 0, no file made",
                   r.returncode == 0 and "does not exist yet" in r.stdout and "current version: none" in r.stdout
                   and "upgrade targets: 6.0, 6.1, 6.2, 6.3, 7.0" in r.stdout and not os.path.exists(missing), r)
            r = uprun(bundle, pub, "sqlite:" + missing, "plan")
            expect("plan on a SQLite file that does not exist yet: the whole path, exit 0, no file made",
                   r.returncode == 0 and "upgrade from empty to 7.0: 5 steps" in r.stdout and
                   not os.path.exists(missing), r)
            r = uprun(bundle, pub, "sqlite:" + missing, "--json", "status")
            st = [json.loads(l) for l in r.stdout.splitlines() if '"status"' in l]
            expect("status --json on it: exists false, no current version",
                   r.returncode == 0 and st and st[0]["exists"] is False and st[0]["current_version"] is None, r)
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
               r.returncode == 1 and "the whole path was rolled back (--atomic); the database is empty"
               in r.stderr and "to commit with the whole path" in r.stdout and "version empty" not in r.stderr, r)
        expect("and the whole path was rolled back (no table A, no history row)",
               '"name": "A"' not in schema(url2) and
               history(url2, "status <> 'failed'") == [], None)
        # issue 10: rollback --atomic was accepted and ignored
        rp = os.path.join(tmp, "rb.upg")
        open(rp, "w").write('plan "rb" { dialects postgres, sqlite; }\n'
                            'version "1.0" { create table A (Id int identity primary key); }\n'
                            'version "1.1" { sql { up "SELECT 1"; down "SELECT * FROM \\"Nope\\""; } }\n'
                            'version "1.2" { alter table A add column B int; }\n')
        rb = build(tmp, rp, "rb", key)
        url3 = new_db(tmp)
        uprun(rb, pub, url3, "apply")
        r = uprun(rb, pub, url3, "rollback", "--to", "1.0", "--atomic")
        expect("rollback --atomic with a failing down-step: exit 1, the whole path rolled back",
               r.returncode == 1 and "the whole path was rolled back (--atomic); the database is at version 1.2"
               in r.stderr and has_column(url3, "A", "B") and
               "current version: 1.2" in uprun(rb, pub, url3, "status").stdout, r)
        r = uprun(rb, pub, url3, "rollback", "--to", "1.0")
        expect("without --atomic the first down-step stays done", r.returncode == 1 and not has_column(url3, "A", "B")
               and "current version: 1.1" in uprun(rb, pub, url3, "status").stdout, r)

    elif c == "backup":
        if PG:
            # pg_dump -Fc before the first step (issue 13: Kratos's guide starts with a backup)
            url = new_db(tmp)
            uprun(bundle, pub, url, "apply", "--to", "6.0")
            seed_6_0(url)
            bk = os.path.join(tmp, "backup.dump")
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", bk)
            expect("apply --backup on PostgreSQL: pg_dump first, then the steps",
                   r.returncode == 0 and "backup written" in r.stdout and os.path.exists(bk), r)
            expect("the backup is pg_dump's custom format, readable by its owner only",
                   os.path.exists(bk) and open(bk, "rb").read(5) == b"PGDMP" and os.stat(bk).st_mode & 0o077 == 0)
            restore = shutil.which("pg_restore") or "/usr/lib/postgresql/15/bin/pg_restore"
            r2 = subprocess.run([restore, "--list", bk], capture_output=True, text=True)
            expect("pg_restore lists the backup: the tables at 6.0 with their rows",
                   r2.returncode == 0 and "PersistedGrants" in r2.stdout and "TABLE DATA" in r2.stdout
                   and "ServerSideSessions" not in r2.stdout, r2)
            # a fresh database from the dump is at 6.0, with the rows
            url2 = new_db(tmp)
            r2 = subprocess.run([restore, "--no-owner", "-d", url2, bk], capture_output=True, text=True)
            expect("pg_restore into a new database: at 6.0 with the rows", r2.returncode == 0 and
                   "current version: 6.0" in uprun(bundle, pub, url2, "status").stdout and
                   sql(url2, 'SELECT count(*) FROM "PersistedGrants"') == [["3"]], r2)
            # refusals, before any change
            for what, env, want in (("pg_dump missing", {"UPRUN_PG_DUMP": "", "PATH": "/nonexistent"}, "not on PATH"),
                                    ("pg_dump failing", {"UPRUN_PG_DUMP": "/bin/false"}, "pg_dump failed")):
                url3 = new_db(tmp)
                uprun(bundle, pub, url3, "apply", "--to", "6.0")
                bk3 = os.path.join(tmp, "b3.dump")
                r = uprun(bundle, pub, url3, "apply", "--ack-all", "--backup", bk3, env=env)
                expect(f"--backup with {what}: refused (exit 2), said why, nothing changed, no file",
                       r.returncode == 2 and want in r.stderr and not os.path.exists(bk3) and
                       "current version: 6.0" in uprun(bundle, pub, url3, "status").stdout, r)
            before = open(bk, "rb").read()
            r = uprun(bundle, pub, url, "rollback", "--to", "6.3")
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", bk)
            expect("an existing backup file is refused (exit 2), untouched, before any change",
                   r.returncode == 2 and "already exists" in r.stderr and open(bk, "rb").read() == before
                   and "current version: 6.3" in uprun(bundle, pub, url, "status").stdout, r)
            link = os.path.join(tmp, "link.dump")
            os.symlink(os.path.join(tmp, "target.dump"), link)
            r = uprun(bundle, pub, url, "apply", "--ack-all", "--backup", link)
            expect("a backup path that is a symbolic link is refused, its target not created",
                   r.returncode == 2 and not os.path.exists(os.path.join(tmp, "target.dump")), r)
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
            for ch in b"upgrade-plan:upgrade_plan_history":  # one lock per database, every plan
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
        # PostgreSQL: the runners' advisory lock (--lock-timeout); SQLite has only the write lock,
        # waited for by each statement (--db-lock-timeout), with no retry here
        wait = ["--lock-timeout", "2"] if PG else ["--db-lock-timeout", "2s", "--retries", "0"]
        r = uprun(bundle, pub, url, "apply", "--ack-all", *wait)
        waited = time.time() - t0
        expect("a runner that cannot get the lock: exit 5", r.returncode == 5 and "lock" in r.stderr, r)
        expect("after waiting about the timeout", 1.5 <= waited <= 60, None)
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
                drop_db(url)
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
                drop_db(url)
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
        expect("and shows the long step's progress: the step, i of n, elapsed",
               re.search(r"step 2 \(2 of 2, 1\.0 -> 1\.1\) running for \d+ s", out) is not None,
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
        ok = code == 0 and "\x1b" not in out
        try:
            events = [json.loads(l) for l in lines]
            ok = ok and all(isinstance(x, dict) for x in events)
        except ValueError:
            events, ok = [], False
        check_output(["--json"], subprocess.CompletedProcess([], code, "\n".join(lines), ""))
        expect("--json on a terminal: JSON lines only, no terminal codes", ok,
               subprocess.CompletedProcess([], code, out, ""))
        expect("--json: the long step's progress as progress events (issue 10: documented, never sent)",
               any(x.get("event") == "progress" and x.get("step") == 2 and x.get("elapsed", 0) >= 1
                   for x in events), subprocess.CompletedProcess([], code, out, ""))
    elif c == "preflight":
        # issue 10: the operator's column, and its data, destroyed by the SQLite rebuild of 7.0
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "apply", "--to", "6.3", "--ack-all")
        expect("apply --to 6.3", r.returncode == 0, r)
        sql(url, 'ALTER TABLE "ServerSideSessions" ADD COLUMN "Extra" text')
        sql(url, 'INSERT INTO "ServerSideSessions" ("Key", "Scheme", "SubjectId", "Created", "Renewed", "Data", '
                 '"Extra") VALUES (\'k1\', \'s\', \'u\', \'2024-01-01 10:00:00\', \'2024-01-01 10:00:00\', \'d\', '
                 '\'precious\')')
        before = (schema(url), dump_rows(url), history(url))
        r = uprun(bundle, pub, url, "apply", "--to", "7.0", "--ack-all")
        expect("apply on a drifted database: refused with exit 7, the difference named",
               r.returncode == 7 and 'drift: table "ServerSideSessions": unexpected column "Extra"' in r.stdout
               and "differs from version 6.3 of the plan in 1 place" in r.stderr and "--allow-drift" in r.stderr, r)
        expect("before any change: schema, rows and history as they were", (schema(url), dump_rows(url),
                                                                           history(url)) == before)
        r = uprun(bundle, pub, url, "--json", "apply", "--to", "7.0", "--ack-all")
        ev = [json.loads(l) for l in r.stdout.splitlines()]
        drift = [x for x in ev if x["event"] == "drift"]
        expect("--json: the drift event names table, object, name and change; the result is 7",
               len(drift) == 1 and drift[0]["table"] == "ServerSideSessions" and drift[0]["object"] == "column"
               and drift[0]["name"] == "Extra" and drift[0]["change"] == "unexpected" and
               drift[0]["found"]["name"] == "Extra" and ev[-1]["code"] == 7, r)
        r = uprun(bundle, pub, url, "rollback", "--to", "6.2")
        expect("rollback on a drifted database: refused with exit 7 too, nothing changed",
               r.returncode == 7 and (schema(url), dump_rows(url), history(url)) == before, r)
        r = uprun(bundle, pub, url, "plan", "--to", "7.0")
        expect("plan shows the path, then refuses as apply would (exit 7)",
               r.returncode == 7 and "step 5 (1 of 1): 6.3 -> 7.0" in r.stdout and "uprun apply refuses" in r.stderr, r)
        r = uprun(bundle, pub, url, "plan", "--to", "7.0", "--allow-drift")
        expect("plan --allow-drift: exit 0", r.returncode == 0, r)
        r = uprun(bundle, pub, url, "apply", "--to", "7.0", "--ack-all", "--allow-drift")
        extra = sql(url, 'SELECT "Extra" FROM "ServerSideSessions"')
        if PG:
            expect("PostgreSQL, --allow-drift: no rebuild, so the step runs and the column keeps its data",
                   r.returncode == 0 and extra == [["precious"]] and "current version: 7.0" in
                   uprun(bundle, pub, url, "status").stdout, r)
        else:
            expect("SQLite, --allow-drift: the rebuild refuses the step (exit 7), naming the column",
                   r.returncode == 7 and 'rebuilds table "ServerSideSessions", which has a column "Extra"' in r.stderr
                   and "rolled back; the database is at version 6.3" in r.stderr, r)
            expect("and the column and its data are intact, the schema as it was",
                   extra == [["precious"]] and schema(url) == before[0] and dump_rows(url) == before[1], None)
        # an index added by hand: refused, then carried over the rebuild (SQLite) or kept (PostgreSQL)
        url2 = new_db(tmp)
        uprun(bundle, pub, url2, "apply", "--to", "6.3", "--ack-all")
        sql(url2, 'CREATE INDEX "IX_Mine" ON "ServerSideSessions" ("Renewed")')
        r = uprun(bundle, pub, url2, "apply", "--ack-all")
        expect("an index added by hand: refused (exit 7), named", r.returncode == 7 and
               'unexpected index "IX_Mine"' in r.stdout, r)
        r = uprun(bundle, pub, url2, "--json", "apply", "--ack-all", "--allow-drift")
        ev = [json.loads(l) for l in r.stdout.splitlines()]
        expect("with --allow-drift it applies, and the index is still there", r.returncode == 0 and
               'unexpected index "IX_Mine"' in uprun(bundle, pub, url2, "verify").stdout, r)
        if not PG:
            expect("SQLite: the rebuild carried it (a carried event)",
                   any(x["event"] == "carried" and x["name"] == "IX_Mine" and x["object"] == "index" for x in ev), r)
        # an index of the plan dropped by hand no longer comes back silently
        url3 = new_db(tmp)
        uprun(bundle, pub, url3, "apply", "--to", "6.3", "--ack-all")
        sql(url3, 'DROP INDEX "IX_ServerSideSessions_Expires"')
        before = (schema(url3), history(url3))
        r = uprun(bundle, pub, url3, "apply", "--ack-all")
        expect("an index dropped by hand: refused (exit 7), named, nothing changed", r.returncode == 7 and
               'index "IX_ServerSideSessions_Expires" is missing' in r.stdout and
               (schema(url3), history(url3)) == before, r)

    elif c == "carry":
        # SQLite: the triggers and views of sql blocks, and indexes added by hand, over rebuilds
        cp = os.path.join(tmp, "carry.upg")
        open(cp, "w").write(
            'plan "carry" { dialects postgres, sqlite; }\n'
            'version "1.0" {\n'
            '  create table A (Id int identity primary key, V int, Gone int);\n'
            '  create table Log (Id int identity primary key, Msg text);\n'
            '  sql sqlite {\n'
            '    up $$CREATE TRIGGER "A_log" AFTER INSERT ON "A" BEGIN INSERT INTO "Log" ("Msg") VALUES '
            "('A ' || new.\"V\"); END;\n"
            'CREATE VIEW "A_view" AS SELECT "Id", "V" FROM "A"$$;\n'
            '    down $$DROP VIEW "A_view"; DROP TRIGGER "A_log"$$;\n'
            '  }\n'
            '  sql postgres { up "SELECT 1"; down "SELECT 1"; }\n'
            '}\n'
            'version "1.1" { alter table A alter column V type bigint allow table_rewrite, sqlite_rebuild; }\n'
            'version "1.2" {\n'
            '  alter table A drop column Gone allow data_loss;\n'
            '  alter table A alter column V type int allow table_rewrite, sqlite_rebuild, narrowing;\n'
            '}\n')
        cb = build(tmp, cp, "carry", key)
        url = new_db(tmp)
        r = uprun(cb, pub, url, "apply", "--to", "1.0")
        expect("a sql block creates a trigger and a view (one statement each)", r.returncode == 0 and
               sql(url, "SELECT type, name FROM sqlite_schema WHERE type IN ('trigger', 'view') ORDER BY name")
               == [["trigger", "A_log"], ["view", "A_view"]], r)
        sql(url, 'INSERT INTO "A" ("V", "Gone") VALUES (1, 2)')
        sql(url, 'CREATE INDEX "IX_hand" ON "A" ("V")')
        r = uprun(cb, pub, url, "--json", "apply", "--to", "1.1", "--allow-drift")
        ev = [json.loads(l) for l in r.stdout.splitlines()]
        carried = sorted(x["name"] for x in ev if x["event"] == "carried")
        expect("the rebuild of A carries the trigger, the view and the index added by hand",
               r.returncode == 0 and carried == ["A_log", "A_view", "IX_hand"], r)
        sql(url, 'INSERT INTO "A" ("V") VALUES (5)')
        expect("and they work: the trigger fires, the view reads the rebuilt table, the index exists",
               sql(url, 'SELECT "Msg" FROM "Log" ORDER BY "Id"') == [["A 1"], ["A 5"]] and
               sql(url, 'SELECT "V" FROM "A_view" ORDER BY "Id"') == [["1"], ["5"]] and
               sql(url, "SELECT count(*) FROM sqlite_schema WHERE name = 'IX_hand'") == [["1"]], None)
        # a view that names the column the next step drops cannot be carried: the step is refused
        sql(url, 'CREATE VIEW "Gone_view" AS SELECT Gone FROM "A"')
        before = (schema(url), dump_rows(url))
        r = uprun(cb, pub, url, "apply", "--to", "1.2", "--allow-drift")
        expect("a view the rebuild would break: the step is refused (exit 7), naming the view",
               r.returncode == 7 and "Gone_view" in r.stderr and "rolled back; the database is at version 1.1" in
               r.stderr and "was carried" not in r.stdout, r)
        expect("and rolled back: the column, the view, the rows are as they were",
               (schema(url), dump_rows(url)) == before and
               sql(url, "SELECT count(*) FROM sqlite_schema WHERE name = 'Gone_view'") == [["1"]], None)
        sql(url, 'DROP VIEW "Gone_view"')
        r = uprun(cb, pub, url, "apply", "--to", "1.2", "--allow-drift")
        expect("without it, the step applies, the trigger and the view carried again", r.returncode == 0 and
               sql(url, "SELECT count(*) FROM sqlite_schema WHERE name IN ('A_log', 'A_view', 'IX_hand')") == [["3"]],
               r)
        r = uprun(cb, pub, url, "rollback", "--to", "1.0", "--allow-drift", "--allow-data-loss")
        expect("rolling back through both rebuilds carries them too", r.returncode == 0 and
               sql(url, "SELECT count(*) FROM sqlite_schema WHERE name IN ('A_log', 'A_view', 'IX_hand')") == [["3"]],
               r)

    elif c == "defaults":
        # PostgreSQL: issue 10, a default expression read as the value it starts with
        dp = os.path.join(tmp, "defaults.upg")
        open(dp, "w").write('plan "defaults" { dialects postgres, sqlite; }\n'
                            'version "1.0" { create table Plans (Id int identity primary key, '
                            'Tier text not null default "free", Seats int not null default 1); }\n')
        db_ = build(tmp, dp, "defaults", key)
        url = new_db(tmp)
        r = uprun(db_, pub, url, "apply")
        r = uprun(db_, pub, url, "verify")
        expect("verify: the defaults match", r.returncode == 0, r)
        sql(url, 'ALTER TABLE "Plans" ALTER COLUMN "Tier" SET DEFAULT \'free\' || \'-trial\'')
        r = uprun(db_, pub, url, "verify")
        expect("a default expression changed by hand is drift, named by its field",
               r.returncode == 7 and 'column "Tier" differs in default: expected "free", found '
               '{"sql":"(\'free\'::text || \'-trial\'::text)"}' in r.stdout, r)
        sql(url, 'ALTER TABLE "Plans" ALTER COLUMN "Tier" SET DEFAULT \'free\'')
        sql(url, 'ALTER TABLE "Plans" ALTER COLUMN "Seats" DROP NOT NULL')
        r = uprun(db_, pub, url, "--json", "verify")
        drift = [json.loads(l) for l in r.stdout.splitlines() if '"drift"' in l]
        expect("a line names the field that differs, with both values (not two whole objects)",
               r.returncode == 7 and len(drift) == 1 and drift[0]["field"] == "not_null" and
               drift[0]["expected"] is True and drift[0]["found"] is False and drift[0]["name"] == "Seats" and
               drift[0]["message"].endswith("differs in not_null: expected true, found false"), r)

    elif c == "waits":
        url = new_db(tmp)
        uprun(bundle, pub, url, "apply", "--to", "6.3", "--ack-all")
        before = (schema(url), dump_rows(url), history(url))
        holder = hold_lock(url)
        try:
            r = uprun(bundle, pub, url, "--json", "apply", "--ack-all", "--db-lock-timeout", "1s", "--retries", "2")
        finally:
            release_lock(url, holder)
        ev = [json.loads(l) for l in r.stdout.splitlines()]
        retries = [x for x in ev if x["event"] == "retry"]
        failed = [x for x in ev if x.get("state") == "failed"]
        expect("another session's lock: each try waits --db-lock-timeout, then is rolled back and retried: "
               "two retries, then exit 5", r.returncode == 5 and [x["attempt"] for x in retries] == [2, 3] and
               all(x["attempts"] == 3 and x["step"] == 5 for x in retries) and len(failed) == 1 and
               failed[0]["code"] == 5 and "3 tries" in ev[-1]["message"] and ev[-1]["code"] == 5, r)
        expect("the database unchanged: schema, rows, history (nothing is recorded for a lock wait)",
               (schema(url), dump_rows(url), history(url)) == before, None)
        r = uprun(bundle, pub, url, "apply", "--ack-all", "--db-lock-timeout", "1s", "--retries", "2")
        expect("once the lock is gone, the same command applies", r.returncode == 0, r)
        # a statement that runs too long is stopped, its step rolled back
        sp = os.path.join(tmp, "slowstep.upg")
        open(sp, "w").write(SLOW_PLAN % (30, 300000000))
        sb = build(tmp, sp, "slowstep", key)
        url2 = new_db(tmp)
        uprun(sb, pub, url2, "apply", "--to", "1.0")
        r = uprun(sb, pub, url2, "apply", "--statement-timeout", "1s")
        expect("--statement-timeout 1s: the long statement is stopped (exit 1), with a hint about the option",
               r.returncode == 1 and "--statement-timeout" in r.stderr and
               "rolled back; the database is at version 1.0" in r.stderr, r)
        expect("and its step rolled back", "current version: 1.0" in uprun(sb, pub, url2, "status").stdout and
               not has_column(url2, "A", "W"), None)
        r = uprun(sb, pub, url2, "apply", "--db-lock-timeout", "0", "--statement-timeout", "x")
        expect("a duration that is not one: exit 2", r.returncode == 2 and "duration" in r.stderr, r)

    elif c == "cancel":
        sp = os.path.join(tmp, "slowstep.upg")
        open(sp, "w").write(SLOW_PLAN % (600, 3000000000))
        sb = build(tmp, sp, "slowstep", key)
        url = new_db(tmp)
        uprun(sb, pub, url, "apply", "--to", "1.0")
        before = schema(url)
        p, out = start_uprun([UPRUN, "--bundle", sb, "--pubkey", pub, "--db", url, "--json", "apply"], until_step=2)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        try:
            stdout, stderr = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        r = subprocess.CompletedProcess(p.args, p.returncode, out + stdout, stderr)
        check_output(p.args, r)
        ev = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        failed = [x for x in ev if x.get("state") == "failed"]
        expect("SIGINT during a long statement: exit 9, the step reported interrupted and rolled back",
               r.returncode == 9 and failed and failed[0]["interrupted"] is True and failed[0]["code"] == 9 and
               failed[0]["version_now"] == "1.0" and ev[-1]["code"] == 9, r)
        if PG:
            expect("no uprun backend is left in pg_stat_activity (polled, bounded)", wait_no_backend(url), None)
        expect("the database is at 1.0, the schema as before, the attempt recorded as interrupted",
               schema(url) == before and "current version: 1.0" in uprun(sb, pub, url, "status").stdout and
               any("interrupted" in h for h in sql(url, "SELECT coalesce(message, '') FROM upgrade_plan_history "
                                                        "WHERE status = 'failed'")[0]), None)
        p, out = start_uprun([UPRUN, "--bundle", sb, "--pubkey", pub, "--db", url, "apply"], until_step=2)
        time.sleep(0.5)
        # two signals pending at once (sent while it is stopped): the second arrives as soon as the
        # first one's handler returns, so the exit cannot be the first signal's orderly one
        p.send_signal(signal.SIGSTOP)
        p.send_signal(signal.SIGTERM)
        p.send_signal(signal.SIGINT)
        p.send_signal(signal.SIGCONT)
        try:
            p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        expect(f"a second signal exits at once: 128 + its number (status {p.returncode})",
               p.returncode in (128 + signal.SIGTERM, 128 + signal.SIGINT), None)
        if PG:
            expect("and the server lets go of its backend too", wait_no_backend(url), None)
        expect("the step was not committed", "current version: 1.0" in uprun(sb, pub, url, "status").stdout and
               schema(url) == before, None)
        # a lock wait is cut short too (it would last ten minutes)
        holder = hold_lock(url, table="A")
        try:
            p, out = start_uprun([UPRUN, "--bundle", sb, "--pubkey", pub, "--db", url, "--json", "apply",
                                  "--db-lock-timeout", "10m", "--retries", "0"], until_step=2)
            time.sleep(0.5)
            p.send_signal(signal.SIGINT)
            try:
                stdout, stderr = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                stdout, stderr = p.communicate()
        finally:
            release_lock(url, holder)
        r = subprocess.CompletedProcess(p.args, p.returncode, out + stdout, stderr)
        check_output(p.args, r)
        expect("SIGINT while a statement waits for another session's lock: exit 9, long before the timeout",
               r.returncode == 9, r)
        expect("and the database is still at 1.0", "current version: 1.0" in uprun(sb, pub, url, "status").stdout,
               None)

    elif c == "events":
        seen = set()

        def events(r):
            ev = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
            for x in ev:
                seen.add(x["event"] + ("/" + x["state"] if "state" in x else ""))
            return ev

        url = new_db(tmp)
        events(uprun(bundle, pub, url, "--json", "status"))
        events(uprun(bundle, pub, url, "--json", "plan", "--sql"))
        events(uprun(bundle, pub, url, "--json", "apply", "--to", "6.2"))
        ev = events(uprun(bundle, pub, url, "--json", "status"))
        st = [x for x in ev if x["event"] == "status"]
        expect("status --json: current_version, the targets with the path to each, the history as objects",
               st and st[0]["current_version"] == "6.2" and
               [t["version"] for t in st[0]["targets"]] == ["6.3", "7.0"] and st[0]["last_version"] == "7.0" and [(s["step"], s["from"], s["to"]) for s in st[0]["way"]] == [(4, "6.2", "6.3"), (5, "6.3", "7.0")]
               and [h["step"] for h in st[0]["history"]] == [1, 2, 3] and
               all(h["status"] == "applied" and h["direction"] == "up" for h in st[0]["history"]) and
               st[0]["history"][0]["from"] is None and st[0]["plan"] == "duende-identityserver", None)
        events(uprun(bundle, pub, url, "--json", "apply", "--ack-all"))
        sql(url, 'DROP INDEX "IX_Keys_Use"')
        events(uprun(bundle, pub, url, "--json", "verify"))
        events(run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--json", "verify-bundle"]))
        events(run([UPRUN, "--json", "--version"]))
        events(run([UPRUN, "--json", "apply", "--help"]))
        fp = os.path.join(tmp, "fails.upg")
        open(fp, "w").write('plan "f" { dialects postgres, sqlite; }\nversion "1.0" { create table A (Id int); }\n'
                            'version "1.1" { sql { up "SELECT nope FROM \\"A\\""; down "SELECT 1"; } }\n')
        fb = build(tmp, fp, "fails", key)
        events(uprun(fb, pub, new_db(tmp), "--json", "apply"))
        sp = os.path.join(tmp, "slowstep.upg")
        open(sp, "w").write(SLOW_PLAN % (3, 30000000))
        sb = build(tmp, sp, "slowstep", key)
        events(uprun(sb, pub, new_db(tmp), "--json", "apply"))
        # usage errors end with a result line too
        for args in (["--json", "--bogus"], ["--json", "status"], ["--json", "frobnicate"], ["--json"],
                     ["--json", "status", "--atomic"], ["--json", "apply", "--to"],
                     ["--json", "apply", "--db-lock-timeout", "soon"]):
            r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, *args], env={"UPRUN_DB": ""} if "status" in args
                    and "--atomic" not in args else None)
            ev = events(r)
            expect(f"uprun {' '.join(args)}: exit 2, the last line the result (code 2)",
                   r.returncode == 2 and ev and ev[-1]["event"] == "result" and ev[-1]["code"] == 2 and
                   ev[-1]["message"], r)
        want = {"info", "notice", "breaking", "finding", "step/begin", "step/done", "step/failed", "progress",
                "sql", "status", "drift", "bundle", "version", "help", "result"}
        expect(f"every kind of event was seen (and validated): missing {sorted(want - seen)}", want <= seen, None)
        print("events seen:", " ".join(sorted(seen)))

    elif c == "cli":
        cwd = tmp
        for db_arg, want in (("app.db", "sqlite:app.db"), ("sqlite://x.db", "sqlite:x.db"),
                             ("mysql://u@h/db", "scheme")):
            r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", db_arg, "status"], cwd=cwd)
            expect(f"--db {db_arg}: exit 2, saying how to write it, no file made", r.returncode == 2 and
                   want in r.stderr and 'missing "="' not in r.stderr and not os.path.exists(os.path.join(cwd, "x.db"))
                   and not os.path.exists(os.path.join(cwd, "app.db")), r)
        main_help = run([UPRUN, "--help"]).stdout
        for cmd in ("status", "plan", "apply", "rollback", "verify", "baseline", "verify-bundle"):
            r = run([UPRUN, cmd, "--help"])
            r2 = run([UPRUN, "help", cmd])
            opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", r.stdout)))
            expect(f"uprun {cmd} --help: its own help (and uprun help {cmd})", r.returncode == 0 and
                   r.stdout.startswith("usage: uprun") and f" {cmd}" in r.stdout.splitlines()[0] and
                   r.stdout != main_help and r2.stdout == r.stdout, r)
            text = r.stdout
            for o in opts:
                if o in ("--help", "--bundle", "--pubkey", "--json"):
                    continue
                value = ["x"] if re.search(rf"{o} [A-Z]", text) else []
                db = [] if cmd == "verify-bundle" else ["--db", "sqlite:" + os.path.join(tmp, "x.db")]
                r = run([UPRUN, "--bundle", os.path.join(tmp, "nothing"), "--pubkey", pub, *db, cmd, o, *value,
                         *(["--to", "x"] if cmd == "rollback" and o != "--to" else []),
                         *(["--version", "x"] if cmd == "baseline" and o != "--version" else [])])
                expect(f"{cmd} accepts {o}, which its help lists (and uprun --help too)",
                       r.returncode in (2, 3) and "does not apply" not in r.stderr and
                       "unknown option" not in r.stderr and o in main_help, r)
        for cmd, o in (("status", "--atomic"), ("verify", "--to"), ("apply", "--sql"), ("rollback", "--backup"),
                       ("plan", "--ack-all")):
            r = uprun(bundle, pub, "sqlite:" + os.path.join(tmp, "never.db"), cmd, *([o, "x"] if o in ("--to", "--backup") else [o]))
            expect(f"{cmd} {o}: refused (exit 2), not ignored", r.returncode == 2 and "does not apply to" in r.stderr, r)
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "apply", "--ack", "v6.3-rotated-refresh-token-deleted")
        expect("--ack with an id that no step has (a typo): exit 2, the ids listed, nothing done",
               r.returncode == 2 and "no step of the bundle has a breaking change" in r.stderr and
               "v6.3-rotated-refresh-tokens-deleted" in r.stderr and not has_table(url, "upgrade_plan_history"), r)
        r = uprun(bundle, pub, url, "apply", "--to", "6.2")
        r = uprun(bundle, pub, url, "plan")
        expect("plan numbers steps by bundle index, as status and the history do", r.returncode == 0 and
               "step 4 (1 of 2): 6.2 -> 6.3" in r.stdout and "step 5 (2 of 2): 6.3 -> 7.0" in r.stdout, r)
        r = uprun(bundle, pub, url, "apply", "--ack-all")
        expect("and so does apply", r.returncode == 0 and "step 4 (1 of 2): 6.2 -> 6.3 applied" in r.stdout and
               "step 5 (2 of 2): 6.3 -> 7.0 applied" in r.stdout, r)
        r = uprun(bundle, pub, url, "rollback", "--to", "empty")
        expect("rollback to empty: 'the database is empty', never 'at version empty'", r.returncode == 0 and
               "done: the database is empty" in r.stdout and "version empty" not in r.stdout + r.stderr, r)
        ip = os.path.join(tmp, "irr.upg")
        open(ip, "w").write('plan "irr" { dialects postgres, sqlite; }\n'
                            'version "1.0" { create table A (Id int identity primary key, V int not null default 0); }\n'
                            'version "1.1" { sql { up "DELETE FROM \\"A\\""; irreversible "deleted rows are gone"; } }\n'
                            'version "1.2" { alter table A drop column V allow data_loss; }\n'
                            'version "1.3" { sql { up $$UPDATE "A"\n   SET "Id" = NULL$$; down "SELECT 1"; } }\n')
        ib = build(tmp, ip, "irr", key)
        url2 = new_db(tmp)
        uprun(ib, pub, url2, "apply", "--to", "1.2")
        r = uprun(ib, pub, url2, "plan", "--to", "1.0", "--allow-data-loss")
        expect("plan through an irreversible step: the path shown, then exit 8 with rollback's reason",
               r.returncode == 8 and "(irreversible: no down-step)" in r.stdout and "()" not in r.stdout and
               "deleted rows are gone" in r.stderr, r)
        r = uprun(ib, pub, url2, "plan", "--to", "1.1")
        expect("plan through a lossy step: exit 8 without --allow-data-loss", r.returncode == 8 and
               "--allow-data-loss" in r.stderr, r)
        r = uprun(ib, pub, url2, "plan", "--to", "1.1", "--allow-data-loss")
        expect("and exit 0 with it", r.returncode == 0 and "lossy" in r.stdout, r)
        sql(url2, 'INSERT INTO "A" DEFAULT VALUES')
        r = uprun(ib, pub, url2, "apply")
        expect("a multi-line statement that fails without a position: the excerpt shows its first line",
               r.returncode == 1 and '    | UPDATE "A"' in r.stderr and 'SET "Id" = NULL' not in r.stderr.split(
                   "statement 1 of 1")[-1].split("uprun: step")[0], r)
        op = os.path.join(tmp, "one.upg")
        open(op, "w").write('plan "one" { dialects sqlite; }\nversion "1.0" { create table A (Id int); }\n')
        ob = build(tmp, op, "one", key)
        r = run([UPRUN, "--bundle", ob, "--pubkey", pub, "verify-bundle"])
        expect("verify-bundle: '1 version', '1 step' (not '1 versions')", r.returncode == 0 and
               "1 version (1.0 to 1.0), 1 step," in r.stdout, r)
        r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--json", "verify-bundle"])
        b = [json.loads(l) for l in r.stdout.splitlines() if '"bundle"' in l]
        expect("verify-bundle --json: the plan and key details", r.returncode == 0 and b and
               b[0]["plan"] == "duende-identityserver" and b[0]["versions"] == versions and
               re.fullmatch(r"[0-9A-F]{16}", b[0]["key_id"]) and b[0]["steps"] == 5 and b[0]["files"] > 5, r)

    elif c == "secrets":
        # PostgreSQL with --secret: the password of --db in no output
        url = new_db(tmp)
        r = uprun(bundle, pub, url, "apply", "--to", "6.1")
        for cmd in (["status"], ["--json", "status"], ["plan", "--sql"], ["verify"]):
            r = uprun(bundle, pub, url, *cmd)
            expect(f"{' '.join(cmd)}: works, the password masked", r.returncode == 0 and
                   (SECRET is None or "****" in r.stdout or cmd[-1] != "status"), r)
        if SECRET:
            wrong = url.replace(SECRET, "Wr0ng-" + SECRET)
            r = uprun(bundle, pub, wrong, "status")
            expect("a wrong password: refused (exit 2), and not shown", r.returncode == 2 and
                   "password authentication failed" in r.stderr, r)
            for bad in (f"host=/nonexistent user=u password={SECRET} {SECRET}X dbname=y",
                        f"host=/nonexistent password='{SECRET}' dbname",
                        f"postgresql://u:{SECRET}@/db?host=%zz"):
                r = uprun(bundle, pub, bad, "status")
                expect("a connection string libpq cannot parse: exit 2, the password hidden", r.returncode == 2, r)
            r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, f"--dbb=postgresql://u:{SECRET}@/db", "status"])
            expect("a mistyped option that holds a URL: exit 2, its password masked", r.returncode == 2 and
                   "postgresql://u:****@/db" in r.stderr, r)
            r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--json", "status", f"postgresql://u:{SECRET}@/db"])
            expect("an unexpected argument that holds a URL, in --json: masked", r.returncode == 2 and
                   "****" in r.stdout, r)
    else:
        sys.exit(f"unknown check {c}")


def secret_setup():
    """--secret: a role that logs in with a password (scram-sha-256, when the server is the test's
    own: its pg_hba.conf gets a line for the role), so that the URLs' passwords are real."""
    base = os.environ["UPG_TEST_PGURI"]
    psql(base, f"CREATE ROLE upg_secret LOGIN SUPERUSER PASSWORD '{SECRET}'")
    hba = psql(base, "SHOW hba_file").strip()
    if os.access(hba, os.W_OK):
        text = open(hba).read()
        with open(hba, "w") as f:
            f.write("local all upg_secret scram-sha-256\n" + text)
        psql(base, "SELECT pg_reload_conf()")
        time.sleep(0.5)
        r = subprocess.run(["psql", pg_url("postgres").replace(SECRET, "wrong"), "-Atc", "SELECT 1"],
                           capture_output=True, text=True)
        expect("the role needs its password (a wrong one is refused)", r.returncode != 0, r)


def secret_sweep():
    """--secret: the password is in no history row of any database the checks made."""
    for url in list(DBNAMES):
        try:
            rows = sql(url, "SELECT upgrade_plan_history::text FROM upgrade_plan_history")
        except RuntimeError:
            continue  # no history table
        leaked = [r for r in rows if SECRET in "|".join(r)]
        expect(f"no history row of {DBNAMES[url]} holds the password", not leaked, None)


with tempfile.TemporaryDirectory() as tmp:
    if SECRET:
        if not PG:
            sys.exit("--secret is for PostgreSQL")
        secret_setup()
    main(tmp)
    if SECRET:
        secret_sweep()
for f in failures:
    print("FAILED", f.splitlines()[0], file=sys.stderr)
print(f"{' '.join(a.checks)} on {a.dialect}: {len(failures)} failures")
sys.exit(1 if failures else 0)
