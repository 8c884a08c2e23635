#!/usr/bin/env python3
"""Benchmark: `uprun apply` of a generated N-step plan against the same SQL run
directly by the database's own client, each step in its own transaction.

The plan (the same generator as verify_bench.py) has N versions; each adds a
column to one of ten tables and drops an older one. It is built into a signed
bundle, then applied from empty to the last version:

  uprun     uprun apply: verify the bundle, lock, then per step BEGIN, re-read the
            history, run the statements one by one, insert the history row, COMMIT
  direct    one sqlite3 (or psql) process fed every step's .up.sql of the bundle,
            each wrapped in BEGIN; ... COMMIT; (foreign keys off around the steps
            the manifest says need it): the SQL alone, with no bookkeeping

Each is run --runs times on a fresh database; the best time counts. Prints the
figures and the ratio uprun / direct; asserts nothing (timing lives here, never
in the tests). PostgreSQL: pass --postgres with UPG_TEST_PGURI set, for example
under tests/tools/with_postgres.sh, which starts a server of its own:

    python3 tests/bench/apply_bench.py --upc build-rel/compiler/upc --uprun build-rel/runtime/uprun
    tests/tools/with_postgres.sh python3 tests/bench/apply_bench.py --postgres [...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_bench import plan  # noqa: E402


def direct_script(bundle, manifest, dialect):
    out = []
    for step in manifest["steps"]:
        ds = step["dialects"][dialect]
        body = open(os.path.join(bundle, ds["up"]["path"])).read()
        fk_off = dialect == "sqlite" and ds.get("foreign_keys_off")
        if fk_off:
            out.append("PRAGMA foreign_keys = OFF;\n")
        if ds.get("transactional", True):
            out.append("BEGIN;\n" + body + "\nCOMMIT;\n")
        else:
            out.append(body + "\n")
        if fk_off:
            out.append("PRAGMA foreign_keys = ON;\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upc", default="build/compiler/upc")
    ap.add_argument("--uprun", default="build/runtime/uprun")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--postgres", action="store_true", help="also on the server in UPG_TEST_PGURI")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "bench.upg")
        open(p, "w").write(plan(a.steps))
        subprocess.run([a.upc, "keygen", "-o", os.path.join(tmp, "k")], check=True, capture_output=True)
        bundle = os.path.join(tmp, "bundle")
        subprocess.run([a.upc, "build", p, "-o", bundle, "--key", os.path.join(tmp, "k.key")], check=True,
                       capture_output=True)
        manifest = json.load(open(os.path.join(bundle, "manifest.json")))
        pub = os.path.join(tmp, "k.pub")
        print(f"apply benchmark: {a.steps} steps, best of {a.runs} runs on a fresh database each")

        dialects = ["sqlite"] + (["postgres"] if a.postgres else [])
        counter = [0]

        def fresh(dialect):
            counter[0] += 1
            if dialect == "sqlite":
                return "sqlite:" + os.path.join(tmp, f"db{counter[0]}.sqlite")
            base = os.environ["UPG_TEST_PGURI"]
            name = f"upg_bench_{counter[0]}"
            subprocess.run(["psql", base, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True,
                           capture_output=True)
            return f"{base} dbname={name}"

        for dialect in dialects:
            script = direct_script(bundle, manifest, dialect)
            best_u = best_d = None
            for _ in range(a.runs):
                url = fresh(dialect)
                t0 = time.perf_counter()
                r = subprocess.run([a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url, "-q",
                                    "apply", "--ack-all"], capture_output=True, text=True)
                dt = time.perf_counter() - t0
                if r.returncode != 0:
                    sys.exit(f"uprun apply failed ({r.returncode}): {r.stderr}")
                best_u = dt if best_u is None else min(best_u, dt)

                url = fresh(dialect)
                if dialect == "sqlite":
                    cmd = ["sqlite3", "-bail", url[len("sqlite:"):]]
                else:
                    cmd = ["psql", url, "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-"]
                t0 = time.perf_counter()
                r = subprocess.run(cmd, input=script, capture_output=True, text=True)
                dt = time.perf_counter() - t0
                if r.returncode != 0:
                    sys.exit(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
                best_d = dt if best_d is None else min(best_d, dt)
            client = "sqlite3" if dialect == "sqlite" else "psql"
            print(f"{dialect:8}  uprun apply {best_u:7.3f} s ({best_u / a.steps * 1000:.2f} ms/step)   "
                  f"{client} directly {best_d:7.3f} s ({best_d / a.steps * 1000:.2f} ms/step)   "
                  f"ratio {best_u / best_d:.2f}")


if __name__ == "__main__":
    main()
