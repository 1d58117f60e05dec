#!/bin/sh
# `make demo`: run canopy detect on the bundled sample pair and say where the
# outputs are.
set -eu
cd "$(dirname "$0")/.."
S=samples/pair
OUT=${DEMO_OUT:-demo-out}
if [ ! -f "$S/before.tif" ]; then
    echo "demo: sample missing, regenerating it with scripts/make-sample.sh" >&2
    scripts/make-sample.sh
fi
start=$(date +%s.%N)
bin/canopy detect "$S/before.tif" "$S/after.tif" \
    --before-mask "$S/before_mask.tif" --after-mask "$S/after_mask.tif" -o "$OUT"
end=$(date +%s.%N)
echo
echo "Outputs in $OUT/ ($(awk "BEGIN{printf \"%.2f\", $end - $start}") s):"
ls -l "$OUT"
echo
echo "Open $OUT/alerts.gpkg in QGIS, $OUT/alerts.geojson anywhere, look at $OUT/overview.png;"
echo "$OUT/run.json records the inputs (SHA-256), settings, counts and timings."
