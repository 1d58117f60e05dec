#!/bin/bash
# Evidence that stands up in court and travels: on the demo pair, every place
# an alert is pointed at lies inside it.
source "$(dirname "$0")/lib.sh"

S="$ROOT/samples/pair"
EV="$PY $ROOT/tests/e2e/check_evidence.py"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/demo" -q
if [ "$RC" -ne 0 ]; then fail "evidence: demo run ($RC: $ERR_TXT)"; exit 0; fi

check "evidence: links, CSV points, balloons and chip captions lie inside every demo alert" \
    $EV points "$TMP/demo"

check "evidence: alerts.kmz stores its PNGs, not recompressed" $EV kmz-stored "$TMP/demo"

# The overview is a georeferenced raster: on the demo (one cell a pixel), on a
# coarse quicklook (4 pixels a cell) and on a pair whose AFTER covers only part
# of BEFORE (the processed window is the overlap).
check "evidence: overview.png lands on the processed window, outlines on the alerts (demo)" \
    $EV overview "$TMP/demo"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/coarse" -q --overview-size 100 --no-evidence
[ "$RC" -eq 0 ] || fail "evidence: coarse overview run ($RC: $ERR_TXT)"
check "evidence: overview.png lands on the processed window, outlines on the alerts (4 px a cell)" \
    $EV overview "$TMP/coarse"
mkdir -p "$TMP/part"
gdal_translate -q -srcwin 40 20 360 380 "$S/after.tif" "$TMP/part/after.tif"
gdal_translate -q -srcwin 40 20 360 380 "$S/after_mask.tif" "$TMP/part/after_mask.tif"
run_canopy detect "$S/before.tif" "$TMP/part/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$TMP/part/after_mask.tif" -o "$TMP/partout" -q --overview-size 120 --no-evidence
[ "$RC" -eq 0 ] || fail "evidence: partial-overlap run ($RC: $ERR_TXT)"
check "evidence: overview.png lands on the processed window, outlines on the alerts (partial overlap, coarser cells)" \
    $EV overview "$TMP/partout"

# Alert numbers, scale bar, north arrow and legend on the overview: every demo
# alert is numbered as in the reports, beside its outline.
check "evidence: overview.png numbers the 8 demo alerts as the reports do, with scale bar, north arrow, legend" \
    $EV overview-labels "$TMP/demo" 8

check "evidence: chips open georeferenced on their windows, outlines on the alert edges" \
    $EV chips-georef "$TMP/demo"

check "evidence: alerts.kmz lays overview.png on the ground where its world file puts it" \
    $EV kmz-overlay "$TMP/demo"

# --case-id and --operator: printable UTF-8 of bounded length, no control or
# bidirectional-override characters; anything else is one clear line, exit 2,
# and nothing written (an earlier run's OUTDIR stays as it was).
cp -r "$TMP/demo" "$TMP/kept"
bad_case() {   # NAME OPTION VALUE
    local name=$1 opt=$2 val=$3 before after
    before=$(cd "$TMP/kept" && find . -type f | sort | xargs sha256sum)
    run_canopy detect "$S/before.tif" "$S/after.tif" -o "$TMP/kept" -q "$opt" "$val"
    after=$(cd "$TMP/kept" && find . -type f | sort | xargs sha256sum)
    run_canopy2=$RC
    run_canopy detect "$S/before.tif" "$S/after.tif" -o "$TMP/never" -q "$opt" "$val"
    if [ "$run_canopy2" -eq 2 ] && [ "$RC" -eq 2 ] && [ "$(printf '%s\n' "$ERR_TXT" | wc -l)" -eq 1 ] &&
        grep -q -- "^canopy: $opt" <<<"$ERR_TXT" && [ "$before" = "$after" ] && [ ! -e "$TMP/never" ]; then
        pass "evidence: $opt $name: exit 2, one line, nothing written"
    else
        fail "evidence: $opt $name: exit 2, one line, nothing written ($run_canopy2/$RC: $ERR_TXT)"
    fi
}
bad_case "with a control character" --case-id $'IPL 12\a34'
bad_case "with a newline" --operator $'Ana\nSouza'
bad_case "with an escape sequence" --case-id $'\e[31mred'
bad_case "with invalid UTF-8" --operator $'Jo\xe3o'
bad_case "with a right-to-left override" --case-id $'IPL \u202e4321'
bad_case "longer than 128 bytes" --case-id "$(printf 'x%.0s' $(seq 129))"
bad_case "empty" --operator ""

