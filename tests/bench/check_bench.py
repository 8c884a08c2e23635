#!/usr/bin/env python3
"""Benchmark: time of `upc check` against plan size.

Generates plans of N versions x 10 operations (create table, add and rename
columns, indexes, type changes, defaults, drops, notices; half of them on
tables of earlier versions, with the lints they raise allowed), checks each
one with upc, and prints the best of several runs and the growth factor
between sizes. Not a test: nothing is asserted; the figures are for people.

    python3 tests/bench/check_bench.py --upc build/compiler/upc [--sizes 1000,10000,100000]
    python3 tests/bench/check_bench.py --callgrind --sizes 1000,10000

Wall-clock times on a shared machine are noisy; --callgrind counts the
instructions executed instead (valgrind), which repeat exactly.
"""
import re
import argparse
import os
import subprocess
import sys
import tempfile
import time


def plan(n):
    out = ['plan "bench" { title "Benchmark"; dialects postgres, sqlite; }\n']
    for i in range(n):
        out.append(f'version "1.{i}" {{\n')
        out.append(f'  create table T{i} (Id int identity primary key, A string(50) not null, B int, C text);\n')
        out.append(f'  create index IX_T{i}_A on T{i} (A);\n')
        out.append(f'  alter table T{i} rename column B to B2;\n')
        out.append(f'  alter table T{i} add column D int references T{i} on delete cascade;\n')
        if i > 0:
            p = i - 1
            out.append(f'  alter table T{p} alter column A type string(100) allow table_rewrite, sqlite_rebuild;\n')
            out.append(f'  alter table T{p} add column E bool not null default false;\n')
            out.append(f'  alter table T{p} alter column C set default "x" allow sqlite_rebuild;\n')
            out.append(f'  drop index IX_T{p}_A;\n')
            out.append(f'  notice "Version 1.{i} changes T{p}.";\n')
        else:
            out.append('  notice "The first version.";\n' * 5)
        if i > 1:
            out.append(f'  alter table T{i - 2} drop column C allow data_loss;\n')
        else:
            out.append('  notice "Nothing to drop yet.";\n')
        out.append('}\n')
    return ''.join(out)


def best_time(upc, path, runs):
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run([upc, 'check', path], capture_output=True)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f'upc check failed on {path}:\n{r.stderr.decode()[:2000]}')
        best = dt if best is None else min(best, dt)
    return best


def instructions(upc, path):
    r = subprocess.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null', upc,
                        'check', path], capture_output=True, text=True)
    m = re.search(r'Collected : (\d+)', r.stderr)
    if r.returncode != 0 or not m:
        sys.exit(f'valgrind failed:\n{r.stderr[-2000:]}')
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--upc', default='build/compiler/upc')
    ap.add_argument('--sizes', default='1000,10000,100000')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--callgrind', action='store_true', help='count instructions instead of timing')
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(',')]
    unit = 'Minstr' if a.callgrind else 'seconds'
    print(f'{"versions":>9} {"operations":>11} {"plan MB":>8} {unit:>9} {"x cost":>7} {"x size":>7}')
    prev = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f'bench-{n}.upg')
            text = plan(n)
            with open(path, 'w') as f:
                f.write(text)
            if a.callgrind:
                t = instructions(os.path.abspath(a.upc), path) / 1e6
            else:
                t = best_time(os.path.abspath(a.upc), path, a.runs)
            ratio = f'{t / prev[1]:7.1f}' if prev else '      -'
            growth = f'{n / prev[0]:7.1f}' if prev else '      -'
            print(f'{n:9d} {n * 10:11d} {len(text) / 1e6:8.1f} {t:9.{1 if a.callgrind else 3}f} {ratio} {growth}')
            prev = (n, t)


if __name__ == '__main__':
    main()
