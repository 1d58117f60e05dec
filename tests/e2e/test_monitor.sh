#!/bin/bash
# tests/e2e/test_monitor.sh - canopy monitor on a generated time series.
#
# scripts/make-series.py writes 8 dates over one Sentinel-2 tile with moving
# clouds and planted events (truth.json): a clearing probable at date 4 and
# confirmed at 5, one under a cloud at 5 and confirmed at 6, an unflagged
# cloud fringe probable at 5 and rejected at 6, and a clearing growing over
# dates 5-7 that keeps one id. The suite checks those outcomes, that a rerun
# with nothing new changes nothing, that one date per run gives the same
# database as one run over all, that a run killed (SIGKILL) at any of the
# commit protocol's points converges on rerun to the same database row by
# row, and that overlapping runs exit 3. It runs against the GeoPackage and,
# when PostgreSQL + PostGIS can be installed (scripts/setup-postgres.sh),
# against a throw-away PostgreSQL server on a Unix socket.
. "$(dirname "$0")/lib.sh"

MDB="$ROOT/tests/e2e/monitor_db.py"
SERIES=$TMP/series
if ! $PY "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$SERIES" >"$TMP/gen.log" 2>&1; then
    fail "monitor: series generator"
    sed 's/^/    /' "$TMP/gen.log" | head -20
    exit 0
fi
DATES=$(ls -d "$SERIES"/S2A_* | sort)

