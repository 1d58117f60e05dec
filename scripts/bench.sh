#!/bin/bash
# scripts/bench.sh - `make bench`: how fast is canopy detect, and against what?
#
# Generates Sentinel-2-sized scene pairs with build/canopy-synth (cached in
# .bench/data/, keyed by the generator's arguments and binary), then measures
# in one run, each number the median of BENCH_RUNS runs (default 3):
#   canopy detect (--no-evidence -q, with and without --no-hash) on an
#   uncompressed and a DEFLATE pair; the read-only floor (build/bench-read-floor);
#   the GDAL utility chain (scripts/bench/gdal_chain.sh); the rasterio pipeline
#   (scripts/bench/rasterio_pipeline.py); thread scaling; size scaling; the
#   noisy pair against the clean one; SHA-256 throughput. It checks that all
#   pipelines found the same alerts (scripts/bench/compare_alerts.py).
# Writes Markdown tables to stdout and to .bench/results-DATE.md (every single
# run in .bench/results-DATE.tsv); progress goes to stderr.
#
# Environment:
#   BENCH_RUNS=N      runs per measurement (default 3; the median is reported)
#   BENCH_QUICK=1     a smoke test: 2745x2745 pairs only (about 2 minutes)
#   BENCH_THREADS=L   thread counts for the scaling table (default 1..nproc)
#   BENCH_DIR=DIR     cache and results folder (default .bench, git-ignored)
#   BENCH_KEEP=1      keep the last run's outputs in BENCH_DIR/work
#   BENCH_ONLY=evidence  only the default command (evidence and hashing on) on
#                     the DEFLATE pairs (300 and 3,000 alerts) and on a 5,000-alert scene, against the
#                     read floor and --no-evidence (the "Evidence" section)
# Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-}
QUICK=${BENCH_QUICK:-0}
DIR=${BENCH_DIR:-.bench}
PY=/usr/bin/python3                 # Debian's GDAL and rasterio bindings live here
SYNTH=build/canopy-synth
CANOPY=bin/canopy
FLOOR=build/bench-read-floor
NPROC=$(nproc)
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$DIR/results-$STAMP.md
RAW=$DIR/results-$STAMP.tsv
WORK=$DIR/work
TIMINGS=$WORK/timings.tsv           # canopy run.json timings_s, one line per run
NEED_GB=20                          # free space wanted before the 21960^2 pair

case $RUNS in ''|*[!0-9]*|0) echo "bench: BENCH_RUNS must be a positive integer" >&2; exit 2 ;; esac
case $ONLY in ''|evidence) ;; *) echo "bench: BENCH_ONLY must be 'evidence' or empty" >&2; exit 2 ;; esac

say() { echo "bench: $*" >&2; }
emit() { printf '%s\n' "$@" | tee -a "$RESULTS"; }

# ---- prerequisites -------------------------------------------------------------

if [ ! -x "$CANOPY" ] || [ ! -x "$SYNTH" ]; then say "run 'make' first (make bench does)"; exit 1; fi
make --no-print-directory -s "$FLOOR" >&2

HAVE_RASTERIO=1
if ! "$PY" -c 'import rasterio.features' 2>/dev/null; then
    say "installing python3-rasterio (Debian) for the rasterio baseline"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
    if ! { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
               python3-rasterio >&2 && "$PY" -c 'import rasterio.features'; }; then
        say "python3-rasterio unavailable: the rasterio baseline is skipped"
        HAVE_RASTERIO=0
    fi
fi
HAVE_GDAL_PY=1
for s in gdal_calc.py gdal_sieve.py gdal_polygonize.py; do
    [ -f "/usr/bin/$s" ] || HAVE_GDAL_PY=0
done
[ "$HAVE_GDAL_PY" = 1 ] || say "GDAL's Python utilities are missing: the GDAL chain is skipped"

mkdir -p "$DIR/data"
# One benchmark at a time per folder: two would share (and delete) each other's
# pairs and work files, and time each other.
if command -v flock > /dev/null; then
    exec 9> "$DIR/.lock"
    if ! flock -n 9; then
        say "another benchmark holds $DIR/.lock: waiting for it to finish"
        flock 9
    fi
fi
rm -rf "$WORK"
mkdir -p "$WORK/bin"
# Measure copies: a rebuild in the working tree during the run cannot change them.
cp "$CANOPY" "$SYNTH" "$FLOOR" "$WORK/bin/"
CANOPY=$WORK/bin/canopy SYNTH=$WORK/bin/canopy-synth FLOOR=$WORK/bin/bench-read-floor
: > "$RESULTS"
printf 'id\trun\twall_s\tcpu_s\tmax_rss_kb\tload1\n' > "$RAW"
: > "$TIMINGS"

# ---- helpers -------------------------------------------------------------------

free_gb() { df -Pk "$DIR" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }

# median: of the numbers on stdin, one a line
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) printf "%.10g\n", v[(NR + 1) / 2]
        else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# f2 X: X with 2 decimals; ratio A B: A / B with 2 decimals ("-" when unknown)
f2() { awk -v x="$1" 'BEGIN { if (x == "" || x == "nan" || x == "-") print "-"; else printf "%.2f\n", x }'; }
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
        else printf "%.2f\n", a / b }'
}

# diff2 A B: A - B with 2 decimals and a sign ("-" when unknown)
diff2() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%+.2f\n", a - b }'
}

