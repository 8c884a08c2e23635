#!/usr/bin/env python3
"""Benchmark: upc build and uprun verify-bundle against plan size, and upc on wide inputs.

Growing plans: N versions x 10 operations, whose schema grows every version
(two new tables, columns added to tables of the two previous versions, an
index, a rename, a type change, a default, a notice), built into a signed
bundle for both dialects. For each size it prints the build's time and peak
memory, the bundle's size and file count, and uprun verify-bundle's time
and peak memory, then the growth between consecutive sizes (10x the plan
should cost at most about 10x).

Wide inputs, each at two sizes 10x apart: one table of N columns (checked),
N tables in one version (built), N statements that each add a column to one
table in one version (built), one table that gains a column in each of N/10
versions (built: time and bundle size), and N errors with --error-limit=0
(checked), one a line and all on one line.

Not a test: nothing is asserted; the figures are for people. Peak memory is
the maximum resident set size that getrusage reports for the child.

    python3 tests/bench/build_bench.py --upc build-rel/compiler/upc --uprun build-rel/runtime/uprun
    python3 tests/bench/build_bench.py ... --sizes 1000,10000 --wide 10000,100000
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def growing_plan(n):
    """N versions x 10 operations; every version adds tables and columns."""
    out = ['plan "bench" { title "Build benchmark"; dialects postgres, sqlite; }\n']
    for i in range(n):
        out.append(f'version "1.{i}" {{\n')
        out.append(f'  create table A{i} (Id int identity primary key, Name string(50) not null, '
                   f'Note text, Flag bool);\n')
        out.append(f'  create table B{i} (Id bigint primary key, Ref int, Amount decimal(18, 2));\n')
        out.append(f'  create index IX_B{i}_Ref on B{i} (Ref);\n')
        if i > 0:
            p = i - 1
            out.append(f'  alter table A{p} add column Extra{i} int;\n')
            out.append(f'  alter table B{p} add column Code{i} string(20) not null default "x";\n')
            out.append(f'  alter table A{p} rename column Note to Comment;\n')
            out.append(f'  alter table B{p} alter column Ref type bigint allow table_rewrite, sqlite_rebuild;\n')
            out.append(f'  alter table A{p} alter column Flag set default false allow sqlite_rebuild;\n')
            out.append(f'  notice "Version 1.{i} extends A{p} and B{p}.";\n')
        else:
            out.append('  notice "The first version.";\n' * 6)
        out.append(f'  alter table A{i} add column Created timestamp;\n')
        out.append('}\n')
    return ''.join(out)


def wide_table(n):
    cols = ', '.join(f'C{i} int' for i in range(n))
    return ('plan "wide" { dialects postgres, sqlite; }\n'
            f'version "1.0" {{\n  create table T (Id int identity primary key, {cols});\n}}\n')


def many_tables(n):
    body = ''.join(f'  create table T{i} (Id int identity primary key, Name string(40));\n'
                   for i in range(n))
    return f'plan "many" {{ dialects postgres, sqlite; }}\nversion "1.0" {{\n{body}}}\n'


def one_table_grows(n):
    """One table that gains a column in each of n versions: the bundle's deltas patch it."""
    out = ['plan "grows" { dialects postgres, sqlite; }\n',
           'version "1.0" {\n  create table T (Id int identity primary key);\n}\n']
    out += [f'version "1.{i}" {{\n  alter table T add column C{i} int;\n}}\n' for i in range(1, n)]
    return ''.join(out)


def one_table_many_alters(n):
    """One version that adds n columns to one table, a statement each."""
    body = ''.join(f'  alter table T add column C{i} int;\n' for i in range(1, n))
    return ('plan "alters" { dialects postgres, sqlite; }\n'
            f'version "1.0" {{\n  create table T (Id int identity primary key);\n{body}}}\n')


def many_errors(n, one_line=False):
    sep = ' ' if one_line else '\n  '
    body = sep.join(f'alter table Missing{i} add column C int;' for i in range(n))
    return ('plan "errors" { dialects postgres, sqlite; }\n'
            f'version "1.0" {{\n  create table T (Id int primary key);\n}}\nversion "1.1" {{\n  {body}\n}}\n')


def many_errors_one_line(n):
    return many_errors(n, one_line=True)


