#!/bin/bash
# The Debian package: `dpkg-buildpackage -us -uc -b` on an export of this tree
# (scripts/make-deb.sh, what `make deb` runs), unpacked into a temporary root
# with `dpkg -x` (this test does not install into the system), then the demo
# run from there, from another folder: the packaged program finds its
# profiles in ROOT/usr/share/canopy and gives the same alerts as the checkout's.
# SKIPs when dpkg-dev/debhelper cannot be installed.
source "$(dirname "$0")/lib.sh"
unset CANOPY_CONFIG_DIR

if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
    "$ROOT/scripts/setup-test-deps.sh" >"$TMP/setup.log" 2>&1
fi
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
    skip "deb: dpkg-dev/debhelper cannot be installed ($(tail -1 "$TMP/setup.log"))"
    exit 0
fi
if ! (cd "$ROOT" && dpkg-checkbuilddeps) >"$TMP/bdeps.log" 2>&1; then
    skip "deb: build dependencies missing ($(tail -1 "$TMP/bdeps.log"))"
    exit 0
fi

if ! deb=$("$ROOT/scripts/make-deb.sh" "$TMP/deb" 2>"$TMP/make-deb.err"); then
    fail "deb: dpkg-buildpackage -us -uc -b: $(tail -5 "$TMP/make-deb.err" | tr '\n' ' ')"
    exit 0
fi
rel=$(cat "$ROOT/VERSION")
[ -f "$deb" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$rel" ] &&
    dpkg-deb -f "$deb" Depends | grep -q libgdal &&
    pass "deb: dpkg-buildpackage built $(basename "$deb") (version $rel, depends on GDAL)" ||
    fail "deb: package $deb: $(dpkg-deb -f "$deb" Version Depends 2>&1 | tr '\n' ' ')"

R="$TMP/root"
dpkg -x "$deb" "$R"
missing=""
for f in usr/bin/canopy usr/share/canopy/default.ini usr/share/canopy/landsat_c2l2.ini \
         usr/share/canopy/sentinel2_l2a.ini usr/share/canopy/samples/pair/before.tif \
         usr/share/doc/canopy/copyright; do
    [ -e "$R/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass "deb: program, profiles, sample and copyright under /usr" ||
    fail "deb: missing from the package:$missing"
grep -q "^License: Apache-2.0" "$R/usr/share/doc/canopy/copyright" &&
    pass "deb: debian/copyright states Apache-2.0" || fail "deb: copyright has no Apache-2.0"

v=$("$R/usr/bin/canopy" --version 2>&1)
[ "$v" = "canopy $rel" ] && pass "deb: --version of a build without git is the release ($v)" ||
    fail "deb: --version '$v' is not 'canopy $rel'"

# The demo, from another folder, with the packaged sample.
P="$R/usr/share/canopy/samples/pair"
mkdir -p "$TMP/elsewhere"
(cd "$TMP/elsewhere" && "$R/usr/bin/canopy" detect "$P/before.tif" "$P/after.tif" \
    --before-mask "$P/before_mask.tif" --after-mask "$P/after_mask.tif" -o demo-out \
    >"$TMP/demo.out" 2>"$TMP/demo.err")
rc=$?
if [ $rc -eq 0 ] && grep -q "^canopy: [1-9][0-9]* alerts" "$TMP/demo.out" &&
   [ -f "$TMP/elsewhere/demo-out/report.pdf" ]; then
    pass "deb: the packaged program runs the demo ($(head -1 "$TMP/demo.out" | cut -d'(' -f1))"
else
    fail "deb: demo (exit $rc): $(head -3 "$TMP/demo.err")"
fi
run_canopy detect "$ROOT/samples/pair/before.tif" "$ROOT/samples/pair/after.tif" \
    --before-mask "$ROOT/samples/pair/before_mask.tif" \
    --after-mask "$ROOT/samples/pair/after_mask.tif" -o "$TMP/checkout-demo" -q --no-evidence
cmp -s "$TMP/checkout-demo/alerts.geojson" "$TMP/elsewhere/demo-out/alerts.geojson" &&
    cmp -s "$TMP/checkout-demo/alerts.csv" "$TMP/elsewhere/demo-out/alerts.csv" &&
    pass "deb: the packaged build's alerts equal the checkout's, byte for byte" ||
    fail "deb: alerts differ from the checkout's build"

# A Landsat product: the profile comes from the package's /usr/share/canopy.
FX="$TMP/fx"
if "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
    (cd "$TMP/elsewhere" && "$R/usr/bin/canopy" info --json "$L8" >"$TMP/info.json" 2>"$TMP/info.err")
    check "deb: the packaged program reads a Landsat product with its own profiles" "$PY" -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
assert os.path.dirname(d['profile']) == os.path.realpath(sys.argv[2]), d['profile']" \
        "$TMP/info.json" "$R/usr/share/canopy"
else
    fail "deb: fixtures (scripts/make-products.py: $(tail -2 "$TMP/fx.log"))"
fi
exit 0
