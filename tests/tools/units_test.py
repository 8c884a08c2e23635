#!/usr/bin/env python3
"""Steps that run in units (issue 12): create index ... concurrently, on a real database.

On PostgreSQL the step of the plan below is four units: a transaction (add column C), CREATE INDEX
CONCURRENTLY, CREATE UNIQUE INDEX CONCURRENTLY (each a unit of its own, outside a transaction),
a transaction (add column D) with the step's history row. On SQLite the same step is one
transaction with plain indexes.

  crash     uprun killed (an injected _exit) after every statement and journal row, up and down,
            then run again: it resumes and ends as an uninterrupted run does: the same schema
            (verify), every row, one history row per step, no INVALID index
  kill      (PostgreSQL) uprun killed with SIGKILL at random moments while the indexes of a table
            of 200,000 rows are built, many rounds, then run again: the same end state, no
            INVALID index, every row
  invalid   (PostgreSQL) a unique index that fails on duplicate rows leaves an INVALID index;
            status says "1 of 4 units done" (text and --json), the failure says in_progress; once
            the rows are fixed, apply drops the invalid index first and finishes the step
  neither   (PostgreSQL) a table made by hand with the index's name after unit 1: neither the
            unit's precheck nor its postcheck holds, so uprun stops (exit 7), names the unit and
            the plan line, and changes nothing; once the table is gone, apply finishes
  online    (PostgreSQL) a foreign key, a check and set not null added "online" (NOT VALID, then
            VALIDATE as a unit of its own): killed after every statement and journal row and
            resumed, the same end state and no helper check left; a null row stops the validation
            with the step in progress, and once it is fixed apply finishes
  online-type  (PostgreSQL) alter column ... type bigint online (expand, backfill in batches,
            verify, validate, indexes concurrently, swap, contract): killed after every statement
            and journal row, up and down, then resumed: the same schema, every row and value, no
            INVALID index, no helper left; SIGKILL at random moments while 200,000 rows are copied,
            then resumed, the same; the helper column dropped by hand mid-step: neither check
            holds, exit 7, nothing changed; --online never/always/auto and --online-threshold
            choose the lowering, plan shows it, the history records it; --json progress of the
            batches
  refusals  (PostgreSQL) --atomic and a rollback while a step is in progress are refused, nothing
            changed; upc sql's output (BEGIN and COMMIT around the transactional units only)
            runs in psql

usage: units_test.py --upc UPC --uprun UPRUN --dialect D [--rounds N] CHECK"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbkit import Checks, Databases, run, signed_bundle  # noqa: E402
import uprun_events  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
ap.add_argument("--rounds", type=int, default=int(os.environ.get("UPG_RACE_ROUNDS", "30")) // 3)
ap.add_argument("check")
a = ap.parse_args()
ck = Checks(f"units {a.check} ({a.dialect})")
PG = a.dialect == "postgres"
UPC, UPRUN = os.path.abspath(a.upc), os.path.abspath(a.uprun)

PLAN = '''plan "conc" { dialects postgres, sqlite; }
version "1.0" {
  create table T (Id int identity primary key, A string(40), B int);
}
version "1.1" {
  alter table T add column C int;
  create index IX_T_A on T (A) concurrently;
  create unique index UX_T_B on T (B) concurrently;
  alter table T add column D int;
}
'''

ONLINE_PLAN = '''plan "online" { dialects postgres, sqlite; }
version "1.0" {
  create table C (Id int identity primary key, Name string(40));
  create table O (Id int identity primary key, CId int, Total int);
}
version "1.1" {
  alter table O add foreign key (CId) references C (Id) online allow sqlite_rebuild;
  alter table O add check "\\"Total\\" > 0" online allow sqlite_rebuild;
  alter table C alter column Name set not null online allow sqlite_rebuild;
}
'''

TYPE_PLAN = '''plan "sessions" { dialects postgres, sqlite; }
version "1.0" {
  create table S (Id int identity primary key, Key string(60) not null, Data text);
  create unique index IX_S_Key on S (Key);
}
version "1.1" {
  alter table S alter column Id type bigint online allow sqlite_rebuild;
}
'''


def uprun(bundle, pub, url, *args, env=None):
    r = run([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", url, *args], env=env)
    if "--json" in args:  # every --json line against docs/events.schema.json
        bad = uprun_events.problems(a.root, r.stdout)
        ck.expect(f"--json output of {' '.join(args)} fits docs/events.schema.json" +
                  (": " + "; ".join(bad[:3]) if bad else ""), not bad, r if bad else None)
    return r


def invalid_indexes(db, url):
    if not PG:
        return 0
    return int(db.sql(url, "SELECT count(*) FROM pg_index WHERE NOT indisvalid")[0][0])


def applied_rows(db, url, direction):
    return int(db.sql(url, "SELECT count(*) FROM upgrade_plan_history WHERE step = 2 AND "
                           f"direction = '{direction}' AND status IN ('applied', 'reverted')")[0][0])


def fresh(db, bundle, pub, rows):
    url = db.new()
    r = uprun(bundle, pub, url, "apply", "--to", "1.0")
    assert r.returncode == 0, r.stderr
    db.sql(url, f'INSERT INTO "T" ("A", "B") SELECT \'a\' || g, g FROM generate_series(1, {rows}) g'
           if PG else
           f'WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {rows}) '
           f'INSERT INTO "T" ("A", "B") SELECT \'a\' || x, x FROM g')
    return url


def in_progress(bundle, pub, url):
    """status --json's in_progress member (None: no step in progress)."""
    r = uprun(bundle, pub, url, "--json", "status")
    st = [json.loads(x) for x in r.stdout.splitlines() if '"event":"status"' in x]
    return st[0]["in_progress"] if st else None


