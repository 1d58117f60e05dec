#!/bin/bash
# tests/e2e/test_hostile_ids.sh - crafted names, ids and metadata from inputs.
#
# Batch and monitor read whatever lands in a folder. One crafted file must not
# corrupt a database, write outside the state or output folder, or make an
# output file invalid. One check per class of defect:
#   - identifiers from product metadata (a STAC item's grid:code) reaching SQL
#     (GeoPackage and PostGIS) and the state folder's paths (monitor), and
#     names from a plan file reaching paths (batch);
#   - two monitor states started together on one --db;
#   - formulas in alerts.csv;
#   - control characters and invalid UTF-8 in names: doc.kml, report.html,
#     run.json, alerts.geojson, the PNG text chunks, `canopy info` on a
#     terminal and with --json.
. "$(dirname "$0")/lib.sh"

MDB="$ROOT/tests/e2e/monitor_db.py"
SERIES=$TMP/series
if ! $PY "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$SERIES" >"$TMP/gen.log" 2>&1; then
    fail "hostile: series generator"
    sed 's/^/    /' "$TMP/gen.log" | head -20
    exit 0
fi
mapfile -t DATES < <(ls -d "$SERIES"/S2A_* | sort)

# stac_items OUT GRID ID_PREFIX DATE_DIR...: a STAC item per date folder, in
# OUT/NN/item.json beside links to that folder's files, with grid:code GRID
# and id ID_PREFIX<date>; prints the items' paths.
stac_items() {
    $PY - "$@" <<'PY'
import json, os, sys
out, grid, prefix = sys.argv[1:4]
for n, d in enumerate(sys.argv[4:]):
    date = os.path.basename(d.rstrip("/")).split("_")[2]
    dst = os.path.join(out, "%02d" % n)
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(d):
        os.symlink(os.path.join(d, f), os.path.join(dst, f))
    def asset(f, common=None, scale=True):
        a = {"href": "./" + f, "type": "image/tiff; application=geotiff",
             "raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": -0.1} if scale
                              else {"nodata": 0}]}
        if common:
            a["eo:bands"] = [{"name": common, "common_name": common}]
        return a
    item = {"type": "Feature", "stac_version": "1.0.0", "id": prefix + date,
            "properties": {"datetime": "%s-%s-%sT13:52:19Z" % (date[:4], date[4:6], date[6:]),
                           "platform": "sentinel-2a", "instruments": ["msi"],
                           "grid:code": grid},
            "geometry": None, "links": [],
            "assets": {"blue": asset("B02.tif", "blue"), "green": asset("B03.tif", "green"),
                       "red": asset("B04.tif", "red"), "nir": asset("B08.tif", "nir"),
                       "scl": asset("SCL.tif", None, False)}}
    with open(os.path.join(dst, "item.json"), "w") as f:
        json.dump(item, f)
    print(os.path.join(dst, "item.json"))
PY
}

