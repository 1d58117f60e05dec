# tests/e2e/lib.sh - shared helpers for the end-to-end test scripts.
# Each check prints "PASS: name", "FAIL: name (why)" or "SKIP: name (why)";
# tests/run-tests.sh counts those lines.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
CANOPY="$ROOT/${BIN:-bin}/canopy"
SYNTH="$ROOT/$BUILD/canopy-synth"
# GDAL's Python bindings and scripts live with Debian's python3.
PY=/usr/bin/python3
SHARED_DATA="$ROOT/../shared/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/canopy-test.XXXXXX")
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT
export PYTHONPATH="$ROOT/tests/e2e${PYTHONPATH:+:$PYTHONPATH}"

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
skip() { echo "SKIP: $*"; }

# check NAME CMD...: PASS when CMD succeeds, FAIL with its output otherwise.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name"
        printf '%s\n' "$out" | sed 's/^/    /' | head -40
    fi
}

# run_canopy ARGS...: runs bin/canopy, leaving $RC, $OUT_TXT, $ERR_TXT.
run_canopy() {
    "$CANOPY" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    RC=$?
    OUT_TXT=$(cat "$TMP/stdout")
    ERR_TXT=$(cat "$TMP/stderr")
}

# synth DIR ARGS...: a generated scene pair in DIR (cached per argument list).
synth() {
    local dir=$1; shift
    if [ ! -f "$dir/after.tif" ]; then
        "$SYNTH" -o "$dir" "$@" >/dev/null || { echo "canopy-synth failed: $*" >&2; return 1; }
    fi
}

# detect_pair DIR OUTDIR [ARGS...]: canopy detect on a generated pair with its masks.
detect_pair() {
    local dir=$1 out=$2; shift 2
    run_canopy detect "$dir/before.tif" "$dir/after.tif" \
        --before-mask "$dir/before_mask.tif" --after-mask "$dir/after_mask.tif" -o "$out" -q "$@"
}

# find_chromium: sets CHROMIUM to Debian's chromium, installing it (the
# optional test packages) when missing; empty when it cannot be had.
find_chromium() {
    CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
    if [ -z "$CHROMIUM" ]; then
        "$ROOT/scripts/setup-test-deps.sh" >"$TMP/setup.log" 2>&1
        CHROMIUM=$(command -v chromium || true)
    fi
}

# chrome ARGS...: headless Chromium with a fresh profile, no network chatter.
chrome() {
    local prof
    prof=$(mktemp -d "$TMP/chrome.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$prof" \
        --virtual-time-budget=5000 "$@" 2>>"$TMP/chrome.log"
}