# dataset NAME GENERATOR-ARGS...: make (or reuse) the pair in $DIR/data/NAME-KEY and
# set DS to its folder. KEY hashes the arguments and the generator binary, so a
# changed generator or argument list makes a fresh pair; stale pairs are removed.
dataset() {
    local name=$1; shift
    local key
    key=$( { printf '%s\n' "$@"; sha256sum < "$SYNTH"; } | sha256sum | cut -c1-12)
    DS=$DIR/data/$name-$key
    if [ -f "$DS/.complete" ]; then
        say "reusing $name ($DS)"
        return 0
    fi
    for old in "$DIR/data/$name"-????????????; do
        [ -e "$old" ] && [ "$old" != "$DS" ] && { say "removing stale $old"; rm -rf "$old"; }
    done
    rm -rf "$DIR/data/$name"-????????????.tmp      # left by an interrupted run
    say "generating $name: canopy-synth $*"
    "$SYNTH" -o "$DS.tmp" "$@" >&2
    printf '%s\n' "$@" > "$DS.tmp/generator-args.txt"
    touch "$DS.tmp/.complete"
    rm -rf "$DS"
    mv "$DS.tmp" "$DS"
}

pair_args() { echo "$1/before.tif $1/after.tif --before-mask $1/before_mask.tif --after-mask $1/after_mask.tif"; }

# Warm the page cache: every number below is with the inputs in memory.
warm() { cat "$1"/before.tif "$1"/after.tif "$1"/before_mask.tif "$1"/after_mask.tif > /dev/null; }

# measure ID CMD...: run CMD $RUNS times under /usr/bin/time; each run goes to
# $RAW with the 1-minute load average at its start; sets M_WALL, M_CPU (user +
# sys, s), M_RSS (MB) and M_LOAD to the medians. After each run, "$AFTER_RUN ID"
# is called when AFTER_RUN is set.
AFTER_RUN=""
measure() {
    local id=$1; shift
    local i e u s m load
    for ((i = 1; i <= RUNS; i++)); do
        load=$(cut -d' ' -f1 /proc/loadavg)
        if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" \
                > "$WORK/cmd.out" 2> "$WORK/cmd.err"; then
            say "FAILED: $*"
            sed 's/^/    /' "$WORK/cmd.err" >&2
            return 1
        fi
        read -r e u s m < <(tail -n 1 "$WORK/time.txt")
        printf '%s\t%d\t%s\t%s\t%s\t%s\n' "$id" "$i" "$e" \
            "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$m" "$load" >> "$RAW"
        if [ -n "$AFTER_RUN" ]; then $AFTER_RUN "$id"; fi
    done
    M_WALL=$(awk -F'\t' -v id="$id" '$1 == id { print $3 }' "$RAW" | median)
    M_CPU=$(awk -F'\t' -v id="$id" '$1 == id { print $4 }' "$RAW" | median)
    M_RSS=$(awk -F'\t' -v id="$id" '$1 == id { print $5 / 1024 }' "$RAW" | median)
    M_LOAD=$(awk -F'\t' -v id="$id" '$1 == id { print $6 }' "$RAW" | median)
    say "$(printf '%-24s wall %7.2f s  cpu %7.2f s  rss %6.0f MB  load %5.2f' "$id" "$M_WALL" \
        "$M_CPU" "$M_RSS" "$M_LOAD")"
}

# canopy ID OUTDIR THREADS HASH(0|1) PAIRDIR [ARGS...]: measure canopy detect (with
# ARGS); record each run's run.json timings_s (every key it has), counts and input
# size in $TIMINGS as "ID<TAB>key=value key=value ...".
CAN_OUT=""
record_timings() {
    "$PY" - "$1" "$CAN_OUT/run.json" >> "$TIMINGS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))
kv = {k: v for k, v in r.get("timings_s", {}).items() if isinstance(v, (int, float))}
kv["alerts"] = r["counts"]["alerts"]
kv["chips"] = r["counts"].get("chips", 0)
kv["components"] = r["counts"]["loss_components"]
kv["input_bytes"] = sum(i["size"] for i in r["inputs"])
kv["threads"] = r.get("threads", 0)
mem = r.get("memory") if isinstance(r.get("memory"), dict) else {}
for k in ("gdal_cache_mb", "planned_mb"):
    if isinstance(mem.get(k), (int, float)):
        kv[k] = mem[k]
for k in ("tile_width", "strip_height"):
    if isinstance(r.get(k), (int, float)):
        kv[k] = r[k]
print(sys.argv[1] + "\t" + " ".join("%s=%.10g" % (k, v) for k, v in kv.items()))
EOF
}
canopy() {
    local id=$1 out=$2 threads=$3 hash=$4 ds=$5
    shift 5
    local extra=(--no-evidence -q --overwrite --threads "$threads" "$@")
    [ "$hash" = 1 ] || extra+=(--no-hash)
    local rc=0
    CAN_OUT=$out
    AFTER_RUN=record_timings
    # shellcheck disable=SC2046
    measure "$id" "$CANOPY" detect $(pair_args "$ds") -o "$out" "${extra[@]}" || rc=$?
    AFTER_RUN=""
    return $rc
}

