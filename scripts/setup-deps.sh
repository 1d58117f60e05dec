#!/bin/sh
# Installs the Debian 12 packages Canopy needs to build and test, when missing.
# Run by the Makefile on first use; safe to run again.
exec "$(dirname "$0")/apt-install.sh" "build" build-essential pkg-config libgdal-dev libproj-dev \
    libpng-dev zlib1g-dev libssl-dev libinih-dev libjson-c-dev libcairo2-dev fonts-dejavu-core \
    gdal-bin python3-gdal python3-numpy
