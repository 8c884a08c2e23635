#!/usr/bin/env python3
"""Hardening (issue 11): what an adversary found in races, lost connections, author SQL and
hostile names, each reproduced on a real database of the dialect.

  txend       a sql block's COMMIT: upc refuses it (E0604); a bundle that has one anyway (re-signed
              here) stops before its history row, saying the step may be partly committed
  bodies      author SQL with statements inside statements: SQLite triggers (BEGIN ... END),
              PostgreSQL functions with dollar quotes and BEGIN ATOMIC bodies, procedures; they
              apply through uprun, roll back, and the statement counts agree with the manifest
  twoplans    two plans at once on one database, many rounds: at most one of them ever gets in,
              the other is refused; no history holds both; no runner claims steps it did not run
  freshfile   (SQLite) a refused runner next to one creating the same new file, many rounds: the
              file and what the other wrote are never deleted
  baselines   concurrent baselines, many rounds: exactly one is recorded
  pubkey      --pubkey through a symbolic link (as Kubernetes mounts secrets) is accepted
  release     an expired bundle refused before any database is opened (and run with
              --allow-expired, recorded in the history); a lower sequence refused after a higher
              one ran, apply and rollback; channels counted apart; --expires reproducible
  rotation    more than one trusted key: --pubkey twice, or a file of keys; a bundle signed by any
              of them verifies, one signed by none is refused naming the keys
  backup      (SQLite) --backup never follows a symbolic link and keeps the source's permissions
  contention  (SQLite) a database held by another process's exclusive lock: exit 5 with a hint for
              apply, rollback, status and --backup; a read-only folder: what it means, what to do
  scs         (PostgreSQL) standard_conforming_strings=off: no false drift on backslash defaults
  lostcommit  (PostgreSQL) the connection reset while the COMMIT's reply is read (a proxy between
              uprun and the server drops it): uprun finds out from the history on a new
              connection, and says so, in text and in --json

usage: hardening_test.py --upc UPC --uprun UPRUN --root SRC --dialect D [--rounds N] CHECK"""
import argparse
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dbkit import Checks, Databases, run, signed_bundle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--dialect", required=True, choices=["sqlite", "postgres"])
ap.add_argument("--rounds", type=int, default=int(os.environ.get("UPG_RACE_ROUNDS", "30")))
ap.add_argument("check")
a = ap.parse_args()
ck = Checks(f"hardening {a.check} ({a.dialect})")
PG = a.dialect == "postgres"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def resign(bundle, key, tmp, rel, text):
    """A copy of bundle whose file rel holds text, listed and signed again with key (the release
    key: what a compromised build, or an older upc, could produce)."""
    import hashlib
    out = os.path.join(tmp, "resigned-" + str(len(os.listdir(tmp))))
    shutil.copytree(bundle, out)
    data = text.encode()
    with open(os.path.join(out, rel), "wb") as f:
        f.write(data)
    man = os.path.join(out, "manifest.json")
    m = open(man).read()
    m, n = re.subn(r'"path": "%s", "sha256": "[0-9a-f]{64}", "size": \d+' % re.escape(rel),
                   f'"path": "{rel}", "sha256": "{hashlib.sha256(data).hexdigest()}", "size": {len(data)}', m)
    assert n == 1, f"{rel} not in the manifest"
    write(man, m)
    comment = open(man + ".minisig").read().splitlines()[2][len("trusted comment: "):]
    r = subprocess.run(["minisign", "-S", "-s", key, "-m", man, "-t", comment], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise SystemExit(f"minisign -S failed: {r.stderr}")
    return out


with tempfile.TemporaryDirectory(prefix="upg-hard-") as tmp:
    dbs = Databases(a.dialect, tmp)

    def bundle_of(name, text):
        plan = write(os.path.join(tmp, name + ".upg"), text)
        return signed_bundle(a.upc, plan, tmp, name)

    def uprun(bundle, pub, url, *args, **kw):
        return run([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url] + list(args), **kw)

    if a.check == "txend":
        bad = write(os.path.join(tmp, "commit.upg"),
                    'plan "c" { dialects postgres, sqlite; }\n'
                    'version "1.0" { create table T (Id int primary key); }\n'
                    'version "1.1" {\n  alter table T add column A int;\n'
                    '  sql { up $$UPDATE "T" SET "A" = 1; COMMIT$$; down "UPDATE \\"T\\" SET \\"A\\" = NULL"; }\n}\n')
        r = run([a.upc, "check", bad])
        ck.expect("upc refuses COMMIT in a sql block (E0604), located", r.returncode == 1 and "E0604" in r.stderr
                  and "commit.upg:5:" in r.stderr and "runs COMMIT" in r.stderr, r)
        for word in ("BEGIN", "START TRANSACTION", "END", "ROLLBACK", "ABORT", "VACUUM", "/* x */ commit work"):
            p2 = write(os.path.join(tmp, "w.upg"), open(bad).read().replace("COMMIT$$", word + "$$"))
            r = run([a.upc, "check", p2])
            ck.expect(f"upc refuses {word} in a sql block", r.returncode == 1 and "E0604" in r.stderr, r)
        for word in ("SAVEPOINT s; ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s", "ROLLBACK WORK TO s"):
            p2 = write(os.path.join(tmp, "w.upg"), open(bad).read().replace("COMMIT$$", word + "$$"))
            r = run([a.upc, "check", p2])
            ck.expect(f"upc accepts {word}, which stays inside the step's transaction",
                      "E0604" not in r.stderr, r)
        good = write(os.path.join(tmp, "select.upg"), open(bad).read().replace("COMMIT$$", "SELECT 1$$"))
        bundle, pub = signed_bundle(a.upc, good, tmp, "select")
        key = os.path.join(tmp, "select-key.key")
        rel = f"{a.dialect}/0002-1.0-to-1.1.up.sql"
        text = open(os.path.join(bundle, rel)).read().replace("SELECT 1", "COMMIT")
        forged = resign(bundle, key, tmp, rel, text)
        db = dbs.new()
        r = uprun(forged, pub, db, "apply", "--to", "1.0")
        ck.expect("apply --to 1.0", r.returncode == 0, r)
        r = uprun(forged, pub, db, "--json", "apply")
        ev = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        failed = [e for e in ev if e.get("event") == "step" and e.get("state") == "failed"]
        ck.expect("a step whose SQL commits: exit 1, the outcome partial, not 'rolled back'",
                  r.returncode == 1 and failed and failed[0]["outcome"] == "partial", r)
        r = uprun(forged, pub, db, "apply")
        r = uprun(forged, pub, db, "status")
        ck.expect("and no history row says it was applied: the database is still recorded at 1.0",
                  "current version: 1.0" in r.stdout, r)
        r2 = uprun(forged, pub, dbs.new(), "apply")
        ck.expect("in text: it may be partly committed, and is not recorded",
                  r2.returncode == 1 and "may be partly committed" in r2.stderr, r2)

    elif a.check == "bodies":
        if PG:
            sqlb = ('  sql postgres {\n'
                    '    up $$CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN RETURN x * 2; END; $f$;\n'
                    'CREATE FUNCTION thrice(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT x * 3; END;\n'
                    'CREATE PROCEDURE bump() LANGUAGE sql BEGIN ATOMIC UPDATE "T" SET "A" = coalesce("A", 0) + 1; UPDATE "T" SET "A" = "A" + 1; END;\n'
                    'CALL bump()$$;\n'
                    '    down "DROP PROCEDURE bump(); DROP FUNCTION thrice(int); DROP FUNCTION twice(int)";\n  }\n'
                    '  sql sqlite { }\n')
        else:
            sqlb = ('  sql sqlite {\n'
                    '    up $$CREATE TRIGGER t_ins AFTER INSERT ON "T" BEGIN UPDATE "T" SET "A" = 1 WHERE "Id" = new."Id"; UPDATE "T" SET "A" = "A" + 1 WHERE "Id" = new."Id"; END;\n'
                    'CREATE TEMP TRIGGER t_tmp AFTER UPDATE ON "T" BEGIN SELECT CASE WHEN new."A" > 99 THEN RAISE(ABORT, \'no\') END; END;\n'
                    'INSERT INTO "T" ("Id") VALUES (7)$$;\n'
                    '    down "DELETE FROM \\"T\\" WHERE \\"Id\\" = 7; DROP TRIGGER t_ins";\n  }\n'
                    '  sql postgres { }\n')
        bundle, pub = bundle_of("bodies", 'plan "b" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key, A int); }\n'
                                'version "1.1" {\n' + sqlb + '}\n')
        db = dbs.new()
        r = uprun(bundle, pub, db, "apply", "--to", "1.0")
        dbs.sql(db, 'INSERT INTO "T" ("Id") VALUES (1)')
        r = uprun(bundle, pub, db, "apply")
        ck.expect("author SQL with bodies applies through uprun", r.returncode == 0, r)
        if PG:
            ck.expect("the functions and the procedure ran", dbs.sql(db, 'SELECT twice(2), thrice(2), "A" FROM "T"')
                      == [["4", "6", "2"]])
        else:
            ck.expect("the trigger's two statements ran", dbs.sql(db, 'SELECT "A" FROM "T" WHERE "Id" = 7') == [["2"]])
        r = uprun(bundle, pub, db, "rollback", "--to", "1.0")
        ck.expect("and rolls back", r.returncode == 0, r)
        m = json.load(open(os.path.join(bundle, "manifest.json")))
        ds = m["steps"][1]["dialects"][a.dialect]
        ck.expect("the manifest counts the statements as the database sees them",
                  ds["up_statements"] == (4 if PG else 3), ds)

    elif a.check == "twoplans":
        base = 'plan "%s" { dialects postgres, sqlite; }\n'
        va = (base % "alpha") + "".join(f'version "1.{i}" {{ create table A{i} (Id int primary key); }}\n'
                                        for i in range(3))
        vb = (base % "beta") + "".join(f'version "1.{i}" {{ create table B{i} (Id int primary key); }}\n'
                                       for i in range(3))
        ba, pa = bundle_of("alpha", va)
        bb, pb = bundle_of("beta", vb)
        both = bad_claim = 0
        for rnd in range(a.rounds):
            db = dbs.new()
            pr = [subprocess.Popen([a.uprun, "--bundle", b, "--pubkey", p, "--db", db, "--lock-timeout", "20",
                                    "apply"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for b, p in ((ba, pa), (bb, pb))]
            outs = [x.communicate() for x in pr]
            if PG:
                plans = [r[0] for r in dbs.sql(db, "SELECT DISTINCT plan FROM upgrade_plan_history")]
            else:
                import sqlite3
                con = sqlite3.connect(db[len("sqlite:"):])
                plans = [r[0] for r in con.execute("SELECT DISTINCT plan FROM upgrade_plan_history")]
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
                con.close()
            if len(plans) > 1:
                both += 1
            for (b, name), x, (out, errt) in zip(((ba, "alpha"), (bb, "beta")), pr, outs):
                if x.returncode == 0 and "done" in out + errt and name not in plans:
                    bad_claim += 1
        ck.expect(f"{a.rounds} rounds of two plans at once: never both in one history", both == 0,
                  type("R", (), {"returncode": both, "stdout": "", "stderr": ""}))
        ck.expect("no runner said done for steps it did not run", bad_claim == 0,
                  type("R", (), {"returncode": bad_claim, "stdout": "", "stderr": ""}))

    elif a.check == "freshfile":
        if PG:
            print("a file-based database only: skipped")
            ck.finish()
        bundle, pub = bundle_of("fresh", 'plan "f" { dialects sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n'
                                'version "1.1" { breaking "b" "Breaks."; create table U (Id int primary key); }\n')
        lost = 0
        for rnd in range(a.rounds * 4):
            path = os.path.join(tmp, f"fresh{rnd}.db")
            url = "sqlite:" + path
            good = subprocess.Popen([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url, "apply", "--ack-all"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            refused = subprocess.Popen([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url, "apply"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            g = good.wait()
            refused.wait()
            if g != 0 or not os.path.exists(path):
                lost += 1
                continue
            r = uprun(bundle, pub, url, "status")
            if "current version: 1.1" not in r.stdout:
                lost += 1
        ck.expect(f"{a.rounds * 4} pairs: the refused runner never deleted the file the other created",
                  lost == 0, type("R", (), {"returncode": lost, "stdout": "", "stderr": ""}))
        path = os.path.join(tmp, "alone.db")
        r = uprun(bundle, pub, "sqlite:" + path, "apply")
        ck.expect("a refused apply alone still leaves no file behind", r.returncode == 6 and not os.path.exists(path), r)

    elif a.check == "baselines":
        bundle, pub = bundle_of("base", 'plan "bl" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n')
        extra = 0
        for rnd in range(a.rounds):
            db = dbs.new()
            dbs.sql(db, 'CREATE TABLE "T" ("Id" integer NOT NULL, CONSTRAINT "PK_T" PRIMARY KEY ("Id"))')
            pr = [subprocess.Popen([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", db, "--lock-timeout", "20",
                                    "baseline", "--version", "1.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                  for _ in range(3)]
            for x in pr:
                x.wait()
            n = int(dbs.sql(db, "SELECT count(*) FROM upgrade_plan_history")[0][0])
            if n != 1:
                extra += 1
        ck.expect(f"{a.rounds} rounds of 3 concurrent baselines: exactly one recorded each time", extra == 0,
                  type("R", (), {"returncode": extra, "stdout": "", "stderr": ""}))

    elif a.check == "pubkey":
        bundle, pub = bundle_of("pk", 'plan "pk" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n')
        os.makedirs(os.path.join(tmp, "secret", "..data"), exist_ok=True)
        shutil.copy(pub, os.path.join(tmp, "secret", "..data", "release.pub"))
        os.symlink("..data/release.pub", os.path.join(tmp, "secret", "release.pub"))
        r = run([a.uprun, "--bundle", bundle, "--pubkey", os.path.join(tmp, "secret", "release.pub"), "verify-bundle"])
        ck.expect("--pubkey through a symbolic link, as Kubernetes mounts a secret: verified", r.returncode == 0, r)
        link = os.path.join(bundle, a.dialect, "link.sql")
        os.symlink("0001-empty-to-1.0.up.sql", link)
        r = run([a.uprun, "--bundle", bundle, "--pubkey", pub, "verify-bundle"])
        ck.expect("a symbolic link inside the bundle is still refused", r.returncode == 3, r)

    elif a.check == "release":
        # issue 15: an expired bundle, and an older one replayed
        text = ('plan "rel" { dialects postgres, sqlite; }\n'
                'version "1.0" { create table T (Id int primary key); }\n'
                'version "1.1" { alter table T add column A int; }\n')
        plan = write(os.path.join(tmp, "rel.upg"), text)
        r = run([a.upc, "keygen", "-o", os.path.join(tmp, "relk")])
        key, pub = os.path.join(tmp, "relk.key"), os.path.join(tmp, "relk.pub")

        def build(name, *opts):
            out = os.path.join(tmp, name)
            r = run([a.upc, "build", plan, "-o", out, "--key", key, *opts])
            assert r.returncode == 0, r.stderr
            return out

        r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "past"), "--key", key, "--expires", "2020-01-01"])
        ck.expect("upc build --expires with a date already past: refused (exit 2)",
                  r.returncode == 2 and "already past" in r.stderr, r)
        for bad in ("2027-02-31", "2027-13-01", "2027-03-01T24:00:00Z", "2027-3-1", "+5d"):
            r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "bad"), "--expires", bad])
            ck.expect(f"upc build --expires {bad}: a usage error", r.returncode == 2, r)
        r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "leap"), "--expires", "2028-02-29T23:59:59Z"])
        ck.expect("a leap day is a date", r.returncode == 0 and json.load(
            open(os.path.join(tmp, "leap", "manifest.json")))["expires"] == 1835481599, r)
        old = build("old", "--expires", "1s")
        time.sleep(2.2)
        fresh = os.path.join(tmp, "never.sqlite")
        url = "sqlite:" + fresh if not PG else "host=/nonexistent-upg-socket dbname=x"
        r = run([a.uprun, "--bundle", old, "--pubkey", pub, "--db", url, "apply"])
        ck.expect("an expired bundle: refused (exit 3) before any database is opened, with the date and "
                  "what to do", r.returncode == 3 and "expired at 20" in r.stderr and " UTC " in r.stderr and
                  "--allow-expired" in r.stderr and not os.path.exists(fresh) and
                  "could not connect" not in r.stderr, r)
        r = run([a.uprun, "--bundle", old, "--pubkey", pub, "verify-bundle"])
        ck.expect("verify-bundle refuses it too (exit 3)", r.returncode == 3 and "expired" in r.stderr, r)
        db = dbs.new()
        r = run([a.uprun, "--bundle", old, "--pubkey", pub, "--db", db, "--allow-expired", "apply", "--to", "1.0"])
        ck.expect("--allow-expired runs it, and says so", r.returncode == 0 and "--allow-expired" in r.stdout, r)
        rows = dbs.sql(db, "SELECT message FROM upgrade_plan_history")
        ck.expect("and the history records it", rows == [["run with an expired bundle (--allow-expired)"]])
        later = build("later", "--expires", "3000-01-01", "--sequence", "5")
        r = run([a.uprun, "--bundle", later, "--pubkey", pub, "--json", "verify-bundle"])
        ev = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        ck.expect("verify-bundle --json: channel, sequence and expiry",
                  r.returncode == 0 and ev and ev[0].get("channel") == "stable" and ev[0].get("sequence") == 5
                  and ev[0].get("expires") == 32503680000, r)
        r = run([a.uprun, "--bundle", later, "--pubkey", pub, "--db", db, "apply"])
        ck.expect("sequence 5 applies over sequence 1", r.returncode == 0, r)
        seq3 = build("seq3", "--sequence", "3")
        for cmd in (["apply"], ["rollback", "--to", "1.0"]):
            r = run([a.uprun, "--bundle", seq3, "--pubkey", pub, "--db", db, *cmd])
            ck.expect(f"{cmd[0]} with sequence 3 after sequence 5 ran: refused (exit 4), nothing changed",
                      r.returncode == 4 and "has run sequence 5 of channel stable" in r.stderr and
                      "current version: 1.1" in run([a.uprun, "--bundle", later, "--pubkey", pub, "--db", db,
                                                     "status"]).stdout, r)
        failing = write(os.path.join(tmp, "failing.upg"), text +
                        'version "1.2" { sql { up "SELECT * FROM nowhere_at_all"; down "SELECT 1"; } }\n')
        out9 = os.path.join(tmp, "seq9")
        r = run([a.upc, "build", failing, "-o", out9, "--key", key, "--sequence", "9"])
        assert r.returncode == 0, r.stderr
        r = run([a.uprun, "--bundle", out9, "--pubkey", pub, "--db", db, "apply"])
        ck.expect("sequence 9 whose step fails: rolled back", r.returncode == 1, r)
        r = run([a.uprun, "--bundle", later, "--pubkey", pub, "--db", db, "rollback", "--to", "1.0"])
        ck.expect("a failed run does not count: sequence 5 still rolls back after it", r.returncode == 0, r)
        r = run([a.uprun, "--bundle", later, "--pubkey", pub, "--db", db, "apply"])
        ck.expect("and applies again", r.returncode == 0, r)
        beta = build("beta", "--channel", "beta", "--sequence", "1")
        r = run([a.uprun, "--bundle", beta, "--pubkey", pub, "--db", db, "rollback", "--to", "1.0"])
        ck.expect("another channel counts on its own: sequence 1 of beta runs", r.returncode == 0, r)
        r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "x"), "--expires", "tomorrow"])
        ck.expect("upc build --expires with a bad value: a usage error (exit 2)", r.returncode == 2 and
                  "--expires takes" in r.stderr, r)
        r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "y"), "--sequence", "0"])
        ck.expect("upc build --sequence 0: a usage error", r.returncode == 2, r)
        epoch = int(time.time()) // 86400 * 86400  # today, as a release's commit date would be
        env = {"SOURCE_DATE_EPOCH": str(epoch)}
        o1 = os.path.join(tmp, "r1")
        o2 = os.path.join(tmp, "r2")
        run([a.upc, "build", plan, "-o", o1, "--expires", "90d"], env=env)
        run([a.upc, "build", plan, "-o", o2, "--expires", "90d"], env=env)
        m1 = json.load(open(os.path.join(o1, "manifest.json")))
        r = run([a.upc, "build", plan, "-o", os.path.join(tmp, "r3"), "--expires", "90d"],
                env={"SOURCE_DATE_EPOCH": "315532800"})
        ck.expect("--expires 90d from a SOURCE_DATE_EPOCH of 1980: refused, saying why",
                  r.returncode == 2 and "counts from SOURCE_DATE_EPOCH" in r.stderr, r)
        ck.expect("--expires 90d counts from SOURCE_DATE_EPOCH: the build stays reproducible",
                  m1["expires"] == epoch + 90 * 86400 and
                  open(os.path.join(o1, "manifest.json")).read() == open(os.path.join(o2, "manifest.json")).read())

    elif a.check == "rotation":
        # issue 15: more than one trusted key, while a release key is rotated
        bundle, pub = bundle_of("rot", 'plan "rot" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n')
        for k in ("new", "other"):
            r = run([a.upc, "keygen", "-o", os.path.join(tmp, k)])
            assert r.returncode == 0, r.stderr
        new, other = os.path.join(tmp, "new.pub"), os.path.join(tmp, "other.pub")
        old_text, new_text = open(pub).read(), open(new).read()
        both = write(os.path.join(tmp, "trusted.pub"),
                     "# the release keys, newest first\n" + new_text + "\n" + old_text)
        r = run([a.uprun, "--bundle", bundle, "--pubkey", both, "--json", "verify-bundle"])
        ev = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        ck.expect("a file of two keys, with a comment and a blank line: the bundle signed by the second "
                  "verifies, and the key that signed it is named",
                  r.returncode == 0 and any(open(pub).read().split("\n")[0].split()[-1] in json.dumps(e)
                                            for e in ev), r)
        r = run([a.uprun, "--bundle", bundle, "--pubkey", new, "--pubkey", pub, "--db", dbs.new(), "apply"])
        ck.expect("--pubkey twice: a bundle signed by the second key applies", r.returncode == 0, r)
        r = run([a.uprun, "--bundle", bundle, "--pubkey", new, "verify-bundle"])
        ck.expect("only the new key: refused (exit 3), names both key ids",
                  r.returncode == 3 and "but the public key given is key" in r.stderr, r)
        r = run([a.uprun, "--bundle", bundle, "--pubkey", new, "--pubkey", other, "verify-bundle"])
        ck.expect("two keys, neither the signer: refused (exit 3), 'none of the 2 trusted keys'",
                  r.returncode == 3 and "none of the 2 trusted keys" in r.stderr, r)
        bad = write(os.path.join(tmp, "bad.pub"), old_text + "untrusted comment: broken\nnot base64!\n")
        r = run([a.uprun, "--bundle", bundle, "--pubkey", bad, "verify-bundle"])
        ck.expect("a key file whose second key is broken: refused (exit 2), its line named",
                  r.returncode == 2 and "line 4" in r.stderr, r)
        spaced = write(os.path.join(tmp, "spaced.pub"),
                       "\r\n".join(l + " \t" for l in (new_text + old_text).splitlines()) + "\r\n")
        r = run([a.uprun, "--bundle", bundle, "--pubkey", spaced, "verify-bundle"])
        ck.expect("a key file with CRLF line ends and trailing blanks after each line: read", r.returncode == 0, r)
        empty = write(os.path.join(tmp, "empty.pub"), "# nothing here\n\n")
        r = run([a.uprun, "--bundle", bundle, "--pubkey", empty, "verify-bundle"])
        ck.expect("a key file with no key: refused (exit 2)", r.returncode == 2 and "holds no key" in r.stderr, r)

    elif a.check == "backup":
        if PG:
            print("SQLite's backup: skipped (PostgreSQL's is tested by runtime-postgres-backup)")
            ck.finish()
        bundle, pub = bundle_of("bk", 'plan "bk" { dialects sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n'
                                'version "1.1" { create table U (Id int primary key); }\n')
        path = os.path.join(tmp, "secret.db")
        uprun(bundle, pub, "sqlite:" + path, "apply", "--to", "1.0")
        os.chmod(path, 0o600)
        target = os.path.join(tmp, "victim")
        link = os.path.join(tmp, "backup.db")
        os.symlink(target, link)
        r = uprun(bundle, pub, "sqlite:" + path, "apply", "--backup", link)
        ck.expect("--backup to a dangling symbolic link: refused, its target not created, nothing changed",
                  r.returncode == 2 and not os.path.exists(target) and
                  "current version: 1.0" in uprun(bundle, pub, "sqlite:" + path, "status").stdout, r)
        bk = os.path.join(tmp, "copy.db")
        old = os.umask(0)
        try:
            r = uprun(bundle, pub, "sqlite:" + path, "apply", "--backup", bk)
        finally:
            os.umask(old)
        ck.expect("the backup of a 0600 database is 0600 too (not world-readable)",
                  r.returncode == 0 and stat.S_IMODE(os.stat(bk).st_mode) == 0o600, r)

    elif a.check == "contention":
        if PG:
            print("SQLite's locks: skipped")
            ck.finish()
        bundle, pub = bundle_of("ct", 'plan "ct" { dialects sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n'
                                'version "1.1" { create table U (Id int primary key); }\n')
        path = os.path.join(tmp, "held.db")
        url = "sqlite:" + path
        uprun(bundle, pub, url, "apply", "--to", "1.1")
        holder = subprocess.Popen([sys.executable, "-c",
                                   "import sqlite3, sys, time\n"
                                   f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
                                   "c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(30)"],
                                  stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()
        try:
            for cmd in (["rollback", "--to", "1.0"], ["status"], ["apply", "--backup", os.path.join(tmp, "b.db")],
                        ["verify"]):
                r = uprun(bundle, pub, url, "--db-lock-timeout", "1", "--retries", "0", *cmd)
                ck.expect(f"{cmd[0]} on a database another process holds exclusively: exit 5, with a hint",
                          r.returncode == 5 and "hint" in r.stderr and "locked" in r.stderr, r)
        finally:
            holder.kill()
            holder.wait()
        # a read-only folder: SQLite cannot write its journal there; as root, as user nobody
        # (root writes anywhere)
        shared = tempfile.mkdtemp(prefix="upg-ro-")
        try:
            os.chmod(shared, 0o755)
            sb = os.path.join(shared, "bundle")
            shutil.copytree(bundle, sb)
            shutil.copy(pub, os.path.join(shared, "release.pub"))
            ro = os.path.join(shared, "ro")
            os.mkdir(ro)
            shutil.copy(path, os.path.join(ro, "app.db"))
            for root_, dirs, files in os.walk(shared):
                for d_ in dirs:
                    os.chmod(os.path.join(root_, d_), 0o755)
                for f_ in files:
                    os.chmod(os.path.join(root_, f_), 0o644)
            os.chmod(os.path.join(ro, "app.db"), 0o666)
            os.chmod(ro, 0o555)
            as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
            r = run(as_user + [a.uprun, "--bundle", sb, "--pubkey", os.path.join(shared, "release.pub"),
                               "--db", "sqlite:" + os.path.join(ro, "app.db"), "rollback", "--to", "1.0"])
            ck.expect("a read-only folder: refused, and the hint says what it means and what to do",
                      r.returncode in (1, 2) and "folder" in r.stderr and "writable" in r.stderr, r)
        finally:
            os.chmod(os.path.join(shared, "ro"), 0o755) if os.path.isdir(os.path.join(shared, "ro")) else None
            shutil.rmtree(shared, ignore_errors=True)

    elif a.check == "scs":
        if not PG:
            print("PostgreSQL's setting: skipped")
            ck.finish()
        bundle, pub = bundle_of("scs", 'plan "s" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key, '
                                'P string(40) default "C:\\\\temp\\\\x", Q text default "it\'s"); }\n')
        db = dbs.new()
        r = uprun(bundle, pub, db, "apply")
        ck.expect("apply", r.returncode == 0, r)
        dbname = db.rsplit("dbname=", 1)[1]
        dbs.sql(db, f'ALTER DATABASE "{dbname}" SET standard_conforming_strings = off')
        r = uprun(bundle, pub, db, "verify")
        ck.expect("verify with standard_conforming_strings = off: no false drift on backslash defaults",
                  r.returncode == 0, r)
        dbs.sql(db, 'ALTER TABLE "T" ALTER COLUMN "P" SET DEFAULT \'C:\\\\temp\\\\y\'')
        r = uprun(bundle, pub, db, "verify")
        ck.expect("and a changed backslash default is still drift", r.returncode == 7, r)

    elif a.check == "lostcommit":
        if not PG:
            print("a server connection only: skipped")
            ck.finish()
        bundle, pub = bundle_of("lc", 'plan "lc" { dialects postgres, sqlite; }\n'
                                'version "1.0" { create table T (Id int primary key); }\n'
                                'version "1.1" { create table U (Id int primary key); }\n')
        # a proxy on a Unix socket: it forwards both ways, and when the client sends a COMMIT
        # (a simple Query message), it forwards it and then cuts the client off before the reply
        host = os.environ["PGHOST"]
        port = os.environ.get("PGPORT", "5432")
        real = os.path.join(host, f".s.PGSQL.{port}")
        pdir = tempfile.mkdtemp(prefix="upg-proxy-")
        psock = os.path.join(pdir, f".s.PGSQL.{port}")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(psock)
        srv.listen(16)
        cut = {"armed": True, "cuts": 0, "refuse": False}

        def pump(src, dst, watch, pair):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if not watch and pair["cut"]:
                        break  # the server's reply to the COMMIT never reaches uprun
                    is_commit = watch and cut["armed"] and data[:1] == b"Q" and b"COMMIT" in data.upper()
                    if is_commit:
                        pair["cut"] = True
                        cut["armed"] = False
                        cut["refuse"] = cut["then_refuse"]  # and no new connection gets through
                    dst.sendall(data)
                    if is_commit:
                        cut["cuts"] += 1
                        time.sleep(0.5)  # the server has it, commits and answers
                        break
            except OSError:
                pass
            finally:
                for s_ in (src, dst):
                    try:
                        s_.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    try:
                        s_.close()
                    except OSError:
                        pass

        def serve():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                if cut["refuse"]:
                    c.close()  # the server is gone, for all uprun can tell
                    continue
                up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                up.connect(real)
                pair = {"cut": False}
                threading.Thread(target=pump, args=(c, up, True, pair), daemon=True).start()
                threading.Thread(target=pump, args=(up, c, False, pair), daemon=True).start()

        cut["then_refuse"] = False
        threading.Thread(target=serve, daemon=True).start()
        try:
            db = dbs.new()
            r = uprun(bundle, pub, db, "apply", "--to", "1.0")
            ck.expect("apply --to 1.0 (directly)", r.returncode == 0, r)
            via = db.replace(f"host={host}", f"host={pdir}") if f"host={host}" in db else db + f" host={pdir}"
            r = uprun(bundle, pub, via, "--json", "apply")
            ev = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
            done = [e for e in ev if e.get("event") == "step" and e.get("state") == "done"]
            failed = [e for e in ev if e.get("event") == "step" and e.get("state") == "failed"]
            ck.expect("the reply to COMMIT was cut", cut["cuts"] >= 1)
            ck.expect("uprun reconnects and reads the history: the step committed, and it says so (exit 0)",
                      r.returncode == 0 and done and not failed and
                      any("connection" in (e.get("message") or "") and "committed" in (e.get("message") or "")
                          for e in ev), r)
            r = uprun(bundle, pub, db, "status")
            ck.expect("the history agrees: at 1.1", "current version: 1.1" in r.stdout, r)
            # the same cut, and the server gone before uprun can ask: the outcome is unknown
            db2 = dbs.new()
            uprun(bundle, pub, db2, "apply", "--to", "1.0")
            via2 = db2.replace(f"host={host}", f"host={pdir}") if f"host={host}" in db2 else db2 + f" host={pdir}"
            cut["armed"] = True
            cut["then_refuse"] = True
            r = uprun(bundle, pub, via2, "apply")
            ck.expect("when the history cannot be read again: exit 1, 'unknown', not 'rolled back'",
                      r.returncode == 1 and "unknown" in r.stderr and "was rolled back" not in r.stderr, r)
            r = uprun(bundle, pub, db2, "status")
            ck.expect("and the history, read directly, says what happened: at 1.1",
                      "current version: 1.1" in r.stdout, r)
        finally:
            srv.close()
            shutil.rmtree(pdir, ignore_errors=True)

    else:
        raise SystemExit(f"unknown check {a.check}")

ck.finish()