# tmed ID KEY: median of a recorded run.json value over the runs of ID ("nan" if none)
tmed() {
    awk -F'\t' -v id="$1" -v key="$2" '$1 == id {
        n = split($2, kv, " ")
        for (i = 1; i <= n; i++) if (index(kv[i], key "=") == 1) print substr(kv[i], length(key) + 2)
    }' "$TIMINGS" | median
}
# tkeys ID: the timings_s keys recorded for ID, in run.json order
tkeys() {
    awk -F'\t' -v id="$1" '$1 == id { n = split($2, kv, " ")
        for (i = 1; i <= n; i++) { split(kv[i], p, "="); print p[1] } exit }' "$TIMINGS" |
        grep -Exv 'alerts|chips|components|input_bytes|threads|gdal_cache_mb|planned_mb|tile_width|strip_height'
}

# Results of each measurement, by id, for the tables.
declare -A WALL CPU RSS LOAD
keep() { WALL[$1]=$M_WALL; CPU[$1]=$M_CPU; RSS[$1]=$M_RSS; LOAD[$1]=$M_LOAD; }

# ---- data ------------------------------------------------------------------------

if [ "$QUICK" = 1 ]; then
    S2=2745
    SIZES="2745"
else
    S2=10980
    SIZES="2745 5490 10980 21960"
fi
COMMON=(--scenario bench --tile 512 --seed 1)
say "$(free_gb) GB free in $DIR; $RUNS runs per measurement; S2 size $S2"
dataset "deflate-$S2" "${COMMON[@]}" --size "${S2}x$S2" --compress DEFLATE
P_DEFL=$DS
# The evidence section's many-alert scene: 5,000 clearings (each one alert).
if [ "$QUICK" = 1 ]; then
    MANY_ARGS=(--scenario bench --tile 512 --seed 2 --size 2745x2745 --clearings 1250 --compress DEFLATE)
else
    MANY_ARGS=(--scenario bench --tile 512 --seed 2 --size 5490x5490 --clearings 5000 --compress DEFLATE)
fi
dataset "alerts-${MANY_ARGS[7]}" "${MANY_ARGS[@]}"
P_MANY=$DS
# The evidence target's own scene: the S2 pair "with a few hundred alerts" (300
# clearings per 10980^2, scaled by area like the bench scenario's default 3000).
FEW=$(( 300 * S2 / 10980 * S2 / 10980 ))
dataset "few-$S2" "${COMMON[@]}" --size "${S2}x$S2" --clearings "$FEW" --compress DEFLATE
P_FEW=$DS
if [ "$ONLY" != evidence ]; then
dataset "none-$S2" "${COMMON[@]}" --size "${S2}x$S2" --compress NONE
P_NONE=$DS
dataset "noisy-$S2" --scenario noisy --tile 512 --seed 1 --size "${S2}x$S2" --compress DEFLATE
P_NOISY=$DS
fi
declare -A P_SIZE
SKIPPED_SIZES=""
for sz in $SIZES; do
    [ "$ONLY" != evidence ] || break
    if [ "$sz" = "$S2" ]; then P_SIZE[$sz]=$P_DEFL; continue; fi
    name="deflate-$sz"
    if [ "$sz" -ge 21960 ] && ! ls "$DIR/data/$name"-????????????/.complete > /dev/null 2>&1 &&
       [ "$(free_gb)" -lt "$NEED_GB" ]; then
        say "skipping ${sz}x$sz: $(free_gb) GB free, want $NEED_GB GB"
        SKIPPED_SIZES="$SKIPPED_SIZES $sz"
        continue
    fi
    dataset "$name" "${COMMON[@]}" --size "${sz}x$sz" --compress DEFLATE
    P_SIZE[$sz]=$DS
done

# ---- machine ---------------------------------------------------------------------

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_GB=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
emit "# Canopy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')" "" \
     "Produced by \`make bench\` (scripts/bench.sh$([ "$QUICK" = 1 ] && echo ', BENCH_QUICK=1'))." "" \
     "| machine | |" "|---|---|" \
     "| CPU | $CPU_MODEL |" \
     "| cores (nproc) | $NPROC |" \
     "| memory | $MEM_GB GiB |" \
     "| kernel | $(uname -r) |" \
     "| GDAL | $(gdal-config --version 2>/dev/null || echo '?') |" \
     "| canopy | $("$CANOPY" -V 2>/dev/null | awk '{ print $2 }') |" \
     "| load average at start | $LOAD0 |" \
     "| runs per number | $RUNS (median) |" "" \
     "Inputs: canopy-synth --scenario bench --tile 512 (4-band UInt16 pixel-interleaved GeoTIFF" \
     "plus Byte SCL masks), page cache warm (each input is read once before its runs)." \
     "Canopy runs with --no-evidence -q and its default threads (all cores) unless said." \
     "Wall and peak RSS come from /usr/bin/time; CPU is user + system time."

# ---- evidence: the default command -----------------------------------------------
# What an investigator runs: canopy detect with evidence and hashing on (the
# defaults), all threads. Targets (issue 16): on the S2 DEFLATE pair with a few
# hundred alerts within 1.5 x the all-threads read floor; on a 5,000-alert scene
# within 3 x its --no-evidence time, under 300 MB written. The bench pair (3,000
# alerts) is measured too. CPU (user + sys) ratios are given
# beside wall ones: on a shared machine wall time is mostly other people's.

