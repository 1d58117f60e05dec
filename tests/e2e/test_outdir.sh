#!/bin/bash
# OUTDIR is replaced whole or not at all, never silently, and can be checked
# without Canopy:
# - a new or empty OUTDIR is written; a Canopy run is replaced only with
#   --overwrite; any other non-empty folder is refused, untouched;
# - a replaced run's files go, every file Canopy did not write stays, and a
#   file of the user's at the name of a new output stops the run first;
# - SHA256SUMS is checked by `sha256sum -c` from OUTDIR, and its Ed25519
#   signature (--sign-key) by `openssl pkeyutl -verify` and `canopy verify`;
# - a kill at any step of the commit leaves the whole old run or the whole new
#   one (the folder exchange, and the journal used where it is refused), and
#   the next run removes what a dead process left; SIGINT, SIGTERM and SIGHUP
#   clean up before the process ends.
source "$(dirname "$0")/lib.sh"

P="$TMP/pair"
synth "$P" --size 200x200 --seed 9 --scenario sample --tile 64 || { fail "outdir: generator"; exit 0; }
cd "$TMP" || exit 1
HOSTN=$(hostname | cut -d. -f1 | tr -c 'A-Za-z0-9_\n' '_')

# det OUTDIR ARGS...: detect on the pair with relative input paths (run A is
# the default settings, run B is --min-area 2: another run id).
det() {
    local out=$1; shift
    run_canopy detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
        --after-mask pair/after_mask.tif -o "$out" -q --threads 2 "$@"
}
# snap DIR: every entry below DIR (hidden ones too), its type, link target and content.
snap() {
    (cd "$1" && find . -mindepth 1 -printf '%y %p %l %m\n' | sort &&
        find . -type f -exec sha256sum {} + | sort)
}
run_id() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$1/run.json" 2>/dev/null; }
one_line() { [ "$(printf '%s' "$ERR_TXT" | grep -c '')" -eq 1 ]; }
# leftovers DIR: what Canopy's temporary names left in DIR and beside it.
leftovers() {
    local d=$1
    (ls -A "$d" | grep -E '^\.canopy-' ; ls -A "$(dirname "$d")" | grep -F ".$(basename "$d").tmp-") 2>/dev/null
}

det A
[ "$RC" -eq 0 ] || { fail "outdir: run A ($RC: $ERR_TXT)"; exit 0; }
det B --min-area 2
[ "$RC" -eq 0 ] || { fail "outdir: run B ($RC: $ERR_TXT)"; exit 0; }
RUN_A=$(run_id A)
RUN_B=$(run_id B)
[ -n "$RUN_A" ] && [ "$RUN_A" != "$RUN_B" ] || { fail "outdir: runs A and B need two run ids"; exit 0; }

# ---- SHA256SUMS ---------------------------------------------------------------------
check "outdir: SHA256SUMS lists every output, run.json and every input; sha256sum -c passes in OUTDIR" \
    $PY - "$TMP" <<'PY'
import json, os, subprocess, sys
tmp = sys.argv[1]
r = json.load(open(os.path.join(tmp, "A/run.json")))
lines = open(os.path.join(tmp, "A/SHA256SUMS")).read().splitlines()
names = [l[66:] for l in lines]
assert all(l[64:66] == "  " for l in lines), lines[:3]
outs = [o["path"] for o in r["outputs"]]
ins = [i for i in r["inputs"] if i["sha256"]]
assert names[:len(outs)] == outs, (names[:5], outs[:5])
assert names[len(outs)] == "run.json", names[len(outs)]
assert names[len(outs) + 1:] == [os.path.join(tmp, i["path"]) for i in ins], names[len(outs) + 1:]
assert len(ins) == 4, ins
c = r["checksums"]
assert c["file"] == "SHA256SUMS" and c["signature"] is None, c
subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=os.path.join(tmp, "A"), check=True)
PY
cp -a A A-changed && echo >>A-changed/alerts.csv
(cd A-changed && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1)
[ $? -ne 0 ] && pass "outdir: sha256sum -c fails on a changed output" || fail "outdir: sha256sum -c passed a changed output"

