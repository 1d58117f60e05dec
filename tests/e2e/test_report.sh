#!/bin/bash
# The investigator's outputs: alerts.csv, alerts.kmz and report.html.
# On a generated sample run they parse back into the alerts of alerts.gpkg,
# every link resolves, nothing loads from the network, headless Chromium
# loads every image; a zero-alert run still writes all three, valid; file
# names are escaped; an alert id reads the same in every output.
# Chips (evidence/<id>/before.png, after.png) are checked where the run wrote them.
source "$(dirname "$0")/lib.sh"

P="$TMP/sample"
synth "$P" --size 400x400 --seed 1 --scenario sample || { fail "report: generator"; exit 0; }
# --max-chips 6: the 2 smallest of the 8 alerts get no chip, so both kinds show.
detect_pair "$P" "$TMP/out" --max-chips 6
if [ "$RC" -ne 0 ]; then fail "report: canopy detect ($RC: $ERR_TXT)"; exit 0; fi
for f in alerts.csv alerts.kmz report.html; do
    [ -s "$TMP/out/$f" ] && pass "report: $f written" || fail "report: $f written"
done

# Zero alerts: a scene against itself (no change at all).
run_canopy detect "$P/before.tif" "$P/before.tif" -o "$TMP/zero" -q
[ "$RC" -eq 0 ] && pass "report: zero-alert run succeeds" || fail "report: zero-alert run ($RC: $ERR_TXT)"

# alerts.csv: the CSV driver reads back the alerts of alerts.gpkg, same order,
# same attribute names, numbers equal to the last bit.
check_csv() {
    $PY - "$1" <<'PY'
import sys
from osgeo import gdal, ogr
gdal.UseExceptions()
out = sys.argv[1]
gds = gdal.OpenEx(out + "/alerts.gpkg")   # keep the dataset alive while its layer is used
g = gds.GetLayer("alerts")
gnames = [g.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(g.GetLayerDefn().GetFieldCount())]
# Dates are typed Date in the GeoPackage (OGR gives "YYYY/MM/DD"), ISO text in the CSV.
iso = lambda v: v.replace("/", "-") if isinstance(v, str) else v
gpkg = [{k: iso(f.GetField(k)) if k.startswith("date_") else f.GetField(k) for k in gnames} for f in g]
ds = gdal.OpenEx(out + "/alerts.csv", gdal.OF_VECTOR, allowed_drivers=["CSV"])
assert ds.GetDriver().ShortName == "CSV"
c = ds.GetLayer(0)
cnames = [c.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(c.GetLayerDefn().GetFieldCount())]
assert cnames == gnames, (cnames, gnames)
assert c.GetGeomType() == ogr.wkbNone, c.GetGeomType()
csv = [{k: f.GetField(k) for k in cnames} for f in c]
assert len(csv) == len(gpkg), (len(csv), len(gpkg))
for a, b in zip(csv, gpkg):
    for k in gnames:
        x, y = a[k], b[k]
        if y is None:
            assert x in (None, ""), (b["id"], k, x)
        elif isinstance(y, (int, float)):
            assert float(x) == y, (b["id"], k, x, y)
        else:
            assert x == y, (b["id"], k, x, y)
lines = open(out + "/alerts.csv").read().split("\n")
assert lines[0] == ",".join(gnames), lines[0]
assert len(lines) == len(gpkg) + 2 and lines[-1] == "", "%d lines" % len(lines)
print(len(csv), "alerts")
PY
}
check "report: alerts.csv reads back as alerts.gpkg with the CSV driver" check_csv "$TMP/out"
check "report: zero alerts: alerts.csv is the header line only" check_csv "$TMP/zero"

