#!/usr/bin/env python3
"""upc under valgrind's memcheck: no invalid access, no leak, on clean and bad plans."""
import glob
import os
import subprocess
import sys

upc, root = sys.argv[1], sys.argv[2]
cases = [os.path.join(root, "plans", "identityserver.upg")] + \
    sorted(glob.glob(os.path.join(root, "tests", "diag", "*.upg")))[::6]
bad = 0
for c in cases:
    r = subprocess.run(["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=all",
                        "--errors-for-leak-kinds=all", "--error-exitcode=99", upc, "check", c],
                       capture_output=True)
    if r.returncode == 99 or r.returncode not in (0, 1):
        print(f"{c}: memcheck status {r.returncode}\n{r.stderr.decode()[-3000:]}", file=sys.stderr)
        bad += 1
print(f"{len(cases)} plans under memcheck, {bad} with problems")
sys.exit(1 if bad else 0)
