#!/bin/bash
# canopy verify: intact outputs pass; one changed byte in an output or an input
# fails with that file named; --rerun reproduces byte-identical outputs with 1
# and with N threads.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 300x300 --seed 9 --scenario sample --tile 64 || { fail "verify: generator"; exit 0; }
cd "$TMP" || exit 1
run_canopy detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
    --after-mask pair/after_mask.tif -o out -q --threads 2
[ "$RC" -eq 0 ] || { fail "verify: detect ($RC: $ERR_TXT)"; exit 0; }

run_canopy verify out
[ "$RC" -eq 0 ] && grep -q "^intact" <<<"$OUT_TXT" && ! grep -q "^changed\|^missing" <<<"$OUT_TXT" \
    && pass "verify: intact outputs and inputs pass" || fail "verify: intact ($RC: $OUT_TXT $ERR_TXT)"

listing() { (cd "$1" && find . -printf '%p %s %T@\n' | sort); }
before=$(listing out)
mkdir "$TMP/rt"
for t in 1 2; do
    TMPDIR="$TMP/rt" run_canopy verify --rerun --threads $t out
    [ "$RC" -eq 0 ] && grep -q "reproduced byte for byte" <<<"$OUT_TXT" \
        && pass "verify: --rerun with $t thread(s) reproduces every output" \
        || fail "verify: --rerun $t threads ($RC: $(grep -v '^ok' <<<"$OUT_TXT") $ERR_TXT)"
done
[ -z "$(ls -A "$TMP/rt")" ] && [ "$(listing out)" = "$before" ] &&
    pass "verify: --rerun writes nothing in OUTDIR and leaves nothing in \$TMPDIR" ||
    fail "verify: rerun left $(ls -A "$TMP/rt") / changed OUTDIR"

# ---- --rerun carries what the run was given -------------------------------------------
# --case-id and --operator are in every report, and --max-chips decides which
# chips exist: a rerun without them would not reproduce the outputs.
run_canopy detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
    --after-mask pair/after_mask.tif -o outcase -q --threads 2 --max-chips 1 \
    --case-id "IPL 5001234-56.2024" --operator "Ana Souza, perita"
[ "$RC" -eq 0 ] || fail "verify: detect with a case ($RC: $ERR_TXT)"
TMPDIR="$TMP/rt" run_canopy verify --rerun --threads 1 outcase
[ "$RC" -eq 0 ] && grep -q "reproduced byte for byte" <<<"$OUT_TXT" \
    && pass "verify: --rerun carries --case-id, --operator and --max-chips and reproduces every output" \
    || fail "verify: --rerun of a run with a case ($RC: $(grep -v '^ok' <<<"$OUT_TXT") $ERR_TXT)"

# --baseline scenes (and their masks) are inputs that change every output.
synth "$TMP/ph" --size 200x200 --seed 3 --scenario phenology --baselines 2 ||
    fail "verify: generator (phenology)"
run_canopy detect ph/before.tif ph/after.tif --before-mask ph/before_mask.tif \
    --after-mask ph/after_mask.tif --baseline ph/baseline1.tif --baseline-mask ph/baseline1_mask.tif \
    --baseline ph/baseline2.tif --baseline-mask ph/baseline2_mask.tif -o outbase -q --threads 2
[ "$RC" -eq 0 ] || fail "verify: detect with baselines ($RC: $ERR_TXT)"
TMPDIR="$TMP/rt" run_canopy verify --rerun --threads 1 outbase
[ "$RC" -eq 0 ] && grep -q "reproduced byte for byte" <<<"$OUT_TXT" \
    && pass "verify: --rerun carries the --baseline scenes and their masks" \
    || fail "verify: --rerun of a run with baselines ($RC: $(grep -v '^ok' <<<"$OUT_TXT") $ERR_TXT)"

# One changed byte in an output.
cp -a out out2
$PY - out2/alerts.geojson <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)
PY
run_canopy verify out2
[ "$RC" -eq 1 ] && grep -q "^changed  alerts.geojson" <<<"$OUT_TXT" && grep -q "NOT intact" <<<"$OUT_TXT" \
    && pass "verify: a changed output byte is named, exit 1" || fail "verify: changed output ($RC: $OUT_TXT)"

# A missing output.
cp -a out out3 && rm -f out3/overview.png
run_canopy verify out3
[ "$RC" -eq 1 ] && grep -q "^missing  overview.png" <<<"$OUT_TXT" \
    && pass "verify: a missing output is named, exit 1" || fail "verify: missing output ($RC: $OUT_TXT)"

# One changed byte in an input.
$PY - pair/after_mask.tif <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)
PY
run_canopy verify out
[ "$RC" -eq 1 ] && grep -q "^changed  pair/after_mask.tif" <<<"$OUT_TXT" \
    && pass "verify: a changed input byte is named, exit 1" || fail "verify: changed input ($RC: $OUT_TXT)"
# The byte back: the input is intact again.
$PY - pair/after_mask.tif <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)
PY

