#!/bin/bash
# Installed as a GIS tool: `make install` with PREFIX and DESTDIR, the program
# finding its product profiles beside itself (never in the current folder),
# `make uninstall` removing exactly what install put there, and the version
# from the VERSION file with or without git.
source "$(dirname "$0")/lib.sh"
unset CANOPY_CONFIG_DIR

FX="$TMP/fx"
if ! "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    fail "install: fixtures (scripts/make-products.py: $(tail -3 "$TMP/fx.log"))"
    exit 0
fi
L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
L9="$FX/LC09_L2SP_227065_20240820_20240827_02_T1"

# ---- a copied program never reads configs/ in the current folder ---------
mkdir -p "$TMP/copy/bin" "$TMP/elsewhere/configs"
cp "$CANOPY" "$TMP/copy/bin/canopy"
printf '[product]\nfamily = landsat_c2l2\nformat = nonsense\n' >"$TMP/elsewhere/configs/evil.ini"
(cd "$TMP/elsewhere" && "$TMP/copy/bin/canopy" detect "$L8" "$L9" -o "$TMP/copy-out" -q \
    >"$TMP/copy.out" 2>"$TMP/copy.err")
rc=$?
if grep -q "evil.ini\|'configs'" "$TMP/copy.err"; then
    fail "install: a copied program read configs/ of the current folder ($(head -1 "$TMP/copy.err"))"
elif [ $rc -eq 2 ] && grep -q "no product profiles found" "$TMP/copy.err" \
    && grep -qF "$TMP/copy/bin/../share/canopy" "$TMP/copy.err" \
    && grep -qF "$TMP/copy/bin/../configs" "$TMP/copy.err" && [ ! -e "$TMP/copy-out" ]; then
    pass "install: a copied program without profiles says where it looked (exit 2)"
else
    fail "install: a copied program without profiles (exit $rc: $(head -1 "$TMP/copy.err"))"
fi
# A plain raster needs no profile.
synth "$TMP/pair" --size 128 --no-mask >/dev/null
(cd "$TMP/elsewhere" && "$TMP/copy/bin/canopy" detect "$TMP/pair/before.tif" "$TMP/pair/after.tif" \
    -o "$TMP/copy-plain" -q --no-evidence >/dev/null 2>"$TMP/plain.err")
rc=$?
[ $rc -eq 0 ] && pass "install: a copied program runs plain rasters without profiles" \
    || fail "install: a copied program on plain rasters (exit $rc: $(head -1 "$TMP/plain.err"))"

# ---- make install DESTDIR=... PREFIX=... ----------------------------------
DEST="$TMP/dest"
PREFIX=/opt/canopy-test
# Something of someone else's in the prefix: uninstall must leave it.
mkdir -p "$DEST$PREFIX/bin" "$DEST$PREFIX/share/doc"
echo other >"$DEST$PREFIX/bin/other-tool"
(cd "$DEST" && find . | sort) >"$TMP/before-install.lst"
# -o: the program is built already (with this test run's flags); do not remake it.
if ! make -C "$ROOT" --no-print-directory -o "${BIN:-bin}/canopy" BUILD="$BUILD" BIN="${BIN:-bin}" \
        install DESTDIR="$DEST" PREFIX="$PREFIX" >"$TMP/install.log" 2>&1; then
    fail "install: make install ($(tail -3 "$TMP/install.log"))"
    exit 0
fi
I="$DEST$PREFIX"
missing=""
for f in bin/canopy share/canopy/default.ini share/canopy/landsat_c2l2.ini \
         share/canopy/sentinel2_l2a.ini share/canopy/stac.ini share/canopy/samples/pair/before.tif \
         share/doc/canopy/README.md \
         share/doc/canopy/LICENSE share/doc/canopy/VERSION; do
    [ -f "$I/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && [ -x "$I/bin/canopy" ] && pass "install: files in PREFIX under DESTDIR" \
    || fail "install: files missing:$missing"

# The man pages (one per command) render with man -l; bash completion is there.
bad=""
for c in "" -detect -batch -monitor -info -verify; do
    page="$I/share/man/man1/canopy$c.1"
    [ -f "$page" ] && MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "canopy" || bad="$bad canopy$c.1"
done
[ -z "$bad" ] && [ -f "$I/share/bash-completion/completions/canopy" ] &&
    pass "install: man -l renders every installed page; bash completion installed" ||
    fail "install: man pages or completion:$bad"

# The installed program, run from another folder (with a decoy configs/ there).
(cd "$TMP/elsewhere" && "$I/bin/canopy" detect "$L8" "$L9" -o "$TMP/inst-out" -q \
    >"$TMP/inst.out" 2>"$TMP/inst.err")
rc=$?
if [ $rc -eq 0 ] && [ -f "$TMP/inst-out/alerts.gpkg" ] && [ -f "$TMP/inst-out/run.json" ]; then
    pass "install: the installed program detects on a Landsat product from another folder"
else
    fail "install: installed detect (exit $rc: $(head -2 "$TMP/inst.err"))"
fi
(cd "$TMP/elsewhere" && "$I/bin/canopy" info --json "$L8" >"$TMP/inst-info.json" 2>&1)
check "install: profiles come from PREFIX/share/canopy" "$PY" -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
want = os.path.realpath(sys.argv[2])
assert os.path.dirname(d['profile']) == want, (d['profile'], want)" "$TMP/inst-info.json" "$I/share/canopy"

# CANOPY_CONFIG_DIR still overrides.
mkdir -p "$TMP/site"
cp "$ROOT"/configs/*.ini "$TMP/site/"
sed -i 's/^invalid *=.*/invalid = fill/' "$TMP/site/landsat_c2l2.ini"
(cd "$TMP/elsewhere" && CANOPY_CONFIG_DIR="$TMP/site" "$I/bin/canopy" info --json "$L8" \
    >"$TMP/site-info.json" 2>&1)
check "install: CANOPY_CONFIG_DIR overrides the installed profiles" "$PY" -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['profile'].startswith(sys.argv[2]), d['profile']
assert 'cloud_shadow' not in d['mask']['rule'].split('grown')[0], d['mask']['rule']" \
    "$TMP/site-info.json" "$TMP/site"

# --version: the VERSION file, with git's description in a checkout.
rel=$(cat "$ROOT/VERSION")
v=$("$I/bin/canopy" --version)
case "$v" in
    "canopy $rel"|"canopy $rel (git "*")") pass "install: --version is the release ($v)" ;;
    *) fail "install: --version '$v' is not 'canopy $rel[ (git ...)]'" ;;
esac
# Without .git (a release tarball): the release alone, never "unknown".
mkdir -p "$TMP/tarball"
cp "$ROOT/Makefile" "$ROOT/VERSION" "$TMP/tarball/"
v=$(make -s -C "$TMP/tarball" --no-print-directory print-version 2>&1)
[ "$v" = "$rel" ] && pass "install: without git the version is VERSION ($v)" \
    || fail "install: without git the version is '$v', not '$rel'"

# ---- make uninstall: exactly what install put there -----------------------
make -C "$ROOT" --no-print-directory uninstall DESTDIR="$DEST" PREFIX="$PREFIX" \
    >"$TMP/uninstall.log" 2>&1
(cd "$DEST" && find . | sort) >"$TMP/after-uninstall.lst"
if diff "$TMP/before-install.lst" "$TMP/after-uninstall.lst" >"$TMP/uninst.diff"; then
    pass "install: uninstall removes exactly what install put there"
else
    fail "install: uninstall left or removed: $(tr '\n' ' ' <"$TMP/uninst.diff")"
fi
exit 0
