#!/bin/sh
# Installs the Debian 12 packages Canopy needs to build and test, when missing.
# Run by the Makefile on first use; safe to run again.
set -eu

PKGS="build-essential pkg-config libgdal-dev libproj-dev libpng-dev libssl-dev libinih-dev libjson-c-dev gdal-bin python3-gdal python3-numpy"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "canopy: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
