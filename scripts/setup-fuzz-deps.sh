#!/bin/sh
# Installs the Debian 12 packages of the clang builds, when missing: clang with
# its sanitizer and libFuzzer runtimes (make fuzz, make check-ubsan-clang) and
# LLVM's OpenMP runtime (clang's -fopenmp). Safe to run again.
exec "$(dirname "$0")/apt-install.sh" "clang" clang libclang-rt-14-dev libomp-14-dev llvm
