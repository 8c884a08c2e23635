#!/usr/bin/env bash
# with_postgres.sh CMD [ARGS...]: runs CMD against a PostgreSQL server of its own.
#
# The server is initialised (initdb) in a new temporary folder, as the postgres
# user when run as root (runuser -u postgres --), listens only on a Unix socket
# in that folder (listen_addresses is empty), and is stopped by its own pid when
# CMD ends, whatever the outcome (trap on EXIT, INT, TERM). CMD sees PGHOST,
# PGPORT, PGUSER and PGDATABASE (libpq's variables) and UPG_TEST_PGURI.
#
# When UPG_TEST_PGURI is already set, no server is started: CMD runs against it.
set -euo pipefail

if [ -n "${UPG_TEST_PGURI:-}" ]; then
  exec "$@"
fi

bindir=${UPG_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir=$d; done
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "with_postgres: no initdb found (install postgresql-15, or set UPG_PG_BINDIR)" >&2; exit 77; }

dir=$(mktemp -d /tmp/upg-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "with_postgres: running as root needs a postgres user" >&2; exit 77; }
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
  user=postgres
else
  user=$(id -un)
fi
chmod 700 "$dir"

stop() {
  local pid
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
  "${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
port=5432
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c max_connections=50" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }

export PGHOST=$dir PGPORT=$port PGUSER=$user PGDATABASE=postgres
export UPG_TEST_PGURI="host=$dir port=$port user=$user dbname=postgres"
set +e
"$@"
status=$?
set -e
exit $status
