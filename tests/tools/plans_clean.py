#!/usr/bin/env python3
"""Every plan in plans/ checks clean with -Werror: no error, no warning, no output."""
import argparse
import glob
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--upc", required=True)
ap.add_argument("plans")
a = ap.parse_args()
plans = sorted(glob.glob(os.path.join(a.plans, "*.upg")))
if not plans:
    print("no plans found", file=sys.stderr)
    sys.exit(1)
bad = 0
for p in plans:
    r = subprocess.run([a.upc, "check", "-Werror", p], capture_output=True, text=True)
    if r.returncode != 0 or r.stdout or r.stderr:
        print(f"{p}: exit {r.returncode}\n{r.stdout}{r.stderr}", file=sys.stderr)
        bad += 1
    else:
        print(f"ok {p}")
sys.exit(1 if bad else 0)
