#!/usr/bin/env python3
"""Bundle tests (upc build, upc keygen, uprun verify-bundle), one check per
sub-command, each in a temporary folder of its own:

  reproducible  two builds of a plan are identical byte for byte (diff -r), also from
                another folder, with a relative or an absolute plan path; SOURCE_DATE_EPOCH
                is the only date, and only when set
  minisign      minisign -V verifies a bundle signed by upc build; keys made by
                minisign -G -W and by minisign -G (password) sign bundles uprun accepts
  tamper        tests/run/tamper_test on a fresh signed bundle
  cli           uprun verify-bundle's exit statuses and messages
  schema        every manifest validates against docs/manifest.schema.json
  previous      upc build --previous: a new version is accepted (the sequence carried on), an
                edited released version refused naming it and what changed (SQL, notices, a
                step gone), a change of layout and comments only accepted
  deltas        the schema files read as docs/bundle-format.md says (by this script, not by
                uprun) give upc schema --at V for every version and dialect of every test plan
                and of plans/; a table that gains a column each version is patched, not repeated
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--uprun", required=True)
ap.add_argument("--tamper")
ap.add_argument("--root", required=True)
ap.add_argument("check")
a = ap.parse_args()
upc, uprun = os.path.abspath(a.upc), os.path.abspath(a.uprun)
plan = os.path.join(a.root, "plans", "identityserver.upg")
failures = []


def run(args, cwd=None, env=None, input=None):
    e = dict(os.environ)
    e.pop("SOURCE_DATE_EPOCH", None)
    e.update(env or {})
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, input=input)


def expect(name, cond, r=None):
    if cond:
        print("ok", name)
        return
    detail = ""
    if r is not None:
        detail = f"\n  status {r.returncode}\n  stdout {r.stdout[-800:]!r}\n  stderr {r.stderr[-800:]!r}"
    failures.append(name + detail)


def same_tree(x, y):
    c = filecmp.dircmp(x, y)
    if c.left_only or c.right_only or c.diff_files or c.funny_files:
        return False
    return all(same_tree(os.path.join(x, s), os.path.join(y, s)) for s in c.common_dirs) and \
        all(filecmp.cmp(os.path.join(x, f), os.path.join(y, f), shallow=False) for f in c.common_files)


with tempfile.TemporaryDirectory() as tmp:
    r = run([upc, "keygen", "-o", os.path.join(tmp, "k")])
    expect("upc keygen", r.returncode == 0, r)
    key, pub = os.path.join(tmp, "k.key"), os.path.join(tmp, "k.pub")

    if a.check == "reproducible":
        b1, b2, b3 = (os.path.join(tmp, n) for n in ("one", "two", "three"))
        r1 = run([upc, "build", plan, "-o", b1, "--key", key])
        r2 = run([upc, "build", plan, "-o", b2, "--key", key])
        other = os.path.join(tmp, "elsewhere")
        os.makedirs(other)
        shutil.copy(plan, other)
        r3 = run([upc, "build", "identityserver.upg", "-o", b3, "--key", key], cwd=other)
        expect("builds succeed", r1.returncode == r2.returncode == r3.returncode == 0, r3)
        expect("two builds are identical", same_tree(b1, b2))
        expect("a build from another folder, with a relative path, is identical", same_tree(b1, b3))
        diff = run(["diff", "-r", b1, b2])
        expect("diff -r finds nothing", diff.returncode == 0 and not diff.stdout, diff)
        r = run([upc, "build", plan, "-o", b1, "--key", key])
        expect("a rebuild into an existing bundle replaces it", r.returncode == 0 and same_tree(b1, b2), r)
        m = json.load(open(os.path.join(b1, "manifest.json")))
        sig = open(os.path.join(b1, "manifest.json.minisig")).read()
        expect("no date without SOURCE_DATE_EPOCH", m["created"] is None and "timestamp:" not in sig)
        d1, d2 = os.path.join(tmp, "dated1"), os.path.join(tmp, "dated2")
        run([upc, "build", plan, "-o", d1, "--key", key], env={"SOURCE_DATE_EPOCH": "1700000000"})
        run([upc, "build", plan, "-o", d2, "--key", key], env={"SOURCE_DATE_EPOCH": "1700000000"})
        m = json.load(open(os.path.join(d1, "manifest.json")))
        sig = open(os.path.join(d1, "manifest.json.minisig")).read()
        expect("SOURCE_DATE_EPOCH is the date", m["created"] == 1700000000 and "timestamp:1700000000\t" in sig)
        expect("dated builds are identical too", same_tree(d1, d2))
        text = open(os.path.join(b1, "manifest.json")).read()
        expect("no absolute path in the manifest", tmp not in text and os.path.abspath(a.root) not in text)
        r = run([upc, "build", plan, "-o", os.path.join(tmp, "unsigned")])
        expect("an unsigned build says so", r.returncode == 0 and b"not signed" in r.stdout
               and not os.path.exists(os.path.join(tmp, "unsigned", "manifest.json.minisig")), r)
        os.makedirs(os.path.join(tmp, "busy"))
        open(os.path.join(tmp, "busy", "precious.txt"), "w").write("keep me")
        r = run([upc, "build", plan, "-o", os.path.join(tmp, "busy"), "--key", key])
        expect("a folder holding something else is not overwritten", r.returncode == 2 and
               open(os.path.join(tmp, "busy", "precious.txt")).read() == "keep me", r)
        r = run([upc, "build", plan, "-o", os.path.join(tmp, "pg"), "--key", key, "--dialect", "postgres"])
        m = json.load(open(os.path.join(tmp, "pg", "manifest.json")))
        expect("--dialect builds one dialect", r.returncode == 0 and m["dialects"] == ["postgres"]
               and not os.path.exists(os.path.join(tmp, "pg", "sqlite")), r)

    elif a.check == "minisign":
        out = os.path.join(tmp, "b")
        run([upc, "build", plan, "-o", out, "--key", key])
        r = run(["minisign", "-Vm", os.path.join(out, "manifest.json"), "-p", pub])
        expect("minisign -V verifies a bundle signed by upc", r.returncode == 0 and
               b"plan:duende-identityserver\tversion:7.0" in r.stdout, r)
        mpub, mkey = os.path.join(tmp, "m.pub"), os.path.join(tmp, "m.key")
        r = run(["minisign", "-G", "-W", "-p", mpub, "-s", mkey])
        expect("minisign -G -W", r.returncode == 0, r)
        out2 = os.path.join(tmp, "b2")
        r = run([upc, "build", plan, "-o", out2, "--key", mkey])
        expect("upc build signs with a minisign -W key", r.returncode == 0, r)
        r = run([uprun, "verify-bundle", "--bundle", out2, "--pubkey", mpub])
        expect("uprun accepts a bundle signed with a minisign key", r.returncode == 0, r)
        r = run(["minisign", "-Vm", os.path.join(out2, "manifest.json"), "-p", mpub])
        expect("and minisign verifies it too", r.returncode == 0, r)
        epub, ekey = os.path.join(tmp, "e.pub"), os.path.join(tmp, "e.key")
        r = run(["minisign", "-G", "-p", epub, "-s", ekey], input=b"correct horse\ncorrect horse\n")
        if r.returncode == 0:
            out3 = os.path.join(tmp, "b3")
            r = run([upc, "build", plan, "-o", out3, "--key", ekey], env={"UPG_KEY_PASSWORD": "correct horse"})
            expect("a password-protected minisign key signs", r.returncode == 0, r)
            r = run([uprun, "verify-bundle", "--bundle", out3, "--pubkey", epub])
            expect("and uprun accepts the bundle", r.returncode == 0, r)
            r = run([upc, "build", plan, "-o", os.path.join(tmp, "b4"), "--key", ekey],
                    env={"UPG_KEY_PASSWORD": "wrong"}, input=b"")
            expect("a wrong password is refused", r.returncode == 2 and b"wrong password" in r.stderr, r)
        else:
            expect("minisign -G with a password", False, r)
        r = run([uprun, "verify-bundle", "--bundle", out, "--pubkey", mpub])
        expect("the wrong public key is refused, naming both key ids", r.returncode == 3 and
               b"signed with key" in r.stderr and b"public key given is key" in r.stderr, r)

    elif a.check == "tamper":
        out = os.path.join(tmp, "b")
        run([upc, "build", plan, "-o", out, "--key", key])
        r = subprocess.run([a.tamper, out, pub, key])
        expect("tamper_test", r.returncode == 0)

    elif a.check == "cli":
        out = os.path.join(tmp, "b")
        run([upc, "build", plan, "-o", out, "--key", key])
        r = run([uprun, "verify-bundle", "--bundle", out, "--pubkey", pub])
        expect("verify-bundle: exit 0 and a summary", r.returncode == 0 and b"verified" in r.stdout, r)
        r = run([uprun, "verify-bundle", "--bundle", out])
        expect("verify-bundle without --pubkey: exit 2", r.returncode == 2, r)
        r = run([uprun, "verify-bundle", "--bundle", os.path.join(tmp, "nope"), "--pubkey", pub])
        expect("a missing bundle: exit 2", r.returncode == 2, r)
        r = run([uprun, "verify-bundle", "--bundle", out, "--pubkey", key])
        expect("a secret key given as public key: exit 2", r.returncode == 2, r)
        with open(os.path.join(out, "postgres", "0002-6.0-to-6.1.up.sql"), "a") as f:
            f.write("DROP TABLE \"Clients\";\n")
        r = run([uprun, "verify-bundle", "--bundle", out, "--pubkey", pub])
        expect("a changed SQL file: exit 3, named", r.returncode == 3 and
               b"postgres/0002-6.0-to-6.1.up.sql" in r.stderr and b"hint:" in r.stderr, r)
        r = run([uprun, "--help"])
        expect("--help", r.returncode == 0 and b"verify-bundle" in r.stdout, r)
        r = run([uprun, "frobnicate"])
        expect("unknown command: exit 2", r.returncode == 2, r)

    elif a.check == "schema":
        import jsonschema
        schema = json.load(open(os.path.join(a.root, "docs", "manifest.schema.json")))
        jsonschema.Draft7Validator.check_schema(schema)
        plans = [plan] + [os.path.join(a.root, "tests", "emit", f) for f in
                          sorted(os.listdir(os.path.join(a.root, "tests", "emit"))) if f.endswith(".upg")]
        for p in plans:
            out = os.path.join(tmp, os.path.basename(p))
            r = run([upc, "build", p, "-o", out, "--key", key])
            if r.returncode != 0:
                expect(f"build {p}", False, r)
                continue
            m = json.load(open(os.path.join(out, "manifest.json")))
            errs = sorted(jsonschema.Draft7Validator(schema).iter_errors(m), key=str)
            expect(f"{os.path.basename(p)}: the manifest validates against the JSON Schema",
                   not errs, None)
            for e in errs[:5]:
                print("   ", e.message, "at", list(e.path))
        bad = {"format": "upgrade-plan-bundle", "format_version": 1}
        expect("the schema rejects an incomplete manifest",
               any(True for _ in jsonschema.Draft7Validator(schema).iter_errors(bad)))
    elif a.check == "previous":
        base = ('plan "p" { dialects postgres, sqlite; }\n'
                'version "1.0" {\n  create table T (Id int primary key, A int);\n  notice "First.";\n}\n'
                'version "1.1" {\n  alter table T add column B int;\n}\n')

        def plan_file(name, text):
            path = os.path.join(tmp, name + ".upg")
            with open(path, "w") as f:
                f.write(text)
            return path

        v1 = os.path.join(tmp, "v1")
        r = run([upc, "build", plan_file("p1", base), "-o", v1, "--key", key, "--channel", "lts"])
        expect("the first release builds", r.returncode == 0, r)

        def again(name, text, *opts):
            out = os.path.join(tmp, name + ".bundle")
            return run([upc, "build", plan_file(name, text), "-o", out, "--key", key, "--previous", v1, *opts]), out

        r, out = again("p2", base + 'version "1.2" {\n  alter table T add column C int;\n}\n')
        m = json.load(open(os.path.join(out, "manifest.json"))) if r.returncode == 0 else {}
        expect("a new version after the released ones: accepted, the channel and the sequence + 1 carried on",
               r.returncode == 0 and m.get("sequence") == 2 and m.get("channel") == "lts", r)
        r, _ = again("p3", base.replace("add column B int", "add column B bigint"))
        expect("a released version edited: refused (exit 1), naming the version and what changed",
               r.returncode == 1 and b"version 1.1 was released" in r.stderr and
               b"up-step runs other statements" in r.stderr and b"new version after it" in r.stderr, r)
        r, _ = again("p4", base.replace('notice "First."', 'notice "First!"'))
        expect("a released notice edited: refused", r.returncode == 1 and b"version 1.0" in r.stderr and
               b"notices changed" in r.stderr, r)
        r, _ = again("p5", base.split('version "1.1"')[0])
        expect("a released version gone: refused", r.returncode == 1 and b"no such step" in r.stderr, r)
        r, _ = again("p6", "-- a comment, and another layout\n" + base.replace("\n  ", "\n\n    "))
        expect("comments and layout only (the origin lines move): accepted", r.returncode == 0, r)
        r, _ = again("p7", base, "--sequence", "1")
        expect("--sequence not above the previous one: a usage error (exit 2)", r.returncode == 2, r)
        r = run([upc, "build", plan_file("p9", base.replace('plan "p"', 'plan "q"')), "-o",
                 os.path.join(tmp, "p9.b"), "--previous", v1])
        expect("--previous of another plan's bundle: exit 2, names both plans", r.returncode == 2 and
               b'is of plan "p", not "q"' in r.stderr, r)
        r = run([upc, "build", plan_file("p8", base), "-o", os.path.join(tmp, "p8.b"), "--previous",
                 os.path.join(tmp, "nowhere")])
        expect("--previous of a folder without a bundle: exit 2, said why", r.returncode == 2 and
               b"previous bundle" in r.stderr, r)
    elif a.check == "deltas":
        ARRAYS = ("checks", "columns", "foreign_keys", "indexes", "unique")

        def key(e):
            if isinstance(e, str):
                return e
            if isinstance(e.get("name"), str):
                return e["name"]
            return json.dumps(e, sort_keys=True)

        def apply(tables, d):
            for n in d["removed"]:
                tables.pop(n, None)
            for t in d["changed"]:
                tables[t["name"]] = {k: ({key(e): e for e in v} if k in ARRAYS else v) for k, v in t.items()}
            for p in d["patched"]:
                t = tables[p["name"]]
                for k, v in p.items():
                    if k == "primary_key":
                        t[k] = v
                    elif k in ARRAYS:
                        for e in v["drop"]:
                            del t[k][key(e)]
                        for e in v["put"]:
                            t[k][key(e)] = e

        def plain(tables):
            out = []
            for name in sorted(tables):
                t = tables[name]
                out.append({k: (sorted(v.values(), key=lambda e: (key(e), json.dumps(e, sort_keys=True)))
                                if k in ARRAYS else v) for k, v in t.items()})
            return out

        def norm(schema):
            return plain({t["name"]: {k: ({key(e): e for e in v} if k in ARRAYS else v) for k, v in t.items()}
                          for t in schema["tables"]})

        os.makedirs(os.path.join(tmp, "plans"))
        grow = os.path.join(tmp, "plans", "grow.upg")
        with open(grow, "w") as f:
            f.write('plan "grow" { dialects postgres, sqlite; }\n'
                    'version "1.0" { create table T (Id int identity primary key); }\n')
            for i in range(1, 40):
                f.write(f'version "1.{i}" {{ alter table T add column C{i} int; }}\n')
        emit = os.path.join(a.root, "tests", "emit")
        plans = [plan, os.path.join(a.root, "plans", "kratos.upg"), grow] + \
            [os.path.join(emit, f) for f in sorted(os.listdir(emit)) if f.endswith(".upg")]
        for p in plans:
            out = os.path.join(tmp, os.path.basename(p))
            r = run([upc, "build", p, "-o", out])
            if r.returncode != 0:
                expect(f"build {p}", False, r)
                continue
            m = json.load(open(os.path.join(out, "manifest.json")))
            bad = []
            for dialect in m["dialects"]:
                tables, by_to = {}, {s["to"]: s for s in m["steps"]}
                for v in m["versions"]:
                    chain, w = [], v["name"]
                    while w:
                        chain.append(by_to[w])
                        w = by_to[w]["from"]
                    tables = {}
                    for st in reversed(chain):
                        with open(os.path.join(out, st["dialects"][dialect]["schema"]["path"])) as f:
                            apply(tables, json.load(f))
                    r = run([upc, "schema", p, "--dialect", dialect, "--at", v["name"], "-q"])
                    if r.returncode != 0 or plain(tables) != norm(json.loads(r.stdout)):
                        bad.append(f"{dialect} {v['name']}")
            expect(f"{os.path.basename(p)}: the deltas give upc schema --at for every version "
                   f"({len(m['versions'])} x {len(m['dialects'])}){': ' + ', '.join(bad[:5]) if bad else ''}",
                   not bad, None)
            if p == grow:
                last = m["steps"][-1]["dialects"]["postgres"]["schema"]["path"]
                d = json.load(open(os.path.join(out, last)))
                expect("a column added to a table of 40 columns is a patch of that column",
                       d["changed"] == [] and len(d["patched"]) == 1 and
                       [c["name"] for c in d["patched"][0]["columns"]["put"]] == ["C39"] and
                       d["patched"][0]["columns"]["drop"] == [], None)
    else:
        sys.exit(f"unknown check {a.check}")

for f in failures:
    print("FAILED", f, file=sys.stderr)
sys.exit(1 if failures else 0)
