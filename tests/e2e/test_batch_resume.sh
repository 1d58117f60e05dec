#!/bin/bash
# canopy batch resumed after kill -9, with the kill at a chosen step of a pair
# (not by luck of timing): nothing a killed run left stays beside or inside any
# pair folder, whether the pair runs again or not, and no pair is left half
# committed.
# - the killed pair's child is a zombie through the resume (an init that
#   collects orphans late): its staging folder is still a leftover;
# - a pair complete from an earlier run, killed while being redone with other
#   settings, is not run again by a resume with the first settings: its
#   staging folder goes all the same;
# - a pair killed in a journalled commit just after its commit point looks
#   complete: the resume finishes the commit before it decides.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

A="$TMP/archive"
$PY "$ROOT/tests/e2e/batch_archive.py" "$SYNTH" "$A" --size 256 >/dev/null ||
    { fail "batch resume: archive generator"; exit 0; }
R="$A/rasters"
KILL="$ROOT/tests/e2e/batch_kill.py"

# leftovers DIR: the temporary names of Canopy under DIR
leftovers() { (cd "$1" && find . -name '.*.tmp-*' -o -name '.canopy-*' | sort | tr '\n' ' '); }
# same_runs DIR1 DIR2: the same files, each pair's outputs byte for byte
same_runs() {
    local a=$1 b=$2 f
    [ "$(cd "$a" && find . -type f | sort)" = "$(cd "$b" && find . -type f | sort)" ] ||
        { echo "file lists differ: $(diff <(cd "$a" && find . -type f | sort) \
                                          <(cd "$b" && find . -type f | sort) | grep '^[<>]' | tr '\n' ' ')"
          return 1; }
    while IFS= read -r f; do
        cmp -s "$a/$f" "$b/$f" || { echo "differs: $f"; return 1; }
    done < <(cd "$a" && find . -type f ! -name run.json ! -name SHA256SUMS ! -name 'summary.*' | sort)
}
# verify_pairs DIR: canopy verify on every pair folder
verify_pairs() {
    local d
    for d in "$1"/*/*/; do
        "$CANOPY" verify "$d" >/dev/null 2>&1 || { echo "verify failed: $d"; return 1; }
    done
}

# The reference: an uninterrupted batch.
run_canopy batch "$R" -o "$TMP/r0" --no-evidence --jobs 1 --threads 1 -q
[ "$RC" -eq 0 ] || { fail "batch resume: reference run ($RC: $ERR_TXT)"; exit 0; }

# ---- the killed pair's child stays a zombie through the resume -----------------------
out=$($PY "$KILL" "$CANOPY" staged zombie "$TMP/err1" \
          batch "$R" -o "$TMP/r1" --no-evidence --jobs 1 --threads 1 -q -- \
          batch "$R" -o "$TMP/r1" --no-evidence --jobs 2 --threads 2)
left=$(sed -n 's/^left: //p' <<<"$out")
rc=$(sed -n 's/^rc: //p' <<<"$out")
bad=$(leftovers "$TMP/r1")
diffs=$(same_runs "$TMP/r0" "$TMP/r1")
[[ "$left" == *.tmp-* ]] && [ "$rc" = 0 ] && grep -q "2 pairs to run (0 complete" "$TMP/err1" &&
    [ -z "$bad" ] && [ -z "$diffs" ] &&
    pass "batch resume: a killed pair's staging folder goes though its process is still a zombie" ||
    fail "batch resume: zombie (left by the kill: $left; rc $rc: $(cat "$TMP/err1"); left after: $bad; $diffs)"

# ---- a complete pair killed while being redone is not run again: cleaned all the same --
cp -a "$TMP/r0" "$TMP/r2"
out=$($PY "$KILL" "$CANOPY" staged reap "$TMP/err2" \
          batch "$R" -o "$TMP/r2" --no-evidence --jobs 1 --threads 1 -q --min-area 2 -- \
          batch "$R" -o "$TMP/r2" --no-evidence --jobs 2 --threads 2)
left=$(sed -n 's/^left: //p' <<<"$out")
rc=$(sed -n 's/^rc: //p' <<<"$out")
bad=$(leftovers "$TMP/r2")
diffs=$(same_runs "$TMP/r0" "$TMP/r2")
[[ "$left" == *.tmp-* ]] && [ "$rc" = 0 ] && grep -q "nothing to do: 2 pairs complete" "$TMP/err2" &&
    [ -z "$bad" ] && [ -z "$diffs" ] &&
    pass "batch resume: the staging folder beside a complete pair goes, though the pair is not run again" ||
    fail "batch resume: complete pair (left by the kill: $left; rc $rc: $(cat "$TMP/err2"); left after: $bad; $diffs)"

# ---- killed in a journalled commit just after its commit point ------------------------
cp -a "$TMP/r0" "$TMP/r3"
out=$(CANOPY_DETECT_COMMIT=journal $PY "$KILL" "$CANOPY" committed reap "$TMP/err3" \
          batch "$R" -o "$TMP/r3" --no-evidence --jobs 1 --threads 1 -q --min-area 2 -- \
          batch "$R" -o "$TMP/r3" --no-evidence --jobs 2 --threads 2 --min-area 2)
left=$(sed -n 's/^left: //p' <<<"$out")
rc=$(sed -n 's/^rc: //p' <<<"$out")
bad=$(leftovers "$TMP/r3")
n2=$(grep -l '"min_area_ha": 2' "$TMP"/r3/*/*/run.json | wc -l)
vp=$(verify_pairs "$TMP/r3")
[[ "$left" == *.canopy-journal* ]] && [ "$rc" = 0 ] && grep -q "1 pair to run (1 complete" "$TMP/err3" &&
    [ -z "$bad" ] && [ "$n2" -eq 2 ] && [ -z "$vp" ] &&
    pass "batch resume: a commit killed after its commit point is finished before the pair is judged complete" ||
    fail "batch resume: journal (left by the kill: $left; rc $rc: $(cat "$TMP/err3"); left after: $bad; $n2 of 2 pairs redone; $vp)"
