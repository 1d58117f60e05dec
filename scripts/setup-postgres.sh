#!/bin/sh
# scripts/setup-postgres.sh - installs Debian 12's PostgreSQL server and PostGIS
# when missing, for the `canopy monitor --db PG:...` tests. Safe to run again.
# Exits non-zero when they cannot be installed (the tests then SKIP visibly).
set -eu

PKGS="postgresql postgresql-15-postgis-3"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "canopy: installing missing packages for the PostgreSQL tests:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "canopy: not root and no sudo" >&2; exit 1; }
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
