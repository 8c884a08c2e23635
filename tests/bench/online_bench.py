#!/usr/bin/env python3
"""Benchmark: IdentityServer 6.3 -> 7.0 (ServerSideSessions.Id int -> bigint) under live writes,
online and offline, on PostgreSQL.

For each way (uprun apply --online always, then --online never), on a fresh database:

  1. the plan's bundle applied up to 6.3, ServerSideSessions filled with --rows rows (1,000,000)
     and analysed;
  2. --writers processes (4) start, each on its own connection, inserting new sessions and
     updating its own earlier ones without a pause, timing every statement;
  3. after a second, uprun apply --to 7.0 runs; a second after it ends, the writers stop;
  4. every row a writer wrote must be there with the last value it gave it, the rows there before
     must be there unchanged (count and sum of Id), and the schema must match 7.0 (uprun verify).

Prints, for each way, the apply's time, each writer's statements and longest stall (the slowest
single statement it ran: the time it waited behind the change), and whether every row was kept;
and the ratio of the longest stalls. Asserts nothing about time (timing lives here, never in the
tests); it exits 1 when a row was lost or verify fails. Needs UPG_TEST_PGURI, for example under
tests/tools/with_postgres.sh, which starts a server of its own:

    tests/tools/with_postgres.sh python3 tests/bench/online_bench.py \\
        --upc build-rel/compiler/upc --uprun build-rel/runtime/uprun

The writers use libpq through ctypes (the machine's libpq.so.5), so nothing beyond the project's
own dependencies is needed.
"""
import argparse
import ctypes
import ctypes.util
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PGRES_COMMAND_OK, PGRES_TUPLES_OK = 1, 2


def libpq():
    lib = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
    lib.PQconnectdb.restype = ctypes.c_void_p
    lib.PQconnectdb.argtypes = [ctypes.c_char_p]
    lib.PQstatus.argtypes = [ctypes.c_void_p]
    lib.PQerrorMessage.restype = ctypes.c_char_p
    lib.PQerrorMessage.argtypes = [ctypes.c_void_p]
    lib.PQexec.restype = ctypes.c_void_p
    lib.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.PQresultStatus.argtypes = [ctypes.c_void_p]
    lib.PQgetvalue.restype = ctypes.c_char_p
    lib.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.PQntuples.argtypes = [ctypes.c_void_p]
    lib.PQclear.argtypes = [ctypes.c_void_p]
    lib.PQfinish.argtypes = [ctypes.c_void_p]
    return lib


def writer(url, wid, stop, out):
    """Inserts and updates its own sessions until stop is set; reports its statements, longest
    stall, failures and the last value of each key it wrote."""
    pq = libpq()
    conn = pq.PQconnectdb(url.encode())
    if pq.PQstatus(conn) != 0:
        out.put((wid, 0, 0.0, [pq.PQerrorMessage(conn).decode()], {}))
        return
    values, errors, n, longest, i, keys = {}, [], 0, 0.0, 0, []
    rng = random.Random(wid)
    while not stop.is_set():
        i += 1
        key = f"w{wid}-{i}"
        if i % 2 == 1 or not keys:
            keys.append(key)
            val = f"insert {i}"
            sql = ("INSERT INTO \"ServerSideSessions\" (\"Key\", \"Scheme\", \"SubjectId\", \"Created\", "
                   f"\"Renewed\", \"Data\") VALUES ('{key}', 'bench', 's{wid}', now(), now(), '{val}')")
        else:
            key = rng.choice(keys)
            val = f"update {i}"
            sql = f"UPDATE \"ServerSideSessions\" SET \"Data\" = '{val}', \"Renewed\" = now() WHERE \"Key\" = '{key}'"
        t0 = time.monotonic()
        res = pq.PQexec(conn, sql.encode())
        took = time.monotonic() - t0
        ok = pq.PQresultStatus(res) in (PGRES_COMMAND_OK, PGRES_TUPLES_OK)
        pq.PQclear(res)
        n += 1
        longest = max(longest, took)
        if ok:
            values[key] = val
        else:
            errors.append(pq.PQerrorMessage(conn).decode().strip())
            if len(errors) > 20:
                break
    pq.PQfinish(conn)
    out.put((wid, n, longest, errors, values))


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def psql(url, sql):
    r = sh(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr}")
    return r.stdout.strip()