EV_OUT=""
# After each run: its run.json timings, the bytes it wrote, and a fresh OUTDIR.
ev_after() {
    CAN_OUT=$EV_OUT record_timings "$1"
    du -sb "$EV_OUT" | awk -v id="$1" '{ print id "\t" $1 }' >> "$WORK/bytes.tsv"
    rm -rf "$EV_OUT"
}
# ev_run ID PAIRDIR [ARGS...]: the default command (plus ARGS) on PAIRDIR.
ev_run() {
    local id=$1 ds=$2 rc=0
    shift 2
    EV_OUT=$WORK/$id
    rm -rf "$EV_OUT"
    AFTER_RUN=ev_after
    # shellcheck disable=SC2046
    measure "$id" "$CANOPY" detect $(pair_args "$ds") -o "$EV_OUT" -q "$@" || rc=$?
    AFTER_RUN=""
    return $rc
}
bytes_med() { awk -F'\t' -v id="$1" '$1 == id { print $2 / 1e6 }' "$WORK/bytes.tsv" | median; }
: > "$WORK/bytes.tsv"

warm "$P_FEW"
say "--- evidence: default command, DEFLATE ${S2}x$S2, $FEW clearings ---"
measure "ev-floor-few" "$FLOOR" -t 0 "$P_FEW/before.tif" "$P_FEW/after.tif" && keep ev-floor-few
ev_run ev-default-few "$P_FEW" && keep ev-default-few
ev_run ev-noev-few "$P_FEW" --no-evidence && keep ev-noev-few
warm "$P_DEFL"
say "--- evidence: default command, DEFLATE ${S2}x$S2 (the bench pair) ---"
measure "ev-floor" "$FLOOR" -t 0 "$P_DEFL/before.tif" "$P_DEFL/after.tif" && keep ev-floor
ev_run ev-default-s2 "$P_DEFL" && keep ev-default-s2
ev_run ev-noev-s2 "$P_DEFL" --no-evidence && keep ev-noev-s2
warm "$P_MANY"
say "--- evidence: default command, many alerts (${MANY_ARGS[*]}) ---"
ev_run ev-default-many "$P_MANY" && keep ev-default-many
ev_run ev-noev-many "$P_MANY" --no-evidence && keep ev-noev-many

emit "" "## Evidence: the default command (evidence and hashing on)" "" \
     "canopy detect PAIR -o OUT -q, all threads; --no-evidence rows add only that." \
     "Targets: S2 pair with a few hundred alerts <= 1.5 x the read floor (red+NIR, $NPROC" \
     "threads) of the same pair; many-alert scene <= 3 x its --no-evidence time and < 300 MB" \
     "written. CPU is user + system time. The bench pair (3,000 alerts) is shown too." "" \
     "| run | scene | alerts | chips | wall (s) | CPU (s) | peak RSS (MB) | written (MB) | × floor wall | × floor CPU | × --no-evidence wall | × --no-evidence CPU |" \
     "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
# ev_row NAME SCENE ID FLOOR_ID NOEV_ID: one row; the ratio columns left blank
# where there is nothing to divide by, and the counts blank for the floor.
ev_row() {
    local name=$1 scene=$2 id=$3 floor=$4 base=$5
    [ -n "${WALL[$id]:-}" ] || { emit "| $name | $scene | failed | | | | | | | | | |"; return; }
    local fw="" fc="" nw="" nc="" al="" ch="" wr=""
    if [ -n "$floor" ]; then fw=$(ratio "${WALL[$id]}" "${WALL[$floor]:-}"); fc=$(ratio "${CPU[$id]}" "${CPU[$floor]:-}"); fi
    if [ -n "$base" ]; then nw=$(ratio "${WALL[$id]}" "${WALL[$base]:-}"); nc=$(ratio "${CPU[$id]}" "${CPU[$base]:-}"); fi
    if [ "$id" != "$floor" ]; then
        al=$(tmed "$id" alerts); ch=$(tmed "$id" chips); wr=$(printf '%.1f' "$(bytes_med "$id")")
    fi
    emit "| $name | $scene | $al | $ch | $(f2 "${WALL[$id]}") | $(f2 "${CPU[$id]}") | $(printf '%.0f' "${RSS[$id]}") | $wr | $fw | $fc | $nw | $nc |"
}
ev_row "read floor, red+NIR" "S2 ${S2}², $FEW clearings" ev-floor-few ev-floor-few ""
ev_row "default" "S2 ${S2}², $FEW clearings" ev-default-few ev-floor-few ev-noev-few
ev_row "--no-evidence" "S2 ${S2}², $FEW clearings" ev-noev-few ev-floor-few ""
ev_row "read floor, red+NIR" "S2 ${S2}² (bench pair)" ev-floor ev-floor ""
ev_row "default" "S2 ${S2}² (bench pair)" ev-default-s2 ev-floor ev-noev-s2
ev_row "--no-evidence" "S2 ${S2}² (bench pair)" ev-noev-s2 ev-floor ""
ev_row "default" "many alerts" ev-default-many "" ev-noev-many
ev_row "--no-evidence" "many alerts" ev-noev-many "" ""
[ -n "${WALL[ev-floor]:-}" ] && emit "" "(read floor of the bench pair: wall $(f2 "${WALL[ev-floor]}") s, CPU $(f2 "${CPU[ev-floor]}") s.)"
emit "" "Where the default runs' time goes (run.json timings_s, medians, s):" "" \
     "| run | detect | write | evidence_chips | evidence_kmz | evidence_html | evidence_pdf | total |" \
     "|---|---:|---:|---:|---:|---:|---:|---:|"