def run(cmd, ok=(0,)):
    """Runs cmd; returns (seconds, peak RSS in MB of this child)."""
    t0 = time.perf_counter()
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: each command runs under a small
    # wrapper of its own that reports the peak of its one child
    r = subprocess.run([sys.executable, '-c', PEAK, *cmd], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    lines = r.stdout.strip().split('\n')
    rc, peak = int(lines[-2]), int(lines[-1])
    if rc not in ok:
        sys.exit(f'{cmd[0]} failed ({rc}):\n{r.stderr[-3000:]}')
    return dt, peak / 1024.0


PEAK = r'''
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.write(r.stderr.decode(errors="replace")[-3000:])
print(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
'''


def tree_size(path):
    files = size = 0
    for root, _, names in os.walk(path):
        for n in names:
            files += 1
            size += os.path.getsize(os.path.join(root, n))
    return files, size


def ratio(a, b):
    return f'{b / a:6.1f}x' if a > 0 else '     -'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--upc', default='build-rel/compiler/upc')
    ap.add_argument('--uprun', default='build-rel/runtime/uprun')
    ap.add_argument('--sizes', default='1000,10000')
    ap.add_argument('--wide', default='10000,100000')
    ap.add_argument('--skip-wide', action='store_true')
    ap.add_argument('--dir', default='.', help='where the bundles are written (default: here); '
                    'file creation costs differ a lot between file systems')
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='upg-build-bench-', dir=a.dir)
    print(f'bundles written under {os.path.abspath(tmp)}')
    try:
        subprocess.run([a.upc, 'keygen', '-o', os.path.join(tmp, 'k')], check=True, capture_output=True)
        print('Growing plans (N versions x 10 operations, schema grows every version):')
        print(f'{"versions":>9} {"plan MB":>8} {"build s":>8} {"build MB":>9} {"bundle MB":>10} '
              f'{"files":>7} {"verify s":>9} {"verify MB":>10}')
        prev = None
        for n in [int(s) for s in a.sizes.split(',')]:
            p = os.path.join(tmp, f'grow{n}.upg')
            text = growing_plan(n)
            open(p, 'w').write(text)
            out = os.path.join(tmp, f'bundle{n}')
            bt, bm = run([a.upc, 'build', p, '-o', out, '--key', os.path.join(tmp, 'k.key'), '-q'])
            files, size = tree_size(out)
            vt, vm = run([a.uprun, 'verify-bundle', '--bundle', out, '--pubkey', os.path.join(tmp, 'k.pub'),
                          '-q'])
            row = (n, len(text) / 1e6, bt, bm, size / 1e6, files, vt, vm)
            print(f'{n:>9} {row[1]:>8.1f} {bt:>8.2f} {bm:>9.1f} {row[4]:>10.1f} {files:>7} {vt:>9.2f} '
                  f'{vm:>10.1f}')
            if prev:
                print(f'{"growth":>9} {ratio(prev[1], row[1]):>8} {ratio(prev[2], bt):>8} '
                      f'{ratio(prev[3], bm):>9} {ratio(prev[4], row[4]):>10} {ratio(prev[5], files):>7} '
                      f'{ratio(prev[6], vt):>9} {ratio(prev[7], vm):>10}')
            prev = row
            shutil.rmtree(out)
        if a.skip_wide:
            return
        print('\nWide inputs (time s / peak MB, and growth for 10x the input):')
        cases = [
            ('one table of N columns: upc check', wide_table, lambda p: [a.upc, 'check', p], (0,), 1),
            ('N tables in one version: upc build', many_tables,
             lambda p: [a.upc, 'build', p, '-o', p + '.bundle', '-q'], (0,), 1),
            ('N add columns to one table in one version: upc build', one_table_many_alters,
             lambda p: [a.upc, 'build', p, '-o', p + '.bundle', '-q'], (0,), 1),
            ('one table, a column more in each of N/10 versions: upc build', one_table_grows,
             lambda p: [a.upc, 'build', p, '-o', p + '.bundle', '-q'], (0,), 10),
            ('N errors, --error-limit=0: upc check', many_errors,
             lambda p: [a.upc, 'check', '--error-limit=0', p], (1,), 1),
            ('N errors on one line: upc check', many_errors_one_line,
             lambda p: [a.upc, 'check', '--error-limit=0', p], (1,), 1),
        ]
        sizes = [int(s) for s in a.wide.split(',')]
        for title, gen, cmd, ok, div in cases:
            res, cells = [], []
            for n in sizes:
                p = os.path.join(tmp, f'wide-{gen.__name__}-{n}.upg')
                open(p, 'w').write(gen(n // div))
                t, m = run(cmd(p), ok)
                res.append((t, m))
                cell = f'N={n // div}: {t:.2f} s / {m:.0f} MB'
                if os.path.isdir(p + '.bundle'):
                    cell += f' / bundle {tree_size(p + ".bundle")[1] / 1e6:.1f} MB'
                cells.append(cell)
                shutil.rmtree(p + '.bundle', ignore_errors=True)
            growth = ratio(res[0][0], res[-1][0]) if len(res) > 1 else ''
            print(f'  {title:<62} {"  ".join(cells)}  time growth {growth.strip()}')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
