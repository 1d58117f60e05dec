#!/bin/sh
# scripts/apt-install.sh WHAT PKG... - installs the Debian packages of the list
# that are missing (apt-get; sudo -n when not root). WHAT names them in the one
# line said on stderr. Safe to run again; exits non-zero when something cannot
# be installed, so callers can SKIP the tests that need it.
set -eu

what=$1
shift
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "canopy: installing missing $what packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "canopy: not root and no sudo" >&2; exit 1; }
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