for id in ev-default-few ev-default-s2 ev-default-many; do
    grep -q "^$id	" "$TIMINGS" || continue
    line="| $id |"
    for k in detect write evidence_chips evidence_kmz evidence_html evidence_pdf total; do
        line="$line $(f2 "$(tmed "$id" "$k")") |"
    done
    emit "$line"
done
if [ "$ONLY" = evidence ]; then
    emit "" "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at start: $LOAD0)." \
         "Every run: $RAW."
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
    say "results in $RESULTS"
    exit 0
fi

# ---- canopy, the floor and the baselines on the S2 pairs ----------------------

ROWS=()   # "pipeline|variant|id"
for variant in NONE DEFLATE; do
    if [ "$variant" = NONE ]; then ds=$P_NONE; else ds=$P_DEFL; fi
    v=$(echo "$variant" | tr '[:upper:]' '[:lower:]')
    warm "$ds"
    say "--- $variant ${S2}x$S2 ---"
    canopy "canopy-$v" "$WORK/canopy-$v" 0 0 "$ds" && keep "canopy-$v"
    ROWS+=("canopy detect --no-hash|$variant|canopy-$v")
    # The raw rule in one pass: what the default's relative normalisation and
    # haze test (two halves and a spill file) cost on top (× canopy < 1 here).
    # The haze test alone needs the two halves: off too, or this is no one pass.
    canopy "canopy-raw-$v" "$WORK/canopy-raw-$v" 0 0 "$ds" --normalize off --haze off &&
        keep "canopy-raw-$v"
    ROWS+=("canopy detect --no-hash --normalize off --haze off (raw dNDVI, one pass)|$variant|canopy-raw-$v")
    canopy "canopy-hash-$v" "$WORK/canopy-hash-$v" 0 1 "$ds" && keep "canopy-hash-$v"
    ROWS+=("canopy detect (hashing inputs)|$variant|canopy-hash-$v")
    canopy "canopy-gpkg-$v" "$WORK/canopy-gpkg-$v" 0 0 "$ds" --outputs gpkg && keep "canopy-gpkg-$v"
    ROWS+=("canopy detect --no-hash --outputs gpkg (alerts.gpkg alone, as the baselines write)|$variant|canopy-gpkg-$v")
    measure "floor1-$v" "$FLOOR" -t 1 "$ds/before.tif" "$ds/after.tif" && keep "floor1-$v"
    ROWS+=("read floor, red+NIR, 1 thread|$variant|floor1-$v")
    measure "floor-$v" "$FLOOR" -t 0 "$ds/before.tif" "$ds/after.tif" && keep "floor-$v"
    ROWS+=("read floor, red+NIR, $NPROC threads|$variant|floor-$v")
    measure "floorm-$v" "$FLOOR" -t 0 "$ds/before.tif" "$ds/after.tif" \
        "$ds/before_mask.tif" "$ds/after_mask.tif" && keep "floorm-$v"
    ROWS+=("read floor, red+NIR+masks, $NPROC threads|$variant|floorm-$v")
    measure "floors-$v" "$FLOOR" -t 0 --strip "$ds/before.tif" "$ds/after.tif" \
        "$ds/before_mask.tif" "$ds/after_mask.tif" && keep "floors-$v"
    ROWS+=("read red+NIR+masks as Float32 strips (GDALRasterIO), $NPROC threads|$variant|floors-$v")
    if [ "$HAVE_GDAL_PY" = 1 ]; then
        measure "gdal-$v" scripts/bench/gdal_chain.sh "$ds/before.tif" "$ds/after.tif" \
            "$ds/before_mask.tif" "$ds/after_mask.tif" "$WORK/gdal-$v" && keep "gdal-$v"
        ROWS+=("GDAL chain: gdal_calc → gdal_sieve → gdal_polygonize|$variant|gdal-$v")
        cp "$WORK/gdal-$v/steps.tsv" "$WORK/gdal-$v.steps.tsv" 2> /dev/null || true
    fi
    if [ "$HAVE_RASTERIO" = 1 ]; then
        measure "rasterio-$v" "$PY" scripts/bench/rasterio_pipeline.py "$ds/before.tif" \
            "$ds/after.tif" "$ds/before_mask.tif" "$ds/after_mask.tif" \
            "$WORK/rasterio-$v.gpkg" && keep "rasterio-$v"
        ROWS+=("rasterio + numpy: sieve, shapes|$variant|rasterio-$v")
        cp "$WORK/cmd.err" "$WORK/rasterio-$v.steps.txt"
    fi
done

emit "" "## Pipelines on the ${S2}x$S2 pair" "" \
     "× floor: wall / read floor (red+NIR, $NPROC threads) of the same variant;" \
     "× canopy: wall / canopy detect --no-hash of the same variant (baseline/canopy);" \
     "× gpkg: wall / canopy detect --no-hash --outputs gpkg, the same product as the" \
     "baselines' (one GeoPackage of polygons)." "" \
     "Load: median 1-minute load average when the runs started (this machine has $NPROC cores)." "" \
     "| pipeline | variant | wall (s) | CPU (s) | peak RSS (MB) | × floor | × canopy | × gpkg | load |" \
     "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do
    IFS='|' read -r name variant id <<< "$row"
    v=$(echo "$variant" | tr '[:upper:]' '[:lower:]')
    [ -n "${WALL[$id]:-}" ] || { emit "| $name | $variant | failed | | | | | | |"; continue; }
    emit "| $name | $variant | $(f2 "${WALL[$id]}") | $(f2 "${CPU[$id]}") | $(printf '%.0f' "${RSS[$id]}") | $(ratio "${WALL[$id]}" "${WALL[floor-$v]:-}") | $(ratio "${WALL[$id]}" "${WALL[canopy-$v]:-}") | $(ratio "${WALL[$id]}" "${WALL[canopy-gpkg-$v]:-}") | $(f2 "${LOAD[$id]}") |"