field() { $PY -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(v)' "$OUT_TXT" "$1"; }
# footprint_rows CONN KEY: the alerts rows of one footprint, as text.
footprint_rows() { $PY "$MDB" dump "$1" | grep -F "footprint=$2 |" ; }

# Crafted grid:codes: a quote that turns "id = '...'" into a filter matching
# every row, one that breaks the SQL, and a path out of the state folder.
REWRITE="MGRS-Z'OR'x'<'y"
BREAK="MGRS-Q'"
ESCAPE="MGRS-x/../../../../e"
mapfile -t ITEMS_REWRITE < <(stac_items "$TMP/items-rewrite" "$REWRITE" "S2A_REWRITE_" "${DATES[@]:0:5}")
mapfile -t ITEMS_BREAK < <(stac_items "$TMP/items-break" "$BREAK" "S2A_BREAK_" "${DATES[@]:0:5}")
mapfile -t ITEMS_ESCAPE < <(stac_items "$TMP/items-escape" "$ESCAPE" "S2A_ESCAPE_" "${DATES[0]}")

# ids_suite LABEL STATE DBARGS...: a legitimate footprint first, then the
# crafted items; the legitimate rows must stay as they were, every crafted
# input must be one failed input naming its footprint key, and the runs
# must succeed (also when run again).
ids_suite() {
    local L=$1 S=$2; shift 2
    local conn=${1:-}
    [ -n "$conn" ] && conn=${conn#--db=}
    [ -n "$conn" ] || conn=$S/alerts.gpkg
    run_canopy monitor --state "$S" "$@" -q "${DATES[@]:0:5}"
    if [ "$RC" -ne 0 ]; then
        fail "$L: the legitimate footprint (exit $RC): $ERR_TXT"
        return
    fi
    local before
    before=$(footprint_rows "$conn" mgrs-21LXK)

    run_canopy monitor --state "$S" "$@" -q "${ITEMS_REWRITE[@]}"
    local rc=$RC out=$OUT_TXT
    # Exit 4: some inputs failed (refused), the others were applied.
    if [ "$rc" -eq 4 ] && [ "$(footprint_rows "$conn" mgrs-21LXK)" = "$before" ] &&
       [ -n "$before" ] && [ "$(field scenes_failed)" = 5 ] &&
       [[ "$out" == *"footprint 'MGRS tile Z'OR'x'<'y', key 'mgrs-Z'OR'x'<'y' is refused"* ]]; then
        pass "$L: a quote in a footprint code rewrites no other footprint's alerts (input refused)"
    else
        fail "$L: footprint code with a quote: exit $rc, alerts of mgrs-21LXK changed or input not refused"
        diff <(echo "$before") <(footprint_rows "$conn" mgrs-21LXK) | head -6 | sed 's/^/    /'
        echo "$out" | head -c 600 | sed 's/^/    /'; echo
    fi

    run_canopy monitor --state "$S" "$@" -q "${ITEMS_BREAK[@]}"
    local rc1=$RC
    run_canopy monitor --state "$S" "$@" -q "${ITEMS_BREAK[@]}"
    if [ "$rc1" -eq 4 ] && [ "$RC" -eq 0 ]; then
        pass "$L: a footprint code that breaks SQL does not make runs fail (input refused: exit 4, then 0)"
    else
        fail "$L: footprint code breaking SQL: exit $rc1 then $RC: $ERR_TXT"
    fi

    rm -rf "$TMP/e"
    run_canopy monitor --state "$S" "$@" -q "${ITEMS_ESCAPE[@]}"
    local left
    left=$(cd "$TMP" && find e -type f 2>/dev/null | head -3)
    if [ "$RC" -eq 4 ] && [ -z "$left" ] && [ ! -e "$TMP/e" ] && [ "$(field scenes_failed)" = 1 ]; then
        pass "$L: '/../' in a footprint code writes nothing outside --state (input refused)"
    else
        fail "$L: footprint code with /../: exit $RC, outside --state: ${left:-none}"
    fi
}

ids_suite "hostile[gpkg]" "$TMP/st-ids"

# --- two states on one database -------------------------------------------------

# two_states LABEL CONN: states A (5 dates) and B (4 dates) on one database,
# started together, then each run again. Whatever the interleaving, a state
# whose runs all succeed has every alert in the database as it has it.
two_states() {
    local L=$1 conn=$2 bad=""
    rm -rf "$TMP/two-a" "$TMP/two-b"
    "$CANOPY" monitor --state "$TMP/two-a" --db "$conn" -q "${DATES[@]:0:5}" >"$TMP/a1" 2>&1 &
    local pa=$!
    "$CANOPY" monitor --state "$TMP/two-b" --db "$conn" -q "${DATES[@]:0:4}" >"$TMP/b1" 2>&1 &
    local pb=$!
    wait $pa; local ra1=$?
    wait $pb; local rb1=$?
    "$CANOPY" monitor --state "$TMP/two-a" --db "$conn" -q "${DATES[@]:0:5}" >"$TMP/a2" 2>&1
    local ra2=$?
    "$CANOPY" monitor --state "$TMP/two-b" --db "$conn" -q "${DATES[@]:0:4}" >"$TMP/b2" 2>&1
    local rb2=$?
    for s in a b; do
        local r2
        [ $s = a ] && r2=$ra2 || r2=$rb2
        if [ "$r2" -eq 0 ]; then
            $PY "$MDB" owns "$TMP/two-$s" "$conn" >"$TMP/owns-$s" 2>&1 ||
                bad="$bad state $s exits 0 but: $(head -3 "$TMP/owns-$s" | tr '\n' ' ')"
        fi
    done
    if { [ "$ra2" -eq 0 ] || [ "$rb2" -eq 0 ]; } && [ -z "$bad" ]; then
        pass "$L: two states started together on one --db: no state loses alerts silently (exits $ra1/$rb1, reruns $ra2/$rb2)"
    else
        fail "$L: two states on one --db (exits $ra1/$rb1, reruns $ra2/$rb2):$bad"
    fi

    # The second state waits for the database while the first commits, then
    # finds it taken.
    rm -rf "$TMP/two-c" "$TMP/two-d" "$TMP/go" "$TMP/go.reached"
    CANOPY_MONITOR_PAUSE_AT="before-commit=$TMP/go" "$CANOPY" monitor --state "$TMP/two-c" \
        --db "$3" -q "${DATES[@]:0:5}" >"$TMP/c1" 2>&1 &
    local pc=$! n=0
    while [ ! -e "$TMP/go.reached" ] && [ $n -lt 300 ] && kill -0 $pc 2>/dev/null; do
        sleep 0.1; n=$((n + 1))
    done
    "$CANOPY" monitor --state "$TMP/two-d" --db "$3" -q "${DATES[@]:0:4}" >"$TMP/d1" 2>&1 &
    local pd=$!
    sleep 1.5
    local waiting=0
    kill -0 $pd 2>/dev/null && waiting=1
    touch "$TMP/go"
    wait $pc; local rc=$?
    wait $pd; local rd=$?
    if [ -e "$TMP/go.reached" ] && [ $waiting = 1 ] && [ $rc -eq 0 ] && [ $rd -eq 2 ] &&
       grep -q "another state" "$TMP/d1"; then
        pass "$L: a second state waits for the database lock, then is refused (exit 2)"
    else
        fail "$L: database lock: paused=$([ -e "$TMP/go.reached" ] && echo y || echo n) waiting=$waiting exits $rc/$rd: $(head -c 300 "$TMP/d1")"
    fi
}

two_states "hostile[gpkg]" "$TMP/shared.gpkg" "$TMP/shared2.gpkg"

# --- the same against PostgreSQL/PostGIS --------------------------------------------
if PGENV=$("$ROOT/scripts/pg-test-server.sh" start "$TMP/pg" 2>"$TMP/pg.log"); then
    eval "$PGENV"
    trap '"$ROOT/scripts/pg-test-server.sh" stop "$TMP/pg" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
    for name in hostile_ids hostile_two hostile_lock; do
        "$ROOT/scripts/pg-test-server.sh" newdb "$TMP/pg" "$name" >/dev/null
    done
    ids_suite "hostile[pg]" "$TMP/st-ids-pg" "--db=PG:host=$PGHOST user=$PGUSER dbname=hostile_ids"
    two_states "hostile[pg]" "PG:host=$PGHOST user=$PGUSER dbname=hostile_two" \
        "PG:host=$PGHOST user=$PGUSER dbname=hostile_lock"
    "$ROOT/scripts/pg-test-server.sh" stop "$TMP/pg" >/dev/null 2>&1
else
    skip "hostile[pg]: PostgreSQL with PostGIS not available ($(tail -1 "$TMP/pg.log"))"
fi

# --- names in the outputs of canopy detect -------------------------------------------
P=$TMP/pair
synth "$P" || { fail "hostile: canopy-synth"; exit 0; }

# detect_named OUT BEFORE_NAME AFTER_NAME: the generated pair under these file names.
detect_named() {
    local out=$1 d=$TMP/names-$RANDOM
    mkdir -p "$d"
    cp "$P/before.tif" "$d/$2"
    cp "$P/after.tif" "$d/$3"
    run_canopy detect "$d/$2" "$d/$3" --before-mask "$P/before_mask.tif" \
        --after-mask "$P/after_mask.tif" -o "$out" -q
}

# outputs_valid OUT: every text output is valid UTF-8 without control
# characters, run.json and alerts.geojson parse as JSON, doc.kml as XML, and
# no cell of alerts.csv starts like a formula.
outputs_valid() {
    $PY - "$1" <<'PY'
import csv, io, json, sys, zipfile
import xml.dom.minidom
out = sys.argv[1]
errs = []

def text(name, data):
    try:
        t = data.decode("utf-8")
    except UnicodeDecodeError as e:
        errs.append("%s: not UTF-8 (%s)" % (name, e))
        t = data.decode("utf-8", "replace")
    bad = [c for c in t if (ord(c) < 32 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F]
    if bad:
        errs.append("%s: control characters %r" % (name, sorted(set(bad))))
    return t

def parse(name, fn, t):
    try:
        fn(t)
    except Exception as e:
        errs.append("%s: %s" % (name, e))

parse("run.json", json.loads, text("run.json", open(out + "/run.json", "rb").read()))
parse("alerts.geojson", json.loads, text("alerts.geojson", open(out + "/alerts.geojson", "rb").read()))
kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml")
text("doc.kml", kml)
parse("doc.kml", xml.dom.minidom.parseString, kml)
html = text("report.html", open(out + "/report.html", "rb").read())
if "<img src=x" in html:
    errs.append("report.html: a name's markup is not escaped")
rows = list(csv.reader(io.StringIO(text("alerts.csv", open(out + "/alerts.csv", "rb").read()))))
for r in rows[1:]:
    for c in r:
        if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not c.lstrip("-").replace(".", "", 1).isdigit():
            errs.append("alerts.csv: cell %r starts like a formula" % c)
if len(rows) < 2:
    errs.append("alerts.csv: no alert rows")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PY
}

detect_named "$TMP/o-formula" "=1+2.tif" "@SUM(A1).tif"
if [ "$RC" -eq 0 ] && outputs_valid "$TMP/o-formula" >"$TMP/v1" 2>&1 &&
   grep -q "\"'=1+2.tif\",\"'@SUM(A1).tif\"" "$TMP/o-formula/alerts.csv"; then
    pass "hostile: file names starting with = and @ are text in alerts.csv, not formulas"
else
    fail "hostile: formula names in alerts.csv (exit $RC): $(head -5 "$TMP/v1") $ERR_TXT"
fi

detect_named "$TMP/o-ctl" $'ctl\x01\x1b[31m<img src=x onerror=alert(1)>.tif' "after.tif"
if [ "$RC" -eq 0 ] && outputs_valid "$TMP/o-ctl" >"$TMP/v2" 2>&1; then
    pass "hostile: control characters and markup in a file name leave doc.kml, report.html and run.json valid"
else
    fail "hostile: control characters in a name (exit $RC): $(head -5 "$TMP/v2") $ERR_TXT"
fi

detect_named "$TMP/o-utf8" $'bef\xffore.tif' $'aft\xc3\x28er.tif'
if [ "$RC" -eq 0 ] && outputs_valid "$TMP/o-utf8" >"$TMP/v3" 2>&1; then
    pass "hostile: a file name that is not UTF-8 gives a complete run with valid outputs"
else
    fail "hostile: non-UTF-8 file name (exit $RC): $(head -5 "$TMP/v3" 2>/dev/null) $ERR_TXT"
fi

# --- canopy info: metadata on a terminal and as JSON ------------------------------------
# A STAC item whose id and platform hold escape sequences (ESC, BEL, a C1 CSI,
# a right-to-left override) and a byte that is not UTF-8.
mapfile -t ITEM_INFO < <(stac_items "$TMP/items-info" "MGRS-21LXK" "S2A_INFO_" "${DATES[0]}")
$PY - "${ITEM_INFO[0]}" <<'PY'
import sys
p = sys.argv[1]
t = open(p, "rb").read()
t = t.replace(b'"S2A_INFO_', b'"S2A\\u001b]0;pwned\\u0007\\u009b31m\\u202e\xff_INFO_')
t = t.replace(b'"sentinel-2a"', b'"\\u001b[2J\\u001b[31msentinel"')
open(p, "wb").write(t)
PY
run_canopy info "${ITEM_INFO[0]}"
if [ "$RC" -eq 0 ] && $PY - "$TMP/stdout" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8", "replace")
bad = [c for c in t if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e"]
sys.exit(1 if bad or b"\xff" in b or "\\x1b]0;pwned" not in t else 0)
PY
then
    pass "hostile: canopy info prints metadata with its control characters escaped"
else
    fail "hostile: canopy info prints control characters from metadata (exit $RC): $(head -c 300 "$TMP/stdout" | od -c | head -5)"
fi
run_canopy info --json "${ITEM_INFO[0]}"
if [ "$RC" -eq 0 ] && $PY - "$TMP/stdout" <<'PY'
import json, sys
b = open(sys.argv[1], "rb").read()
d = json.loads(b.decode("utf-8"))
assert "\ufffd" in d["id"] and "\x1b" in d["id"], d["id"]
assert b"\x1b" not in b and b"\xc2\x9b" not in b
PY
then
    pass "hostile: canopy info --json is valid UTF-8 JSON for a product id that is not"
else
    fail "hostile: canopy info --json with a non-UTF-8 id (exit $RC): $(head -c 300 "$TMP/stdout")"
fi

# --- canopy batch: names from metadata and from a plan file ------------------------------
BI=$TMP/batch-in
mkdir -p "$BI"
cp "$P/before.tif" "$P/after.tif" "$P/before_mask.tif" "$P/after_mask.tif" "$BI/"
mapfile -t ITEM_BATCH < <(stac_items "$TMP/items-batch" "$REWRITE" "S2A_BATCH_" "${DATES[0]}")
run_canopy batch --list -o "$TMP/bl" "$BI" "${ITEM_BATCH[0]}"
if [ "$RC" -eq 0 ] && grep -q "^failed .*items-batch/00/item.json: footprint 'MGRS tile Z'OR'x'<'y', key 'mgrs-Z'OR'x'<'y' is refused" <<<"$OUT_TXT" &&
   grep -q "^plan: 1 footprint, 2 scenes, 1 pairs" <<<"$OUT_TXT"; then
    pass "hostile: batch refuses a product whose footprint code is not an identifier; the others go on"
else
    fail "hostile: batch and a crafted footprint code (exit $RC): $OUT_TXT $ERR_TXT"
fi

run_canopy batch --plan-only -o "$TMP/bo" -q "$BI"
# plan_with FILE EXPR: a copy of the plan with one footprint changed by EXPR.
plan_with() {
    $PY - "$TMP/bo/plan.json" "$1" "$2" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
fp = plan["footprints"][0]
exec(sys.argv[3])
json.dump(plan, open(sys.argv[2], "w"))
PY
}
bad=""
for expr in 'fp["name"] = "../escaped"' 'fp["pairs"][0]["dir"] = ".."' \
            'fp["scenes"][0]["id"] = "../x"; fp["pairs"][0]["dir"] = "../x__" + fp["scenes"][1]["id"]'; do
    rm -rf "$TMP/escaped"
    plan_with "$TMP/crafted.json" "$expr"
    run_canopy batch --shard 0 --plan "$TMP/crafted.json" -q
    if [ "$RC" -ne 2 ] || [ -e "$TMP/escaped" ] || [[ "$ERR_TXT" != *"plan '"*"crafted.json'"* ]]; then
        bad="$bad [$expr: exit $RC$([ -e "$TMP/escaped" ] && echo ', wrote outside OUTROOT')]"
    fi
done
if [ -e "$TMP/bo/plan.json" ] && [ -z "$bad" ]; then
    pass "hostile: a plan file whose names are not identifiers (or not its scenes' ids) is refused (exit 2)"
else
    fail "hostile: crafted plan file:$bad $ERR_TXT"
fi
