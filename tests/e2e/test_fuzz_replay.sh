#!/bin/bash
# Every file of tests/fuzz/corpus/<target>/ (the seeds and every crash a fuzz
# run found, minimised) through its fuzz target, built with the project's
# compiler and tests/fuzz/cnp_fuzz_replay.c as main(): `make test` builds
# them in $BUILD/fuzz/. Under check-asan the replay runs with ASan + UBSan.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    t=${t#fuzz_}
    corpus="$ROOT/tests/fuzz/corpus/$t"
    bin="$ROOT/$BUILD/fuzz/replay_$t"
    if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
        fail "fuzz replay $t (no corpus in tests/fuzz/corpus/$t)"
    elif [ ! -x "$bin" ]; then
        fail "fuzz replay $t (no $BUILD/fuzz/replay_$t: make test builds it)"
    else
        out=$(timeout 600 "$bin" "$t" "$corpus" 2>&1)
        rc=$?
        if [ "$rc" -eq 0 ] && grep -q "^PASS: fuzz replay $t " <<<"$out"; then
            grep "^PASS: " <<<"$out"
        else
            fail "fuzz replay $t (exit status $rc)"
            printf '%s\n' "$out" | tail -30 | sed 's/^/    /'
        fi
    fi
done
