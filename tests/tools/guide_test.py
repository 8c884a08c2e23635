#!/usr/bin/env python3
"""upc guide and upc graph.

  golden    `upc guide PLAN` byte for byte against tests/guide/NAME.md, for
            plans/identityserver.upg and every tests/emit/*.upg (--update rewrites them)
  facts     the guide says nothing the plan does not say: every code span names
            something written in the plan (or is a uprun/upc command), every notice and
            breaking change is there verbatim, every version on the path has its section
  options   --from/--to ranges, -o FILE, unknown versions, no path, a plan with errors
  graph     `upc graph PLAN | dot -Tsvg` and `-Tpng` work for every plan; one edge per
            step, breaking steps in red, every version a node
  bundle    `upc build` puts the same guide into the bundle as guide.md, listed in the
            manifest with its digest
  tricky    what a review found: a step irreversible on one dialect only, tables made and
            dropped in one step, a step with only a breaking change, a table renamed then
            dropped, hostile names in findings, SQL holding fences, a title over two lines
"""
import argparse
import difflib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--update", action="store_true")
ap.add_argument("check")
a = ap.parse_args()
ROOT = a.root
PLANS = [os.path.join(ROOT, "plans", "identityserver.upg")] + sorted(glob.glob(os.path.join(ROOT, "tests", "emit", "*.upg")))
failures = []


def expect(name, cond, detail=""):
    print(("ok " if cond else "FAILED ") + name + ("" if cond else "\n  " + detail[-3000:]))
    if not cond:
        failures.append(name)
    return cond


def upc(*args, **kw):
    return subprocess.run([a.upc, *args], capture_output=True, text=True, **kw)


def name(plan):
    return os.path.splitext(os.path.basename(plan))[0]


if a.check == "golden":
    for plan in PLANS:
        r = upc("guide", plan)
        exp = os.path.join(ROOT, "tests", "guide", name(plan) + ".md")
        if r.returncode != 0:
            expect(f"upc guide {name(plan)}", False, r.stderr)
            continue
        if a.update:
            open(exp, "w").write(r.stdout)
            print(f"updated {exp}")
            continue
        try:
            want = open(exp).read()
        except FileNotFoundError:
            want = ""
        expect(f"the guide of {name(plan)} is the golden one", r.stdout == want,
               "".join(difflib.unified_diff(want.splitlines(True), r.stdout.splitlines(True), exp, "upc guide")))

