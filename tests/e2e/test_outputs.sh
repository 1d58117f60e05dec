#!/bin/bash
# --outputs: a run writes only the products asked for, each byte-identical to
# the same product of a full run; run.json records the choice, verify --rerun
# reproduces it, a later run removes what an earlier one left under a name it
# does not write (with --overwrite), and bad lists are usage errors. Batch carries the choice to
# every pair and into its plan.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

P="$TMP/pair"
synth "$P" --size 400x300 --seed 5 --scenario sample --tile 64 || { fail "outputs: generator"; exit 0; }

detect_pair "$P" "$TMP/full" --no-evidence --threads 2
[ "$RC" -eq 0 ] || { fail "outputs: full run ($RC: $ERR_TXT)"; exit 0; }

# files DIR: the file names in DIR, one line
files() { (cd "$1" && LC_ALL=C ls -A | tr '\n' ' '); }

detect_pair "$P" "$TMP/gpkg" --no-evidence --threads 2 --outputs gpkg
[ "$RC" -eq 0 ] && [ "$(files "$TMP/gpkg")" = "SHA256SUMS alerts.gpkg run.json " ] &&
    cmp -s "$TMP/full/alerts.gpkg" "$TMP/gpkg/alerts.gpkg" &&
    pass "outputs: --outputs gpkg writes alerts.gpkg (identical to a full run's) and run.json only" ||
    fail "outputs: gpkg only ($RC: $(files "$TMP/gpkg") $ERR_TXT)"

check "outputs: run.json records the choice, the same counts and one listed output" \
    $PY - "$TMP/full/run.json" "$TMP/gpkg/run.json" <<'PY'
import json, sys
full, part = (json.load(open(p)) for p in sys.argv[1:3])
assert full["settings"]["outputs"] == ["gpkg", "geojson", "csv", "overview"], full["settings"]
assert part["settings"]["outputs"] == ["gpkg"], part["settings"]
assert [o["path"] for o in part["outputs"]] == ["alerts.gpkg"], part["outputs"]
assert full["counts"] == part["counts"], (full["counts"], part["counts"])
assert full["counts"]["alerts"] > 0, full["counts"]
assert full["run_id"] == part["run_id"], "the same evidence has the same run id"
# No quicklook is planned (or kept) when none is written.
assert part["memory"]["planned_mb"] < full["memory"]["planned_mb"], (part["memory"], full["memory"])
PY

detect_pair "$P" "$TMP/two" --no-evidence --outputs csv,geojson
[ "$RC" -eq 0 ] && [ "$(files "$TMP/two")" = "SHA256SUMS alerts.csv alerts.geojson run.json " ] &&
    cmp -s "$TMP/full/alerts.csv" "$TMP/two/alerts.csv" &&
    cmp -s "$TMP/full/alerts.geojson" "$TMP/two/alerts.geojson" &&
    pass "outputs: csv,geojson (any order) give the full run's files" ||
    fail "outputs: csv,geojson ($RC: $(files "$TMP/two") $ERR_TXT)"

detect_pair "$P" "$TMP/ov" --no-evidence --outputs overview --threads 1
[ "$RC" -eq 0 ] && [ "$(files "$TMP/ov")" = "SHA256SUMS overview.pgw overview.png overview.png.aux.xml run.json " ] &&
    cmp -s "$TMP/full/overview.png" "$TMP/ov/overview.png" &&
    pass "outputs: overview alone gives the full run's overview.png" ||
    fail "outputs: overview ($RC: $(files "$TMP/ov") $ERR_TXT)"

run_canopy verify --rerun --threads 1 "$TMP/gpkg"
[ "$RC" -eq 0 ] && grep -q "reproduced byte for byte" <<<"$OUT_TXT" &&
    ! grep -q "overview\|geojson" <<<"$OUT_TXT" &&
    pass "outputs: verify --rerun reproduces a run with --outputs gpkg" ||
    fail "outputs: verify --rerun ($RC: $OUT_TXT $ERR_TXT)"

# run.json from before --outputs existed (no settings.outputs, nor SHA256SUMS): all four.
cp -a "$TMP/full" "$TMP/old" && rm "$TMP/old/SHA256SUMS"
$PY - "$TMP/old/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); del r["settings"]["outputs"]; del r["checksums"]
json.dump(r, open(sys.argv[1], "w"))
PY
run_canopy verify --rerun "$TMP/old"
[ "$RC" -eq 0 ] && grep -q "overview.png (rerun)" <<<"$OUT_TXT" && grep -q "reproduced byte for byte" <<<"$OUT_TXT" &&
    pass "outputs: a run.json without settings.outputs reruns with all four products" ||
    fail "outputs: old run.json ($RC: $OUT_TXT $ERR_TXT)"
$PY - "$TMP/old/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["settings"]["outputs"] = ["gpkg", "shapefile"]
json.dump(r, open(sys.argv[1], "w"))
PY
run_canopy verify --rerun "$TMP/old"
[ "$RC" -eq 1 ] && grep -q "settings.outputs: unknown product 'shapefile'" <<<"$ERR_TXT" &&
    pass "outputs: a bad settings.outputs in run.json is named, exit 1" ||
    fail "outputs: bad settings.outputs ($RC: $ERR_TXT)"

