#!/usr/bin/env python3
"""Traceability of diagnostics (STYLE's EVIDENCE-OF link): every code that the
compiler or grammar can emit has an entry in docs/diagnostics.md and a golden
test in tests/diag whose expected output shows it; the docs list no code that
the sources do not have."""
import glob
import os
import re
import sys

root = sys.argv[1]
# Codes that no plan can produce (documented as such): no golden test possible.
UNREACHABLE = {"E0202"}

src = set()
for path in glob.glob(os.path.join(root, "compiler", "**", "*.[chly]"), recursive=True) + \
        glob.glob(os.path.join(root, "grammar", "*.[chly]")):
    src |= set(re.findall(r'"([EW]\d{4})"', open(path, encoding="utf-8").read()))
doc = set(re.findall(r"^## ([EW]\d{4})", open(os.path.join(root, "docs", "diagnostics.md"),
                                                 encoding="utf-8").read(), re.M))
tested = set()
for path in glob.glob(os.path.join(root, "tests", "diag", "*.err")):
    tested |= set(re.findall(r"\[([EW]\d{4})\]", open(path, encoding="utf-8").read()))
problems = []
for c in sorted(src - doc):
    problems.append(f"{c} is emitted but has no entry in docs/diagnostics.md")
for c in sorted(doc - src):
    problems.append(f"{c} is documented but never emitted")
for c in sorted(src - tested - UNREACHABLE):
    problems.append(f"{c} has no golden test in tests/diag")
for p in problems:
    print(p, file=sys.stderr)
print(f"{len(src)} codes, {len(problems)} problems")
sys.exit(1 if problems else 0)
