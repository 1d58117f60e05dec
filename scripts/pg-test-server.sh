#!/bin/bash
# scripts/pg-test-server.sh - a throw-away PostgreSQL + PostGIS server for tests.
#
#   pg-test-server.sh start KEYDIR     install if needed (setup-postgres.sh), initdb
#                                      as the postgres user, start on a Unix socket
#                                      only (no TCP); prints PGHOST=... PGUSER=...
#   pg-test-server.sh newdb KEYDIR NAME  a new database with the postgis extension
#   pg-test-server.sh stop KEYDIR      stop the server and remove its files
#
# KEYDIR (created) records where the server lives; the server's own folder is
# made under /tmp, owned by postgres (initdb refuses to run as root).
set -eu
cmd=${1:-}
key=${2:-}
[ -n "$cmd" ] && [ -n "$key" ] || { echo "usage: $0 start|newdb|stop KEYDIR [NAME]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

pgbin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    return 1
}

as_pg() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -n -u postgres "$@"
    fi
}

case "$cmd" in
start)
    "$here/setup-postgres.sh" >&2 || { echo "cannot install PostgreSQL/PostGIS" >&2; exit 1; }
    BIN=$(pgbin) || { echo "no PostgreSQL server binaries" >&2; exit 1; }
    ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 ||
        { echo "PostGIS extension not installed" >&2; exit 1; }
    mkdir -p "$key"
    root=$(mktemp -d /tmp/canopy-pg.XXXXXX)
    chmod 755 "$root"
    chown postgres "$root" 2>/dev/null || true
    echo "$root" >"$key/root"
    echo "$BIN" >"$key/bin"
    as_pg "$BIN/initdb" -D "$root/data" -U postgres -A trust --no-sync -E UTF8 >"$root/initdb.log" 2>&1 ||
        { tail -5 "$root/initdb.log" >&2; exit 1; }
    as_pg "$BIN/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
        -o "-k $root -c listen_addresses= -c fsync=off" start >/dev/null 2>&1 ||
        { tail -5 "$root/server.log" >&2; exit 1; }
    # A template with PostGIS: new databases are then a file copy.
    "$BIN/createdb" -h "$root" -U postgres canopy_template
    "$BIN/psql" -q -h "$root" -U postgres -d canopy_template \
        -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
    echo "PGHOST=$root"
    echo "PGUSER=postgres"
    ;;
newdb)
    name=${3:?database name}
    root=$(cat "$key/root")
    BIN=$(cat "$key/bin")
    "$BIN/createdb" -h "$root" -U postgres -T canopy_template "$name"
    ;;
stop)
    [ -f "$key/root" ] || exit 0
    root=$(cat "$key/root")
    BIN=$(cat "$key/bin")
    as_pg "$BIN/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$root" "$key"
    ;;
*)
    echo "usage: $0 start|newdb|stop KEYDIR [NAME]" >&2
    exit 2
    ;;
esac
