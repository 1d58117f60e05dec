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
