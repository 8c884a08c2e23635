#!/usr/bin/env python3
"""The man pages: each renders with `man -l` (groff's warnings on, none given),
has its sections, and names every command, option, environment variable and exit
status that the program's --help lists.

    man_test.py PAGE PROGRAM     e.g. build/docs/uprun.1 build/runtime/uprun
    man_test.py PAGE             a page with no program (upg.5): renders, sections
"""
import os
import re
import shutil
import subprocess
import sys

page = sys.argv[1]
prog = sys.argv[2] if len(sys.argv) > 2 else None
failures = []


def expect(name, cond, detail=""):
    print(("ok " if cond else "FAILED ") + name + ("" if cond else "\n  " + str(detail)[-2000:]))
    if not cond:
        failures.append(name)


if not shutil.which("man"):
    sys.exit("man is not installed: run scripts/setup (man-db, groff-base)")
env = dict(os.environ, MANWIDTH="2000", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env)
text = re.sub(r".\x08", "", r.stdout)  # overstrike, if any
expect(f"man -l {os.path.basename(page)} renders, without warnings", r.returncode == 0 and text.strip() and
       not r.stderr.strip(), r.stderr)
for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
    expect(f"section {section}", re.search(rf"^{section}$", text, re.M) is not None)

if prog:
    help_text = subprocess.run([prog, "--help"], capture_output=True, text=True).stdout
    expect(f"{os.path.basename(prog)} --help prints its help", "usage:" in help_text, help_text)
    commands, options, envs, codes = set(), set(), set(), set()
    section = ""
    for line in help_text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line.lower()
            continue
        m = re.match(r"^( {2,})(\S.*?)(?:\s{2,}|$)", line)
        if not m or len(m.group(1)) > 8:  # not a first column (a description's next line)
            continue
        first = m.group(2)
        if section.startswith("commands") and re.match(r"[a-z]", first):
            commands.add(first.split()[0])
        options.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", first))
        if section.startswith("environment"):
            envs.update(re.findall(r"\b[A-Z][A-Z_]{2,}\b", first))
        if section.startswith("exit"):
            codes.update(re.findall(r"^\d+$", first.split()[0]))
    envs.update(re.findall(r"\$([A-Z][A-Z_]+)", help_text))
    expect("the help lists commands and options", commands and options, help_text)
    print("  commands:", " ".join(sorted(commands)))
    print("  options:", " ".join(sorted(options)))

    def named(word):
        return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None

    missing = sorted(w for w in commands | options | envs if not named(w))
    expect(f"every command, option and variable of --help is in the page ({len(commands)} commands, "
           f"{len(options)} options, {len(envs)} variables)", not missing, missing)
    status = text.split("EXIT STATUS", 1)[-1] if "EXIT STATUS" in text else ""
    missing = sorted(c for c in codes if not re.search(rf"^\s+{c}$", status, re.M))
    expect(f"every exit status of --help ({', '.join(sorted(codes))}) is under EXIT STATUS", codes and not missing,
           missing)

print(f"{os.path.basename(page)}: {len(failures)} failures")
sys.exit(1 if failures else 0)
