#!/bin/bash
# GDAL configuration options from the user's environment: GDAL_CACHEMAX is
# honoured (run.json records the cache size the run had) unless --max-memory
# asks Canopy to size the cache itself; OGR_CURRENT_DATE, which Canopy pins
# for reproducible GeoPackages, does not leak into the user's later files.
source "$(dirname "$0")/lib.sh"
S="$ROOT/samples/pair"

cache_of() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["gdal_cache_mb"])' "$1/run.json"; }
detect() {
    local out=$1; shift
    run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
        --after-mask "$S/after_mask.tif" -o "$out" -q --no-evidence "$@"
}

GDAL_CACHEMAX=77 detect "$TMP/user"
c=$(cache_of "$TMP/user" 2>&1)
[ "$RC" -eq 0 ] && [ "$c" = 77 ] &&
    pass "gdal options: the user's GDAL_CACHEMAX=77 is the run's cache (run.json gdal_cache_mb = 77)" ||
    fail "gdal options: GDAL_CACHEMAX=77: exit $RC, gdal_cache_mb $c ($ERR_TXT)"

detect "$TMP/default"
c0=$(cache_of "$TMP/default" 2>&1)
[ "$RC" -eq 0 ] && [ "$c0" != 77 ] && [ "$c0" -gt 0 ] 2>/dev/null &&
    pass "gdal options: without GDAL_CACHEMAX Canopy sizes the cache ($c0 MB)" ||
    fail "gdal options: default cache: exit $RC, gdal_cache_mb $c0"

GDAL_CACHEMAX=77 detect "$TMP/capped" --max-memory 300
c1=$(cache_of "$TMP/capped" 2>&1)
[ "$RC" -eq 0 ] && [ "$c1" != 77 ] && [ "$c1" -gt 0 ] 2>/dev/null &&
    pass "gdal options: --max-memory sizes the cache itself, over GDAL_CACHEMAX ($c1 MB)" ||
    fail "gdal options: --max-memory with GDAL_CACHEMAX: exit $RC, gdal_cache_mb $c1"

# A user's OGR_CURRENT_DATE does not change what Canopy pins (byte-identical
# alerts.gpkg whatever the environment says).
OGR_CURRENT_DATE=1999-01-01T00:00:00.000Z detect "$TMP/date"
cmp -s "$TMP/default/alerts.gpkg" "$TMP/date/alerts.gpkg" &&
    pass "gdal options: OGR_CURRENT_DATE in the environment does not change alerts.gpkg" ||
    fail "gdal options: alerts.gpkg differs under OGR_CURRENT_DATE"
exit 0