# mon STATE ARGS...: canopy monitor, leaving $RC, $OUT_TXT, $ERR_TXT.
mon() {
    local state=$1; shift
    run_canopy monitor --state "$state" "${DBOPT[@]}" "$@"
}
field() { $PY -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(v)' "$OUT_TXT" "$1"; }
dump() { $PY "$MDB" dump "$(db_conn "$1")" "${@:2}"; }

# Per backend: DBOPT (extra monitor arguments for a state) and db_conn STATE.
use_gpkg() {
    BACKEND=gpkg
    new_state() { rm -rf "$1"; DBOPT=(); }
    db_conn() { echo "$1/alerts.gpkg"; }
}

suite() {
    local L="monitor[$BACKEND]"
    local S=$TMP/$BACKEND

    # --- one run over all dates -------------------------------------------
    new_state "$S-all"
    mon "$S-all" -q "$SERIES"
    if [ "$RC" -eq 0 ] && [ "$(field scenes_processed)" = 8 ]; then
        pass "$L: one run over 8 dates"
    else
        fail "$L: one run over 8 dates (exit $RC): $ERR_TXT $OUT_TXT"
        return
    fi
    check "$L: probable/confirmed/rejected/grown as planted" \
        $PY "$MDB" check "$(db_conn "$S-all")" "$SERIES/truth.json"
    local ref ref_runs
    ref=$(dump "$S-all")
    ref_runs=$(dump "$S-all" --runs)
    # --- the same with one thread and with more threads than tiles -----
    # (the tile engine merges tiles in order: any thread count, the same
    # database row by row and the same state rasters pixel by pixel)
    if [ "$BACKEND" = gpkg ]; then
        local t
        for t in 1 5; do
            new_state "$S-t$t"
            mon "$S-t$t" -q --threads "$t" "$SERIES"
            if [ "$RC" -eq 0 ] && [ "$(dump "$S-t$t")" = "$ref" ] &&
               $PY - "$S-all" "$S-t$t" <<'EOF'
import glob, os, sys
from osgeo import gdal
a, b = sys.argv[1], sys.argv[2]
fa = sorted(glob.glob(a + "/state/g*/*/*.tif"))
fb = sorted(glob.glob(b + "/state/g*/*/*.tif"))
assert [os.path.basename(x) for x in fa] == [os.path.basename(x) for x in fb] and fa, (fa, fb)
for x, y in zip(fa, fb):
    assert gdal.Open(x).ReadRaster() == gdal.Open(y).ReadRaster(), (x, y)
EOF
            then
                pass "$L: --threads $t gives the same database and state rasters"
            else
                fail "$L: --threads $t differs (exit $RC): $ERR_TXT"
            fi
        done
    fi

    local newfile
    newfile=$(field new_alerts_file)
    if [ -f "$newfile" ] && $PY - "$newfile" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["features"]
assert len(f) == 4, len(f)
ch = sorted(x["properties"]["change"] for x in f)
assert ch == ["new", "new,confirmed", "new,confirmed", "new,confirmed"], ch
for x in f:
    g = x["geometry"]
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    for poly in polys:
        for ring in poly:
            for lon, lat in ring:
                assert -180 <= lon <= 180 and -90 <= lat <= 90
EOF
    then
        pass "$L: new_alerts.geojson (4 alerts, RFC 7946 lon/lat)"
    else
        fail "$L: new_alerts.geojson '$newfile'"
    fi

    # --- nothing new: nothing changes -----------------------------------------
    local cur_before cur_after
    cur_before=$(cat "$S-all/CURRENT")
    mon "$S-all" -q "$SERIES"
    cur_after=$(cat "$S-all/CURRENT")
    if [ "$RC" -eq 0 ] && [ "$(field inputs_already_seen)" = 8 ] &&
       [ "$(field scenes_processed)" = 0 ] && [ "$cur_before" = "$cur_after" ] &&
       [ "$(dump "$S-all" --runs)" = "$ref_runs" ]; then
        pass "$L: a second run with no new scenes changes nothing"
    else
        fail "$L: second run changed something (exit $RC): $OUT_TXT"
    fi

    # --- settings are part of the state -----------------------------------------
    mon "$S-all" -q --ndvi-drop 0.3 "$SERIES"
    if [ "$RC" -eq 2 ] && [[ "$ERR_TXT" == *"other settings"*"ndvi_drop"* ]]; then
        pass "$L: other settings on the same state refused (exit 2)"
    else
        fail "$L: other settings: exit $RC, $ERR_TXT"
    fi

    # --- one date per run == one run over all ---------------------------------
    new_state "$S-inc"
    local inc=$TMP/$BACKEND-incoming ok=1
    rm -rf "$inc"
    mkdir -p "$inc"
    for d in $DATES; do
        ln -s "$d" "$inc/"
        mon "$S-inc" -q "$inc"
        [ "$RC" -eq 0 ] || { ok=0; echo "    run for $(basename "$d"): exit $RC $ERR_TXT"; }
    done
    if [ $ok = 1 ] && [ "$(dump "$S-inc")" = "$ref" ]; then
        pass "$L: one date per run gives the same database as one run"
    else
        fail "$L: incremental database differs"
        diff <(dump "$S-inc") <(echo "$ref") | head -10 | sed 's/^/    /'
    fi

    # --- kill -9 at each point of the protocol, then rerun -----------------------
    local p bad="" n=0
    for p in $CRASH_POINTS; do
        n=$((n + 1))
        new_state "$S-crash"
        (CANOPY_MONITOR_CRASH_AT=$p "$CANOPY" monitor --state "$S-crash" "${DBOPT[@]}" -q \
            "$SERIES" >/dev/null 2>&1; exit $?) 2>/dev/null
        local rc1=$?
        mon "$S-crash" -q "$SERIES"
        if [ $rc1 -ne 137 ] || [ "$RC" -ne 0 ] || [ "$(dump "$S-crash" --runs)" != "$ref_runs" ]; then
            bad="$bad $p(kill=$rc1,rerun=$RC)"
        fi
    done
    if [ -z "$bad" ]; then
        pass "$L: killed at $n points, every rerun converges to the clean database"
    else
        fail "$L: crash points not converging:$bad"
    fi

    # Killed from outside at arbitrary moments (a run takes ~0.3 s here).
    bad=""
    local t
    for t in $KILL_AFTER; do
        new_state "$S-kill"
        (timeout -s KILL "$t" "$CANOPY" monitor --state "$S-kill" "${DBOPT[@]}" -q \
            "$SERIES" >/dev/null 2>&1; exit $?) 2>/dev/null
        mon "$S-kill" -q "$SERIES"
        if [ "$RC" -ne 0 ] || [ "$(dump "$S-kill")" != "$ref" ]; then
            bad="$bad ${t}s"
        fi
    done
    if [ -z "$bad" ]; then
        pass "$L: SIGKILL after $(echo $KILL_AFTER | tr ' ' ,) s, reruns converge"
    else
        fail "$L: SIGKILL at$bad: rerun differs"
    fi

    # A crash in a later run: 4 dates committed, then the rest killed after the
    # state commit (the database lags a generation) and rerun.
    new_state "$S-late"
    rm -rf "$inc"
    mkdir -p "$inc"
    for d in $(echo "$DATES" | head -4); do ln -s "$d" "$inc/"; done
    mon "$S-late" -q "$inc"
    for d in $(echo "$DATES" | tail -4); do ln -s "$d" "$inc/"; done
    (CANOPY_MONITOR_CRASH_AT=after-commit "$CANOPY" monitor --state "$S-late" "${DBOPT[@]}" -q \
        "$inc" >/dev/null 2>&1; exit $?) 2>/dev/null
    local rc1=$?
    mon "$S-late" -q "$inc"
    if [ $rc1 -eq 137 ] && [ "$RC" -eq 0 ] && [ "$(field database_replayed_generation)" = 2 ] &&
       [ "$(dump "$S-late")" = "$ref" ]; then
        pass "$L: database a generation behind is replayed on the next run"
    else
        fail "$L: late crash: kill $rc1, rerun $RC $OUT_TXT"
    fi

    # --- overlapping runs -----------------------------------------------------------
    new_state "$S-lock"
    CANOPY_MONITOR_HOLD_LOCK_S=2 "$CANOPY" monitor --state "$S-lock" "${DBOPT[@]}" -q \
        "$SERIES" >"$TMP/lock1.out" 2>&1 &
    local pid=$!
    sleep 0.5
    mon "$S-lock" -q "$SERIES"
    wait $pid
    local rc_first=$?
    if [ $rc_first -eq 0 ] && [ "$RC" -eq 3 ] && [[ "$ERR_TXT" == *"another run holds the lock"* ]] &&
       [ "$(field status)" = locked ]; then
        pass "$L: a second run while the first holds the lock exits 3 at once"
    else
        fail "$L: lock: first $rc_first, second $RC: $ERR_TXT"
    fi
    new_state "$S-lock2"
    "$CANOPY" monitor --state "$S-lock2" "${DBOPT[@]}" -q "$SERIES" >"$TMP/l1" 2>/dev/null &
    local p1=$!
    "$CANOPY" monitor --state "$S-lock2" "${DBOPT[@]}" -q "$SERIES" >"$TMP/l2" 2>/dev/null &
    local p2=$!
    wait $p1; local r1=$?
    wait $p2; local r2=$?
    if { [ $r1 -eq 0 ] && [ $r2 -eq 3 ]; } || { [ $r1 -eq 3 ] && [ $r2 -eq 0 ]; }; then
        pass "$L: two runs started together: one proceeds, the other exits 3"
    else
        fail "$L: two runs together exited $r1 and $r2"
    fi
}

# Every point of the commit protocol (mon_crash_point in pipeline/monitor/cnp_monitor_*.c);
# NAME:K = the K-th time the run passes there.
CRASH_POINTS="locked after-scene:1 after-scene:5 mid-step:1 mid-step:7 mid-generation
              before-rename before-commit after-commit db-mid after-db before-notified
              after-announce"
KILL_AFTER="0.05 0.1 0.2 0.3 0.5 0.8"
use_gpkg
suite

# --- GeoPackage only: failures, format changes, plain rasters, hook, usage ----
L="monitor"
S=$TMP/misc
BAD=$TMP/bad-inputs
mkdir -p "$BAD"
first=$(echo "$DATES" | head -1)
cp -r "$first" "$BAD/"
# A later date whose red band is corrupt, and one with no blue band.
d6=$(echo "$DATES" | sed -n 6p)
d7=$(echo "$DATES" | sed -n 7p)
cp -r "$d6" "$BAD/"
cp -r "$d7" "$BAD/"
head -c 2000 "$d6/B04.tif" >"$BAD/$(basename "$d6")/B04.tif"
rm -f "$BAD/$(basename "$d7")/B02.tif"
DBOPT=()
rm -rf "$S"
mon "$S" -q "$BAD"
if [ "$RC" -eq 4 ] && [ "$(field scenes_failed)" = 1 ] && [ "$(field scenes_processed)" = 2 ] &&
   [[ "$OUT_TXT" == *"$(basename "$d6")"* ]]; then
    pass "$L: an unreadable product is recorded as failed, the others applied (exit 4)"
else
    fail "$L: failed product: exit $RC $OUT_TXT"
fi
if [[ "$OUT_TXT" == *'"format_changes":[{"input":"'"$(basename "$d7")"'"'*"bands B04,B08,B03;"* ]]; then
    pass "$L: a product whose format changed is reported by name"
else
    fail "$L: no format change reported: $OUT_TXT"
fi
mon "$S" -q "$BAD"
if [ "$RC" -eq 0 ] && [ "$(field inputs_already_seen)" = 3 ] && [ "$(field scenes_failed)" = 0 ]; then
    pass "$L: a failed product is not retried while unchanged"
else
    fail "$L: failed product retried: $OUT_TXT"
fi
if ogrinfo -q -sql "SELECT status, reason FROM scenes WHERE status = 'failed'" "$S/alerts.gpkg" |
   grep -q "reason (String) = SCENE"; then
    pass "$L: the scenes table keeps the failure and its reason"
else
    fail "$L: scenes table has no failure reason"
fi

# A scene older than the footprint's last one arrives late: recorded as skipped.
LATE=$TMP/late
mkdir -p "$LATE"
cp -r "$(echo "$DATES" | sed -n 3p)" "$LATE/S2A_21LXK_20240602_0_L2A"
mon "$S" -q "$BAD" "$LATE"
if [ "$RC" -eq 0 ] && [ "$(field scenes_skipped)" = 1 ] &&
   [[ "$OUT_TXT" == *'"skipped":[{"input":"S2A_21LXK_20240602_0_L2A"'*"date order"* ]]; then
    pass "$L: a scene older than the footprint's last one is recorded as skipped"
else
    fail "$L: late scene: exit $RC $OUT_TXT"
fi
mon "$S" -q --db "$TMP/other.gpkg" "$BAD"
if [ "$RC" -eq 2 ] && [[ "$ERR_TXT" == *"other.gpkg"* ]]; then
    pass "$L: another --db than the state's is refused (exit 2)"
else
    fail "$L: other --db: exit $RC $ERR_TXT"
fi

# Plain GeoTIFFs with ACQUISITION_DATE and NAME_mask.tif, grouped by overlap.
TIFS=$TMP/series-tif
if $PY "$ROOT/scripts/make-series.py" --synth "$SYNTH" -o "$TIFS" --format tif >/dev/null 2>&1; then
    rm -rf "$S-tif"
    mon "$S-tif" -q "$TIFS"
    if [ "$RC" -eq 0 ] && [ "$(field scenes_processed)" = 8 ] &&
       $PY "$MDB" check "$S-tif/alerts.gpkg" "$TIFS/truth.json" >"$TMP/tifcheck" 2>&1; then
        pass "$L: plain GeoTIFF scenes with sidecar masks give the same outcomes"
    else
        fail "$L: GeoTIFF series: exit $RC $(cat "$TMP/tifcheck") $ERR_TXT"
    fi
else
    fail "$L: make-series.py --format tif"
fi

# --on-new gets the file's path; nothing new, no call.
rm -rf "$S-hook"
mon "$S-hook" -q --on-new "echo >>'$TMP/hook.log'" "$first"
mon "$S-hook" -q --on-new "echo >>'$TMP/hook.log'" "$SERIES"
mon "$S-hook" -q --on-new "echo >>'$TMP/hook.log'" "$SERIES"
if [ "$(wc -l <"$TMP/hook.log")" = 1 ] && [ -f "$(cat "$TMP/hook.log")" ]; then
    pass "$L: --on-new runs once with new_alerts.geojson when something is new"
else
    fail "$L: --on-new calls: $(cat "$TMP/hook.log" 2>/dev/null)"
fi

# The cron wrapper: the log line goes to STATE/monitor.log; an overlapping run
# (exit 3) is not an error for cron.
rm -rf "$S-cron"
CANOPY_MONITOR_HOLD_LOCK_S=2 CANOPY="$CANOPY" "$ROOT/scripts/canopy-monitor-cron.sh" \
    "$S-cron" "$SERIES" >/dev/null 2>&1 &
cpid=$!
sleep 0.5
CANOPY="$CANOPY" "$ROOT/scripts/canopy-monitor-cron.sh" "$S-cron" "$SERIES" >"$TMP/cron.err" 2>&1
crc=$?
wait $cpid
crc1=$?
if [ $crc -eq 0 ] && [ $crc1 -eq 0 ] && grep -q '"scenes_processed":8' "$S-cron/monitor.log" &&
   grep -q "previous run still busy" "$S-cron/monitor.log"; then
    pass "$L: cron wrapper logs the JSON line; an overlapping run is not an error"
else
    fail "$L: cron wrapper: $crc1/$crc $(cat "$TMP/cron.err")"
fi

run_canopy monitor "$SERIES"
[ "$RC" -eq 2 ] && pass "$L: no --state: exit 2" || fail "$L: no --state: exit $RC"
run_canopy monitor --state "$TMP/x" --confirm 3/2 "$SERIES"
[ "$RC" -eq 2 ] && pass "$L: bad --confirm: exit 2" || fail "$L: bad --confirm: exit $RC"
run_canopy monitor --state "$TMP/x" "$TMP/no-such-input"
[ "$RC" -eq 1 ] && [[ "$ERR_TXT" == *"no-such-input"* ]] && pass "$L: a missing INPUT: exit 1" ||
    fail "$L: missing input: exit $RC $ERR_TXT"
run_canopy monitor --help
[ "$RC" -eq 0 ] && [[ "$OUT_TXT" == *"--state DIR"* ]] && pass "$L: --help" || fail "$L: --help"
# Settings as detect resolves them: defaults, then --config, then options.
printf '[detect]\nndvi_drop = 0.25\nmin_area = 2\n' >"$TMP/mon.ini"
run_canopy monitor --config "$TMP/mon.ini" --min-area 3 --print-config
[ "$RC" -eq 0 ] && grep -q '^ndvi_drop = 0.25' <<<"$OUT_TXT" && grep -q '^min_area = 3' <<<"$OUT_TXT" &&
    grep -q '^confirm = ' <<<"$OUT_TXT" && pass "$L: --print-config: the file, then the options" ||
    fail "$L: --print-config: $RC $OUT_TXT $ERR_TXT"
run_canopy monitor --state "$TMP/x-bad" --forest-ndvi abc "$SERIES"
[ "$RC" -eq 2 ] && [[ "$ERR_TXT" == *"--forest-ndvi"* ]] && [ ! -e "$TMP/x-bad" ] &&
    pass "$L: a bad setting option: exit 2, named, no state made" ||
    fail "$L: bad setting option: exit $RC $ERR_TXT"
printf '[detect]\nforest_ndvi = 2\n' >"$TMP/bad-mon.ini"
run_canopy monitor --state "$TMP/x" --config "$TMP/bad-mon.ini" "$SERIES"
[ "$RC" -eq 2 ] && [[ "$ERR_TXT" == *"forest_ndvi"* ]] && pass "$L: a bad --config: exit 2" ||
    fail "$L: bad --config: exit $RC $ERR_TXT"

# --- the same suite against PostgreSQL/PostGIS -------------------------------------
if PGENV=$("$ROOT/scripts/pg-test-server.sh" start "$TMP/pg" 2>"$TMP/pg.log"); then
    eval "$PGENV"      # PGHOST (socket folder), PGUSER
    trap '"$ROOT/scripts/pg-test-server.sh" stop "$TMP/pg" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
    BACKEND=pg
    PGN=0
    # The points where the database is involved (the rest is backend-independent).
    CRASH_POINTS="after-scene:3 mid-step:7 before-commit after-commit db-mid after-db
                  before-notified"
    KILL_AFTER="0.1 0.4 0.8"
    new_state() {
        rm -rf "$1"
        PGN=$((PGN + 1))
        local name
        name="canopy_$(basename "$1" | tr -c 'a-z0-9\n' '_')_$PGN"
        "$ROOT/scripts/pg-test-server.sh" newdb "$TMP/pg" "$name" >/dev/null
        echo "PG:host=$PGHOST user=$PGUSER dbname=$name" >"$1.conn"
        DBOPT=(--db "$(cat "$1.conn")")
    }
    db_conn() { cat "$1.conn"; }
    suite
    "$ROOT/scripts/pg-test-server.sh" stop "$TMP/pg" >/dev/null 2>&1
else
    skip "monitor[pg]: PostgreSQL with PostGIS not available ($(tail -1 "$TMP/pg.log"))"
fi