# ---- refusals -------------------------------------------------------------------------
cp -a A A2 && before=$(snap A2)
det A2 --min-area 2
[ "$RC" -eq 2 ] && one_line && grep -q -- "--overwrite" <<<"$ERR_TXT" && [ "$(snap A2)" = "$before" ] &&
    pass "outdir: a rerun into a Canopy run without --overwrite is refused, one line, exit 2, untouched" ||
    fail "outdir: no --overwrite ($RC: $ERR_TXT)"

# The reported case: a folder of the user's own report.html and evidence/ notes.
mkdir -p U/evidence && echo "my report" >U/report.html && echo "my notes" >U/evidence/notes.txt
before=$(snap U)
det U --no-evidence
rc1=$RC err1=$ERR_TXT
det U --no-evidence --overwrite
[ $rc1 -eq 2 ] && [ "$RC" -eq 2 ] && one_line && grep -q "not a Canopy run\|no Canopy run" <<<"$ERR_TXT$err1" &&
    [ "$(snap U)" = "$before" ] &&
    pass "outdir: a non-empty folder that is no Canopy run is refused, with or without --overwrite, untouched" ||
    fail "outdir: non-Canopy folder ($rc1/$RC: $err1 / $ERR_TXT; now $(ls -A U | tr '\n' ' '))"

mkdir E
det E
[ "$RC" -eq 0 ] && [ "$(run_id E)" = "$RUN_A" ] && pass "outdir: an empty existing OUTDIR is written" ||
    fail "outdir: empty OUTDIR ($RC: $ERR_TXT)"

# ---- --overwrite keeps what Canopy did not write -------------------------------------
# base DIR: run A plus files and folders of the user's, beside and inside evidence/.
ALERT_DIR=$(cd A/evidence && ls | head -1)
base() {
    rm -rf "$1" && cp -a A "$1" &&
        echo "mine" >"$1/notes.txt" && echo "mine too" >"$1/evidence/notes.txt" &&
        echo "on this alert" >"$1/evidence/$ALERT_DIR/mine.txt" && mkdir "$1/mydir" &&
        ln -s notes.txt "$1/notes-link"
}
user_files_kept() {
    [ "$(cat "$1/notes.txt")" = "mine" ] && [ "$(cat "$1/evidence/notes.txt")" = "mine too" ] &&
        [ "$(cat "$1/evidence/$ALERT_DIR/mine.txt")" = "on this alert" ] && [ -d "$1/mydir" ] &&
        [ "$(readlink "$1/notes-link")" = notes.txt ]
}
base K
det K --min-area 2 --no-evidence --overwrite
run_canopy verify K
[ "$RC" -eq 0 ] && [ "$(run_id K)" = "$RUN_B" ] && user_files_kept K && [ ! -e K/report.html ] &&
    [ ! -e K/alerts.kmz ] && [ -z "$(find K/evidence -name '*.png')" ] &&
    (cd K && sha256sum -c --quiet SHA256SUMS) && [ -z "$(leftovers K)" ] &&
    pass "outdir: --overwrite --no-evidence removes the old run's evidence, keeps every file of the user's" ||
    fail "outdir: --overwrite ($RC: $(cd K && find . | sort | tr '\n' ' '))"

base K2
det K2 --min-area 2 --overwrite
[ "$RC" -eq 0 ] && [ "$(run_id K2)" = "$RUN_B" ] && user_files_kept K2 &&
    "$CANOPY" verify K2 >/dev/null && [ -z "$(leftovers K2)" ] &&
    pass "outdir: --overwrite with evidence: the new evidence beside the user's files" ||
    fail "outdir: --overwrite with evidence ($RC: $ERR_TXT)"

