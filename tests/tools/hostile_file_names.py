#!/usr/bin/env python3
"""Hostile plan file names: a name with a newline (or a carriage return) followed by SQL must not
end the comment it is written in. upc sql (both dialects, up and down) and upc build (every SQL
file of the bundle) are grepped: no line may run the name's statement, and the name shows with its
control characters as '?'. The guide and the manifest are checked too.

    hostile_file_names.py UPC
"""
import os
import shutil
import subprocess
import sys
import tempfile

upc = sys.argv[1]
failures = []


def expect(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what + (": " + detail if detail else ""))


PLAN = '''plan "shop" { dialects postgres, sqlite; }
version "1.0" {
  create table Orders (Id int identity primary key, Note text);
}
version "1.1" {
  alter table Orders add column Paid bool not null default false;
  alter table Orders alter column Note set default "x" allow sqlite_rebuild;
  sql { up "update Orders set Note = 'y'"; down "update Orders set Note = null"; }
}
'''
NAMES = ['evil\nDROP TABLE victim;--.upg', 'cr\rDROP TABLE victim;.upg', 'tab\tand\x1b[31mcolour\x7f.upg']


def runs_statement(text):
    """Lines that would run the injected statement (outside a comment)."""
    return [l for l in text.replace('\r', '\n').split('\n') if l.lstrip().upper().startswith('DROP TABLE VICTIM')]


tmp = tempfile.mkdtemp(prefix='upg-hostile-')
try:
    for name in NAMES:
        path = os.path.join(tmp, name)
        with open(path, 'w') as f:
            f.write(PLAN)
        shown = ''.join('?' if ord(c) < 0x20 or ord(c) == 0x7f else c for c in name)
        label = repr(name)
        for dialect in ('postgres', 'sqlite'):
            for down in ([], ['--down']):
                r = subprocess.run([upc, 'sql', path, '--dialect', dialect] + down, capture_output=True)
                out = r.stdout.decode('utf-8', 'replace')
                expect(f'{label}: upc sql {dialect} {" ".join(down) or "up"} succeeds', r.returncode == 0,
                       r.stderr.decode()[-500:])
                expect(f'{label}: upc sql {dialect} {" ".join(down) or "up"} runs nothing of the name',
                       not runs_statement(out), repr(runs_statement(out)[:2]))
                expect(f'{label}: upc sql {dialect} names the file with "?" for control characters',
                       shown in out and not any(c in out for c in '\r\x1b\x7f'))
        bundle = os.path.join(tmp, 'bundle')
        shutil.rmtree(bundle, ignore_errors=True)
        r = subprocess.run([upc, 'build', path, '-o', bundle], capture_output=True)
        expect(f'{label}: upc build succeeds', r.returncode == 0, r.stderr.decode()[-500:])
        bad = []
        nfiles = 0
        for root, _, files in os.walk(bundle):
            for fn in files:
                text = open(os.path.join(root, fn), encoding='utf-8', errors='replace').read()
                nfiles += 1
                if fn.endswith('.sql') and runs_statement(text):
                    bad.append(fn)
                if fn.endswith('.sql') and any(c in text for c in '\r\x1b\x7f'):
                    bad.append(fn + ' (a control character)')
        expect(f'{label}: none of the {nfiles} files of the bundle runs the name', nfiles > 5 and not bad,
               ', '.join(bad[:5]))
    # a name that is not UTF-8 (Latin-1 bytes): the manifest is JSON, so the name shows with '?'
    path = os.path.join(tmp.encode(), b'latin1-\xe9t\xe9.upg')
    with open(path, 'w') as f:
        f.write(PLAN)
    bundle = os.path.join(tmp, 'bundle-latin1')
    r = subprocess.run([upc.encode(), b'build', path, b'-o', bundle.encode()], capture_output=True)
    expect('a name that is not UTF-8: upc build succeeds', r.returncode == 0, r.stderr.decode()[-500:])
    if r.returncode == 0:
        import json
        with open(os.path.join(bundle, 'manifest.json'), encoding='utf-8') as f:
            source = json.load(f)['plan']['source']['file']
        expect('a name that is not UTF-8: the manifest names it with "?" for each bad byte',
               source == 'latin1-?t?.upg', repr(source))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

for f in failures:
    print('FAILED', f, file=sys.stderr)
sys.exit(1 if failures else 0)
