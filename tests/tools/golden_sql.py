#!/usr/bin/env python3
"""Golden SQL: `upc sql PLAN --dialect D` (the whole upgrade path) followed by
`upc sql PLAN --dialect D --down` (the whole rollback path), compared byte for
byte with EXPECTED. When the rollback is refused (an irreversible step), the
expected file records upc's message instead. --update rewrites EXPECTED."""
import argparse
import difflib
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("--update", action="store_true")
ap.add_argument("plan")
ap.add_argument("dialect")
ap.add_argument("expected")
a = ap.parse_args()

up = subprocess.run([a.upc, "sql", a.plan, "--dialect", a.dialect, "--online"], capture_output=True, text=True)
if up.returncode != 0:
    sys.exit(f"upc sql failed ({up.returncode}):\n{up.stderr}")
down = subprocess.run([a.upc, "sql", a.plan, "--dialect", a.dialect, "--down", "--online"],
                      capture_output=True, text=True)
actual = up.stdout + "\n"
if down.returncode == 0:
    actual += down.stdout
elif down.returncode == 1:
    actual += "".join("-- " + l + "\n" for l in down.stderr.splitlines())
else:
    sys.exit(f"upc sql --down failed ({down.returncode}):\n{down.stderr}")
if a.update:
    open(a.expected, "w").write(actual)
    print(f"updated {a.expected}")
    sys.exit(0)
try:
    expected = open(a.expected).read()
except FileNotFoundError:
    sys.exit(f"missing {a.expected}: run with --update")
if actual != expected:
    sys.stderr.writelines(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                               fromfile=a.expected, tofile="actual"))
    sys.exit(1)
print(f"ok {a.expected}")
