#!/bin/bash
# canopy batch: discovery over a mixed archive (plain rasters with sidecar masks,
# Landsat C2 L2 folders and a .tar, Sentinel-2 COG folders, STAC items, junk, a
# truncated tar, an unreadable product), --list against what a run does,
# pairing rules, detect settings per pair, resume after kill -9, idempotent
# reruns, --min-observed, list files and exit codes.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

A="$TMP/archive"
$PY "$ROOT/tests/e2e/batch_archive.py" "$SYNTH" "$A" --junk --size 256 ||
    { fail "batch: archive generator"; exit 0; }

# pairs_of FILE: "footprint/pair status" lines of a summary.csv
pairs_of() { $PY -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["pair"]: print(r["footprint"] + "/" + r["pair"], r["status"])' "$1" | sort; }
# same_outputs DIR1 DIR2: every file but run.json (and SHA256SUMS, which holds
# run.json's hash) and summaries byte-identical
same_outputs() {
    local a=$1 b=$2 f bad=0
    while IFS= read -r f; do
        cmp -s "$a/$f" "$b/$f" || { echo "differs: $f"; bad=1; }
    done < <(cd "$a" && find . -type f ! -name run.json ! -name SHA256SUMS ! -name 'summary.*' | sort)
    [ "$(cd "$a" && find . -type f | sort)" = "$(cd "$b" && find . -type f | sort)" ] ||
        { echo "file lists differ: $(diff <(cd "$a" && find . -type f | sort) \
                                          <(cd "$b" && find . -type f | sort) | grep '^[<>]' |
                                     tr '\n' ' ')"; bad=1; }
    return $bad
}

# ---- discovery and --list ----------------------------------------------------
run_canopy batch "$A" -o "$TMP/out" --list
LIST=$OUT_TXT
[ "$RC" -eq 0 ] && pass "batch: --list exits 0" || fail "batch: --list ($RC: $ERR_TXT)"
grep -q '^footprint wrs2-001-062 ' <<<"$LIST" &&
    grep -q '^footprint mgrs-29RKH ' <<<"$LIST" &&
    [ "$(grep -c '^footprint grid-' <<<"$LIST")" -eq 2 ] &&
    grep -q '^footprint wrs2-002-063 ' <<<"$LIST" &&
    pass "batch: footprints by path/row, MGRS tile and overlap" ||
    fail "batch: footprints: $(grep '^footprint' <<<"$LIST")"
grep -q 'LC08_L2SP_001062_20240820_20240820_02_T1  \[landsat_c2l2\]  .*\.tar$' <<<"$LIST" &&
    grep -q '\[sentinel2_l2a\]  .*S2A_29RKH_20240615_0_L2A$' <<<"$LIST" &&
    grep -q '\[stac\]  .*S2A_29RKH_20241001_0_L2A.json$' <<<"$LIST" &&
    grep -q '\[raster\]  .*placeA/scene_20240615.tif$' <<<"$LIST" &&
    pass "batch: Landsat tar and folders, S2 COG folders, STAC items and rasters identified" ||
    fail "batch: kinds: $(grep '  scene ' <<<"$LIST")"
[ "$(grep -c '  scene ' <<<"$LIST")" -eq 15 ] && ! grep -q 'B04.tif\|_mask.tif\|QA_PIXEL' <<<"$LIST" &&
    pass "batch: band, mask and asset files are not scenes of their own" ||
    fail "batch: scene count $(grep -c '  scene ' <<<"$LIST")"
grep -q '^ignored .*junk/README.md: not a scene' <<<"$LIST" &&
    grep -q '^ignored .*junk/notes.json: not a STAC item' <<<"$LIST" &&
    grep -q '^ignored .*junk/table.csv' <<<"$LIST" &&
    pass "batch: junk files are ignored with a note" || fail "batch: junk: $(grep '^ignored' <<<"$LIST")"
grep -q '^failed .*broken/LC08_L2SP_001062_20240901_20240901_02_T1.tar: .*missing' <<<"$LIST" &&
    pass "batch: a truncated tar is reported" || fail "batch: truncated tar: $(grep '^failed' <<<"$LIST")"
grep -q 'UNREADABLE: .*cannot open its red band' <<<"$LIST" &&
    pass "batch: an unreadable product is flagged in the plan" || fail "batch: unreadable product"
[ ! -e "$TMP/out" ] && pass "batch: --list writes nothing" || fail "batch: --list wrote $TMP/out"

# ---- a run: one failing product does not stop the others; --list matches --
run_canopy batch "$A" -o "$TMP/out" --jobs 2 --threads 2
[ "$RC" -eq 1 ] && pass "batch: exit 1 when a pair failed" || fail "batch: run exit $RC: $ERR_TXT"
S=$(pairs_of "$TMP/out/summary.csv")
[ "$(grep -c ' ok$' <<<"$S")" -eq 9 ] &&
    [ "$(grep ' failed$' <<<"$S")" = "wrs2-002-063/LC08_L2SP_002063_20240615_20240615_02_T1__LC08_L2SP_002063_20240820_20240820_02_T1 failed" ] &&
    pass "batch: the unreadable product's pair failed, the 9 others ran" ||
    fail "batch: statuses: $S"
grep -q 'cannot open its red band' "$TMP/out/summary.csv" &&
    grep -q '^,,,,,,,,,,failed,"input .*broken/.*tar' "$TMP/out/summary.csv" &&
    pass "batch: summary.csv gives the reasons (pair and input)" || fail "batch: reasons in summary.csv"
LISTED=$(sed -n 's/^  pair \([^ ]*\)  \(run\|skip\).*/\1 \2/p' <<<"$LIST" | sed 's/ run$/ ran/; s/ skip$/ skipped/' | sort)
RAN=$(sed 's/ ok$/ ran/; s/ failed$/ ran/' <<<"$S")
[ -n "$LISTED" ] && [ "$LISTED" = "$RAN" ] && pass "batch: --list matches what the run did" ||
    fail "batch: --list vs run: $(diff <(echo "$LISTED") <(echo "$RAN"))"
$PY - "$TMP/out" <<'PY' && pass "batch: per-footprint alerts.gpkg holds every pair's alerts with pair ids" || fail "batch: merged alerts.gpkg"
import csv, sys
from osgeo import ogr
out = sys.argv[1]
rows = [r for r in csv.DictReader(open(out + "/summary.csv")) if r["status"] == "ok"]
for fp in {r["footprint"] for r in rows}:
    ds = ogr.Open(f"{out}/{fp}/alerts.gpkg")
    lyr = ds.GetLayerByName("alerts")
    want = sum(int(r["alerts"]) for r in rows if r["footprint"] == fp)
    assert lyr.GetFeatureCount() == want, (fp, lyr.GetFeatureCount(), want)
    pairs = {r["pair"] for r in rows if r["footprint"] == fp}
    for f in lyr:
        assert f.GetField("pair") in pairs and f.GetField("before_id") and f.GetField("date_after")
    assert ds.GetLayerByName("pairs").GetFeatureCount() == len(pairs)
PY
ls "$TMP/out/mgrs-29RKH/S2A_29RKH_20240615_0_L2A__S2B_29RKH_20240820_0_L2A/" | tr '\n' ' ' |
    grep -q 'alerts.csv alerts.geojson alerts.gpkg alerts.kmz evidence overview.pgw overview.png overview.png.aux.xml report.html report.pdf run.json' &&
    pass "batch: each pair folder has everything detect writes" || fail "batch: pair folder contents"
$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["pairs"]==10 and j["ok"]==9 and j["failed"]==1 and j["inputs_failed"]==1 and len(j["inputs_not_used"])==4' \
    "$TMP/out/summary.json" && pass "batch: summary.json counts" || fail "batch: summary.json"

# ---- idempotent: a finished batch does nothing and says so -------------------
R="$A/rasters"
run_canopy batch "$R" -o "$TMP/r1" --no-evidence -q
[ "$RC" -eq 0 ] && pass "batch: all pairs ok -> exit 0" || fail "batch: rasters run ($RC: $ERR_TXT)"
before=$(cd "$TMP/r1" && find . -type f -printf '%p %T@\n' | sort)
run_canopy batch "$R" -o "$TMP/r1" --no-evidence
after=$(cd "$TMP/r1" && find . -type f -printf '%p %T@\n' | sort)
[ "$RC" -eq 0 ] && grep -q "nothing to do: 4 pairs complete" <<<"$ERR_TXT" && [ "$before" = "$after" ] &&
    pass "batch: rerunning a finished batch does nothing and says so" ||
    fail "batch: rerun ($RC: $ERR_TXT; changed: $(diff <(echo "$before") <(echo "$after") | head -3))"

# A changed output makes that pair run again; other settings make all run again.
P1=$(ls -d "$TMP"/r1/grid-*/scene_20240615__scene_20240820 | head -1)
echo "x" >>"$P1/alerts.csv"
echo "my notes on this pair" >"$P1/notes.txt"
run_canopy batch "$R" -o "$TMP/r1" --no-evidence
grep -q "run again: alerts.csv has changed" <<<"$ERR_TXT" && grep -q "1 pair to run" <<<"$ERR_TXT" &&
    pass "batch: a pair whose outputs changed is redone" || fail "batch: changed output: $ERR_TXT"
[ "$RC" -eq 0 ] && [ "$(cat "$P1/notes.txt" 2>/dev/null)" = "my notes on this pair" ] &&
    "$CANOPY" verify "$P1" >/dev/null &&
    pass "batch: redoing a pair keeps a file Canopy did not write in its folder" ||
    fail "batch: redone pair lost notes.txt ($RC: $(ls -A "$P1" | tr '\n' ' '))"
run_canopy batch "$R" -o "$TMP/r1" --no-evidence --min-area 2
grep -q "4 pairs to run" <<<"$ERR_TXT" && grep -q "made with other settings" <<<"$ERR_TXT" &&
    grep -q '"min_area_ha": 2' "$P1/run.json" &&
    pass "batch: detect settings apply to every pair (and changing them redoes the pairs)" ||
    fail "batch: settings ($RC: $ERR_TXT)"
run_canopy batch "$R" -o "$TMP/r1" --no-evidence --force
grep -q "4 pairs to run (0 complete" <<<"$ERR_TXT" && pass "batch: --force redoes everything" ||
    fail "batch: --force: $ERR_TXT"

# ---- resume after kill -9 gives the outputs of an uninterrupted run --------------
"$CANOPY" batch "$R" -o "$TMP/r2" --no-evidence --jobs 1 --threads 1 -q &
BPID=$!
for _ in $(seq 300); do
    [ -n "$(find "$TMP/r2" -name run.json -print -quit 2>/dev/null)" ] && break
    sleep 0.05
done
sleep 0.3
kill -9 "$BPID" 2>/dev/null
{ wait "$BPID"; } 2>/dev/null
sleep 0.5
[ -z "$(pgrep -f "batch $R -o $TMP/r2" || true)" ] && pass "batch: kill -9 leaves no detect child behind" ||
    fail "batch: children alive after kill -9: $(pgrep -af "batch $R -o $TMP/r2")"
# Count finished pairs only: a pair killed while staging has a run.json in its
# staging folder (.PAIR.tmp-HOST-PID beside the pair's) that never made it into place.
ndone=$(find "$TMP/r2" -name run.json -not -path '*.tmp-*' | wc -l)
run_canopy batch "$R" -o "$TMP/r2" --no-evidence --jobs 2 --threads 2
# (On a fast machine the kill can come after the last pair: then nothing is left.)
[ "$RC" -eq 0 ] && { grep -q "$((4 - ndone)) pairs\{0,1\} to run ($ndone complete" <<<"$ERR_TXT" ||
    { [ "$ndone" -eq 4 ] && grep -q "nothing to do: 4 pairs complete" <<<"$ERR_TXT"; }; } &&
    pass "batch: resume runs only the unfinished pairs ($ndone of 4 were complete)" ||
    fail "batch: resume ($RC: $ERR_TXT)"
run_canopy batch "$R" -o "$TMP/r3" --no-evidence -q
out=$(same_outputs "$TMP/r3" "$TMP/r2") && [ -z "$(find "$TMP/r2" -name '.*.tmp-*' -o -name '.canopy-*')" ] &&
    [ "$(cut -d, -f1-9,11- "$TMP/r2/summary.csv")" = "$(cut -d, -f1-9,11- "$TMP/r3/summary.csv")" ] &&
    pass "batch: resumed batch = uninterrupted batch (every output, byte for byte)" ||
    fail "batch: resume differs: $out"

# A merge killed on this host leaves its temporary GeoPackage (and SQLite's
# journal); the next batch removes them. Another host's, maybe still being
# written on a shared folder, stay.
FPD=$(dirname "$(find "$TMP/r3" -mindepth 2 -maxdepth 2 -name alerts.gpkg | sort | head -1)")
HOSTN=$(hostname | cut -d. -f1 | tr -c 'A-Za-z0-9_\n' '_')
touch "$FPD/.alerts.gpkg.tmp-$HOSTN-99999999" "$FPD/.alerts.gpkg.tmp-$HOSTN-99999999-journal" \
      "$FPD/.alerts.gpkg.tmp-otherhost-1"
run_canopy batch "$R" -o "$TMP/r3" --no-evidence -q
[ "$RC" -eq 0 ] && [ ! -e "$FPD/.alerts.gpkg.tmp-$HOSTN-99999999" ] &&
    [ ! -e "$FPD/.alerts.gpkg.tmp-$HOSTN-99999999-journal" ] &&
    [ -e "$FPD/.alerts.gpkg.tmp-otherhost-1" ] &&
    pass "batch: a killed merge's temporary files on this host are removed, other hosts' kept" ||
    fail "batch: leftover merge files ($RC: $(ls -a "$FPD" | tr '\n' ' '))"
rm -f "$FPD/.alerts.gpkg.tmp-otherhost-1"

# ---- pairing rules --------------------------------------------------------------
PA="$A/rasters/placeA"
run_canopy batch "$PA" -o "$TMP/p" --list
[ "$(grep -c '^  pair .* run ' <<<"$OUT_TXT")" -eq 2 ] && grep -q 'scene_20240615__scene_20240820  run' <<<"$OUT_TXT" &&
    grep -q 'scene_20240820__scene_20241001  run' <<<"$OUT_TXT" &&
    pass "batch: --pairs consecutive (default) pairs each scene with the previous one" ||
    fail "batch: consecutive: $OUT_TXT"
run_canopy batch "$PA" -o "$TMP/p" --list --pairs baseline --baseline-date 2024-08-01
[ "$(grep -c '^  pair ' <<<"$OUT_TXT")" -eq 1 ] && grep -q 'scene_20240820__scene_20241001  run' <<<"$OUT_TXT" &&
    pass "batch: --pairs baseline compares later scenes with the scene nearest the date" ||
    fail "batch: baseline: $OUT_TXT"
run_canopy batch "$PA" -o "$TMP/p" --list --pairs baseline --baseline-date 2024-01-01
[ "$(grep -c '^  pair ' <<<"$OUT_TXT")" -eq 2 ] && grep -q 'scene_20240615__scene_20241001  run' <<<"$OUT_TXT" &&
    pass "batch: --pairs baseline, every later scene against the first" || fail "batch: baseline 2: $OUT_TXT"
run_canopy batch "$PA" -o "$TMP/p" --max-gap 50 --no-evidence -q
S=$(pairs_of "$TMP/p/summary.csv")
[ "$RC" -eq 0 ] && grep -q 'scene_20240615__scene_20240820 skipped' <<<"$S" &&
    grep -q 'scene_20240820__scene_20241001 ok' <<<"$S" &&
    grep -q '66 days apart, more than --max-gap 50' "$TMP/p/summary.csv" &&
    pass "batch: --max-gap skips a pair, with the reason in the summary" || fail "batch: max-gap: $S"
run_canopy batch "$PA" -o "$TMP/p" --max-gap 50 --no-evidence --min-observed 0.95 -q
S=$(pairs_of "$TMP/p/summary.csv")
n=$($PY -c 'from osgeo import ogr; import sys,glob
ds = ogr.Open(glob.glob(sys.argv[1] + "/grid-*/alerts.gpkg")[0])
print(ds.GetLayerByName("alerts").GetFeatureCount())' "$TMP/p")
[ "$RC" -eq 0 ] && grep -q 'scene_20240820__scene_20241001 skipped' <<<"$S" &&
    grep -q 'less than --min-observed 95%' "$TMP/p/summary.csv" && [ "$n" = 0 ] &&
    pass "batch: --min-observed reports a poorly observed pair as skipped and leaves its alerts out" ||
    fail "batch: min-observed ($RC, $n): $S"

# ---- a list file as input -----------------------------------------------------------
printf '# scenes to process\n%s\n\n%s\n' "rasters/placeA" "landsat/LC08_L2SP_001062_20240820_20240820_02_T1.tar" >"$A/scenes.txt"
printf '%s\n' "$A/landsat/LC08_L2SP_001062_20240615_20240615_02_T1" >>"$A/scenes.txt"
run_canopy batch "$A/scenes.txt" -o "$TMP/l" --list
[ "$(grep -c '  scene ' <<<"$OUT_TXT")" -eq 5 ] && [ "$(grep -c '^  pair ' <<<"$OUT_TXT")" -eq 3 ] &&
    pass "batch: a text file listing inputs (relative to it, or absolute)" || fail "batch: list file: $OUT_TXT"

# Several Landsat products unpacked into one folder are still several products.
mkdir -p "$TMP/loose"
cp "$A"/landsat/LC08_L2SP_001062_20240615_20240615_02_T1/* "$A"/landsat/LC09_L2SP_001062_20241001_20241001_02_T1/* "$TMP/loose/"
run_canopy batch "$TMP/loose" -o "$TMP/lo" --list
[ "$(grep -c '  scene .*\[landsat_c2l2\]' <<<"$OUT_TXT")" -eq 2 ] && [ "$(grep -c '^  pair ' <<<"$OUT_TXT")" -eq 1 ] &&
    pass "batch: two Landsat products unpacked into one folder are two scenes" ||
    fail "batch: loose products: $OUT_TXT"

# ---- exit codes ------------------------------------------------------------------
run_canopy batch --bogus; [ "$RC" -eq 2 ] && c1=1 || c1=0
run_canopy batch -o "$TMP/x"; [ "$RC" -eq 2 ] && c2=1 || c2=0
run_canopy batch "$PA"; [ "$RC" -eq 2 ] && c3=1 || c3=0
run_canopy batch "$PA" -o "$TMP/x" --pairs baseline; [ "$RC" -eq 2 ] && c4=1 || c4=0
run_canopy batch "$PA" -o "$TMP/x" --forest-ndvi abc; [ "$RC" -eq 2 ] && grep -q -- "--forest-ndvi" <<<"$ERR_TXT" && c5=1 || c5=0
run_canopy batch --shard 0; [ "$RC" -eq 2 ] && c6=1 || c6=0
run_canopy batch "$PA" -o "$TMP/x" --date-before 2024-01-01; [ "$RC" -eq 2 ] && c7=1 || c7=0
run_canopy batch "$TMP/does-not-exist" -o "$TMP/x" -q; [ "$RC" -eq 1 ] && c8=1 || c8=0
run_canopy batch --help; [ "$RC" -eq 0 ] && grep -q "Usage: canopy batch" <<<"$OUT_TXT" && c9=1 || c9=0
[ "$c1$c2$c3$c4$c5$c6$c7$c8$c9" = 111111111 ] && pass "batch: exit codes (2 usage/config, 1 missing input, 0 help)" ||
    fail "batch: exit codes $c1$c2$c3$c4$c5$c6$c7$c8$c9"

# Sentinel-2 as ESA delivers it: a .SAFE .zip next to a COG folder of the same
# MGRS tile are found, identified, grouped and paired.
$PY - "$SYNTH" "$TMP/safe" "$ROOT/scripts/make-products.py" <<'PY' || fail "batch: SAFE zip fixture"
import importlib.util, os, shutil, sys
exe, out, mp_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("make_products", mp_path)
mp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mp)
src = os.path.join(out, ".synth")
p = mp.synth(exe, os.path.join(src, "s2"), "--size", "200x200", "--seed", "31", "--no-mask",
             "--tile", "64")
scl_b = mp.clear_scl(mp.read(os.path.join(p, "before.tif"), 3)[0])
scl_a = mp.clear_scl(mp.read(os.path.join(p, "after.tif"), 3)[0])
safe = mp.s2_safe(out, "21LXH", "20240615T135219", os.path.join(p, "before.tif"), scl_b)
mp.zip_safe(safe, safe[:-5] + ".zip")
shutil.rmtree(safe)
mp.s2_cog_folder(out, "S2B_21LXH_20240820_0_L2A", "21LXH", "2024-08-20",
                 os.path.join(p, "after.tif"), scl_a, stac=False)
shutil.copy(os.path.join(p, "truth.csv"), os.path.join(out, "truth.csv"))
shutil.rmtree(src)
PY
run_canopy batch "$TMP/safe" -o "$TMP/safe-out" --list
grep -q '^footprint mgrs-21LXH ' <<<"$OUT_TXT$ERR_TXT" && grep -q 'sentinel2_l2a.*\.zip' <<<"$OUT_TXT$ERR_TXT" \
    && pass "batch: a Sentinel-2 .SAFE .zip is identified and grouped with the COG folder of its tile" \
    || fail "batch: SAFE zip discovery ($RC: $OUT_TXT $ERR_TXT)"
run_canopy batch "$TMP/safe" -o "$TMP/safe-out" -q
check "batch: the SAFE zip / COG folder pair runs and finds the planted clearings" $PY - "$TMP/safe-out" "$TMP/safe/truth.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/summary.csv")))
pairs = [r for r in rows if r.get("pair")]
want = sum(1 for t in csv.DictReader(open(sys.argv[2])) if t["expect_alert"] == "1")
print(pairs, want)
assert len(pairs) == 1 and pairs[0]["status"] == "ok" and int(pairs[0]["alerts"]) == want
PY