# alerts.kmz: a valid zip, doc.kml first, the chips as files/<id>-before.png and
# files/<id>-after.png (stored as written),
# readable by GDAL (LIBKML when present, else KML through /vsizip/).
check_kmz() {
    $PY - "$1" <<'PY'
import os, sys, zipfile
from osgeo import gdal, ogr
gdal.UseExceptions()
out = sys.argv[1]
# Attributes as alerts.gpkg has them, outlines as alerts.geojson (WGS84) has them.
gds, jds = gdal.OpenEx(out + "/alerts.gpkg"), gdal.OpenEx(out + "/alerts.geojson")
geom = {f.GetField("id"): f.GetGeometryRef().Clone() for f in jds.GetLayer(0)}
# Dates are typed Date in the GeoPackage (OGR gives "YYYY/MM/DD"), ISO text in the KML.
def items(f):
    return {k: v.replace("/", "-") if k.startswith("date_") and isinstance(v, str) else v
            for k, v in f.items().items()}
gj = {f.GetField("id"): (items(f), geom[f.GetField("id")]) for f in gds.GetLayer("alerts")}
z = zipfile.ZipFile(out + "/alerts.kmz")
assert z.testzip() is None
names = z.namelist()
assert names[0] == "doc.kml", names
chips = {i for i in gj if os.path.isfile("%s/evidence/%s/before.png" % (out, i))}
# overview.png goes in as the GroundOverlay (test_evidence.sh checks where).
want = ["doc.kml", "files/overview.png"] + sorted("files/%s-%s.png" % (i, k) for i in chips
                                                  for k in ("before", "after"))
assert sorted(names) == sorted(want), (names, want)
for i in chips:
    for k in ("before", "after"):
        assert z.read("files/%s-%s.png" % (i, k)) == \
            open("%s/evidence/%s/%s.png" % (out, i, k), "rb").read(), i
kml = z.read("doc.kml").decode("utf-8")
assert "http://www.opengis.net/kml/2.2" in kml and "<Style id=\"alert\">" in kml
for i in gj:
    for k in ("before", "after"):
        assert ('<img src="files/%s-%s.png"' % (i, k) in kml) == (i in chips), i

if gdal.GetDriverByName("LIBKML"):
    ds = gdal.OpenEx(out + "/alerts.kmz", gdal.OF_VECTOR, allowed_drivers=["LIBKML"])
    lyr = ds.GetLayerByName("alerts")
    assert lyr is not None, [ds.GetLayer(k).GetName() for k in range(ds.GetLayerCount())]
    assert lyr.GetFeatureCount() == len(gj), (lyr.GetFeatureCount(), len(gj))
    seen = set()
    for f in lyr:
        it = f.items()
        i = it["Name"]
        assert it["id"] == i and i in gj, (i, it.get("id"))
        seen.add(i)
        ref, geom = gj[i]
        for k, v in ref.items():
            if v is None:
                assert it.get(k) in (None, ""), (i, k, it.get(k))
            elif isinstance(v, (int, float)):
                assert float(it[k]) == v, (i, k, it[k], v)
            else:
                assert it[k] == v, (i, k, it[k], v)
        k = f.GetGeometryRef()
        # Same outline as alerts.geojson (both WGS84, 7 decimals).
        d = k.SymDifference(geom).GetArea()
        assert d <= 1e-6 * geom.GetArea() + 1e-12, (i, d, geom.GetArea())
    assert seen == set(gj), (seen, set(gj))
    print("LIBKML:", len(seen), "alerts")
else:
    ds = gdal.OpenEx("/vsizip/" + out + "/alerts.kmz/doc.kml", gdal.OF_VECTOR, allowed_drivers=["KML"])
    lyr = ds.GetLayerByName("alerts")
    feats = [f for f in lyr] if lyr is not None else []
    assert sorted(f.GetField("Name") for f in feats) == sorted(gj), len(feats)
    for f in feats:
        ref = gj[f.GetField("Name")][0]
        d = f.GetField("Description")
        for k in ("area_ha", "mean_dndvi", "centroid_lat", "centroid_lon"):
            assert ">%s<" % ("%.7f" if k.startswith("centroid") else "%.4f") % ref[k] in d, k
    print("KML (LIBKML absent):", len(feats), "alerts")
PY
}
check "report: alerts.kmz is a valid KMZ with every alert, its attributes and chips" \
    check_kmz "$TMP/out"
check "report: zero alerts: alerts.kmz is a valid, empty KMZ" check_kmz "$TMP/zero"