run_canopy verify "$TMP/nowhere"
[ "$RC" -eq 1 ] && grep -q "run.json" <<<"$ERR_TXT" && pass "verify: no run.json is a clear error" \
    || fail "verify: no run.json ($RC: $ERR_TXT)"
run_canopy verify
[ "$RC" -eq 2 ] && pass "verify: missing OUTDIR is a usage error" || fail "verify: usage ($RC)"

# ---- run.json is not trusted -------------------------------------------------------
# A run.json can be edited by anyone who can write OUTDIR. Outputs must be
# regular files inside OUTDIR, inputs regular files, and a size that differs
# from the recorded one is a change found without hashing.
echo "nobody's business" >"$TMP/secret.txt"
SUM=$(sha256sum "$TMP/secret.txt" | cut -d' ' -f1)
SIZE=$(stat -c %s "$TMP/secret.txt")
# forge DIR KIND PATH SIZE SHA256: a copy of out whose run.json lists one more
# output (KIND=outputs) or input (KIND=inputs).
forge() {
    rm -rf "$1" && cp -a out "$1"
    $PY - "$1/run.json" "$2" "$3" "$4" "$5" <<'PY'
import json, sys
p, kind, path, size, sha = sys.argv[1:6]
r = json.load(open(p))
e = {"path": path, "size": int(size), "sha256": sha}
if kind == "inputs":
    e["role"] = "before:extra"
r[kind].append(e)
json.dump(r, open(p, "w"), indent=2)
PY
}
# untrusted NAME DIR LABEL: verify DIR finishes within 20 s, exit 1, LABEL refused.
untrusted() {
    local name=$1 dir=$2 label=$3
    timeout 20 "$CANOPY" verify "$dir" >"$TMP/v.out" 2>"$TMP/v.err"
    local rc=$?
    if [ $rc -eq 1 ] && grep -qF "refused  $label" "$TMP/v.out" && grep -q "^NOT intact" "$TMP/v.out"; then
        pass "verify: $name"
    else
        fail "verify: $name (exit $rc: $(grep -F -- "$label" "$TMP/v.out") $(tail -1 "$TMP/v.out") $(cat "$TMP/v.err"))"
    fi
}
forge f1 outputs "../secret.txt" "$SIZE" "$SUM"
untrusted "an output path with '..' is refused, not hashed" f1 "../secret.txt"
forge f2 outputs "$TMP/secret.txt" "$SIZE" "$SUM"
untrusted "an absolute output path is refused" f2 "$TMP/secret.txt"
forge f3 outputs "notes.txt" "$SIZE" "$SUM" && ln -s ../secret.txt f3/notes.txt
untrusted "an output that is a symbolic link out of OUTDIR is refused" f3 "notes.txt"
forge f4 outputs "sub/secret.txt" "$SIZE" "$SUM" && ln -s "$TMP" f4/sub
untrusted "an output below a symbolic-linked folder is refused" f4 "sub/secret.txt"
forge f5 outputs "/dev/zero" 1099511627776 "$SUM"
untrusted "/dev/zero as an output is refused at once" f5 "/dev/zero"
forge f6 inputs "/dev/zero" 1099511627776 "$SUM"
untrusted "/dev/zero as an input is refused at once (not a regular file)" f6 "/dev/zero"
forge f7 inputs "$TMP/fifo" 10 "$SUM" && mkfifo "$TMP/fifo"
untrusted "a FIFO as an input is refused without blocking" f7 "$TMP/fifo"

# A 64 GiB sparse output recorded as 10 bytes: the size says it changed, no hashing.
forge f8 outputs "big.bin" 10 "$SUM" && truncate -s 64G f8/big.bin
timeout 20 "$CANOPY" verify f8 >"$TMP/v.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "^changed  big.bin (size 68719476736, recorded 10)" "$TMP/v.out" &&
    pass "verify: a size that differs from the recorded one is a change, found without hashing" ||
    fail "verify: size check (exit $rc: $(grep big.bin "$TMP/v.out"))"
rm -rf f1 f2 f3 f4 f5 f6 f7 f8

# ---- --json ------------------------------------------------------------------------
run_canopy verify --json out2
check "verify: --json is one object with each file's state, the signature's and the verdict" \
    $PY - "$RC" "$TMP/stdout" <<'PY'
import json, sys
assert sys.argv[1] == "1", "exit " + sys.argv[1]
v = json.load(open(sys.argv[2]))
assert v["verdict"] == "not intact" and v["intact"] is False, v["verdict"]
states = {(f["kind"], f["path"]): f["state"] for f in v["files"]}
assert states[("output", "alerts.geojson")] == "changed", states
assert states[("output", "alerts.gpkg")] == "ok", states
assert states[("input", "pair/before.tif")] == "ok", states
assert states[("checksums", "SHA256SUMS")] == "ok", states
assert v["signature"]["state"] == "none", v["signature"]
assert v["rerun"] is None
PY