CASE="IPL 2024.0123/PF-AM"
OPERATOR="Perita Criminal Federal Ana Luísa Souza <&\"'>"
run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
    --after-mask "$S/after_mask.tif" -o "$TMP/case" -q --case-id "$CASE" --operator "$OPERATOR"
if [ "$RC" -ne 0 ]; then
    fail "evidence: run with --case-id and --operator ($RC: $ERR_TXT)"
else
    check "evidence: case id and operator in run.json, report.html and alerts.kmz" \
        $PY - "$TMP/case" "$CASE" "$OPERATOR" <<'PY'
import html, json, sys, zipfile
out, case, op = sys.argv[1:4]
run = json.load(open(out + "/run.json"))
assert run["case"] == {"id": case, "operator": op}, run.get("case")
h = open(out + "/report.html", encoding="utf-8").read()
assert html.escape(case, quote=True) in h and html.escape(op, quote=True).replace("&#x27;", "&#39;") in h, "not in report.html"
assert op not in h, "operator not escaped in report.html"
kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml").decode()
import xml.dom.minidom
doc = xml.dom.minidom.parseString(kml)
text = doc.getElementsByTagName("description")[0].firstChild.data
assert case in text and op in text, text
PY
fi

# report.html travels alone: every image is inside it (data: URIs, the same
# bytes as the PNGs beside it).
check "evidence: report.html carries its images (data: URIs equal to the PNG files)" \
    $PY - "$TMP/demo" <<'PY'
import base64, os, re, sys
out = sys.argv[1]
h = open(out + "/report.html", encoding="utf-8").read()
srcs = re.findall(r'<img [^>]*src="([^"]*)"', h)
assert srcs, "no images"
bad = [s[:60] for s in srcs if not s.startswith("data:image/png;base64,")]
assert not bad, "images not inline: %s" % bad
files = [open(out + "/overview.png", "rb").read()]
files += [open(os.path.join(out, "evidence", i, k), "rb").read()
          for i in os.listdir(out + "/evidence") for k in ("before.png", "after.png")]
inline = [base64.b64decode(s.split(",", 1)[1]) for s in srcs]
for f in files:
    assert f in inline, "a PNG of OUTDIR is not in report.html"
print(len(srcs), "inline images")
PY

find_chromium
if ! command -v pdftotext >/dev/null; then
    "$ROOT/scripts/setup-test-deps.sh" >"$TMP/setup.log" 2>&1
fi
if [ -z "$CHROMIUM" ] || ! "$CHROMIUM" --version >/dev/null 2>&1; then
    skip "evidence: report.html in headless Chromium (chromium not installable here: $(tail -1 "$TMP/setup.log" 2>/dev/null))"
else
    mkdir -p "$TMP/alone"
    cp "$TMP/case/report.html" "$TMP/alone/report.html"
    chrome --dump-dom "file://$TMP/alone/report.html" >"$TMP/alone.dom"
    check "evidence: report.html sent alone shows every image (Chromium)" $PY - "$TMP/alone.dom" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
tag = re.search(r'<p [^>]*id="img-status"[^>]*>', dom).group(0)
loaded = int(re.search(r'data-loaded="(\d+)"', tag).group(1))
total = int(re.search(r'data-total="(\d+)"', tag).group(1))
print("%d of %d images" % (loaded, total))
assert total >= 9 and loaded == total
PY
    # Phone and desktop widths: the page inside iframes of 360 and 1280 px,
    # measured by a probe page beside it (file access between the two allowed).
    cat >"$TMP/alone/probe.html" <<'HTML'
