#!/bin/sh
# scripts/setup-postgres.sh - installs Debian 12's PostgreSQL server and PostGIS
# when missing, for the `canopy monitor --db PG:...` tests. Safe to run again.
# Exits non-zero when they cannot be installed (the tests then SKIP visibly).
exec "$(dirname "$0")/apt-install.sh" "PostgreSQL test" postgresql postgresql-15-postgis-3
