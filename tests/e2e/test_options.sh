#!/bin/bash
# One option table, one exit-code table (issues 14 and 18): every command's
# --help, its parser, its man page and the bash completion list the same
# options; the README's exit codes and every "Exit status" section agree with
# the table; --json, --quiet and --verbose behave alike on every command.
source "$(dirname "$0")/lib.sh"

DOC="$ROOT/$BUILD/canopy-doc"
CMDS="detect batch monitor info verify"

# help_opts CMD: the long options `canopy CMD --help` lists, one a line
# ("--name" or "--name ARG").
help_opts() {
    "$CANOPY" "$1" --help |
        sed -nE 's/^  (-[A-Za-z], |    )(--[a-z][a-z-]*)( ([^ ]+))?.*$/\2 \4/p' | sort -u -k1,1
}
help_names() { help_opts "$1" | cut -d' ' -f1 | sort -u; }

# ---- every option in --help is accepted by its command -----------------------------
for cmd in $CMDS; do
    bad=""
    n=0
    while read -r opt arg; do
        n=$((n + 1))
        # No operands: every command stops at a usage error after parsing, so
        # nothing runs; an option it does not know says so first.
        if [ -n "$arg" ]; then
            "$CANOPY" "$cmd" "$opt" 1 >/dev/null 2>"$TMP/err" </dev/null
        else
            "$CANOPY" "$cmd" "$opt" >/dev/null 2>"$TMP/err" </dev/null
        fi
        if grep -qE "unrecognized option|not an option of|requires an argument" "$TMP/err"; then
            bad="$bad $opt"
        fi
    done < <(help_opts "$cmd")
    [ "$n" -gt 4 ] && [ -z "$bad" ] && pass "options: every option of '$cmd --help' ($n) is accepted" \
        || fail "options: '$cmd --help' lists options $cmd refuses:${bad:- (only $n listed)}"
done

# ---- every option a command accepts is in its --help ----------------------------------
# Candidates: every option of every command, and those the commands had before
# the table (tests/e2e/options_before.txt).
{
    for cmd in $CMDS; do help_names "$cmd"; done
    grep -v "^#" "$ROOT/tests/e2e/options_before.txt"
} | sort -u >"$TMP/all"
for cmd in $CMDS; do
    help_names "$cmd" >"$TMP/listed"
    hidden=""
    for opt in $(comm -23 "$TMP/all" "$TMP/listed"); do
        "$CANOPY" "$cmd" "$opt" 1 >/dev/null 2>"$TMP/err" </dev/null
        grep -q "unrecognized option" "$TMP/err" || hidden="$hidden $opt"
    done
    [ -z "$hidden" ] && pass "options: '$cmd' accepts nothing its --help does not list" \
        || fail "options: '$cmd' accepts options its --help does not list:$hidden"
done

# Options every command had before the table still work, with the same meaning.
missing=""
while read -r cmd opt; do
    help_names "$cmd" | grep -qx -- "$opt" || missing="$missing $cmd:$opt"
done < <(grep -v "^#" "$ROOT/tests/e2e/options_kept.txt")
[ -z "$missing" ] && pass "options: every command keeps every option it had" \
    || fail "options: options lost:$missing"

# ---- man pages ----------------------------------------------------------------------
if [ ! -x "$DOC" ]; then
    fail "options: $BUILD/canopy-doc missing (make man)"
else
    # render PAGE: the page as text, with man -l or groff.
    render() {
        if command -v man >/dev/null; then MANWIDTH=100 man -l "$1" 2>"$TMP/man.err"
        else groff -man -Tutf8 -ww "$1" 2>"$TMP/man.err"; fi
    }
    for cmd in "" $CMDS; do
        page="$TMP/canopy${cmd:+-$cmd}.1"
        "$DOC" man $cmd >"$page"
        render "$page" >"$TMP/man.txt"
        name="canopy${cmd:+-$cmd}"
        if [ ! -s "$TMP/man.txt" ] || [ -s "$TMP/man.err" ] || ! grep -q "^NAME" "$TMP/man.txt" ||
           ! grep -q "EXIT STATUS" "$TMP/man.txt"; then
            fail "options: $name(1) does not render ($(head -c 300 "$TMP/man.err"))"
            continue
        fi
        groff -man -Tutf8 -ww -z "$page" 2>"$TMP/groff.err"
        [ -s "$TMP/groff.err" ] && fail "options: groff warns on $name(1): $(head -3 "$TMP/groff.err")"
        [ -z "$cmd" ] && { pass "options: canopy(1) renders"; continue; }
        sed -nE 's/^ {7}(-[A-Za-z], )?(--[a-z][a-z-]*).*$/\2/p' "$TMP/man.txt" | sort -u >"$TMP/man.opts"
        help_names "$cmd" >"$TMP/help.opts"
        if cmp -s "$TMP/man.opts" "$TMP/help.opts"; then
            pass "options: $name(1) renders and lists the options of --help"
        else
            fail "options: $name(1) and --help differ: $(diff "$TMP/man.opts" "$TMP/help.opts" | grep '^[<>]' | tr '\n' ' ')"
        fi
    done
    [ -f "$ROOT/$BUILD/man/canopy-detect.1" ] && cmp -s "$ROOT/$BUILD/man/canopy-detect.1" <("$DOC" man detect) \
        && pass "options: make man wrote $BUILD/man/canopy-detect.1 from the table" \
        || fail "options: $BUILD/man/canopy-detect.1 missing or stale (make man)"
