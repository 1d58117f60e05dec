#!/bin/bash
# --max-memory: the run respects the cap (fewer workers, smaller GDAL cache),
# reports it in run.json, and refuses clearly when it cannot fit.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 1200x900 --seed 4 --scenario sample --tile 256 || { fail "memory: generator"; exit 0; }
detect_pair "$P" "$TMP/capped" --max-memory 120 --threads 2
# Sanitizer builds carry shadow memory the plan cannot know about: there only
# the plan is checked against the cap, elsewhere the measured peak too.
sanitized=0
case "${BIN:-bin}" in *asan*) sanitized=1;; esac
check "memory: --max-memory 120 is respected and recorded in run.json" $PY - "$TMP/capped/run.json" "$sanitized" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["memory"]
print(m)
assert m["max_memory_mb"] == 120 and m["planned_mb"] <= 120
assert sys.argv[2] == "1" or m["peak_rss_mb"] <= 120
PY
detect_pair "$P" "$TMP/free"
cmp -s "$TMP/capped/alerts.geojson" "$TMP/free/alerts.geojson" \
    && pass "memory: the cap does not change the alerts" || fail "memory: capped alerts differ"
detect_pair "$P" "$TMP/tiny" --max-memory 64 --overview-size 2048
[ "$RC" -eq 1 ] && grep -q "max-memory 64 MB is too small" <<<"$ERR_TXT" && [ ! -e "$TMP/tiny" ] \
    && pass "memory: an impossible cap is a clear error" || fail "memory: impossible cap ($RC: $ERR_TXT)"
run_canopy detect a.tif b.tif -o "$TMP/x" --max-memory lots
[ "$RC" -eq 2 ] && pass "memory: a bad --max-memory value is a usage error" || fail "memory: bad value ($RC)"