elif a.check == "facts":
    for plan in PLANS:
        src = open(plan).read()
        # the text of the plan's strings, with the language's escapes undone
        strings = [re.sub(r'\\(.)', r'\1', m) for m in re.findall(r'"((?:[^"\\]|\\.)*)"', src)]
        strings += re.findall(r'\$\$(.*?)\$\$', src, re.S)
        guide = upc("guide", plan).stdout
        allowed_commands = ("uprun ", "upc ", "pg_dump", "--ack", "--backup", "--sql", "--to", "--allow-data-loss",
                            "--online", "--batch-size", "--batch-pause", "ALTER TABLE")
        prose = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", guide, flags=re.S | re.M)  # fenced blocks out
        spans = re.findall(r"(?<!`)(`+)(?!`) ?(.+?) ?(?<!`)\1(?!`)", prose)
        unknown = []
        for _, span in spans:
            if span.startswith(allowed_commands) or span == os.path.basename(plan):
                continue
            if span in src or any(span in s for s in strings):
                continue
            # a check's expression as the model keeps it, or a name the checker derived (PK_T...)
            if re.fullmatch(r"(PK|AK|FK|CK|IX)_[^`]*", span):
                continue
            unknown.append(span)
        expect(f"{name(plan)}: every name in the guide is in the plan", not unknown, repr(unknown[:10]))
        notices = re.findall(r'(?:notice(?:\s+(?:info|warning))?|breaking\s+"[^"]*")\s+"((?:[^"\\]|\\.)*)"', src)
        missing = [n for n in notices if re.sub(r'\\(.)', r'\1', n) not in guide]
        expect(f"{name(plan)}: every notice and breaking change is in the guide verbatim", not missing,
               repr(missing[:3]))
        rows = re.findall(r"^\| (\d+) \| (\S+) \| (\S+) \|", guide, re.M)
        # the steps that lead the versions off the path there (the way from every version),
        # but the empty database's (the baseline's step, not described)
        ways = re.findall(r"^\| (\S+) \| step (\d+) \(", guide, re.M)
        extra = {n for at, n in ways if at != "empty"} - {n for n, _, _ in rows}
        expect(f"{name(plan)}: one section per step of the overview, in order, then the others",
               rows and guide.count("\n## Step ") == len(rows) + len(extra) and
               all(f"\n## Step {n}: {f} -> {t}\n" in guide for n, f, t in rows) and
               all(f"\n## Step {n}: " in guide for n in extra), repr(rows))
        versions = re.findall(r'^version\s+"([^"]+)"', src, re.M)
        every = re.findall(r"^\| (\S+) \| (?:step \d+ \(|none \|)", guide, re.M)
        expect(f"{name(plan)}: the way from every version but the last (and from empty)",
               len(every) == len(versions), repr(every))
    g = upc("guide", PLANS[0]).stdout
    for needle in ("`ServerSideSessions`", "gains column `CoordinateLifetimeWithUserSession` (bool, nullable)",
                   "`Id`: int -> bigint, rewrites the table on PostgreSQL", "New table `ServerSideSessions`",
                   "`v7.0-iidentityservertools`", "uprun apply --to 7.0", "uprun rollback --to 6.3"):
        expect(f"identityserver: the guide says {needle}", needle in g)
    g = upc("guide", os.path.join(ROOT, "tests", "emit", "every-op.upg")).stdout
    expect("a step that drops data: back-up advice before it, and --allow-data-loss on its rollback",
           "**Back up the database before this step.** It deletes data" in g and "--allow-data-loss" in g)
    g = upc("guide", os.path.join(ROOT, "tests", "emit", "irreversible.upg")).stdout
    expect("an irreversible step: no rollback command, the reason given",
           "It cannot be rolled back" in g and "the deleted events are gone" in g and "rollback --to 1.0\n" not in g)

elif a.check == "options":
    plan = PLANS[0]
    r = upc("guide", plan, "--from", "6.2", "--to", "6.3")
    expect("--from 6.2 --to 6.3: that step only", r.returncode == 0 and r.stdout.count("\n## Step ") == 1 and
           "## Step 4: 6.2 -> 6.3" in r.stdout, r.stderr)
    r = upc("guide", plan, "--from", "empty")
    expect("--from empty: the step that creates the baseline too", r.returncode == 0 and
           "## Step 1: empty -> 6.0" in r.stdout and r.stdout.count("\n## Step ") == 5, r.stderr)
    r = upc("guide", plan, "--from", "7.0")
    expect("--from the last version: nothing to do", r.returncode == 0 and "nothing to do" in r.stdout, r.stderr)
    r = upc("guide", plan, "--to", "9.9")
    expect("an unknown version: exit 2", r.returncode == 2 and 'no version "9.9"' in r.stderr, r.stderr)
    r = upc("guide", plan, "--from", "7.0", "--to", "6.0")
    expect("no path between the versions: exit 2", r.returncode == 2 and "no upgrade path" in r.stderr, r.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "guide.md")
        r = upc("guide", plan, "-o", out)
        expect("-o FILE writes the same guide", r.returncode == 0 and r.stdout == "" and
               open(out).read() == upc("guide", plan).stdout, r.stderr)
        r = upc("guide", plan, "-o", os.path.join(tmp, "no", "such", "dir", "g.md"))
        expect("-o into a missing folder: exit 2, a message", r.returncode == 2 and "could not" in r.stderr, r.stderr)
        r = upc("guide", plan, "-o", "/dev/null")
        expect("-o /dev/null writes to the device, leaving it a device (no rename over it)",
               r.returncode == 0 and os.path.exists("/dev/null") and not os.path.isfile("/dev/null") and
               not glob.glob("/dev/null.tmp-*"), r.stderr)
        r = upc("guide", plan, "-o", tmp)
        expect("-o a folder: exit 2, a message", r.returncode == 2 and "is a folder" in r.stderr, r.stderr)
        bad = os.path.join(tmp, "bad.upg")
        open(bad, "w").write('plan "x" { dialects sqlite; }\nversion "1.0" { alter table Nope add column A int; }\n')
        r = upc("guide", bad)
        expect("a plan with errors: exit 1, the diagnostics, no guide", r.returncode == 1 and r.stdout == "" and
               "E0320" in r.stderr, r.stdout + r.stderr)
        r = upc("graph", bad)
        expect("graph of a plan with errors: exit 1, no graph", r.returncode == 1 and r.stdout == "", r.stdout)
    r = upc("graph", plan, "--to", "6.1")
    expect("graph takes no --to: exit 2", r.returncode == 2, r.stderr)
    r = upc("guide")
    expect("guide without a plan: exit 2", r.returncode == 2, r.stderr)