# -o . : the current folder is not swapped away (the journal is used), so the
# shell that ran it still sees the run.
mkdir W
(cd W && M="--before-mask ../pair/before_mask.tif --after-mask ../pair/after_mask.tif" &&
    "$CANOPY" detect ../pair/before.tif ../pair/after.tif $M -q --no-evidence -o . &&
    echo mine >notes.txt &&
    "$CANOPY" detect ../pair/before.tif ../pair/after.tif $M -q --no-evidence -o . --overwrite \
        --min-area 2 && [ -f run.json ] && [ -f notes.txt ] && "$CANOPY" verify . >/dev/null) &&
    [ "$(run_id W)" = "$(run_id K)" ] && [ -z "$(leftovers W)" ] &&
    pass "outdir: -o . twice: the current folder still holds the run" ||
    fail "outdir: -o . ($(ls -A W | tr '\n' ' '))"

# A file of the user's at the name of an output of the new run stops it first.
det G --outputs gpkg --no-evidence
echo "my own table" >G/alerts.csv
before=$(snap G)
det G --overwrite
[ "$RC" -eq 2 ] && one_line && grep -q "alerts.csv" <<<"$ERR_TXT" && [ "$(snap G)" = "$before" ] &&
    pass "outdir: a file Canopy did not write at the name of a new output is refused, untouched" ||
    fail "outdir: collision ($RC: $ERR_TXT; alerts.csv: $(head -c 40 G/alerts.csv))"
# A folder in the way of an output: nothing moves (the old commit moved half the
# outputs before failing on it).
det H --no-evidence
mkdir H/report.html && echo x >H/report.html/x
before=$(snap H)
det H --overwrite --min-area 2
[ "$RC" -eq 2 ] && one_line && grep -q "report.html" <<<"$ERR_TXT" && [ "$(snap H)" = "$before" ] &&
    pass "outdir: a folder of the user's in the way of an output is refused before anything moves" ||
    fail "outdir: folder in the way ($RC: $ERR_TXT)"

# ---- an unwritable OUTDIR ---------------------------------------------------------------
base RO
before=$(snap RO)
unwritable=""
if [ "$(id -u)" -ne 0 ]; then
    chmod -R a-w RO && unwritable=chmod
elif chattr +i RO 2>/dev/null; then
    unwritable=chattr
fi
if [ -n "$unwritable" ]; then
    det RO --overwrite --min-area 2
    rc1=$RC err1=$ERR_TXT
    if [ $unwritable = chmod ]; then chmod -R u+w RO; else chattr -i RO; fi
    [ $rc1 -eq 1 ] && [ "$(printf '%s' "$err1" | grep -c '')" -eq 1 ] && [ "$(snap RO)" = "$before" ] &&
        [ -z "$(leftovers RO)" ] &&
        pass "outdir: an unwritable OUTDIR: one line, exit 1, untouched" ||
        fail "outdir: unwritable OUTDIR ($rc1: $err1)"
else
    skip "outdir: an unwritable OUTDIR (root without chattr on this file system)"
fi

