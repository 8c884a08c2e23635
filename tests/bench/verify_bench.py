#!/usr/bin/env python3
"""Benchmark: uprun verify-bundle on a bundle of N steps x 2 dialects.

Generates a plan of N versions (each adds a column to one of ten tables and
drops an older one, so that every step has SQL and the schema stays small),
builds it signed, and times `uprun verify-bundle` (best of several runs):
the signature, then every file's size and SHA-256 (3 files per step and
dialect), then the listing for extra files. Prints figures; asserts nothing.

    python3 tests/bench/verify_bench.py --upc build/compiler/upc --uprun build/runtime/uprun [--steps 1000]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def plan(n):
    out = ['plan "bench" { dialects postgres, sqlite; }\n', 'version "1.0" {\n']
    for t in range(10):
        out.append(f'  create table T{t} (Id int identity primary key, Name string(50));\n')
    out.append('}\n')
    for i in range(1, n):
        t = i % 10
        out.append(f'version "1.{i}" {{\n  alter table T{t} add column C{i} int;\n')
        if i > 10:
            out.append(f'  alter table T{t} drop column C{i - 10} allow data_loss;\n')
        out.append('}\n')
    return ''.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--upc', default='build/compiler/upc')
    ap.add_argument('--uprun', default='build/runtime/uprun')
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--runs', type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, 'bench.upg')
        open(p, 'w').write(plan(a.steps))
        subprocess.run([a.upc, 'keygen', '-o', os.path.join(tmp, 'k')], check=True, capture_output=True)
        out = os.path.join(tmp, 'bundle')
        t0 = time.perf_counter()
        subprocess.run([a.upc, 'build', p, '-o', out, '--key', os.path.join(tmp, 'k.key')], check=True,
                       capture_output=True)
        build = time.perf_counter() - t0
        files = size = 0
        for root, _, names in os.walk(out):
            for n in names:
                files += 1
                size += os.path.getsize(os.path.join(root, n))
        best = None
        for _ in range(a.runs):
            t0 = time.perf_counter()
            r = subprocess.run([a.uprun, 'verify-bundle', '--bundle', out, '--pubkey',
                                os.path.join(tmp, 'k.pub'), '-q'], capture_output=True)
            dt = time.perf_counter() - t0
            if r.returncode != 0:
                sys.exit(f'verify-bundle failed: {r.stderr.decode()}')
            best = dt if best is None else min(best, dt)
        print(f'steps x dialects   {a.steps} x 2')
        print(f'bundle             {files} files, {size / 1e6:.1f} MB '
              f'(manifest {os.path.getsize(os.path.join(out, "manifest.json")) / 1e6:.2f} MB)')
        print(f'upc build          {build:.2f} s')
        print(f'uprun verify       {best:.3f} s (best of {a.runs})')


if __name__ == '__main__':
    main()