<!DOCTYPE html><html><body>
<iframe id="phone" src="report.html" style="width:360px;height:640px;border:0"></iframe>
<iframe id="desk" src="report.html" style="width:1280px;height:800px;border:0"></iframe>
<pre id="result"></pre>
<script>
window.addEventListener('load', function () {
  var out = [];
  ['phone', 'desk'].forEach(function (id) {
    var f = document.getElementById(id), d = f.contentDocument, w = f.contentWindow;
    var e = d.documentElement, wide = [];
    d.querySelectorAll('body *').forEach(function (n) {
      var r = n.getBoundingClientRect();
      if (r.right > e.clientWidth + 1 && !n.closest('.scroll')) wide.push(n.tagName + '.' + n.className);
    });
    out.push(id + ' ' + e.clientWidth + ' ' + e.scrollWidth + ' ' +
             w.getComputedStyle(d.body).overflowX + ' ' + w.getComputedStyle(e).overflowX +
             ' ' + wide.slice(0, 5).join(','));
  });
  document.getElementById('result').textContent = out.join('\n');
});
</script></body></html>
HTML
    chrome --allow-file-access-from-files --dump-dom "file://$TMP/alone/probe.html" >"$TMP/probe.dom"
    check "evidence: report.html has no horizontal overflow at 360 and 1280 px (Chromium)" \
        $PY - "$TMP/probe.dom" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
res = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S).group(1).strip()
print(res)
for line in res.splitlines():
    parts = line.split(" ", 5)
    name, client, scroll, body_ox, html_ox = parts[:5]
    assert body_ox != "hidden" and html_ox != "hidden", "overflow hidden, not fixed: " + line
    assert int(scroll) <= int(client), "%s: %s px of content in %s px" % (name, scroll, client)
    assert len(parts) < 6 or not parts[5].strip(), "%s: elements wider than the page: %s" % (name, parts[5])
PY
    # Printed: the CRS, the input hashes and the run id are on paper.
    if ! command -v pdftotext >/dev/null; then
        skip "evidence: printed report.html (pdftotext not installable here)"
    else
        (cd "$TMP/alone" && chrome --no-pdf-header-footer --print-to-pdf="$TMP/alone/print.pdf" \
            "file://$TMP/alone/report.html" >/dev/null 2>&1)
        check "evidence: report.html printed shows the CRS, the input hashes and the run id" \
            $PY - "$TMP/alone/print.pdf" "$TMP/case/run.json" <<'PY'
import json, re, subprocess, sys
text = subprocess.run(["pdftotext", "-layout", sys.argv[1], "-"], capture_output=True, text=True).stdout
flat = re.sub(r"\s+", "", text)
run = json.load(open(sys.argv[2]))
missing = [k for k in ("UTMzone21S", "EPSG:32721", run["run_id"]) if k not in flat]
missing += [i["role"] for i in run["inputs"] if i["sha256"] and i["sha256"] not in flat]
assert not missing, "not on paper: %s" % missing
print("%d input hashes, CRS and run id printed" % len(run["inputs"]))
PY
    fi
fi

# report.pdf: a printable case report, the same bytes for the same inputs.
if ! command -v pdfinfo >/dev/null || ! command -v pdftotext >/dev/null; then
    skip "evidence: report.pdf checks (poppler-utils not installable here)"
else
    check "evidence: report.pdf has the case, the hashes, every alert and its vertices, fonts embedded" \
        $EV pdf "$TMP/case" "$CASE" "$OPERATOR"
    check "evidence: report.pdf of a run without case id or operator" $EV pdf "$TMP/demo"
    # Chips for the 2 largest: the 6 others share pages, every attribute and
    # vertex still there, the cap stated.
    run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
        --after-mask "$S/after_mask.tif" -o "$TMP/cap2" -q --max-chips 2
    check "evidence: report.pdf with --max-chips 2: 2 alert pages, 6 alerts compact with their vertices" \
        $EV pdf "$TMP/cap2"
    check "evidence: report.pdf with --max-chips 2: fewer pages than with a chip for each alert" \
        $PY - "$TMP/cap2/report.pdf" "$TMP/demo/report.pdf" <<'PY'
import subprocess, sys
def pages(p):
    info = subprocess.run(["pdfinfo", p], capture_output=True, text=True, check=True).stdout
    return int([l for l in info.splitlines() if l.startswith("Pages:")][0].split()[1])
