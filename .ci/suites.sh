#!/usr/bin/env bash
# The SQLite suite (with the browser tests) and the PostgreSQL suite side by side, one per core: the PostgreSQL
# run's output is kept in data/test-postgres.log and printed after the SQLite run's, so each reads whole.
# Exits non-zero when either suite failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p data
log=data/test-postgres.log
make -s test-postgres >"$log" 2>&1 &
pg=$!
make -s test-sqlite
sqlite_rc=$?
wait "$pg"
pg_rc=$?
echo
echo "==== PostgreSQL suite (ran beside the SQLite one; exit $pg_rc) ===="
cat "$log"
echo "SQLite suite exit $sqlite_rc, PostgreSQL suite exit $pg_rc"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
