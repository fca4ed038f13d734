#!/usr/bin/env bash
# Runs the test suite. With PostgreSQL reachable on 127.0.0.1:5432 (trust auth, user
# postgres) it creates a fresh database, runs every test there and drops it afterwards;
# without PostgreSQL the suite runs on SQLite and PostgreSQL-only tests are skipped.
# In CI (CI=true) PostgreSQL is required and any skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

PG_ADMIN_URL="${ERP_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if [[ -z "${ERP_TEST_DATABASE_URL:-}" ]]; then
  DB_NAME="erp_test_$(date +%s)_$$"
  if $PY scripts/pgdb.py create "$PG_ADMIN_URL" "$DB_NAME"; then
    trap '$PY scripts/pgdb.py drop "$PG_ADMIN_URL" "$DB_NAME" || true' EXIT
    export ERP_TEST_DATABASE_URL="postgresql+psycopg://${PG_ADMIN_URL#postgresql://}"
    export ERP_TEST_DATABASE_URL="${ERP_TEST_DATABASE_URL%/*}/$DB_NAME"
  elif [[ "${CI:-}" == "true" ]]; then
    echo "CI=true but PostgreSQL is not reachable at $PG_ADMIN_URL: refusing to run on SQLite" >&2
    exit 1
  else
    echo "PostgreSQL not reachable: running on SQLite (PostgreSQL-only tests will be skipped)" >&2
  fi
fi
if [[ "${CI:-}" == "true" ]]; then
  export ERP_REQUIRE_POSTGRES=1
fi
echo "test database: ${ERP_TEST_DATABASE_URL:-sqlite (temporary files)}"
# Not exec: the EXIT trap above must still run to drop the database.
status=0
$PY -m pytest "$@" || status=$?
exit $status
