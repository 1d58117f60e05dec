#!/bin/sh
# scripts/slurm/setup-slurm.sh - installs Debian 12's Slurm and MUNGE packages
# when missing (slurmctld, slurmd, the client commands and munged), for the
# single-node Slurm test (tests/e2e/test_slurm.sh). Safe to run again.
# Exits non-zero when a package cannot be installed; the test then SKIPs.
# No daemon is started by the packages' scripts: the test starts its own.
exec "$(dirname "$0")/../apt-install.sh" "Slurm" slurmctld slurmd slurm-client munge