done

# Columns: every timings_s key canopy reported.
KEYS=$(tkeys canopy-hash-deflate || true)
[ -n "$KEYS" ] || KEYS=$(tkeys canopy-deflate || true)
if [ -n "$KEYS" ]; then
    head="| run |" rule="|---|"
    for k in $KEYS; do head="$head $k |"; rule="$rule---:|"; done
    emit "" "### Where canopy's time goes (run.json timings_s, medians, s)" "" \
         "hash_inputs: the input files are hashed beside detection, one thread a file (largest first); write_* are parts of write." \
         "" "$head" "$rule"
    for id in canopy-none canopy-deflate canopy-gpkg-none canopy-gpkg-deflate canopy-hash-none canopy-hash-deflate; do
        grep -q "^$id	" "$TIMINGS" || continue
        line="| $id |"
        for k in $KEYS; do line="$line $(f2 "$(tmed "$id" "$k")") |"; done
        emit "$line"
    done
    facts="$(tmed canopy-deflate threads) worker threads"
    tw=$(tmed canopy-deflate tile_width) sh=$(tmed canopy-deflate strip_height)
    cm=$(tmed canopy-deflate gdal_cache_mb) pm=$(tmed canopy-deflate planned_mb)
    [ "$sh" = nan ] || facts="$facts, work unit $([ "$tw" = nan ] && echo "full width" || echo "$tw") x $sh pixels"
    [ "$cm" = nan ] || facts="$facts, GDAL block cache $cm MB"
    [ "$pm" = nan ] || facts="$facts, planned memory $pm MB"
    emit "" "From run.json (DEFLATE): $facts."
fi
for v in none deflate; do
    if [ -f "$WORK/gdal-$v.steps.tsv" ]; then
        emit "" "GDAL chain steps ($v, last run): $(awk -F'\t' '{ printf "%s%s %.2f s", (NR > 1 ? ", " : ""), $1, $2 }' "$WORK/gdal-$v.steps.tsv")."
    fi
    if [ -f "$WORK/rasterio-$v.steps.txt" ]; then
        emit "rasterio steps ($v, last run): $(sed 's/^rasterio: //' "$WORK/rasterio-$v.steps.txt")."
    fi
done

# ---- same alerts? --------------------------------------------------------------

emit "" "## Do the pipelines find the same alerts? (DEFLATE pair)" ""
CMP=("canopy (uncompressed input)=$WORK/canopy-none/alerts.gpkg")
[ -f "$WORK/gdal-deflate/alerts.gpkg" ] && CMP+=("GDAL chain=$WORK/gdal-deflate/alerts.gpkg")
[ -f "$WORK/rasterio-deflate.gpkg" ] && CMP+=("rasterio=$WORK/rasterio-deflate.gpkg")
if "$PY" scripts/bench/compare_alerts.py "$WORK/canopy-deflate/alerts.gpkg" "${CMP[@]}" \
        > "$WORK/compare.md"; then
    SAME="every pipeline found the same polygons"
else
    SAME="THE PIPELINES DISAGREE on the polygons found (see the table)"
fi
emit "$(cat "$WORK/compare.md")" "" "Result: $SAME. Polygons are matched by envelope;" \
     "areas are planar in the scene CRS. The sieves (gdal_sieve, rasterio sieve) also merge" \
     "background regions under 50 pixels into the clearing around them, so a clearing with a" \
     "small hole comes out larger there; canopy keeps the hole."

# ---- thread scaling ----------------------------------------------------------------

THREADS=${BENCH_THREADS:-$(seq -s ' ' 1 "$NPROC")}
warm "$P_DEFL"
emit "" "## Thread scaling (canopy detect --no-hash, DEFLATE ${S2}x$S2)" "" \
     "| threads | wall (s) | CPU (s) | speed-up | efficiency | read floor red+NIR (s) | floor speed-up |" \
     "|---:|---:|---:|---:|---:|---:|---:|"
T1=""; F1=""
for t in $THREADS; do
    canopy "canopy-t$t" "$WORK/canopy-t$t" "$t" 0 "$P_DEFL" || continue
    cw=$M_WALL; cc=$M_CPU
    measure "floor-t$t" "$FLOOR" -t "$t" "$P_DEFL/before.tif" "$P_DEFL/after.tif" || continue
    fw=$M_WALL
    [ -n "$T1" ] || { T1=$cw; F1=$fw; }
    emit "| $t | $(f2 "$cw") | $(f2 "$cc") | $(ratio "$T1" "$cw") | $(awk -v a="$T1" -v b="$cw" -v t="$t" 'BEGIN { printf "%.0f%%", 100 * a / b / t }') | $(f2 "$fw") | $(ratio "$F1" "$fw") |"
done
if [ "$NPROC" -lt 16 ]; then
    emit "" "16-core scaling: not measured: no 16-core machine was available (this one has $NPROC)."
fi

# ---- size scaling ------------------------------------------------------------------