# A full run with evidence, then a gpkg-only run into the same folder.
detect_pair "$P" "$TMP/reuse"
[ "$RC" -eq 0 ] && [ -d "$TMP/reuse/evidence" ] || fail "outputs: evidence run ($RC: $ERR_TXT)"
touch "$TMP/reuse/notes.txt"
detect_pair "$P" "$TMP/reuse" --no-evidence --outputs gpkg --overwrite
run_canopy verify "$TMP/reuse"
[ "$(files "$TMP/reuse")" = "SHA256SUMS alerts.gpkg notes.txt run.json " ] && [ "$RC" -eq 0 ] &&
    pass "outputs: a later run removes the earlier run's outputs it does not write, nothing else" ||
    fail "outputs: reused folder ($(files "$TMP/reuse") verify $RC: $OUT_TXT)"

for bad in "gpkg,shp" "gpkg,,csv" "" "csv,csv"; do
    detect_pair "$P" "$TMP/bad" --no-evidence --outputs "$bad"
    [ "$RC" -eq 2 ] && grep -q -- "--outputs: " <<<"$ERR_TXT" && [ ! -e "$TMP/bad" ] &&
        pass "outputs: --outputs '$bad' is a usage error, nothing written" ||
        fail "outputs: --outputs '$bad' ($RC: $ERR_TXT)"
done
detect_pair "$P" "$TMP/bad" --outputs gpkg
[ "$RC" -eq 2 ] && grep -q -- "--no-evidence" <<<"$ERR_TXT" && [ ! -e "$TMP/bad" ] &&
    pass "outputs: fewer products with evidence on is a usage error naming --no-evidence" ||
    fail "outputs: evidence conflict ($RC: $ERR_TXT)"

# ---- batch ---------------------------------------------------------------------
A="$TMP/archive"
mkdir -p "$A"
"$SYNTH" -o "$TMP/s1" --size 200x160 --seed 3 --scenario sample --tile 64 > /dev/null &&
    cp "$TMP/s1/before.tif" "$A/place_20240601.tif" && cp "$TMP/s1/after.tif" "$A/place_20240801.tif" &&
    cp "$TMP/s1/before_mask.tif" "$A/place_20240601_mask.tif" &&
    cp "$TMP/s1/after_mask.tif" "$A/place_20240801_mask.tif" || { fail "outputs: batch archive"; exit 0; }

run_canopy batch "$A" -o "$TMP/b" -q --no-evidence --outputs gpkg,csv
pair_dir=$(find "$TMP/b" -mindepth 2 -maxdepth 2 -type d | head -1)
[ "$RC" -eq 0 ] && [ -n "$pair_dir" ] && [ "$(files "$pair_dir")" = "SHA256SUMS alerts.csv alerts.gpkg run.json " ] &&
    [ -f "$(dirname "$pair_dir")/alerts.gpkg" ] &&
    pass "outputs: batch --outputs gpkg,csv writes those per pair and merges the footprint" ||
    fail "outputs: batch ($RC: ${pair_dir:+$(files "$pair_dir")} $ERR_TXT)"
run_canopy batch "$A" -o "$TMP/b" --no-evidence --outputs gpkg,csv
[ "$RC" -eq 0 ] && grep -q "nothing to do: 1 pair complete" <<<"$ERR_TXT" &&
    pass "outputs: batch with the same --outputs finds its pairs complete" ||
    fail "outputs: batch rerun ($RC: $OUT_TXT $ERR_TXT)"
run_canopy batch "$A" -o "$TMP/b" --no-evidence
[ "$RC" -eq 0 ] && grep -q "run again: made with other settings" <<<"$ERR_TXT" &&
    [ "$(files "$pair_dir")" = "SHA256SUMS alerts.csv alerts.geojson alerts.gpkg overview.pgw overview.png overview.png.aux.xml run.json " ] &&
    pass "outputs: batch without --outputs runs the pairs again for all four products" ||
    fail "outputs: batch other outputs ($RC: $(files "$pair_dir") $ERR_TXT)"

run_canopy batch "$A" -o "$TMP/b2" --no-evidence --outputs geojson
[ "$RC" -eq 2 ] && grep -q "batch needs gpkg" <<<"$ERR_TXT" && [ ! -e "$TMP/b2" ] &&
    pass "outputs: batch without gpkg is a usage error" || fail "outputs: batch no gpkg ($RC: $ERR_TXT)"
run_canopy batch "$A" -o "$TMP/b2" --outputs gpkg
[ "$RC" -eq 2 ] && grep -q -- "--no-evidence" <<<"$ERR_TXT" && [ ! -e "$TMP/b2" ] &&
    pass "outputs: batch --outputs with evidence on is a usage error" ||
    fail "outputs: batch evidence conflict ($RC: $ERR_TXT)"

run_canopy batch "$A" -o "$TMP/b3" --plan-only --shards 1 --no-evidence --outputs gpkg
run_canopy batch --shard 0 --plan "$TMP/b3/plan.json" -q
pair_dir=$(find "$TMP/b3" -mindepth 2 -maxdepth 2 -type d | head -1)
[ "$RC" -eq 0 ] && grep -q '"outputs"' "$TMP/b3/plan.json" && [ -n "$pair_dir" ] &&
    [ "$(files "$pair_dir")" = "SHA256SUMS alerts.gpkg run.json " ] &&
    pass "outputs: a batch plan carries --outputs to its shards" ||
    fail "outputs: plan ($RC: ${pair_dir:+$(files "$pair_dir")} $ERR_TXT)"