# report.html: a section and (where chips exist) a chip link per alert, every
# relative link resolves, no http(s) resource, the OSM/geo links per alert.
check_html() {
    $PY - "$1" <<'PY'
import json, os, re, sys
from html.parser import HTMLParser
from osgeo import gdal
gdal.UseExceptions()
out = sys.argv[1]
gds = gdal.OpenEx(out + "/alerts.gpkg")
ids = [f.GetField("id") for f in gds.GetLayer("alerts")]
run = json.load(open(out + "/run.json"))
left_out = run["counts"]["chips_left_out"]

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.sections, self.cur, self.ids = [], {}, None, set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, "duplicate id " + a["id"]
            self.ids.add(a["id"])
        if tag == "section":
            self.cur = a.get("id")
            self.sections[self.cur] = []
        for k in ("src", "href", "data", "poster", "srcset"):
            if k in a and a[k] is not None:
                self.refs.append((tag, k, a[k], self.cur))
        if self.cur is not None:
            self.sections[self.cur].append((tag, a))

html = open(out + "/report.html", encoding="utf-8").read()
p = P()
p.feed(html)
bad = []
for tag, k, v, sec in p.refs:
    if re.match(r"(?i)^(https?:)?//", v):
        if not (tag == "a" and k == "href" and v.startswith("https://www.openstreetmap.org/?mlat=")):
            bad.append("network resource: <%s %s=%s>" % (tag, k, v))
    elif v.startswith("#"):
        if v[1:] not in p.ids:
            bad.append("dangling anchor " + v)
    elif v.startswith("geo:") or (tag == "img" and v.startswith("data:image/png;base64,")):
        pass    # images travel inside the page
    elif not os.path.isfile(os.path.join(out, v.split("#")[0])):
        bad.append("missing file " + v)
assert not re.search(r"(?i)url\(|@import|<link|<script[^>]+src|<iframe|<object", html), "external CSS/JS"
for i in ids:
    sec = p.sections.get("alert-" + i)
    if sec is None:
        bad.append("no section for " + i)
        continue
    hrefs = [a.get("href", "") for t, a in sec if t == "a"]
    srcs = [a.get("src", "") for t, a in sec if t == "img"]
    chip = "evidence/%s/before.png" % i
    if os.path.isfile(os.path.join(out, chip)):
        after = "evidence/%s/after.png" % i
        if chip not in hrefs or after not in hrefs or \
           sum(s.startswith("data:image/png;base64,") for s in srcs) != 2:
            bad.append("no chip links/images for " + i)
    else:
        if chip in hrefs or chip in srcs:
            bad.append("link to a missing chip for " + i)
        if not any(a.get("class") == "nochip" for t, a in sec):
            bad.append("no 'no chip' note for " + i)
        body = re.search(r'id="alert-%s">(.*?)</section>' % i, html, re.S).group(1)
        if left_out and not re.search(r"\b%d alerts? ha(s|ve) no chip" % left_out, body):
            bad.append("the note does not say how many alerts have no chip: " + i)
    if not any(h.startswith("https://www.openstreetmap.org/?mlat=") for h in hrefs):
        bad.append("no OSM link for " + i)
    if not any(h.startswith("geo:") for h in hrefs):
        bad.append("no geo: link for " + i)
if not ids and "no-alerts" not in p.sections:
    bad.append("no 'No alerts' section")
if "img-status" not in p.ids:
    bad.append("no #img-status element")
assert not bad, "\n".join(bad)
print(len(ids), "alert sections,", len(p.refs), "links")
PY
}
check "report: report.html has every alert, working links, no network resource" \
    check_html "$TMP/out"
check "report: zero alerts: report.html says No alerts" check_html "$TMP/zero"

# File names from the command line are escaped (HTML, KML) and still parse.
E="$TMP/esc"
mkdir -p "$E"
for f in before after before_mask after_mask; do cp "$P/$f.tif" "$E/$f <&\"'>.tif"; done
run_canopy detect "$E/before <&\"'>.tif" "$E/after <&\"'>.tif" --before-mask "$E/before_mask <&\"'>.tif" \
    --after-mask "$E/after_mask <&\"'>.tif" -o "$TMP/escout" -q --no-hash
if [ "$RC" -ne 0 ]; then
    fail "report: run on file names with <&\"'> ($RC: $ERR_TXT)"
else
    check "report: file names with <&\"'> are escaped in report.html and alerts.kmz" \
        $PY - "$TMP/escout" <<'PY'
import sys, zipfile
from html.parser import HTMLParser
out = sys.argv[1]
html = open(out + "/report.html", encoding="utf-8").read()
assert "before <&" not in html and "before &lt;&amp;&quot;&#39;&gt;.tif" in html
texts = []
class P(HTMLParser):
    def handle_data(self, d): texts.append(d)
P(convert_charrefs=True).feed(html)
assert any("before <&\"'>.tif" in t for t in texts)
kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml").decode()
import xml.dom.minidom
xml.dom.minidom.parseString(kml)          # well-formed XML
assert "before <&" not in kml
PY
    check "report: escaped names read back through CSV and LIBKML" $PY - "$TMP/escout" <<'PY'