def one_way(a, bundle, pub, base, way, n):
    name = f"upg_online_{way}_{os.getpid()}"
    psql(base, f'DROP DATABASE IF EXISTS "{name}"')
    psql(base, f'CREATE DATABASE "{name}"')
    url = f"{base} dbname={name}"
    uprun = [a.uprun, "--bundle", bundle, "--pubkey", pub, "--db", url]
    r = sh(uprun + ["apply", "--to", "6.3", "--ack-all"])
    if r.returncode != 0:
        sys.exit(f"apply --to 6.3 failed: {r.stderr}")
    t0 = time.monotonic()
    psql(url, 'INSERT INTO "ServerSideSessions" ("Key", "Scheme", "SubjectId", "SessionId", "DisplayName", '
              '"Created", "Renewed", "Expires", "Data") SELECT \'k\' || g, \'idsrv\', \'sub\' || (g % 5000), '
              '\'sid\' || g, \'user \' || (g % 977), now(), now(), now() + interval \'1 day\', '
              f'repeat(md5(g::text), 4) FROM generate_series(1, {n}) g')
    psql(url, 'ANALYZE "ServerSideSessions"')
    before = psql(url, 'SELECT count(*), sum("Id"), sum(length("Data")) FROM "ServerSideSessions"')
    print(f"  {way}: {n} rows loaded in {time.monotonic() - t0:.1f} s", flush=True)
    stop = multiprocessing.Event()
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=writer, args=(url, w, stop, out)) for w in range(a.writers)]
    for p in procs:
        p.start()
    time.sleep(1)
    t0 = time.monotonic()
    r = sh(uprun + ["apply", "--to", "7.0", "--ack-all", "--online", way, "--batch-size", str(a.batch_size)])
    took = time.monotonic() - t0
    time.sleep(1)
    stop.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    if r.returncode != 0:
        sys.exit(f"apply --online {way} failed (exit {r.returncode}):\n{r.stderr}")
    lost, stalls, statements = [], [], 0
    for wid, count, longest, errors, values in sorted(results):
        statements += count
        stalls.append(longest)
        rows = dict(tuple(l.split("\x1f")) for l in psql(
            url, f"SELECT \"Key\" || chr(31) || \"Data\" FROM \"ServerSideSessions\" WHERE \"SubjectId\" = 's{wid}' "
                 "AND \"Scheme\" = 'bench'").splitlines() if l)
        wrong = [k for k, v in values.items() if rows.get(k) != v]
        if wrong or errors:
            lost.append(f"writer {wid}: {len(wrong)} rows lost or changed, {len(errors)} errors "
                        f"{errors[:2]}")
        print(f"    writer {wid}: {count} statements, longest stall {longest * 1000:.0f} ms, "
              f"{len(values)} rows written, all there: {not wrong and not errors}")
    after = psql(url, 'SELECT count(*), sum("Id"), sum(length("Data")) FROM "ServerSideSessions" '
                      "WHERE \"Scheme\" <> 'bench'")
    if after != before:
        lost.append(f"the rows there before: {before} before, {after} after")
    v = sh(uprun + ["verify"])
    if v.returncode != 0:
        lost.append(f"verify: {v.stdout} {v.stderr}")
    typ = psql(url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                    "'\"ServerSideSessions\"'::regclass AND attname = 'Id'")
    print(f"  {way}: apply --to 7.0 took {took:.2f} s; {statements} writes meanwhile; longest stall "
          f"{max(stalls) * 1000:.0f} ms; Id is {typ}; rows kept: {not lost}", flush=True)
    for x in lost:
        print(f"    LOST: {x}")
    psql(base, f'DROP DATABASE "{name}"')
    return max(stalls), took, not lost


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upc", default="build-rel/compiler/upc")
    ap.add_argument("--uprun", default="build-rel/runtime/uprun")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=1000)
    a = ap.parse_args()
    base = os.environ.get("UPG_TEST_PGURI")
    if not base:
        sys.exit("online_bench: set UPG_TEST_PGURI (run it under tests/tools/with_postgres.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "key")
        sh([a.upc, "keygen", "-o", key])
        bundle = os.path.join(tmp, "bundle")
        r = sh([a.upc, "build", os.path.join(ROOT, "plans", "identityserver.upg"), "-o", bundle,
                "--key", key + ".key"])
        if r.returncode != 0:
            sys.exit(f"upc build failed: {r.stderr}")
        print(f"online_bench: ServerSideSessions with {a.rows} rows, {a.writers} writers, "
              f"IdentityServer 6.3 -> 7.0", flush=True)
        on_stall, on_took, on_ok = one_way(a, bundle, key + ".pub", base, "always", a.rows)
        off_stall, off_took, off_ok = one_way(a, bundle, key + ".pub", base, "never", a.rows)
        print(f"online:  longest write stall {on_stall * 1000:.0f} ms, apply {on_took:.2f} s")
        print(f"offline: longest write stall {off_stall * 1000:.0f} ms, apply {off_took:.2f} s")
        print(f"stall offline / online: {off_stall / on_stall if on_stall else float('inf'):.1f}x; "
              f"online stall under 1 s: {on_stall < 1.0}")
        return 0 if on_ok and off_ok else 1


if __name__ == "__main__":
    sys.exit(main())