elif a.check == "graph":
    dot = shutil.which("dot")
    if not dot:
        sys.exit("dot (graphviz) is not installed: run scripts/setup")
    for plan in PLANS:
        r = upc("graph", plan)
        if not expect(f"upc graph {name(plan)}", r.returncode == 0, r.stderr):
            continue
        src = open(plan).read()
        versions = re.findall(r'^version\s+"([^"]+)"', src, re.M)
        edges = re.findall(r'^  "[^\n]*" -> "v:', r.stdout, re.M)
        merges = re.findall(r'^version\s+"[^"]+"[^{\n]*\bmerges\b', src, re.M)
        expect(f"{name(plan)}: one edge per step", len(edges) == len(versions) + len(merges), r.stdout)
        breaking = len(re.findall(r'^\s*breaking\s+"', src, re.M))
        expect(f"{name(plan)}: breaking steps in red", (breaking == 0) == ("color=red" not in r.stdout), r.stdout)
        svg = subprocess.run([dot, "-Tsvg"], input=r.stdout, capture_output=True, text=True)
        expect(f"{name(plan)}: dot -Tsvg draws it", svg.returncode == 0 and "<svg" in svg.stdout and
               all(f">{v}<" in svg.stdout for v in versions), svg.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            png = subprocess.run(f'"{a.upc}" graph "{plan}" | "{dot}" -Tpng -o "{tmp}/g.png"', shell=True,
                                 capture_output=True, text=True)
            ok = png.returncode == 0 and open(f"{tmp}/g.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
            expect(f"{name(plan)}: upc graph | dot -Tpng -o g.png", ok, png.stderr)

elif a.check == "bundle":
    with tempfile.TemporaryDirectory() as tmp:
        upc("keygen", "-o", f"{tmp}/k")
        for plan in PLANS[:2]:
            b = f"{tmp}/{name(plan)}"
            r = upc("build", plan, "-o", b, "--key", f"{tmp}/k.key")
            if not expect(f"build {name(plan)}", r.returncode == 0, r.stderr):
                continue
            data = open(f"{b}/guide.md", "rb").read()
            expect(f"{name(plan)}: the bundle's guide.md is upc guide's output",
                   data.decode() == upc("guide", plan).stdout)
            m = json.load(open(f"{b}/manifest.json"))
            entry = [f for f in m["files"] if f["path"] == "guide.md"]
            expect(f"{name(plan)}: the manifest lists guide.md with its size and SHA-256",
                   entry and entry[0]["size"] == len(data) and entry[0]["sha256"] == hashlib.sha256(data).hexdigest(),
                   json.dumps(m["files"]))
elif a.check == "tricky":
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "tricky.upg")
        open(plan, "w").write(r"""plan "tricky" {
  title "Evil\n# Injected";
  description "A description with an unclosed fence:\n```\nand more";
  dialects postgres, sqlite;
}
version "1.0" {
  create table ren (Id int primary key);
  alter table ren rename to ren2;
  create table tmp (Id int);
  drop table tmp;
  create table keep (Id int primary key, Old int);
  create table `<img src=x onerror=alert(1)>` (Id int primary key);
}
version "1.1" {
  breaking "b1" "Only a breaking change.";
}
version "1.2" {
  notice "An info notice with an unclosed fence:\n```";
  alter table keep rename column Old to Older;
  alter table keep drop column Older allow data_loss;
  alter table `<img src=x onerror=alert(1)>` alter column Id type bigint allow table_rewrite, sqlite_rebuild;
  sql postgres { up $$SELECT 1 AS "````"$$; down "SELECT 1"; }
  sql sqlite { up "SELECT 1"; irreversible "one-way on sqlite"; }
}
version "1.3" {
  alter table keep rename to keep3;
  drop table keep3 allow data_loss;
}
""")
        r = upc("check", plan)
        if not expect("the tricky plan checks clean", r.returncode == 0, r.stderr):
            sys.exit(1)
        g = upc("guide", plan, "--from", "empty").stdout
        step = lambda n: g.split(f"## Step {n}:", 1)[1].split("\n## Step ", 1)[0]
        expect("the title stays one heading", g.startswith("# Evil # Injected: upgrade guide\n") and
               "\n# Injected" not in g, g[:200])
        expect("the description is quoted, so its fence cannot swallow the guide",
               "> A description with an unclosed fence:\n> ```\n> and more\n" in g)
        expect("an info notice is quoted too", "> **Note:** An info notice with an unclosed fence:\n> ```\n" in g)
        s1 = step(1)
        expect("a new database lists the tables it ends with (not one made and dropped in the step)",
               "3 tables:" in s1 and "`ren2`" in s1 and "`tmp`" not in s1 and "`ren`," not in s1, s1)
        expect("a table made and dropped in one step deletes no data", "Back up" not in s1 and
               "--allow-data-loss" not in s1, s1)
        expect("a step with only a breaking change reads right",
               "Step 2 (1.0 -> 1.1) has no schema change and 1 breaking change (`b1`)." in g)
        s3 = step(3)
        expect("irreversible on SQLite only: said so, and the rollback command for the others",
               "On SQLite it cannot be rolled back" in s3 and "uprun rollback --to 1.1 --allow-data-loss" in s3, s3)
        expect("the SQL holding a four-backtick run gets a longer fence", "`````sql\nSELECT 1 AS \"````\"\n`````" in s3, s3)
        findings = s3.split("### What takes time", 1)[1].split("###", 1)[0]
        expect("names in findings cannot become HTML: every < escaped",
               "\\<img" in findings and re.search(r"(?<!\\)[<>]", findings) is None, findings)
        expect("a column renamed then dropped is named as the database has it", "column `Old` of table `keep`" in s3, s3)
        s4 = step(4)
        expect("a table renamed then dropped is named as the database has it",
               "**`keep` is dropped**" in s4 and "the rows of table `keep`" in s4, s4)
        g = upc("guide", plan, "--dialect", "postgres").stdout
        expect("by default the guide starts at the baseline, and says how a new database begins",
               "covers the upgrade from 1.0 to 1.3" in g and "## Step 1:" not in g and
               "A new, empty database starts with step 1 (empty -> 1.0)" in g, g[:1500])
        s3 = g.split("## Step 3:", 1)[1].split("\n## Step ", 1)[0]
        expect("--dialect postgres: the step rolls back, no SQLite SQL or findings",
               "cannot be rolled back" not in s3 and "SQLite" not in s3 and "uprun rollback --to 1.1" in s3, s3)
        r = upc("guide", plan, "--dialect", "oracle")
        expect("--dialect unknown: exit 2", r.returncode == 2, r.stderr)
        upc("keygen", "-o", f"{tmp}/k")
        r = upc("build", plan, "-o", f"{tmp}/b", "--key", f"{tmp}/k.key", "--dialect", "postgres")
        expect("a postgres-only bundle carries the postgres-only guide", r.returncode == 0 and
               open(f"{tmp}/b/guide.md").read() == g, r.stderr)
        r = upc("graph", plan)
        dot = shutil.which("dot")
        expect("the graph marks the step irreversible on SQLite and draws", "irreversible on SQLite" in r.stdout and
               (not dot or subprocess.run([dot, "-Tsvg"], input=r.stdout, capture_output=True, text=True).returncode == 0),
               r.stdout)
else:
    sys.exit(f"unknown check {a.check}")

print(f"{a.check}: {len(failures)} failures")
sys.exit(1 if failures else 0)
