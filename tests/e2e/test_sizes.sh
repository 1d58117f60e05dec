#!/bin/bash
# Sizes: no C file over 800 lines, no function over 120 lines without a
# "Long:" reason at its head (scripts/check-sizes.sh).
source "$(dirname "$0")/lib.sh"
if out=$("$ROOT/scripts/check-sizes.sh" 2>&1); then
    pass "sizes: files under 800 lines, long functions say why"
else
    fail "sizes: $(tr '\n' ';' <<<"$out")"
fi
# The check itself must catch an offence (a test that cannot fail is none).
D="$TMP/tree"
mkdir -p "$D/scripts" "$D/pipeline/base" "$D/kernels"
cp "$ROOT/scripts/check-sizes.sh" "$D/scripts/"
{ echo "int f(void);"; echo "int f(void)"; echo "{"; for i in $(seq 130); do echo "    (void)0;"; done
  echo "    return 0;"; echo "}"; } >"$D/pipeline/base/cnp_long.c"
if ! "$D/scripts/check-sizes.sh" >"$TMP/out" 2>&1 && grep -q "cnp_long.c:3: f: 131 lines" "$TMP/out"; then
    pass "sizes: a 131-line function without a reason is caught"
else
    fail "sizes: the check missed a long function: $(cat "$TMP/out")"
fi