def stopped_after(db, bundle, pub, done, rows):
    """A database at 1.0 whose apply of step 2 was killed with exactly `done` units journaled:
    the first crash point (an injected _exit) that leaves it so."""
    for k in range(1, 100):
        url = fresh(db, bundle, pub, rows)
        r = uprun(bundle, pub, url, "apply", env={"UPG_FAULT_EXIT_AFTER": str(k)})
        p = in_progress(bundle, pub, url)
        if r.returncode == 99 and p and p["units_done"] == done:
            return url
    sys.exit(f"no crash point leaves {done} units done")


def crash_loops(db, bundle, pub, what):
    """Killed after each crash point of step 2, up and down, then resumed: the same end state."""
    for direction in ("up", "down"):
        k, crashes, bad = 1, 0, []
        while k < 200:
            url = fresh(db, bundle, pub, 500)
            if direction == "down":
                r = uprun(bundle, pub, url, "apply")
                assert r.returncode == 0, r.stderr
            args = ["apply"] if direction == "up" else ["rollback", "--to", "1.0"]
            r = uprun(bundle, pub, url, *args, env={"UPG_FAULT_EXIT_AFTER": str(k)})
            if r.returncode == 0:
                break
            crashes += 1
            if r.returncode != 99:
                bad.append(f"k={k}: exit {r.returncode}: {r.stderr[-300:]}")
                break
            r = uprun(bundle, pub, url, *args)
            version = "1.1" if direction == "up" else "1.0"
            v = uprun(bundle, pub, url, "verify")
            rows = int(db.sql(url, 'SELECT count(*) FROM "T"')[0][0])
            if (r.returncode != 0 or v.returncode != 0 or f"matches version {version}" not in v.stdout
                    or rows != 500 or invalid_indexes(db, url) != 0
                    or applied_rows(db, url, direction) != 1):
                bad.append(f"k={k}: resume exit {r.returncode}, verify {v.returncode}, rows {rows}, "
                           f"invalid {invalid_indexes(db, url)}: {r.stderr[-400:]} {v.stdout[-300:]}")
            k += 1
        ck.expect(f"{what}, {direction}: killed after each of {crashes} statements and journal rows, "
                  "then resumed: the same schema, every row, one history row, no INVALID index"
                  + ("" if not bad else ": " + "; ".join(bad[:3])),
                  crashes >= (2 if PG else 1) and not bad)


def end_state_ok(db, bundle, pub, url, version, rows, what):
    r = uprun(bundle, pub, url, "verify")
    ok = r.returncode == 0 and f"matches version {version}" in r.stdout
    count = int(db.sql(url, 'SELECT count(*) FROM "T"')[0][0])
    ok = ok and count == rows and invalid_indexes(db, url) == 0
    return ck.expect(f"{what}: verify matches {version}, {rows} rows kept, no INVALID index", ok, r)


