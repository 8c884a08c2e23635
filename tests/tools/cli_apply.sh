#!/usr/bin/env bash
# cli_apply.sh UPC SCHEMA_DUMP PLAN DIALECT: the acceptance commands by hand.
#   upc sql PLAN --dialect D --to 6.0 | (psql | sqlite3)          an empty database at 6.0
#   upc sql PLAN --dialect D --from 6.0 --to 7.0 | psql -1 -f -    (or sqlite3) brings it to 7.0
# then the live schema must equal `upc schema --at 7.0`. PostgreSQL runs under
# with_postgres.sh (UPG_TEST_PGURI); SQLite uses a temporary file.
set -euo pipefail
upc=$1 dump=$2 plan=$3 dialect=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$dialect" = postgres ]; then
  "$upc" sql "$plan" --dialect postgres --to 6.0 | psql -q -v ON_ERROR_STOP=1 -f - >/dev/null
  "$upc" sql "$plan" --dialect postgres --from 6.0 --to 7.0 | psql -q -1 -f - 2>"$tmp/psql.err" >/dev/null
  if grep -q ERROR "$tmp/psql.err"; then cat "$tmp/psql.err" >&2; exit 1; fi
  url=$UPG_TEST_PGURI
else
  db=$tmp/db.sqlite
  "$upc" sql "$plan" --dialect sqlite --to 6.0 | sqlite3 -bail "$db"
  "$upc" sql "$plan" --dialect sqlite --from 6.0 --to 7.0 | sqlite3 "$db"
  url=sqlite:$db
fi
"$upc" schema "$plan" --dialect "$dialect" --at 7.0 >"$tmp/expected.json"
"$dump" "$url" >"$tmp/live.json"
if ! diff -u "$tmp/expected.json" "$tmp/live.json"; then
  echo "the database at 7.0 differs from the plan's schema" >&2
  exit 1
fi
echo "ok: $dialect database at 7.0 matches the plan"
