#!/bin/sh
# scripts/slurm/setup-slurm.sh - installs Debian 12's Slurm and MUNGE packages
# when missing (slurmctld, slurmd, the client commands and munged), for the
# single-node Slurm test (tests/e2e/test_slurm.sh). Safe to run again.
# Exits non-zero when a package cannot be installed; the test then SKIPs.
set -eu

PKGS="slurmctld slurmd slurm-client munge"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "canopy: installing missing Slurm packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "canopy: not root and no sudo" >&2; exit 1; }
    SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
# No daemon is started by the packages' scripts: the test starts its own.
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
