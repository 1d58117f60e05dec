#!/bin/bash
# Determinism: the same inputs and settings give byte-identical alerts
# whatever the number of threads (and the same ids run after run).
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
# Small tiles: many tiles, so threads really interleave. With more threads than
# strips, strips are cut into column ranges of tiles (2 threads: 3 per strip,
# 4: 6, 8: single tiles), which must not change a byte either.
synth "$P" --size 300x260 --seed 5 --scenario sample --tile 32 || { fail "determinism: generator"; exit 0; }
for t in 1 2 4 8; do
    detect_pair "$P" "$TMP/t$t" --threads "$t"
    [ "$RC" -eq 0 ] || fail "determinism: run with $t threads ($RC: $ERR_TXT)"
done
check "determinism: alerts.geojson identical with 1 and 2 threads" cmp "$TMP/t1/alerts.geojson" "$TMP/t2/alerts.geojson"
check "determinism: alerts.geojson identical with 1 and 4 threads" cmp "$TMP/t1/alerts.geojson" "$TMP/t4/alerts.geojson"
check "determinism: alerts.geojson identical with 1 and 8 threads" cmp "$TMP/t1/alerts.geojson" "$TMP/t8/alerts.geojson"
check "determinism: alerts.gpkg identical with 1 and 4 threads" cmp "$TMP/t1/alerts.gpkg" "$TMP/t4/alerts.gpkg"
check "determinism: alerts.gpkg identical with 1 and 8 threads" cmp "$TMP/t1/alerts.gpkg" "$TMP/t8/alerts.gpkg"
check "determinism: overview.png identical with 1 and 4 threads" cmp "$TMP/t1/overview.png" "$TMP/t4/overview.png"
check "determinism: overview.png identical with 1 and 8 threads" cmp "$TMP/t1/overview.png" "$TMP/t8/overview.png"
# Every output, evidence included (chips are made on all threads, each worker
# with its own readers), byte for byte; run.json (timings, threads) and
# SHA256SUMS (which holds run.json's hash) are the only files that differ.
same_outputs() {
    local a=$1 b=$2 f bad=""
    [ "$(cd "$a" && find . -type f | sort)" = "$(cd "$b" && find . -type f | sort)" ] ||
        { echo "different file lists"; return 1; }
    while IFS= read -r f; do
        case "$f" in ./run.json|./SHA256SUMS) continue;; esac
        cmp -s "$a/$f" "$b/$f" || bad="$bad $f"
    done < <(cd "$a" && find . -type f | sort)
    [ -z "$bad" ] || { echo "differ:$bad"; return 1; }
    [ -n "$(ls "$a/evidence")" ] || { echo "no chips to compare"; return 1; }
}
for t in 2 4; do
    check "determinism: every output (chips, report.pdf, report.html, alerts.kmz) identical with 1 and $t threads" \
        same_outputs "$TMP/t1" "$TMP/t$t"
done
# A coarse quicklook (5 pixels a cell): cells straddle the 64-pixel tiles
# (the cell at 60-64 has its centre, 62, left of the seam), so the work units
# beside each other share cells whose counts must add up.
synth "$TMP/pair64" --size 300x260 --seed 5 --scenario sample --tile 64 ||
    fail "determinism: generator (64-pixel tiles)"
for t in 1 8; do
    detect_pair "$TMP/pair64" "$TMP/ov$t" --threads "$t" --overview-size 64 --no-evidence
    [ "$RC" -eq 0 ] || fail "determinism: coarse overview, $t threads ($RC: $ERR_TXT)"
done
check "determinism: a coarse overview.png (cells across tiles) identical with 1 and 8 threads" \
    cmp "$TMP/ov1/overview.png" "$TMP/ov8/overview.png"
n=$($PY -c "import json;print(len(json.load(open('$TMP/t1/alerts.geojson'))['features']))")
[ "$n" -gt 0 ] && pass "determinism: the compared runs found alerts ($n)" || fail "determinism: no alerts to compare"

# Tiling: the same pixels stored with other block layouts (so strips and tiles
# cut the clearings differently) give byte-identical alerts. With 256-pixel
# blocks each tile is one block, read with GDALReadBlock (44 x 4 pixels at the
# corner); the 32-pixel blocks of the runs above are read through GDALRasterIO.
for layout in "TILED=YES BLOCKXSIZE=16 BLOCKYSIZE=16" "TILED=YES BLOCKXSIZE=256 BLOCKYSIZE=256" "TILED=NO BLOCKYSIZE=1"; do
    tag=$(echo "$layout" | tr -dc 'A-Z0-9')
    mkdir -p "$TMP/$tag"
    co=""
    for o in $layout; do co="$co -co $o"; done
    for f in before after before_mask after_mask; do
        gdal_translate -q $co "$P/$f.tif" "$TMP/$tag/$f.tif"
    done
    detect_pair "$TMP/$tag" "$TMP/out-$tag" --threads 2
    [ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.geojson" "$TMP/out-$tag/alerts.geojson" \
        && pass "determinism: identical alerts with blocks $layout" \
        || fail "determinism: blocks $layout change the alerts ($RC $ERR_TXT)"
done

# Mask rasters stored otherwise than their scenes: the reader assembles a GeoTIFF
# mask's windows from blocks it keeps itself (Byte or UInt16), and reads any
# other mask (here a VRT) through GDAL. Every way must give the same alerts,
# also with blocks that do not line up with the scene's 32 x 32 tiles.
for variant in "tif16x48:-co TILED=YES -co BLOCKXSIZE=16 -co BLOCKYSIZE=48" \
               "tifrows:-co TILED=NO -co BLOCKYSIZE=3" \
               "tifu16:-ot UInt16 -co TILED=YES -co BLOCKXSIZE=64 -co BLOCKYSIZE=64" \
               "vrt:-of VRT"; do
    tag=${variant%%:*}
    mkdir -p "$TMP/m-$tag"
    cp "$P/before.tif" "$P/after.tif" "$TMP/m-$tag/"
    ext=tif
    [ "$tag" = vrt ] && ext=vrt
    for f in before_mask after_mask; do
        gdal_translate -q ${variant#*:} "$P/$f.tif" "$TMP/m-$tag/$f.$ext"
    done
    run_canopy detect "$TMP/m-$tag/before.tif" "$TMP/m-$tag/after.tif" \
        --before-mask "$TMP/m-$tag/before_mask.$ext" --after-mask "$TMP/m-$tag/after_mask.$ext" \
        -o "$TMP/mout-$tag" -q --threads 2
    [ "$RC" -eq 0 ] && cmp -s "$TMP/t1/alerts.geojson" "$TMP/mout-$tag/alerts.geojson" \
        && pass "determinism: identical alerts with masks stored as $tag" \
        || fail "determinism: masks stored as $tag change the alerts ($RC $ERR_TXT)"
done
