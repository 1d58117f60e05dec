#!/bin/sh
# scripts/bench/gdal_chain.sh - the GDAL command-line baseline for `make bench`.
#
# The same forest-loss rule as canopy detect's defaults, written as the chain a
# GIS analyst would type: gdal_calc.py (NDVI difference with the masks) ->
# gdal_sieve.py (minimum mapping unit 50 pixels = 0.5 ha at 10 m, 8-connected)
# -> gdal_polygonize.py (8-connected, GeoPackage).
#
#   valid  : red, NIR of both dates != 0 (nodata) and < 65535 (saturated),
#            mask class not in {0,1,3,8,9,10} (Sentinel-2 SCL)
#   forest : NDVI_before >= 0.65          (reflectance = DN * 1e-4)
#   loss   : NDVI_after - NDVI_before <= -0.25
#
# Usage: gdal_chain.sh BEFORE AFTER BEFORE_MASK AFTER_MASK OUTDIR
# Writes OUTDIR/loss.tif, sieved.tif, alerts.gpkg (layer alerts, field DN = 1)
# and OUTDIR/steps.tsv (step, seconds). Runs with /usr/bin/python3, where
# Debian's GDAL Python bindings live.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 BEFORE AFTER BEFORE_MASK AFTER_MASK OUTDIR" >&2; exit 2; }
B=$1 A=$2 BM=$3 AM=$4 OUT=$5
PY=${PYTHON:-/usr/bin/python3}
BIN=${GDAL_SCRIPTS:-/usr/bin}
mkdir -p "$OUT"
rm -f "$OUT/loss.tif" "$OUT/sieved.tif" "$OUT/alerts.gpkg" "$OUT/steps.tsv"

now() { date +%s.%N; }
step() {   # step NAME COMMAND...: run it, append "NAME seconds" to steps.tsv
    name=$1; shift
    t0=$(now)
    "$@"
    t1=$(now)
    awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s\t%.3f\n", n, b - a }' \
        >> "$OUT/steps.tsv"
}

# Reflectance in float64 (numpy promotes UInt16 * 1e-4), as canopy computes it.
NB='((B*1e-4-A*1e-4)/(B*1e-4+A*1e-4))'
NA='((D*1e-4-C*1e-4)/(D*1e-4+C*1e-4))'
OK='(A>0)&(A<65535)&(B>0)&(B<65535)&(C>0)&(C<65535)&(D>0)&(D<65535)'
MASK='(~isin(E,[0,1,3,8,9,10]))&(~isin(F,[0,1,3,8,9,10]))'
CALC="$OK&$MASK&($NB>=0.65)&($NA-$NB<=-0.25)"

# --hideNoData: the formula alone decides validity (nodata 0 is in it), and the
# output's nodata 0 makes gdal_polygonize skip the background.
step calc "$PY" -W ignore "$BIN/gdal_calc.py" --quiet --overwrite \
    -A "$B" --A_band 3 -B "$B" --B_band 4 -C "$A" --C_band 3 -D "$A" --D_band 4 \
    -E "$BM" -F "$AM" --calc "$CALC" --type Byte --NoDataValue 0 --hideNoData \
    --outfile "$OUT/loss.tif"
# -nomask: sieve every value, 0 too (small holes in a clearing are filled).
step sieve "$PY" "$BIN/gdal_sieve.py" -q -nomask -8 -st 50 "$OUT/loss.tif" "$OUT/sieved.tif"
step polygonize "$PY" "$BIN/gdal_polygonize.py" -q -8 "$OUT/sieved.tif" \
    -f GPKG "$OUT/alerts.gpkg" alerts DN