# ---- signing ----------------------------------------------------------------------------
command -v openssl >/dev/null 2>&1 || "$ROOT/scripts/setup-test-deps.sh" >"$TMP/setup.log" 2>&1
if command -v openssl >/dev/null 2>&1 && openssl genpkey -algorithm ed25519 -out key.pem 2>/dev/null; then
    openssl pkey -in key.pem -pubout -out pub.pem
    openssl genpkey -algorithm ed25519 -out other.pem && openssl pkey -in other.pem -pubout -out other.pub
    det S --sign-key key.pem
    [ "$RC" -eq 0 ] && [ "$(stat -c %s S/SHA256SUMS.sig 2>/dev/null)" = 64 ] &&
        (cd S && openssl pkeyutl -verify -pubin -inkey ../pub.pem -rawin -in SHA256SUMS \
            -sigfile SHA256SUMS.sig 2>&1) | grep -q "Signature Verified Successfully" &&
        (cd S && sha256sum -c --quiet SHA256SUMS) &&
        pass "outdir: --sign-key: openssl pkeyutl -verify accepts SHA256SUMS.sig, sha256sum -c the files" ||
        fail "outdir: signature with openssl ($RC: $ERR_TXT)"
    run_canopy verify --pubkey pub.pem S
    [ "$RC" -eq 0 ] && grep -q "^signature valid" <<<"$OUT_TXT" &&
        pass "outdir: canopy verify --pubkey checks the signature" ||
        fail "outdir: verify --pubkey ($RC: $OUT_TXT $ERR_TXT)"
    run_canopy verify --pubkey other.pub S
    [ "$RC" -eq 1 ] && grep -q "^signature .*another key" <<<"$OUT_TXT" &&
        pass "outdir: a signature by another key than --pubkey fails verify" ||
        fail "outdir: verify other key ($RC: $OUT_TXT $ERR_TXT)"
    cp -a S S2 && sed -i '1{s/^0/1/;t;s/^./0/}' S2/SHA256SUMS   # a digit that differs
    run_canopy verify --pubkey pub.pem --json S2
    (cd S2 && openssl pkeyutl -verify -pubin -inkey ../pub.pem -rawin -in SHA256SUMS \
        -sigfile SHA256SUMS.sig >/dev/null 2>&1)
    rc_ossl=$?
    [ "$RC" -eq 1 ] && [ $rc_ossl -ne 0 ] &&
        $PY -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["signature"]["state"]=="invalid" and not v["intact"], v["signature"]' "$TMP/stdout" &&
        pass "outdir: an edited SHA256SUMS fails the signature (canopy verify and openssl)" ||
        fail "outdir: edited SHA256SUMS ($RC, openssl $rc_ossl: $OUT_TXT)"

    # Bad keys: one line, exit 1 (cannot read) or 2 (not an Ed25519 private key),
    # OUTDIR never made, an existing one untouched.
    openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out rsa.pem 2>/dev/null
    openssl genpkey -algorithm ed25519 -aes-128-cbc -pass pass:secret -out enc.pem 2>/dev/null
    echo "not a key" >junk.pem
    bad=""
    for k in "nokey.pem:1" "rsa.pem:2" "pub.pem:2" "enc.pem:2" "junk.pem:2"; do
        f=${k%%:*} want=${k##*:}
        "$CANOPY" detect pair/before.tif pair/after.tif -o NK -q --sign-key "$f" </dev/null \
            >"$TMP/k.out" 2>"$TMP/k.err" & kpid=$!
        ( sleep 20; kill -9 $kpid 2>/dev/null ) & wpid=$!
        wait $kpid; rc=$?
        kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
        [ $rc -eq "$want" ] && [ "$(grep -c '' "$TMP/k.err")" -eq 1 ] && grep -q "$f" "$TMP/k.err" &&
            [ ! -e NK ] || bad="$bad $f(exit $rc: $(cat "$TMP/k.err"))"
    done
    before=$(snap A2)
    det A2 --overwrite --sign-key rsa.pem
    [ "$RC" -eq 2 ] && [ "$(snap A2)" = "$before" ] || bad="$bad existing-outdir($RC)"
    [ -z "$bad" ] && pass "outdir: a missing or wrong key: one line, exit 1 or 2, no prompt, OUTDIR untouched" ||
        fail "outdir: bad keys:$bad"
else
    skip "outdir: signing (no openssl command with Ed25519)"
fi

# ---- kill at each step of the commit ----------------------------------------------------
# crash_run MODE POINT [SIGNAL]: run B into a copy of base with the commit killed at
# POINT ("" = the exchange, "journal" = the journal from a sibling staging folder,
# "inside" = the journal from a staging folder inside OUTDIR); $RC1 its exit.
crash_run() {
    base C
    (CANOPY_DETECT_COMMIT=$1 CANOPY_DETECT_CRASH_AT=$2 CANOPY_DETECT_CRASH_SIGNAL=${3:-} \
        "$CANOPY" detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
        --after-mask pair/after_mask.tif -o C -q --threads 2 --min-area 2 --overwrite \
        >/dev/null 2>&1; exit $?) 2>/dev/null
    RC1=$?
}
# whole DIR RUN: DIR holds exactly run RUN (verify passes) and the user's files.
whole() {
    "$CANOPY" verify "$1" >/dev/null 2>&1 && [ "$(run_id "$1")" = "$2" ] && user_files_kept "$1" &&
        (cd "$1" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1)
}
bad=""
for pw in staged:A linked:A exchanged:B; do
    p=${pw%%:*} want=$([ "${pw##*:}" = A ] && echo "$RUN_A" || echo "$RUN_B")
    crash_run "" "$p"
    if [ $RC1 -ne 137 ] || ! whole C "$want"; then
        bad="$bad $p(exit $RC1, run $(run_id C | head -c 8))"; continue
    fi
    det C --min-area 2 --overwrite
    { [ "$RC" -eq 0 ] && whole C "$RUN_B" && [ -z "$(leftovers C)" ]; } || bad="$bad $p-rerun($RC: $(leftovers C))"
done
[ -z "$bad" ] && pass "outdir: killed at each step of the exchange, OUTDIR is the whole old or new run at once; the next run cleans up" ||
    fail "outdir: exchange crash points:$bad"

bad=""
for mode in journal inside; do
    for pw in journal:A moved-old:A moved-old:3:A moved-new:A moved-new:3:A committed:B; do
        p=${pw%:*} want=$([ "${pw##*:}" = A ] && echo "$RUN_A" || echo "$RUN_B")
        crash_run $mode "$p"
        [ $RC1 -eq 137 ] || { bad="$bad $mode/$p(exit $RC1)"; continue; }
        run_canopy verify C
        [ "$RC" -eq 1 ] && grep -q "interrupted" <<<"$OUT_TXT$ERR_TXT" || bad="$bad $mode/$p-verify($RC)"
        # The next run, whatever it is, first finishes or undoes the commit.
        det C --min-area 2
        [ "$RC" -eq 2 ] && whole C "$want" && [ -z "$(leftovers C)" ] ||
            bad="$bad $mode/$p-recovered($RC: $ERR_TXT, run $(run_id C | head -c 8), $(leftovers C))"
    done
done
[ -z "$bad" ] && pass "outdir: killed at each step of the journalled commit, the next run rolls back or forward to a whole run" ||
    fail "outdir: journal crash points:$bad"

# The dead commit's process id since given to a running process (this shell):
# under the lock no commit of this host runs, so the journal is still recovered.
crash_run journal moved-new
sed -i "s/^pid .*/pid $$/" C/.canopy-journal
det C --min-area 2
[ $RC1 -eq 137 ] && [ "$RC" -eq 2 ] && whole C "$RUN_A" && [ -z "$(leftovers C)" ] &&
    pass "outdir: a journal whose process id was reused is recovered all the same" ||
    fail "outdir: journal with a live pid (kill $RC1, rerun $RC: $ERR_TXT)"

# Killed from outside at arbitrary moments.
bad=""
for t in 0.2 0.4 0.6 0.8 1.0; do
    base C
    (timeout --foreground -s KILL $t "$CANOPY" detect pair/before.tif pair/after.tif --before-mask pair/before_mask.tif \
        --after-mask pair/after_mask.tif -o C -q --threads 2 --min-area 2 --overwrite \
        >/dev/null 2>&1; exit $?) 2>/dev/null
    { whole C "$RUN_A" || whole C "$RUN_B"; } || bad="$bad ${t}s"
done
# (--foreground: timeout kills and reaps the run alone, so it is gone when it returns.)
det C --min-area 2 --overwrite
{ [ "$RC" -eq 0 ] && [ -z "$(leftovers C)" ]; } || bad="$bad rerun($RC: $(leftovers C))"
[ -z "$bad" ] && pass "outdir: SIGKILL at arbitrary moments leaves the whole old or new run; the next run cleans up" ||
    fail "outdir: SIGKILL at$bad"

# ---- signals -----------------------------------------------------------------------------
bad=""
for sig in INT TERM HUP; do
    crash_run "" staged $sig
    want=$((128 + $(kill -l $sig)))
    [ $RC1 -eq $want ] && whole C "$RUN_A" && [ -z "$(leftovers C)" ] || bad="$bad $sig(exit $RC1: $(leftovers C))"
done
[ -z "$bad" ] && pass "outdir: SIGINT, SIGTERM and SIGHUP before the commit remove the staging folder, OUTDIR untouched" ||
    fail "outdir: signals:$bad"
crash_run "" linked TERM
[ $RC1 -eq 143 ] && whole C "$RUN_B" && [ -z "$(leftovers C)" ] &&
    pass "outdir: a signal during the commit lets it finish, then ends the process" ||
    fail "outdir: signal in the commit (exit $RC1: run $(run_id C | head -c 8) $(leftovers C))"

# ---- what dead processes left -------------------------------------------------------------
base C
mkdir ".C.tmp-$HOSTN-99999999" ".C.tmp-otherhost-1" "C/.canopy-tmp-99999999" \
    "C/.canopy-staging.tmp-$HOSTN-99999998"
touch ".C.tmp-$HOSTN-99999999/alerts.gpkg" "C/.canopy-tmp-99999999/run.json"
det C --min-area 2 --overwrite
[ "$RC" -eq 0 ] && whole C "$RUN_B" && [ ! -e ".C.tmp-$HOSTN-99999999" ] && [ -d ".C.tmp-otherhost-1" ] &&
    [ ! -e "C/.canopy-tmp-99999999" ] && [ ! -e "C/.canopy-staging.tmp-$HOSTN-99999998" ] &&
    pass "outdir: the next run removes the staging folders of dead processes on this host, not other hosts'" ||
    fail "outdir: dead staging ($RC: $ERR_TXT; $(ls -a | grep '^\.C\.') $(ls -A C | grep canopy))"
rm -rf ".C.tmp-otherhost-1"

# ---- tmpfs: the folders are swapped there too -------------------------------------------
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && SHM=$(mktemp -d /dev/shm/canopy-test.XXXXXX); then
    base "$SHM/C"
    det "$SHM/C" --min-area 2 --overwrite
    rc1=$RC
    whole "$SHM/C" "$RUN_B" && [ -z "$(leftovers "$SHM/C")" ] && ok=1 || ok=0
    rm -rf "$SHM"
    [ $rc1 -eq 0 ] && [ $ok = 1 ] && pass "outdir: on tmpfs the run is replaced, the user's files kept" ||
        fail "outdir: tmpfs ($rc1: $ERR_TXT)"
else
    skip "outdir: tmpfs (no tmpfs at /dev/shm)"
fi

# ---- overlayfs: the exchange is refused for a folder of a lower layer -------------------
if [ "$(id -u)" -eq 0 ] && mkdir -p ov/lower ov/upper ov/work ov/m && base ov/lower/C &&
    mount -t overlay overlay -o "lowerdir=$TMP/ov/lower,upperdir=$TMP/ov/upper,workdir=$TMP/ov/work" ov/m \
        2>/dev/null; then
    det ov/m/C --min-area 2 --overwrite
    rc1=$RC
    whole ov/m/C "$RUN_B" && ok=1 || ok=0
    umount ov/m
    [ $rc1 -eq 0 ] && [ $ok = 1 ] &&
        pass "outdir: on overlayfs (exchange refused: EXDEV) the journalled commit replaces the run" ||
        fail "outdir: overlayfs ($rc1: $ERR_TXT)"
else
    skip "outdir: overlayfs (needs root and an overlay mount)"
fi
