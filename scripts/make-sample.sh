#!/bin/sh
# Regenerates the bundled sample pair in samples/pair from the scene generator.
# Builds nothing itself: run `make build/canopy-synth` (or `make`) first.
set -eu
cd "$(dirname "$0")/.."
exec build/canopy-synth -o samples/pair --size 400x400 --seed 1 --scenario sample "$@"