emit "" "## Size scaling (canopy detect --no-hash, DEFLATE, all threads)" "" \
     "| size | pixels (M) | input (MB, 4 files) | wall (s) | CPU (s) | peak RSS (MB) | Mpixel/s | alerts |" \
     "|---|---:|---:|---:|---:|---:|---:|---:|"
for sz in $SIZES; do
    ds=${P_SIZE[$sz]:-}
    if [ -z "$ds" ]; then
        emit "| ${sz}² | $(awk -v s="$sz" 'BEGIN { printf "%.0f", s * s / 1e6 }') | | skipped: under $NEED_GB GB free | | | | |"
        continue
    fi
    id=canopy-size-$sz
    if [ "$ds" = "$P_DEFL" ] && [ -n "${WALL[canopy-deflate]:-}" ]; then
        id=canopy-deflate            # measured above
        M_WALL=${WALL[$id]}; M_CPU=${CPU[$id]}; M_RSS=${RSS[$id]}
    else
        warm "$ds"
        canopy "$id" "$WORK/$id" 0 0 "$ds" || continue
    fi
    mpx=$(awk -v s="$sz" 'BEGIN { printf "%.1f", s * s / 1e6 }')
    emit "| ${sz}² | $mpx | $(awk -v b="$(tmed "$id" input_bytes)" 'BEGIN { printf "%.0f", b / 1e6 }') | $(f2 "$M_WALL") | $(f2 "$M_CPU") | $(printf '%.0f' "$M_RSS") | $(awk -v p="$mpx" -v w="$M_WALL" 'BEGIN { printf "%.1f", p / w }') | $(tmed "$id" alerts) |"
done
[ "$QUICK" = 1 ] && emit "" "(BENCH_QUICK=1: one size only.)"

# ---- noisy vs clean ------------------------------------------------------------------

warm "$P_NOISY"
canopy canopy-noisy "$WORK/canopy-noisy" 0 0 "$P_NOISY" && keep canopy-noisy
emit "" "## Noisy pair (~100 000 extra 1–4 px specks per 10980²) vs clean (DEFLATE ${S2}x$S2)" "" \
     "| pair | wall (s) | CPU (s) | peak RSS (MB) | loss components | alerts | detect (s) | polygons (s) |" \
     "|---|---:|---:|---:|---:|---:|---:|---:|"
for id in canopy-deflate canopy-noisy; do
    [ -n "${WALL[$id]:-}" ] || continue
    emit "| $([ $id = canopy-noisy ] && echo noisy || echo clean) | $(f2 "${WALL[$id]}") | $(f2 "${CPU[$id]}") | $(printf '%.0f' "${RSS[$id]}") | $(tmed $id components) | $(tmed $id alerts) | $(f2 "$(tmed $id detect)") | $(f2 "$(tmed $id polygons)") |"
done
emit "" "Noisy / clean: wall $(ratio "${WALL[canopy-noisy]:-}" "${WALL[canopy-deflate]:-}"), CPU $(ratio "${CPU[canopy-noisy]:-}" "${CPU[canopy-deflate]:-}") (load $(f2 "${LOAD[canopy-noisy]:-}") / $(f2 "${LOAD[canopy-deflate]:-}"))."

# ---- monitor against detect ------------------------------------------------------------
# A monitor run over N new scenes of one footprint does the work of the N-1
# detects of the same consecutive pairs (each scene read once instead of twice,
# plus the state); it should cost no more than 1.2 times those detects.

MON_SIZE=$([ "$QUICK" = 1 ] && echo 2745 || echo 5490)
series_key=$( { echo "$MON_SIZE"; sha256sum < "$SYNTH"; sha256sum < scripts/make-series.py; } | sha256sum | cut -c1-12)
SERIES=$DIR/data/series-$MON_SIZE-$series_key
if [ ! -f "$SERIES/.complete" ]; then
    rm -rf "$DIR/data/series-$MON_SIZE"-????????????
    say "generating a ${MON_SIZE}x$MON_SIZE Sentinel-2 series (scripts/make-series.py)"
    "$PY" scripts/make-series.py --synth "$SYNTH" -o "$SERIES.tmp" --size "$MON_SIZE" >&2
    touch "$SERIES.tmp/.complete"
    mv "$SERIES.tmp" "$SERIES"