fi

# ---- bash completion -------------------------------------------------------------------
if [ -x "$DOC" ]; then
    "$DOC" bash >"$TMP/canopy.bash"
    # comp WORDS...: what completing the last word offers.
    comp() {
        bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _canopy;
                 [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/canopy.bash" "$@" | sort | tr '\n' ' '
    }
    spec=$(bash -c 'source "$1"; complete -p canopy' _ "$TMP/canopy.bash")
    r1=$(comp canopy mo); r2=$(comp canopy detect --ov); r3=$(comp canopy detect --grid f)
    r4=$(comp canopy batch --pairs ""); r5=$(comp canopy verify --pu); r6=$(comp canopy info --ov)
    if [[ $spec == *"-F _canopy canopy"* ]] && [ "$r1" = "monitor " ] &&
       [ "$r2" = "--overview-size --overwrite " ] && [ "$r3" = "finest " ] &&
       [ "$r4" = "baseline consecutive " ] && [ "$r5" = "--pubkey " ] && [ -z "$r6" ]; then
        pass "options: bash completion completes commands, options and their choices"
    else
        fail "options: bash completion ($spec | $r1 | $r2 | $r3 | $r4 | $r5 | $r6)"
    fi
    bad=""
    for cmd in $CMDS; do
        comp canopy "$cmd" -- | tr ' ' '\n' | grep -- '^--' | sort -u >"$TMP/comp.opts"
        help_names "$cmd" | cmp -s - "$TMP/comp.opts" || bad="$bad $cmd"
    done
    [ -z "$bad" ] && pass "options: bash completion offers exactly each command's --help options" \
        || fail "options: bash completion differs from --help for:$bad"
fi

# ---- one exit-code table ------------------------------------------------------------------
# The README's table is the generated one; canopy --help's Exit status lists
# the same codes and meanings; each command's codes are the table's.
sed -n '/^## Exit codes/,/^## /p' "$ROOT/README.md" | grep '^|' >"$TMP/readme.exit"
if [ -x "$DOC" ] && "$DOC" readme-exit | cmp -s - "$TMP/readme.exit"; then
    pass "exit codes: the README's table is the exit-code table"
else
    fail "exit codes: README's '## Exit codes' table differs from the table: $(diff <("$DOC" readme-exit) "$TMP/readme.exit" | head -6 | tr '\n' ' ')"
fi
"$CANOPY" --help | sed -n '/^Exit status:/,$p' | sed -nE 's/^  ([0-9]+)  (.*)$/| \1 | \2 |/p' >"$TMP/main.exit"
sed -E 's/^\| ([0-9]+) \| [a-z]+ \| (.*) \|$/| \1 | \2 |/' "$TMP/readme.exit" | grep '^| [0-9]' >"$TMP/readme.codes"
cmp -s "$TMP/main.exit" "$TMP/readme.codes" && pass "exit codes: canopy --help lists the README's codes" \
    || fail "exit codes: canopy --help and README differ: $(diff "$TMP/main.exit" "$TMP/readme.codes" | tr '\n' ' ')"
bad=""
for cmd in $CMDS; do
    "$CANOPY" "$cmd" --help | sed -n '/^Exit status:/,$p' | sed -nE 's/^  ([0-9]+)  (.*)$/| \1 | \2 |/p' >"$TMP/cmd.exit"
    [ -s "$TMP/cmd.exit" ] && [ -z "$(comm -23 <(sort "$TMP/cmd.exit") <(sort "$TMP/readme.codes"))" ] || bad="$bad $cmd"
done
[ -z "$bad" ] && pass "exit codes: every command's Exit status uses the table's codes and meanings" \
    || fail "exit codes: Exit status sections off the table:$bad"
grep -rnE "enum *\{[^}]*EXIT_|CNP_MON_EXIT" "$ROOT/pipeline" >"$TMP/enums"
[ ! -s "$TMP/enums" ] && pass "exit codes: no exit-code enum but the table's" \
    || fail "exit codes: other exit-code enums: $(head -3 "$TMP/enums")"

# ---- --json, --quiet, --verbose ------------------------------------------------------------
P=$TMP/pair
if synth "$P" --size 300x240 --seed 3 --scenario sample --tile 64; then
    # An OUTDIR name that needs escaping in JSON and on a terminal.
    OUT="$TMP/out \"q\" \\ x"
    detect_pair "$P" "$OUT" --no-evidence --json
    printf '%s' "$OUT_TXT" >"$TMP/d.json"
    check "json: detect --json is one object: alerts, area, outputs, run.json, warnings" \
        "$PY" -c '
import json, os, subprocess, sys
subprocess.run([sys.executable, "-m", "json.tool", sys.argv[1]], check=True, stdout=subprocess.DEVNULL)
d = json.load(open(sys.argv[1])); out = sys.argv[2]
assert d["status"] == "ok" and d["exit_status"] == 0, d
assert d["outdir"] == out, (d["outdir"], out)
assert d["run_json"] == out + "/run.json" and os.path.isfile(d["run_json"]), d
run = json.load(open(d["run_json"]))
assert d["alerts"] == len(json.load(open(out + "/alerts.geojson"))["features"]) > 0, d
assert abs(d["area_ha"] - sum(a["properties"]["area_ha"] for a in json.load(open(out + "/alerts.geojson"))["features"])) < 1e-3
assert set(d["outputs"]) == {"alerts.gpkg", "alerts.geojson", "alerts.csv", "overview.png",
    "overview.pgw", "overview.png.aux.xml", "run.json", "SHA256SUMS"}, d["outputs"]
assert isinstance(d["warnings"], list) and d["seconds"]["total"] >= 0, d
' "$TMP/d.json" "$OUT"
    [ -z "$ERR_TXT" ] && pass "json: detect --json writes nothing else" || fail "json: detect --json stderr: $ERR_TXT"

    detect_pair "$P" "$TMP/bad" --json --outputs csv
    printf '%s' "$OUT_TXT" >"$TMP/e.json"
    [ "$RC" -eq 2 ] && { [ -z "$OUT_TXT" ] || "$PY" -c '
import json, sys
assert json.load(open(sys.argv[1]))["exit_status"] == 2' "$TMP/e.json"; } \
        && pass "json: a usage error under --json leaves stdout empty or JSON" \
        || fail "json: usage error under --json ($RC): $OUT_TXT"
    run_canopy detect "$TMP/none.tif" "$TMP/none.tif" -o "$TMP/none" --json
    printf '%s' "$OUT_TXT" >"$TMP/f.json"
    check "json: a failed detect --json says so in JSON (status, exit_status, error)" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "error" and d["exit_status"] == 1 and "none.tif" in d["error"], d
' "$TMP/f.json"

    run_canopy info --json "$P/after.tif"
    printf '%s' "$OUT_TXT" >"$TMP/i.json"
    check "json: info --json is valid JSON" "$PY" -m json.tool "$TMP/i.json"
    run_canopy verify --json "$OUT"
    printf '%s' "$OUT_TXT" >"$TMP/v.json"
    [ "$RC" -eq 0 ] && "$PY" -m json.tool "$TMP/v.json" >/dev/null \
        && pass "json: verify --json is valid JSON" || fail "json: verify --json ($RC)"

    # --quiet: errors only, on every command.
    quiet_ok=1
    detect_pair "$P" "$TMP/q1" --no-evidence;               [ -z "$OUT_TXT$ERR_TXT" ] || quiet_ok=0
    run_canopy info -q "$P/after.tif";                       [ $RC -eq 0 ] && [ -z "$OUT_TXT$ERR_TXT" ] || quiet_ok=0
    run_canopy verify -q "$OUT";                             [ $RC -eq 0 ] && [ -z "$OUT_TXT$ERR_TXT" ] || quiet_ok=0
    run_canopy batch -q "$P/before.tif" "$P/after.tif" -o "$TMP/qb" --no-evidence
    [ $RC -eq 0 ] && [ -z "$OUT_TXT$ERR_TXT" ] || quiet_ok=0
    run_canopy info -q "$TMP/none.tif";                      [ $RC -eq 1 ] && [ -n "$ERR_TXT" ] || quiet_ok=0
    [ $quiet_ok -eq 1 ] && pass "quiet: detect, info, verify and batch print nothing on success, errors still" \
        || fail "quiet: something printed ($RC: $OUT_TXT $ERR_TXT)"
    rm -f "$OUT/alerts.csv"
    run_canopy verify -q "$OUT"
    [ $RC -eq 1 ] && grep -q "alerts.csv" <<<"$OUT_TXT" && ! grep -q "^ok " <<<"$OUT_TXT" \
        && pass "quiet: verify -q lists only what is not intact" || fail "quiet: verify -q ($RC: $OUT_TXT)"

    # --verbose: each stage's time.
    detect_pair "$P" "$TMP/v1" --no-evidence --verbose
    grep -qE "^canopy: open [0-9.]+ s, detect [0-9.]+ s, .*total [0-9.]+ s$" <<<"$ERR_TXT" \
        && pass "verbose: detect --verbose prints each stage's time" || fail "verbose: detect ($ERR_TXT)"
    run_canopy info --verbose "$P/after.tif"
    grep -qE "^canopy: info [0-9.]+ s$" <<<"$ERR_TXT" && pass "verbose: info --verbose prints its time" \
        || fail "verbose: info ($ERR_TXT)"
else
    fail "json: generator"
fi