import sys
from osgeo import gdal
gdal.UseExceptions()
out = sys.argv[1]
cds = gdal.OpenEx(out + "/alerts.csv", allowed_drivers=["CSV"])
c = next(iter(cds.GetLayer(0)))
assert c.GetField("before") == "before <&\"'>.tif", c.GetField("before")
if gdal.GetDriverByName("LIBKML"):
    kds = gdal.OpenEx(out + "/alerts.kmz", allowed_drivers=["LIBKML"])
    k = next(iter(kds.GetLayer(0)))
    assert k.GetField("after") == "after <&\"'>.tif", k.GetField("after")
PY
fi

# One alert id, one value: gpkg, geojson, csv, kmz, report, evidence folders.
check "report: alert ids agree across every output" $PY - "$TMP/out" <<'PY'
import json, os, re, sys, zipfile
from osgeo import gdal
gdal.UseExceptions()
out = sys.argv[1]
def ids(path, drv=None):
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, allowed_drivers=drv) if drv else gdal.OpenEx(path)
    return [f.GetField("id") for f in ds.GetLayer(0)]
gpkg = ids(out + "/alerts.gpkg")
assert len(gpkg) == 8 and len(set(gpkg)) == 8 and all(re.fullmatch("[0-9a-f]{16}", i) for i in gpkg), gpkg
geojson = [f["properties"]["id"] for f in json.load(open(out + "/alerts.geojson"))["features"]]
csv = ids(out + "/alerts.csv", ["CSV"])
kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml").decode()
kmz_names = re.findall(r"<Placemark>\s*<name>([^<]*)</name>", kml)
kmz_data = re.findall(r'<SimpleData name="id">([^<]*)</SimpleData>', kml)
html = open(out + "/report.html").read()
report = re.findall(r'<section class="alert" id="alert-([^"]*)"', html)
ev = sorted(os.listdir(out + "/evidence")) if os.path.isdir(out + "/evidence") else []
assert geojson == gpkg and csv == gpkg and kmz_names == gpkg and kmz_data == gpkg, \
    (gpkg, geojson, csv, kmz_names, kmz_data)
assert sorted(report) == sorted(gpkg), (report, gpkg)
assert set(ev) <= set(gpkg), ev
print("%d ids, %d evidence folders" % (len(gpkg), len(ev)))
PY

# Same inputs, same bytes (the zip carries no timestamps).
detect_pair "$P" "$TMP/out2" --max-chips 6
ok=1
for f in alerts.csv alerts.kmz report.html; do
    cmp -s "$TMP/out/$f" "$TMP/out2/$f" || { ok=0; echo "    differs: $f"; }
done
[ "$RC" -eq 0 ] && [ $ok = 1 ] && pass "report: csv, kmz and html are byte-identical across runs" \
    || fail "report: csv, kmz and html are byte-identical across runs"

# Headless Chromium: every <img> loads (checked by the page's own script) and
# the page renders to a non-blank screenshot.
find_chromium
if [ -z "$CHROMIUM" ] || ! "$CHROMIUM" --version >/dev/null 2>&1; then
    skip "report: headless Chromium render (chromium not installable here: $(tail -1 "$TMP/setup.log" 2>/dev/null))"
else
    for run in out zero; do
        chrome --dump-dom "file://$TMP/$run/report.html" >"$TMP/$run.dom"
        check "report: $run: Chromium loads every image of report.html" $PY - "$TMP/$run.dom" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
tag = re.search(r'<p [^>]*id="img-status"[^>]*>', dom)
assert tag, "no #img-status in the rendered DOM (%d bytes)" % len(dom)
loaded = re.search(r'data-loaded="(\d+)"', tag.group(0))
total = re.search(r'data-total="(\d+)"', tag.group(0))
assert loaded and total, "the page script did not fill in " + tag.group(0)
loaded, total = int(loaded.group(1)), int(total.group(1))
print("%d of %d images loaded" % (loaded, total))
assert total > 0 and loaded == total
PY
    done
    rm -f "$TMP/shot.png"
    (cd "$TMP" && chrome --window-size=1280,4000 --screenshot="$TMP/shot.png" \
        "file://$TMP/out/report.html" >/dev/null)
    check "report: Chromium screenshot is 1280x4000 and not blank" $PY - "$TMP/shot.png" <<'PY'
import sys
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
assert (ds.RasterXSize, ds.RasterYSize) == (1280, 4000), (ds.RasterXSize, ds.RasterYSize)
a = ds.ReadAsArray().astype("float64")
sd = a.std()
print("pixel std %.1f" % sd)
assert sd > 20, sd
PY
fi
