#!/bin/bash
# Runs every test and ends with one line "N passed, N failed, N skipped".
#
# Unit binaries (build/tests/test_*) run twice, with 1 and with 4 OpenMP threads:
# any difference between the two is a race or an order-dependent reduction.
# End-to-end scripts (tests/e2e/test_*.sh) drive bin/canopy on generated scenes.
# Each test prints "PASS: name", "FAIL: name" or "SKIP: name (why)".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
export BUILD BIN
ONLY=${1:-}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue;; esac
    [ -n "$ONLY" ] && [[ "$t" != *"$ONLY"* ]] && continue
    for n in 1 4; do
        if ! OMP_NUM_THREADS=$n "$t" > >(sed "s/\$/ [threads=$n]/" | tee -a "$log") 2>&1; then
            grep -q "FAIL: " "$log" || echo "FAIL: $(basename "$t") exited non-zero [threads=$n]" | tee -a "$log"
        fi
        wait
    done
done

for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    [ -n "$ONLY" ] && [[ "$t" != *"$ONLY"* ]] && continue
    echo "== $t"
    if ! bash "$t" 2>&1 | tee -a "$log"; then
        :
    fi
    # A script that dies without reporting anything counts as a failure.
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $(basename "$t") exited with status $rc" | tee -a "$log"
    fi
done

passed=$(grep -c '^PASS: ' "$log")
failed=$(grep -c '^FAIL: ' "$log")
skipped=$(grep -c '^SKIP: ' "$log")
if [ "$failed" -gt 0 ]; then
    echo
    echo "Failures:"
    grep '^FAIL: ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
