#!/bin/bash
# scripts/fuzz.sh BUILDDIR TARGET... - runs each libFuzzer target
# (BUILDDIR/fuzz/fuzz_TARGET, built by `make fuzz`) for FUZZ_SECONDS (60),
# FUZZ_PARALLEL (1) at a time, and says what each did.
#
# Corpus: new inputs land in BUILDDIR/fuzz-work/TARGET/; seeds are read from
# tests/fuzz/corpus/TARGET/ (committed), from the real metadata in
# ../shared/data (linked from BUILDDIR/fuzz-seeds/TARGET/, read in place,
# never copied into the repository) and from products scripts/make-products.py
# generates into BUILDDIR/fuzz-seeds/products/.
#
# Crashes land in BUILDDIR/fuzz-crashes/TARGET/. Minimise one with
#   BUILDDIR/fuzz/fuzz_TARGET -minimize_crash=1 -max_total_time=60 -exact_artifact_path=OUT FILE
# then commit OUT to tests/fuzz/corpus/TARGET/ with the fix: `make test`
# replays it from then on. Exits 1 when a target crashed.
set -u
set -f   # the find(1) name patterns below must reach find unexpanded
cd "$(dirname "$0")/.."
B=${1:?usage: scripts/fuzz.sh BUILDDIR TARGET...}
shift
SECONDS_EACH=${FUZZ_SECONDS:-60}
PARALLEL=${FUZZ_PARALLEL:-1}
SHARED=../shared/data
export CANOPY_CONFIG_DIR="$PWD/configs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Generated products: the layouts and names of real ones, every file small.
PRODUCTS="$B/fuzz-seeds/products"
if [ ! -d "$PRODUCTS/bad" ]; then
    if [ -x build/canopy-synth ]; then
        /usr/bin/python3 scripts/make-products.py build/canopy-synth "$PRODUCTS" >/dev/null 2>&1 ||
            echo "fuzz: scripts/make-products.py failed; seeds from the corpus and shared data only" >&2
    else
        echo "fuzz: no build/canopy-synth (make): no generated product seeds" >&2
    fi
fi

# seeds TARGET: the find(1) name tests of its files in the shared data and
# the generated products.
seeds() {
    case "$1" in
        mtl_txt)      echo "-iname *_MTL.txt" ;;
        mtl_xml)      echo "-iname *.xml ! -iname *.aux.xml ! -name MTD_MSIL2A.xml" ;;
        mtl_json)     echo "-iname *_MTL.json" ;;
        stac_item)    echo "-iname *.json ! -iname *_MTL.json" ;;
        mtd_msil2a)   echo "-name MTD_MSIL2A.xml" ;;
        settings_ini) echo "-name default.ini" ;;
        profile_ini)  echo "-iname *.ini ! -name default.ini" ;;
    esac
}

link_seeds() {
    local t=$1 dir="$B/fuzz-seeds/$t" i=0 f
    rm -rf "$dir"
    mkdir -p "$dir"
    # shellcheck disable=SC2046
    while IFS= read -r f; do
        ln -s "$(readlink -f "$f")" "$dir/$i-$(basename "$f")"
        i=$((i + 1))
    done < <(find $( [ -d "$SHARED" ] && echo "$SHARED") "$PRODUCTS" configs -type f \
                  \( $(seeds "$t") \) -size -2M 2>/dev/null | sort)
    echo "$i"
}

run_one() {
    local t=$1 bin="$B/fuzz/fuzz_$t" work="$B/fuzz-work/$t" crashes="$B/fuzz-crashes/$t"
    local log="$B/fuzz-logs/$t.log" nseed dict=()
    if [ ! -x "$bin" ]; then
        echo "fuzz $t: no $bin (make fuzz builds it)"
        return 1
    fi
    mkdir -p "$work" "$crashes" "$(dirname "$log")"
    nseed=$(link_seeds "$t")
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    local before
    before=$(find "$work" -type f | wc -l)
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "${dict[@]}" "$work" "tests/fuzz/corpus/$t" \
        "$B/fuzz-seeds/$t" >"$log" 2>&1
    local rc=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    local ncrash
    ncrash=$(find "$crashes" -type f | wc -l)
    printf 'fuzz %s: %s executions in %ss (%s shared/generated seeds), corpus %s -> %s, ' \
        "$t" "${execs:-?}" "$SECONDS_EACH" "$nseed" "$before" "$(find "$work" -type f | wc -l)"
    if [ "$rc" -eq 0 ]; then
        echo "no crash (${ncrash} earlier crash files in $crashes)"
    else
        echo "CRASH (exit $rc): see $log and $crashes"
        grep -m3 -E "ERROR: |runtime error|SUMMARY" "$log" | sed 's/^/    /'
    fi
    return "$rc"
}

status=0
running=0
for t in "$@"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$PARALLEL" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit "$status"