capped, full = pages(sys.argv[1]), pages(sys.argv[2])
print(capped, "pages against", full)
assert capped < full
PY
    run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
        --after-mask "$S/after_mask.tif" -o "$TMP/case2" -q --case-id "$CASE" \
        --operator "$OPERATOR" --threads 1
    check "evidence: report.pdf byte-identical across runs and thread counts (1 and all)" \
        cmp "$TMP/case/report.pdf" "$TMP/case2/report.pdf"
    run_canopy detect "$S/before.tif" "$S/after.tif" --before-mask "$S/before_mask.tif" \
        --after-mask "$S/after_mask.tif" -o "$TMP/case4" -q --case-id "$CASE" \
        --operator "$OPERATOR" --threads 4
    check "evidence: report.pdf byte-identical with 4 threads" \
        cmp "$TMP/case/report.pdf" "$TMP/case4/report.pdf"
    check "evidence: pdftoppm renders an alert page of report.pdf (not blank)" \
        $PY - "$TMP/case/report.pdf" "$TMP/page" <<'PY'
import subprocess, sys
from osgeo import gdal
subprocess.run(["pdftoppm", "-f", "3", "-l", "3", "-r", "40", "-png", sys.argv[1], sys.argv[2]], check=True)
import glob
png = sorted(glob.glob(sys.argv[2] + "*.png"))[0]
a = gdal.Open(png).ReadAsArray().astype(float)
print(png.rsplit("/", 1)[1], a.shape, "std %.1f" % a.std())
assert a.std() > 20
PY
fi

# A font report.pdf needs that cannot be found: one line, exit 1, nothing
# written (the run stops before it reads a pixel).
CANOPY_FONT_DIR="$TMP/no-fonts" run_canopy detect "$S/before.tif" "$S/after.tif" -o "$TMP/nofont" -q
before=$(cd "$TMP/kept" && find . -type f | sort | xargs sha256sum)
CANOPY_FONT_DIR="$TMP/no-fonts" "$CANOPY" detect "$S/before.tif" "$S/after.tif" -o "$TMP/kept" -q \
    >/dev/null 2>"$TMP/nofont.err"
rc_kept=$?
after=$(cd "$TMP/kept" && find . -type f | sort | xargs sha256sum)
if [ "$RC" -eq 1 ] && [ "$rc_kept" -eq 1 ] && [ "$(printf '%s\n' "$ERR_TXT" | wc -l)" -eq 1 ] &&
    grep -q "font" <<<"$ERR_TXT" && [ ! -e "$TMP/nofont" ] && [ "$before" = "$after" ]; then
    pass "evidence: a missing PDF font: exit 1, one line, nothing written"
else
    fail "evidence: a missing PDF font: exit 1, one line, nothing written ($RC/$rc_kept: $ERR_TXT)"
fi
CANOPY_FONT_DIR="$TMP/no-fonts" run_canopy detect "$S/before.tif" "$S/after.tif" -o "$TMP/nofont2" \
    -q --no-evidence
[ "$RC" -eq 0 ] && [ ! -e "$TMP/nofont2/report.pdf" ] && pass "evidence: --no-evidence needs no PDF font" ||
    fail "evidence: --no-evidence needs no PDF font ($RC: $ERR_TXT)"

# File names are input too: one that is not UTF-8 and one with an escape
# sequence still give a readable PDF, well-formed KML and valid PNG texts
# (shown with U+FFFD where a character cannot be shown).
mkdir -p "$TMP/names"
cp "$S/before.tif" "$TMP/names/bef"$'\xe9'".tif"
cp "$S/after.tif" "$TMP/names/aft"$'\x1b'"[31m.tif"
(cd "$TMP/names" && "$CANOPY" detect "bef"$'\xe9'".tif" "aft"$'\x1b'"[31m.tif" -o out -q \
    >/dev/null 2>"$TMP/names.err")
rc=$?
if [ "$rc" -ne 0 ]; then
    fail "evidence: file names that are not printable UTF-8 ($rc: $(head -c 300 "$TMP/names.err" | od -c | head -3))"
else
    check "evidence: file names that are not printable UTF-8 give a readable PDF and well-formed KML" \
        $PY - "$TMP/names/out" <<'PY'
import subprocess, sys, zipfile, xml.dom.minidom
out = sys.argv[1]
info = subprocess.run(["pdfinfo", out + "/report.pdf"], capture_output=True, text=True)
assert info.returncode == 0, info.stderr
text = subprocess.run(["pdftotext", out + "/report.pdf", "-"], capture_output=True).stdout
assert b"\x1b" not in text and "bef\ufffd.tif".encode() in text, "names not shown safely"
xml.dom.minidom.parseString(zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml"))
h = open(out + "/report.html", "rb").read()
h.decode("utf-8")
assert b"\x1b" not in h
print("ok")
PY
fi