fi
mapfile -t DATES < <(cd "$SERIES" && ls -d S2*_L2A | sort | head -3)
rm -rf "$WORK/mon-in" && mkdir -p "$WORK/mon-in"
for d in "${DATES[@]}"; do ln -s "$(cd "$SERIES" && pwd)/$d" "$WORK/mon-in/$d"; cat "$SERIES/$d"/*.tif > /dev/null; done
emit "" "## monitor against detect (${#DATES[@]} dates of a ${MON_SIZE}x$MON_SIZE Sentinel-2 series)" "" \
     "A fresh monitor state over the ${#DATES[@]} scenes, against canopy detect --no-evidence --no-hash" \
     "on the $(( ${#DATES[@]} - 1 )) consecutive pairs of the same scenes (target: monitor <= 1.2 x the detects)." "" \
     "| threads | monitor wall (s) | monitor CPU (s) | monitor RSS (MB) | detects wall (s) | detects CPU (s) | monitor / detects |" \
     "|---:|---:|---:|---:|---:|---:|---:|"
mon_state() { rm -rf "$WORK/mon-state"; }
for t in 1 0; do
    AFTER_RUN=mon_state
    mon_state
    measure "monitor-t$t" "$CANOPY" monitor --state "$WORK/mon-state" --threads "$t" -q "$WORK/mon-in" || continue
    mw=$M_WALL mc=$M_CPU mr=$M_RSS
    AFTER_RUN=""
    dw=0 dc=0
    for ((i = 1; i < ${#DATES[@]}; i++)); do
        measure "monitor-detect$i-t$t" "$CANOPY" detect "$SERIES/${DATES[i-1]}" "$SERIES/${DATES[i]}" \
            -o "$WORK/mon-detect" --no-evidence --no-hash -q --threads "$t" || continue 2
        dw=$(awk -v a="$dw" -v b="$M_WALL" 'BEGIN { print a + b }')
        dc=$(awk -v a="$dc" -v b="$M_CPU" 'BEGIN { print a + b }')
    done
    emit "| $([ "$t" = 0 ] && echo "$NPROC (all)" || echo "$t") | $(f2 "$mw") | $(f2 "$mc") | $(printf '%.0f' "$mr") | $(f2 "$dw") | $(f2 "$dc") | $(ratio "$mw" "$dw") |"
done

# ---- hashing ---------------------------------------------------------------------------

# ---- zones: 10,000 zones against ~5,000 alerts --------------------------------------------
# --zones streams the layer once through a spatial filter and meets each zone
# with the alerts its envelope touches: the cost is the detect with --zones
# minus the detect without, on the same pair.

dataset zones --size 3000 --scenario bench --clearings 5000
P_ZONES=$DS
ZGRID=$WORK/zones-10k.gpkg
rm -f "$ZGRID"
"$PY" tests/e2e/zones_fixture.py "$ZGRID" grid 100 30000
warm "$P_ZONES"
canopy zones-none "$WORK/zones-none" 0 0 "$P_ZONES" && keep zones-none
canopy zones-10k "$WORK/zones-10k" 0 0 "$P_ZONES" --zones "$ZGRID" && keep zones-10k
emit "" "## Zones: 10 000 zones (100 x 100 squares, GeoPackage) against the alerts of a 3000² pair" "" \
     "| run | alerts | wall (s) | CPU (s) | peak RSS (MB) | zone rows in zones.csv |" \
     "|---|---:|---:|---:|---:|---:|"
for id in zones-none zones-10k; do
    [ -n "${WALL[$id]:-}" ] || continue
    rows=$([ "$id" = zones-10k ] && echo $(($(wc -l < "$WORK/zones-10k/zones.csv") - 1)) || echo -)
    emit "| $([ "$id" = zones-10k ] && echo "--zones (10 000)" || echo "no zones") | $(tmed $id alerts) | $(f2 "${WALL[$id]}") | $(f2 "${CPU[$id]}") | $(printf '%.0f' "${RSS[$id]}") | $rows |"
done
emit "" "Cost of the zones: wall $(diff2 "${WALL[zones-10k]:-}" "${WALL[zones-none]:-}") s, CPU $(diff2 "${CPU[zones-10k]:-}" "${CPU[zones-none]:-}") s, peak RSS $(diff2 "${RSS[zones-10k]:-}" "${RSS[zones-none]:-}") MB."

BT=$P_DEFL/before.tif
BYTES=$(stat -c %s "$BT")
warm "$P_DEFL"
emit "" "## SHA-256 of the inputs (DEFLATE ${S2}x$S2, page cache warm)" "" \
     "| hasher | bytes | wall (s) | GB/s |" "|---|---:|---:|---:|"
measure sha256sum sha256sum "$BT" &&
    emit "| sha256sum before.tif (coreutils) | $BYTES | $(f2 "$M_WALL") | $(awk -v b="$BYTES" -v w="$M_WALL" 'BEGIN { printf "%.2f", b / w / 1e9 }') |"
if command -v openssl > /dev/null; then
    measure openssl-sha256 openssl dgst -sha256 "$BT" &&
        emit "| openssl dgst -sha256 before.tif (libcrypto, as canopy) | $BYTES | $(f2 "$M_WALL") | $(awk -v b="$BYTES" -v w="$M_WALL" 'BEGIN { printf "%.2f", b / w / 1e9 }') |"
fi
if grep -q "^canopy-hash-deflate	" "$TIMINGS"; then
    hb=$(tmed canopy-hash-deflate input_bytes)
    hs=$(tmed canopy-hash-deflate hash_inputs)
    emit "| canopy's hashing threads, 4 inputs side by side (run.json hash_inputs, beside detection) | $hb | $(f2 "$hs") | $(awk -v b="$hb" -v w="$hs" 'BEGIN { if (w > 0) printf "%.2f", b / w / 1e9; else print "-" }') |" \
         "" "Cost of hashing in canopy's wall time (with hashing minus --no-hash): $(diff2 "${WALL[canopy-hash-deflate]:-}" "${WALL[canopy-deflate]:-}") s on DEFLATE, $(diff2 "${WALL[canopy-hash-none]:-}" "${WALL[canopy-none]:-}") s uncompressed; the main thread waited for the hash (hash_wait) $(f2 "$(tmed canopy-hash-deflate hash_wait)") s / $(f2 "$(tmed canopy-hash-none hash_wait)") s."
fi

emit "" "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at start: $LOAD0)." \
     "Every run: $RAW."
[ -n "$SKIPPED_SIZES" ] && emit "Skipped sizes (disk):$SKIPPED_SIZES."
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
say "results in $RESULTS"