def main(tmp):
    db = Databases(a.dialect, tmp)
    plan = os.path.join(tmp, "conc.upg")
    with open(plan, "w") as f:
        f.write(PLAN)
    bundle, pub = signed_bundle(UPC, plan, tmp)
    m = json.load(open(os.path.join(bundle, "manifest.json")))
    d = m["steps"][1]["dialects"][a.dialect]
    if PG:
        ck.expect("the manifest lists the two concurrent indexes as units of their own, up and down",
                  [x["statement"] for x in d.get("up_units", [])] == [2, 3] and
                  [x["statement"] for x in d.get("down_units", [])] == [2, 3] and
                  not d["transactional"] and d["up_units"][0]["fix"].startswith("DROP INDEX CONCURRENTLY"))
    else:
        ck.expect("on SQLite the step is one transaction with plain indexes",
                  "up_units" not in d and d["transactional"] and "CONCURRENTLY" not in
                  open(os.path.join(bundle, d["up"]["path"])).read())

    if a.check == "crash":
        first = os.path.join(tmp, "first.upg")
        with open(first, "w") as f:
            f.write(PLAN.split('version "1.1"')[0] + 'version "1.1" {\n  create index IX_T_A on T (A) concurrently;\n}\n')
        fb, fpub = signed_bundle(UPC, first, tmp, "first")
        crash_loops(db, bundle, pub, "the step of four units")
        crash_loops(db, fb, fpub, "a step that is one unit of its own (nothing transactional before it)")

    elif a.check == "kill":
        rows, bad, killed = 200000, [], 0
        url = fresh(db, bundle, pub, rows)
        t0 = time.monotonic()
        r = uprun(bundle, pub, url, "apply")
        took = time.monotonic() - t0  # an uninterrupted run: the kills fall inside one
        ck.expect(f"an uninterrupted apply takes {took:.2f} s", r.returncode == 0, r)
        for i in range(a.rounds):
            url = fresh(db, bundle, pub, rows)
            p = subprocess.Popen([UPRUN, "--bundle", bundle, "--pubkey", pub, "--db", url, "apply"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0.0, took))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed += 1
            p.wait()
            # the server ends the dead client's backend (client_connection_check_interval)
            for _ in range(100):
                if db.sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'uprun'")[0][0] == "0":
                    break
                time.sleep(0.1)
            r = uprun(bundle, pub, url, "apply")
            if r.returncode != 0:
                bad.append(f"round {i}: resume exit {r.returncode}: {r.stderr[-400:]}")
                continue
            v = uprun(bundle, pub, url, "verify")
            n = int(db.sql(url, 'SELECT count(*) FROM "T"')[0][0])
            if v.returncode != 0 or n != rows or invalid_indexes(db, url) or applied_rows(db, url, "up") != 1:
                bad.append(f"round {i}: verify {v.returncode}, rows {n}, invalid {invalid_indexes(db, url)}")
        ck.expect(f"{a.rounds} rounds, {killed} killed mid-step with SIGKILL, each resumed: verify matches, "
                  f"{rows} rows, no INVALID index" + ("" if not bad else ": " + "; ".join(bad[:3])),
                  not bad and killed > 0)

    elif a.check == "invalid":
        url = fresh(db, bundle, pub, 300)
        db.sql(url, 'UPDATE "T" SET "B" = 1 WHERE "Id" <= 2')
        r = uprun(bundle, pub, url, "apply")
        ck.expect("a unique index over duplicate rows fails the step (exit 1), which is in progress and "
                  "resumes at unit 3", r.returncode == 1 and "resumes at unit 3" in r.stderr and
                  "step 2 is in progress: 2 of 4 units are done" in r.stderr, r)
        ck.expect("and leaves the INVALID index PostgreSQL makes", invalid_indexes(db, url) == 1)
        r = uprun(bundle, pub, url, "status")
        ck.expect("status: step 2 in progress, 2 of 4 units done",
                  r.returncode == 0 and "step 2 (1.0 -> 1.1) is in progress: 2 of 4 units done" in r.stdout, r)
        r = uprun(bundle, pub, url, "--json", "status")
        st = [json.loads(x) for x in r.stdout.splitlines() if '"status"' in x and '"event":"status"' in x]
        ck.expect("status --json: in_progress with units_done and units",
                  st and st[0]["in_progress"] == {"step": 2, "from": "1.0", "to": "1.1", "units_done": 2,
                                                  "units": 4}, r)
        r = uprun(bundle, pub, url, "--json", "apply")
        ev = [json.loads(x) for x in r.stdout.splitlines()]
        failed = [e for e in ev if e.get("event") == "step" and e.get("state") == "failed"]
        ck.expect("--json: the failure's outcome is in_progress, unit 3 of 4, from the plan line",
                  failed and failed[0]["outcome"] == "in_progress" and failed[0]["unit"] == 3 and
                  failed[0]["units"] == 4 and failed[0]["origin"] == "conc.upg:8:3", r)
        db.sql(url, 'UPDATE "T" SET "B" = "Id" + 1000000 WHERE "Id" <= 2')
        r = uprun(bundle, pub, url, "--json", "apply")
        ev = [json.loads(x) for x in r.stdout.splitlines()]
        units = [e for e in ev if e.get("event") == "unit"]
        ck.expect("once the rows are fixed, apply resumes at unit 3: drops the invalid index, builds it, "
                  "then unit 4", r.returncode == 0 and [(e["unit"], e["how"]) for e in units] ==
                  [(3, "fixed and ran"), (4, "ran")], r)
        end_state_ok(db, bundle, pub, url, "1.1", 300, "after the fix")

    elif a.check == "neither":
        url = stopped_after(db, bundle, pub, 1, 100)
        # whether the killed run had built the index or not: someone drops it and takes the name
        db.sql(url, 'DROP INDEX IF EXISTS "IX_T_A"; CREATE TABLE "IX_T_A" (x int)')
        r = uprun(bundle, pub, url, "apply")
        ck.expect("a table with the index's name: neither check holds, exit 7, unit and plan line named",
                  r.returncode == 7 and "unit 2 of 4" in r.stderr and "conc.upg:7:3" in r.stderr and
                  "neither its postcheck" in r.stderr and "Nothing was changed" in r.stderr, r)
        ck.expect("and nothing was changed: no index, the table there, no unit more journaled",
                  db.sql(url, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('IX_T_A', 'UX_T_B')")[0][0] == "0"
                  and db.sql(url, "SELECT max(unit) FROM upgrade_plan_units")[0][0] == "1")
        db.sql(url, 'DROP TABLE "IX_T_A"')
        r = uprun(bundle, pub, url, "apply")
        ck.expect("once the table is gone, apply finishes the step", r.returncode == 0, r)
        end_state_ok(db, bundle, pub, url, "1.1", 100, "after the repair")

    elif a.check == "refusals":
        url = fresh(db, bundle, pub, 50)
        r = uprun(bundle, pub, url, "apply", "--atomic")
        ck.expect("--atomic over a step in units: refused (exit 2), nothing changed",
                  r.returncode == 2 and "--atomic cannot include step 2" in r.stderr and
                  applied_rows(db, url, "up") == 0, r)
        url = stopped_after(db, bundle, pub, 1, 50)
        r = uprun(bundle, pub, url, "rollback", "--to", "empty")
        ck.expect("a rollback while step 2 is in progress: refused, says to finish it first",
                  r.returncode != 0 and "is in progress" in r.stderr and "uprun apply --to 1.1" in r.stderr, r)
        r = uprun(bundle, pub, url, "rollback", "--to", "1.0")
        ck.expect("a rollback to the version the step started from: refused too, not 'nothing to do'",
                  r.returncode != 0 and "is in progress" in r.stderr, r)
        r = uprun(bundle, pub, url, "apply")
        ck.expect("apply finishes it", r.returncode == 0, r)
        end_state_ok(db, bundle, pub, url, "1.1", 50, "finished")
        r = uprun(bundle, pub, url, "rollback", "--to", "1.0")
        ck.expect("and the step rolls back in units", r.returncode == 0 and "unit 4 of 4" in r.stdout, r)
        end_state_ok(db, bundle, pub, url, "1.0", 50, "rolled back")
        url = db.new()
        s = run([UPC, "sql", plan, "--dialect", "postgres", "--to", "1.1"])
        p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"], input=s.stdout,
                           capture_output=True, text=True)
        ck.expect("upc sql's script (COMMIT before each concurrent index, BEGIN after) runs in psql",
                  s.returncode == 0 and p.returncode == 0 and s.stdout.count("BEGIN;") == 3 and
                  db.sql(url, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('IX_T_A', 'UX_T_B')")[0][0] == "2",
                  p)
    elif a.check == "online":
        oplan = os.path.join(tmp, "online.upg")
        with open(oplan, "w") as f:
            f.write(ONLINE_PLAN)
        ob, opub = signed_bundle(UPC, oplan, tmp, "online")

        def start(null_name=False):
            url = db.new()
            r = uprun(ob, opub, url, "apply", "--to", "1.0")
            assert r.returncode == 0, r.stderr
            db.sql(url, 'INSERT INTO "C" ("Name") SELECT \'c\' || g FROM generate_series(1, 50) g; '
                        'INSERT INTO "O" ("CId", "Total") SELECT 1 + g % 50, g FROM generate_series(1, 500) g')
            if null_name:
                db.sql(url, 'UPDATE "C" SET "Name" = NULL WHERE "Id" = 7')
            return url

        def ok_end(url):
            v = uprun(ob, opub, url, "verify")
            left = db.sql(url, "SELECT count(*) FROM pg_constraint WHERE conname LIKE '\\_upg\\_%' OR NOT convalidated")[0][0]
            return (v.returncode == 0 and "matches version 1.1" in v.stdout and left == "0" and
                    db.sql(url, 'SELECT count(*) FROM "O"')[0][0] == "500")

        k, crashes, bad = 1, 0, []
        while k < 100:
            url = start()
            r = uprun(ob, opub, url, "apply", "--online", "always", env={"UPG_FAULT_EXIT_AFTER": str(k)})
            if r.returncode == 0:
                break
            crashes += 1
            r2 = uprun(ob, opub, url, "apply", "--online", "always")
            if r.returncode != 99 or r2.returncode != 0 or not ok_end(url):
                bad.append(f"k={k}: exit {r.returncode}, resume {r2.returncode}: {r2.stderr[-300:]}")
            k += 1
        ck.expect(f"killed after each of {crashes} statements and journal rows, then resumed: verify "
                  "matches, every row, every constraint validated, no helper check left"
                  + ("" if not bad else ": " + "; ".join(bad[:3])), crashes >= 6 and not bad)
        url = start(null_name=True)
        r = uprun(ob, opub, url, "apply", "--online", "always")
        ck.expect("a null row: the validation of the not-null check fails, the step is in progress",
                  r.returncode == 1 and "in progress" in r.stderr and "VALIDATE CONSTRAINT" in r.stderr, r)
        p = in_progress(ob, opub, url)
        ck.expect("status: the units before it are done", p is not None and p["units_done"] >= 5, None)
        db.sql(url, 'UPDATE "C" SET "Name" = \'seven\' WHERE "Id" = 7')
        r = uprun(ob, opub, url, "apply", "--online", "always")
        ck.expect("once the row is fixed, apply finishes the step", r.returncode == 0 and ok_end(url), r)
    elif a.check == "online-type":
        tplan = os.path.join(tmp, "sessions.upg")
        with open(tplan, "w") as f:
            f.write(TYPE_PLAN)
        tb, tpub = signed_bundle(UPC, tplan, tmp, "sessions")
        digest = ('SELECT count(*), coalesce(sum("Id"), 0), md5(coalesce(string_agg("Id" || \'=\' || "Key" || '
                  '\'=\' || coalesce("Data", \'\'), \',\' ORDER BY "Id"), \'\')) FROM "S"')

        def start(rows):
            url = db.new()
            r = uprun(tb, tpub, url, "apply", "--to", "1.0")
            assert r.returncode == 0, r.stderr
            db.sql(url, f'INSERT INTO "S" ("Key", "Data") SELECT \'k\' || g, CASE WHEN g % 7 = 0 THEN NULL '
                        f'ELSE repeat(\'d\', g % 50) END FROM generate_series(1, {rows}) g; ANALYZE "S"')
            return url

        def leftovers(url):
            return int(db.sql(url, "SELECT (SELECT count(*) FROM pg_attribute WHERE attname LIKE '\\_upg\\_%' "
                                   "AND NOT attisdropped AND attnum > 0 AND attrelid IN (SELECT oid FROM pg_class WHERE "
                                   "relkind = 'r')) + (SELECT count(*) FROM pg_proc WHERE "
                                   "proname LIKE '\\_upg\\_%') + (SELECT count(*) FROM pg_trigger WHERE tgname "
                                   "LIKE '\\_upg\\_%') + (SELECT count(*) FROM pg_class WHERE relname LIKE "
                                   "'\\_upg\\_%')")[0][0])

        def end_ok(url, version, want, problems, what):
            v = uprun(tb, tpub, url, "verify")
            got = db.sql(url, digest)[0]
            ok = (v.returncode == 0 and f"matches version {version}" in v.stdout and got == want and
                  invalid_indexes(db, url) == 0 and leftovers(url) == 0)
            if not ok:
                problems.append(f"{what}: verify {v.returncode} {v.stdout[-200:]}, rows {got[:2]} want "
                                f"{want[:2]}, invalid {invalid_indexes(db, url)}, helpers {leftovers(url)}")
            return ok

        d = json.load(open(os.path.join(tb, "manifest.json")))["steps"][1]["dialects"]["postgres"]
        kinds = [u.get("kind", "alone") for u in d.get("up_units", [])]
        ck.expect("the manifest: units in batches, alone and a transaction of its own, an estimate and "
                  "the offline lowering", "batches" in kinds and "transaction" in kinds and
                  d.get("estimate") and d.get("offline", {}).get("transactional") is True, None)

        # killed after every statement and journal row, up and down, then resumed
        for direction in ("up", "down"):
            k, crashes, bad = 1, 0, []
            while k < 400:
                url = start(250)
                if direction == "down":
                    r = uprun(tb, tpub, url, "apply", "--online", "always")
                    assert r.returncode == 0, r.stderr
                want = db.sql(url, digest)[0]
                args = (["apply"] if direction == "up" else ["rollback", "--to", "1.0"]) + \
                    ["--online", "always", "--batch-size", "60"]
                r = uprun(tb, tpub, url, *args, env={"UPG_FAULT_EXIT_AFTER": str(k)})
                if r.returncode == 0:
                    break
                crashes += 1
                if r.returncode != 99:
                    bad.append(f"k={k}: exit {r.returncode}: {r.stderr[-300:]}")
                    break
                r = uprun(tb, tpub, url, *args[:-2] if direction == "up" else args)  # auto resumes online
                if r.returncode != 0:
                    bad.append(f"k={k}: resume exit {r.returncode}: {r.stderr[-300:]}")
                else:
                    end_ok(url, "1.1" if direction == "up" else "1.0", want, bad, f"k={k}")
                    if applied_rows(db, url, direction) != 1:
                        bad.append(f"k={k}: {applied_rows(db, url, direction)} history rows")
                k += 1
            ck.expect(f"online change of type, {direction}: killed after each of {crashes} statements and "
                      "journal rows, then resumed: verify matches, every row and value, no INVALID index, "
                      "no helper left" + ("" if not bad else ": " + "; ".join(bad[:3])),
                      crashes >= 20 and not bad)

        # SIGKILL at random moments while the rows are copied
        rows, bad, killed = 200000, [], 0
        url = start(rows)
        t0 = time.monotonic()
        r = uprun(tb, tpub, url, "apply", "--online", "always", "--batch-size", "2000")
        took = time.monotonic() - t0
        ck.expect(f"an uninterrupted online apply of {rows} rows takes {took:.2f} s", r.returncode == 0, r)
        for i in range(a.rounds):
            url = start(rows)
            want = db.sql(url, digest)[0]
            p = subprocess.Popen([UPRUN, "--bundle", tb, "--pubkey", tpub, "--db", url, "apply", "--online",
                                  "always", "--batch-size", "2000"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(random.uniform(0.0, took))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed += 1
            p.wait()
            for _ in range(100):
                if db.sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'uprun'")[0][0] == "0":
                    break
                time.sleep(0.1)
            r = uprun(tb, tpub, url, "apply")
            if r.returncode != 0:
                bad.append(f"round {i}: resume exit {r.returncode}: {r.stderr[-400:]}")
                continue
            end_ok(url, "1.1", want, bad, f"round {i}")
        ck.expect(f"{a.rounds} rounds, {killed} killed with SIGKILL mid-step, each resumed (auto goes on "
                  "online): verify matches, every row and value, no INVALID index, no helper left"
                  + ("" if not bad else ": " + "; ".join(bad[:3])), not bad and killed > 0)

        # the helper column dropped by hand after the expand: neither check of the backfill holds
        url = start(100)
        for k in range(1, 60):
            url = start(100)
            r = uprun(tb, tpub, url, "apply", "--online", "always", env={"UPG_FAULT_EXIT_AFTER": str(k)})
            p = in_progress(tb, tpub, url)
            if r.returncode == 99 and p and p["units_done"] == 1:
                break
        col = db.sql(url, "SELECT attname FROM pg_attribute WHERE attname LIKE '\\_upg\\_%new' AND NOT attisdropped")[0][0]
        db.sql(url, f'ALTER TABLE "S" DROP COLUMN "{col}" CASCADE')
        r = uprun(tb, tpub, url, "apply")
        ck.expect("the copy dropped by hand: neither check of the backfill holds, exit 7, unit 2 and the "
                  "plan line named, nothing changed", r.returncode == 7 and "unit 2 of" in r.stderr and
                  "sessions.upg:7:3" in r.stderr and "neither its postcheck" in r.stderr and
                  db.sql(url, "SELECT max(unit) FROM upgrade_plan_units")[0][0] == "1", r)
        nn = col[:-len("new")] + "nn"  # the check went with the column: both put back
        db.sql(url, f'ALTER TABLE "S" ADD COLUMN "{col}" bigint; ALTER TABLE "S" ADD CONSTRAINT "{nn}" '
                    f'CHECK ("{col}" IS NOT NULL) NOT VALID')
        r = uprun(tb, tpub, url, "apply")
        ok = []
        ck.expect("once the column and its check are back, apply finishes the step (the backfill fills it)",
                  r.returncode == 0 and end_ok(url, "1.1", db.sql(url, digest)[0], ok, "repaired"), r)

        # the operator chooses
        url = start(300)
        r = uprun(tb, tpub, url, "plan")
        ck.expect("plan: auto runs offline below the threshold, and says why",
                  r.returncode == 0 and "runs offline: --online auto" in r.stdout and "300 rows" in r.stdout, r)
        r = uprun(tb, tpub, url, "plan", "--online-threshold", "100")
        ck.expect("plan --online-threshold 100: online", "runs online: --online auto" in r.stdout, r)
        r = uprun(tb, tpub, url, "--json", "plan", "--online", "never")
        ev = [json.loads(x) for x in r.stdout.splitlines()]
        ck.expect("plan --json: the step's lowering and reason",
                  any(e.get("lowering") == "offline" and e.get("reason") == "--online never" for e in ev), r)
        want = db.sql(url, digest)[0]
        r = uprun(tb, tpub, url, "apply", "--online", "never")
        msg = db.sql(url, "SELECT message FROM upgrade_plan_history WHERE step = 2")[0][0]
        ck.expect("apply --online never: the plain ALTER, one transaction, recorded in the history",
                  r.returncode == 0 and "unit" not in r.stdout and msg == "ran offline (--online never)", r)
        end_ok(url, "1.1", want, ok, "offline")
        r = uprun(tb, tpub, url, "rollback", "--to", "1.0", "--online-threshold", "10")
        msg = db.sql(url, "SELECT message FROM upgrade_plan_history WHERE direction = 'down'")[0][0]
        ck.expect("rollback, auto above the threshold: online, recorded", r.returncode == 0 and
                  msg.startswith("ran online (--online auto") and "unit 7 of 7" in r.stdout, r)
        ck.expect("both ends: verify matches, every row and value", end_ok(url, "1.0", want, ok, "back") and
                  not ok, None)

        # progress of the batches, in --json
        url = start(3000)
        r = uprun(tb, tpub, url, "--json", "apply", "--online", "always", "--batch-size", "100",
                  "--batch-pause", "60ms")
        prog = [json.loads(x) for x in r.stdout.splitlines() if '"event":"progress"' in x]
        ck.expect("--json: progress events of the backfill with rows copied and the estimate",
                  r.returncode == 0 and prog and prog[-1]["rows"] == 3000 and
                  prog[-1]["rows_estimated"] == 3000 and prog[-1]["unit"] == 2, r)
    else:
        sys.exit(f"unknown check {a.check}")


with tempfile.TemporaryDirectory(prefix="upg-units-") as tmp:
    main(tmp)
ck.finish()
