# shellcheck shell=bash
# A local PostgreSQL server for the tests that run on both SQLite and PostgreSQL (issue 6).
#
# Sourced, as root, by .ci/run on a fresh Debian machine (or by hand: `source .ci/postgres-setup.sh`
# as root). Installs the Debian package if needed, starts its cluster, makes a role `bbcs` that may
# create databases, and exports
#   BBCS_TEST_PG_URL  the server's URL (the tests create and drop their own databases on it)
#   BBCS_REQUIRE_PG=1 so a PostgreSQL test fails instead of skipping when the server is missing.
# Any failure only prints a line and exports nothing: the caller runs under `set -euo pipefail`
# and the SQLite half of the suite must still run.

_bbcs_pg_setup() {
  local password="bbcs-ci-local-only" version cluster port status as_postgres

  if [ "$(id -u)" != "0" ]; then
    echo "postgres-setup: not root; skipping (set BBCS_TEST_PG_URL yourself to run the PG tests)"
    return 1
  fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "postgres-setup: no apt-get"; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql >/dev/null || { echo "postgres-setup: apt-get install postgresql failed"; return 1; }
  fi
  command -v pg_lsclusters >/dev/null 2>&1 || { echo "postgres-setup: no pg_lsclusters"; return 1; }

  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v')" ]; then
    pg_createcluster "$version" main >/dev/null || { echo "postgres-setup: pg_createcluster failed"; return 1; }
  fi
  read -r version cluster port status _ < <(pg_lsclusters -h | awk -v v="$version" '$1 == v' | head -n 1)
  if [ "$status" != "online" ]; then
    pg_ctlcluster "$version" "$cluster" start || { echo "postgres-setup: the cluster did not start"; return 1; }
  fi

  if command -v runuser >/dev/null 2>&1; then
    as_postgres=(runuser -u postgres --)
  else
    as_postgres=(su postgres -s /bin/sh -c 'exec "$0" "$@"')
  fi
  "${as_postgres[@]}" psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >/dev/null <<SQL || { echo "postgres-setup: could not create the bbcs role"; return 1; }
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bbcs') THEN
    CREATE ROLE bbcs LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE bbcs LOGIN CREATEDB PASSWORD '$password';
  END IF;
END
\$\$;
SQL

  export BBCS_TEST_PG_URL="postgresql+psycopg://bbcs:${password}@127.0.0.1:${port}/postgres"
  export BBCS_REQUIRE_PG=1
  echo "postgres-setup: PostgreSQL ${version} (${cluster}) on 127.0.0.1:${port}; BBCS_TEST_PG_URL set"
}

_bbcs_pg_setup || echo "postgres-setup: PostgreSQL unavailable; the PostgreSQL tests will be skipped"
unset -f _bbcs_pg_setup
