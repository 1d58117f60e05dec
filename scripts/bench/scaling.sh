#!/bin/bash
# scripts/bench/scaling.sh - thread scaling of canopy detect and of the read floor,
# with nothing but three binaries: for a many-core machine that has no GDAL and no
# Python (ship the binaries with the shared libraries `ldd` lists, and set
# LD_LIBRARY_PATH, GDAL_DATA and PROJ_DATA there). `make bench` prints the same
# table for this machine's cores, next to everything else.
#
# Usage: scripts/bench/scaling.sh [-r RUNS] [-t "1 2 4 ..."] [-s SIZE] [-d DATADIR] BINDIR
#   BINDIR   holds canopy, canopy-synth and bench-read-floor (here: make, then
#            `make build/bench-read-floor`, and copy bin/canopy, build/canopy-synth
#            and build/bench-read-floor into one folder)
#   -r RUNS  runs per number, the median is reported (default 3)
#   -t LIST  thread counts (default: 1 2 4 8 ... up to the cores, and the cores)
#   -s SIZE  side of the generated DEFLATE pair (default 10980, as make bench)
#   -d DIR   where the pair is generated, or found from an earlier run (default
#            /tmp/canopy-scaling); about 1.1 GB at 10980
# Prints a Markdown table on stdout (wall and CPU time, speed-up and efficiency of
# canopy detect --no-hash, of the same with --outputs gpkg, and of the read floor,
# with canopy's peak RSS from run.json); progress on stderr. Exit status 0, or 1
# when a run fails (its stderr is shown), 2 on a usage error.
set -euo pipefail

RUNS=3 THREADS="" SIZE=10980 DATA=/tmp/canopy-scaling
usage() { sed -n '8,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "r:t:s:d:h" o; do
    case $o in
    r) RUNS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    s) SIZE=$OPTARG ;;
    d) DATA=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
BIN=$(cd "$1" && pwd)
for b in canopy canopy-synth bench-read-floor; do
    [ -x "$BIN/$b" ] || { echo "scaling: $BIN/$b is missing" >&2; exit 2; }
done
case $RUNS in ''|*[!0-9]*|0) echo "scaling: -r needs a positive count" >&2; exit 2 ;; esac
case $SIZE in ''|*[!0-9]*|0) echo "scaling: -s needs a size in pixels" >&2; exit 2 ;; esac
NPROC=$(nproc)
if [ -z "$THREADS" ]; then
    THREADS=1
    for ((t = 2; t < NPROC; t *= 2)); do THREADS="$THREADS $t"; done
    [ "$NPROC" -gt 1 ] && THREADS="$THREADS $NPROC"
fi

say() { echo "scaling: $*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/canopy-scaling-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The pair make bench uses (same generator arguments), made once per folder.
P=$DATA/deflate-$SIZE
if [ ! -f "$P/.complete" ]; then
    say "generating the ${SIZE}x$SIZE DEFLATE pair in $P"
    rm -rf "$P"
    mkdir -p "$DATA"
    "$BIN/canopy-synth" -o "$P" --scenario bench --tile 512 --seed 1 --size "${SIZE}x$SIZE" \
        --compress DEFLATE > /dev/null
    touch "$P/.complete"
fi
cat "$P"/before.tif "$P"/after.tif "$P"/before_mask.tif "$P"/after_mask.tif > /dev/null

# timed FILE CMD...: run CMD, append "wall user sys" to FILE; on failure show its stderr.
timed() {
    local file=$1; shift
    local TIMEFORMAT='%R %U %S'
    if ! { time "$@" > /dev/null 2> "$WORK/err"; } 2>> "$file"; then
        say "FAILED: $*"
        sed 's/^/    /' "$WORK/err" >&2
        exit 1
    fi
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print (c == "cpu") ? $2 + $3 : $1 }' "$1" | median; }

detect() {   # detect OUTDIR THREADS [ARGS...]
    local out=$1 t=$2; shift 2
    rm -rf "$out"
    "$BIN/canopy" detect "$P/before.tif" "$P/after.tif" --before-mask "$P/before_mask.tif" \
        --after-mask "$P/after_mask.tif" -o "$out" --no-evidence --no-hash -q --threads "$t" "$@"
}
peak() { sed -n 's/.*"peak_rss_mb": *\([0-9.]*\).*/\1/p' "$1/run.json" | head -n 1; }

declare -A W C G F R
for t in $THREADS; do
    : > "$WORK/c$t" ; : > "$WORK/g$t"; : > "$WORK/f$t"; : > "$WORK/r$t"
    for ((i = 1; i <= RUNS; i++)); do
        timed "$WORK/c$t" detect "$WORK/out" "$t"
        peak "$WORK/out" >> "$WORK/r$t"
        timed "$WORK/g$t" detect "$WORK/out" "$t" --outputs gpkg
        timed "$WORK/f$t" "$BIN/bench-read-floor" -t "$t" "$P/before.tif" "$P/after.tif"
    done
    W[$t]=$(col "$WORK/c$t" wall) C[$t]=$(col "$WORK/c$t" cpu) G[$t]=$(col "$WORK/g$t" wall)
    F[$t]=$(col "$WORK/f$t" wall) R[$t]=$(median < "$WORK/r$t")
    say "$(printf '%3d threads: canopy %6.2f s, --outputs gpkg %6.2f s, floor %6.2f s' "$t" \
        "${W[$t]}" "${G[$t]}" "${F[$t]}")"
done

first=${THREADS%% *}
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
eff() { awk -v a="$1" -v b="$2" -v t="$3" -v t0="$4" 'BEGIN { printf "%.0f%%", 100 * a / b / (t / t0) }'; }
echo "## Thread scaling, ${SIZE}x$SIZE DEFLATE pair ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
echo "Machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $NPROC cores," \
     "$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); canopy" \
     "$("$BIN/canopy" --version | awk '{ print $2 }'); median of $RUNS runs, page cache warm."
echo "canopy: detect --no-evidence --no-hash (all four products); gpkg: the same with"
echo "--outputs gpkg; floor: bench-read-floor, red and NIR of both dates, block by block."
echo
echo "| threads | canopy wall (s) | CPU (s) | speed-up | efficiency | gpkg wall (s) | gpkg speed-up | floor wall (s) | floor speed-up | canopy peak RSS (MB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in $THREADS; do
    echo "| $t | ${W[$t]} | ${C[$t]} | $(r "${W[$first]}" "${W[$t]}") | $(eff "${W[$first]}" "${W[$t]}" "$t" "$first") | ${G[$t]} | $(r "${G[$first]}" "${G[$t]}") | ${F[$t]} | $(r "${F[$first]}" "${F[$t]}") | ${R[$t]} |"
done
