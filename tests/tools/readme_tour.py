#!/usr/bin/env python3
"""README's five-minute tour, replayed: the plan it shows is written to shop.upg,
and every `$ command` of its console blocks is run in that order (with the edit the
text asks for between the check and the build); each command's output must be the
one README shows, up to what changes from run to run (key ids, times, user@host).

    readme_tour.py README UPC_DIR UPRUN_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

readme, upc_dir, uprun_dir = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
text = open(readme).read()
# the section, up to the next heading outside a code block
lines, fence = [], None
for line in text.split("## A five-minute tour", 1)[1].splitlines(True)[1:]:
    m = re.match(r"^(`{3,})", line)
    if m and (fence is None or m.group(1) == fence):
        fence = None if fence else m.group(1)
    elif fence is None and line.startswith("## "):
        break
    lines.append(line)
tour = "".join(lines)
blocks = re.findall(r"^(`{3,4})[^\n]*\n(.*?)^\1$", tour, re.S | re.M)
plan = blocks[0][1]
consoles = [b for _, b in blocks if b.startswith("$ ")]
failures = []


def norm(s):
    s = re.sub(r"\b[0-9A-F]{16}\b", "KEYID", s)
    s = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "TIME", s)
    s = re.sub(r"\(\d+\.\d\d s\)", "(T s)", s)
    s = re.sub(r"\b\d+ ms\b", "N ms", s)
    s = re.sub(r"\S+@\S+", "USER@HOST", s)
    return [l.rstrip() for l in s.strip().splitlines()]


with tempfile.TemporaryDirectory() as tmp:
    open(os.path.join(tmp, "shop.upg"), "w").write(plan)
    env = dict(os.environ, PATH=f"{upc_dir}:{uprun_dir}:{os.environ['PATH']}", NO_COLOR="1", COLUMNS="100")
    for block in consoles:
        # split into (command, expected output) pairs
        parts = re.split(r"^\$ (.*)$", block, flags=re.M)[1:]
        for cmd, expected in zip(parts[0::2], parts[1::2]):
            if cmd.startswith("export "):
                for k, v in re.findall(r"(\w+)=(\S+)", cmd):
                    env[k] = v
                continue
            if cmd.startswith("upc build"):
                # the text's edit: accept the finding before building
                p = os.path.join(tmp, "shop.upg")
                src = open(p).read()
                fixed = src.replace("on Orders (Paid);", "on Orders (Paid) allow table_lock;")
                open(p, "w").write(fixed)
            if cmd.startswith("ls "):
                cmd = cmd.replace("ls ", "ls -1 ", 1)
            r = subprocess.run(cmd, shell=True, cwd=tmp, env=env, capture_output=True, text=True)
            got = norm(r.stdout + r.stderr)
            want = norm(expected)
            if cmd.startswith("ls "):
                got, want = sorted(" ".join(got).split()), sorted(" ".join(want).split())
            ok = got == want
            print(("ok " if ok else "FAILED ") + "$ " + cmd)
            if not ok:
                failures.append(cmd)
                print("  README shows:\n    " + "\n    ".join(want) + "\n  the run gives:\n    " + "\n    ".join(got))
    # the guide excerpt
    g = subprocess.run(["upc", "guide", "shop.upg"], cwd=tmp, env=env, capture_output=True, text=True).stdout
    excerpt = [b for f, b in blocks if b.startswith("## Step 2")]
    shown = excerpt[0].rsplit("...", 1)[0] if excerpt else "missing"
    ok = shown.strip() in g
    print(("ok " if ok else "FAILED ") + "the guide excerpt is upc guide's")
    if not ok:
        failures.append("guide")
print(f"README tour: {len(failures)} failures")
sys.exit(1 if failures else 0)
