#!/bin/bash
# Evidence chips (evidence/<alert-id>/{before,after}.png): every alert with
# chips gets two PNGs of one size and no third (the reports put them side by side), the outline lies on the polygon boundary, both
# dates share window and stretch, the scale bar matches its label, the grid
# north note appears far from the central meridian only, edge alerts and
# clouds are handled, --max-chips/--no-evidence are obeyed, and the bytes do
# not depend on the thread count.
#
# The checks read the conventions the chips record in their text chunks:
# "Window" = "x0 y0 w h zoom" (BEFORE pixels; zoom "Z" = Z x Z chip pixels per
# scene pixel, "1/D" = D x D scene pixels per chip pixel), "Stretch",
# "Scale-Bar" = "<metres> m <pixels> px", "North-Note".
source "$(dirname "$0")/lib.sh"

CHK="$TMP/chips_check.py"
cat >"$CHK" <<'PY'
"""Chip checks; each subcommand prints PASS/FAIL lines."""
import glob, json, math, os, struct, sys, zlib
import numpy as np
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()

OUTLINE = (255, 230, 0)
HATCH = (0, 200, 255)
PAD = (112, 112, 112)
BAR = (255, 255, 255)
INVALID = {0, 1, 3, 8, 9, 10}


def report(ok, name, why=""):
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not why else " (" + why + ")"))
    return ok


def chunks(path):
    """[(type, data)] of a PNG file."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    out, i = [], 8
    while i < len(b):
        n, t = struct.unpack(">I4s", b[i:i + 8])
        out.append((t.decode(), b[i + 8:i + 8 + n]))
        i += 12 + n
    return out


def texts(path):
    d = {}
    for t, data in chunks(path):
        if t == "tEXt":
            k, v = data.split(b"\0", 1)
            d[k.decode("latin-1")] = v.decode("latin-1")
        elif t == "iTXt":
            k, rest = data.split(b"\0", 1)
            comp, rest = rest[0], rest[2:]
            _lang, rest = rest.split(b"\0", 1)
            _tkey, v = rest.split(b"\0", 1)
            d[k.decode("latin-1")] = (zlib.decompress(v) if comp else v).decode("utf-8")
    return d


def pixels(path):
    ds = gdal.Open(path)
    return np.dstack([ds.GetRasterBand(i + 1).ReadAsArray() for i in range(3)])


def is_colour(img, c):
    return (img[:, :, 0] == c[0]) & (img[:, :, 1] == c[1]) & (img[:, :, 2] == c[2])


def window(md):
    x0, y0, w, h, z = md["Window"].split()
    return int(x0), int(y0), int(w), int(h), z


def dilate(m, r=1):
    out = m.copy()
    p = np.pad(m, r)
    H, W = m.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= p[r + dy:r + dy + H, r + dx:r + dx + W]
    return out


def alerts(gpkg):
    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName("alerts")
    out = {}
    for f in lyr:
        g = f.GetGeometryRef()
        out[f.GetField("id")] = dict(area=f.GetField("area_ha"), env=g.GetEnvelope(),
                                     lat=f.GetField("centroid_lat"), lon=f.GetField("centroid_lon"))
    return out


def scene(path):
    ds = gdal.Open(path)
    return ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize, ds.GetProjection()


def alert_mask(gpkg, aid, gt, wkt, x0, y0, n):
    """Inside-alert mask on the window's scene-pixel grid (n x n)."""
    mem = gdal.GetDriverByName("MEM").Create("", n, n, 1, gdal.GDT_Byte)
    mem.SetProjection(wkt)
    mem.SetGeoTransform((gt[0] + x0 * gt[1], gt[1], 0, gt[3] + y0 * gt[5], 0, gt[5]))
    gdal.Rasterize(mem, gpkg, layers=["alerts"], burnValues=[1], where="id = '%s'" % aid)
    return mem.GetRasterBand(1).ReadAsArray().astype(bool)


def files(out, aid):
    return [os.path.join(out, "evidence", aid, n) for n in ("before.png", "after.png")]


def cmd_layout(out, scene_tif):
    al = alerts(out + "/alerts.gpkg")
    gt, _, _, wkt = scene(scene_tif)
    missing, bad_size, extra, bad_share = [], [], [], []
    bad_outline, bad_cover, bad_bar = [], [], []
    worst_in, worst_cov = 1.0, 1.0
    for aid in sorted(al):
        fs = files(out, aid)
        if not all(os.path.isfile(f) for f in fs):
            missing.append(aid)
            continue
        b, a = (pixels(f) for f in fs)
        mb, ma = (texts(f) for f in fs)
        if b.shape != a.shape:
            bad_size.append(aid)
        pngs = sorted(n for n in os.listdir(os.path.join(out, "evidence", aid))
                      if n.endswith(".png"))
        if pngs != ["after.png", "before.png"]:
            extra.append("%s %s" % (aid, pngs))
        for k in ("Window", "Stretch", "Scale-Bar", "Alert-Id", "Date-Before", "Date-After",
                  "Area-ha", "Centroid", "Run-Id"):
            if not (k in mb and mb.get(k) == ma.get(k)):
                bad_share.append("%s %s" % (aid, k))
        if mb.get("Source", "").split("/")[-1] != "before.tif" or \
           ma.get("Source", "").split("/")[-1] != "after.tif" or "Software" not in mb:
            bad_share.append("%s Source/Software" % aid)
        x0, y0, w, h, z = window(mb)
        # Outline: the polygon is rasterized on the window grid, upsampled by the
        # zoom; boundary pixels are those with a 4-neighbour on the other side.
        if z.isdigit():
            z = int(z)
            m = np.kron(alert_mask(out + "/alerts.gpkg", aid, gt, wkt, x0, y0, w),
                        np.ones((z, z), dtype=bool))
            S = m.shape[0]
            bnd = np.zeros_like(m)
            bnd[:, 1:] |= m[:, 1:] != m[:, :-1]
            bnd[:, :-1] |= m[:, 1:] != m[:, :-1]
            bnd[1:, :] |= m[1:, :] != m[:-1, :]
            bnd[:-1, :] |= m[1:, :] != m[:-1, :]
            for img in (b, a):
                o = is_colour(img[:S], OUTLINE)
                if o.sum() == 0:
                    bad_outline.append(aid + " (none)")
                    continue
                inside = (o & dilate(bnd)).sum() / o.sum()
                cover = (bnd & dilate(o)).sum() / bnd.sum()
                worst_in, worst_cov = min(worst_in, inside), min(worst_cov, cover)
                if inside < 0.95:
                    bad_outline.append("%s %.3f" % (aid, inside))
                if cover < 0.95:
                    bad_cover.append("%s %.3f" % (aid, cover))
        # Scale bar: the label's metres over the pixel size, times the zoom.
        metres, _m, px, _px = mb["Scale-Bar"].split()
        metres, px = float(metres), int(px)
        zf = int(z) if str(z).isdigit() else 1.0 / int(str(z).split("/")[1])
        expect = metres / abs(gt[1]) * zf
        W = b.shape[1]
        cap = is_colour(b[W:], BAR)        # the caption band under the square image
        runs = []
        for row in cap:
            best = cur = 0
            for v in row:
                cur = cur + 1 if v else 0
                best = max(best, cur)
            runs.append(best)
        first = str(metres).rstrip("0").rstrip(".")
        if abs(px - expect) > 1 or not 0.15 <= px / W <= 0.35 or \
           not any(abs(r - px) <= 1 for r in runs) or first[0] not in "125":
            bad_bar.append("%s %s (expect %.1f px of %d, longest runs %s)"
                           % (aid, mb["Scale-Bar"], expect, W, sorted(set(runs))[-3:]))
    n = len(al)
    report(n > 0 and not missing, "chips: every alert has before.png and after.png (%d alerts)" % n,
           "missing: %s" % missing)
    report(not bad_size, "chips: before and after have identical size", str(bad_size))
    report(not extra, "chips: two PNGs an alert, no pair.png encoded again", str(extra[:5]))
    report(not bad_share, "chips: before and after share window, stretch and metadata",
           str(bad_share[:5]))
    report(not bad_outline and worst_in <= 1.0,
           "chips: >= 95%% of outline pixels within 1 px of the polygon boundary (worst %.3f)"
           % worst_in, str(bad_outline[:5]))
    report(not bad_cover, "chips: the outline covers the polygon boundary (worst %.3f)" % worst_cov,
           str(bad_cover[:5]))
    report(not bad_bar, "chips: scale bar drawn, 1-2-5 length, px = metres / pixel x zoom, "
           "15-35% of the width", str(bad_bar[:3]))


def cmd_edge(out, scene_tif):
    """An alert touching the scene edge still has chips; outside is padded and hatched."""
    al = alerts(out + "/alerts.gpkg")
    gt, W, H, _ = scene(scene_tif)
    sx0, sx1 = gt[0], gt[0] + W * gt[1]
    sy1, sy0 = gt[3], gt[3] + H * gt[5]
    eps = abs(gt[1]) * 1e-3
    edge = [aid for aid, v in al.items()
            if abs(v["env"][0] - sx0) < eps or abs(v["env"][1] - sx1) < eps
            or abs(v["env"][2] - sy0) < eps or abs(v["env"][3] - sy1) < eps]
    if not report(len(edge) > 0, "chips: the sample has an alert on the scene edge"):
        return
    ok, why = True, []
    for aid in edge:
        fb = files(out, aid)[0]
        if not os.path.isfile(fb):
            ok = False
            why.append(aid + " has no chip")
            continue
        md = texts(fb)
        img = pixels(fb)
        x0, y0, w, h, z = window(md)
        z = int(z)
        S = w * z
        out_mask = np.zeros((S, S), dtype=bool)
        for j in range(w):
            for i in range(w):
                if not (0 <= x0 + i < W and 0 <= y0 + j < H):
                    out_mask[j * z:(j + 1) * z, i * z:(i + 1) * z] = True
        if not out_mask.any():
            ok = False
            why.append(aid + " window entirely inside the scene: %s" % md["Window"])
            continue
        pad = img[:S][out_mask]
        known = (is_colour(pad[None], PAD) | is_colour(pad[None], HATCH)
                 | is_colour(pad[None], OUTLINE))[0]
        hatch = is_colour(pad[None], HATCH)[0]
        if not known.all() or hatch.mean() < 0.1:
            ok = False
            why.append("%s outside-scene pixels: %.3f pad/hatch, %.3f hatch"
                       % (aid, known.mean(), hatch.mean()))
    report(ok, "chips: edge alert(s) %s chipped; outside the scene grey and hatched" % edge,
           "; ".join(why))


def cmd_cloud(out, pair_dir, clear_out, bbox):
    """The alert under a cloud shrinks and its AFTER chip is hatched where the mask (grown by
    the buffer, as detection reads it) says so."""
    xmin, ymin, xmax, ymax = map(float, bbox.split(","))
    al = alerts(out + "/alerts.gpkg")
    clear = alerts(clear_out + "/alerts.gpkg")

    def inside(v):
        e = v["env"]
        return e[0] >= xmin - 1 and e[1] <= xmax + 1 and e[2] >= ymin - 1 and e[3] <= ymax + 1

    hit = [a for a, v in al.items() if inside(v)]
    ref = [a for a, v in clear.items() if inside(v)]
    if not report(len(hit) == 1 and len(ref) == 1 and al[hit[0]]["area"] < clear[ref[0]]["area"],
                  "chips: the clearing's alert shrinks under the added cloud",
                  "cloudy %s, clear %s" % ([al[a]["area"] for a in hit],
                                           [clear[a]["area"] for a in ref])):
        return
    aid = hit[0]
    fb, fa = files(out, aid)
    md = texts(fa)
    x0, y0, w, h, z = window(md)
    z = int(z)
    S = w * z
    # The chips read through detection's reader: a date's unobserved pixels
    # are its mask's invalid classes grown by the buffer (a disk of the
    # run's mask_buffer_px), as detection sees them.
    run = json.load(open(out + "/run.json"))

    def unobserved(mask_path, radius):
        cls = gdal.Open(mask_path).ReadAsArray()
        bad = np.isin(cls, list(INVALID))
        grown = bad.copy()
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if dx * dx + dy * dy > radius * radius:
                    continue
                sh = np.zeros_like(bad)
                sh[max(0, dy):bad.shape[0] + min(0, dy), max(0, dx):bad.shape[1] + min(0, dx)] = \
                    bad[max(0, -dy):bad.shape[0] - max(0, dy), max(0, -dx):bad.shape[1] - max(0, dx)]
                grown |= sh
        return grown

    m = gdal.Open(pair_dir + "/after_mask.tif")
    W, H = m.RasterXSize, m.RasterYSize
    unobs = np.ones((w, w), dtype=bool)
    ys, xs = slice(max(0, y0), min(H, y0 + w)), slice(max(0, x0), min(W, x0 + w))
    unobs[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = \
        unobserved(pair_dir + "/after_mask.tif", run["after"]["mask_buffer_px"])[ys, xs]
    U = np.kron(unobs, np.ones((z, z), dtype=bool))
    ha = is_colour(pixels(fa)[:S], HATCH)
    hb = is_colour(pixels(fb)[:S], HATCH)
    before_unobs = np.ones((w, w), dtype=bool)
    before_unobs[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = \
        unobserved(pair_dir + "/before_mask.tif", run["before"]["mask_buffer_px"])[ys, xs]
    UB = np.kron(before_unobs, np.ones((z, z), dtype=bool))
    share = (ha & U).sum() / max(1, ha.sum())
    cover = ha[U].mean() if U.any() else 0
    report(U.any() and ha.sum() > 0 and share >= 0.95 and cover >= 0.15,
           "chips: AFTER chip hatched where the mask says unobserved (%d px, %.3f inside, "
           "%.2f of the cloud hatched)" % (ha.sum(), share, cover))
    report((hb & ~UB).sum() == 0,
           "chips: BEFORE chip not hatched where BEFORE was observed",
           "%d stray hatch pixels" % (hb & ~UB).sum())


def convergence(scene_tif, lat, lon):
    gt, _, _, wkt = scene(scene_tif)
    srs = osr.SpatialReference(wkt=wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    wgs = osr.SpatialReference()
    wgs.SetWellKnownGeogCS("WGS84")
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(wgs, srs)
    x0, y0, _ = ct.TransformPoint(lon, lat)
    x1, y1, _ = ct.TransformPoint(lon, lat + 0.01)
    return math.degrees(math.atan2((x1 - x0) / gt[1], -(y1 - y0) / gt[5]))


def cmd_north(out, scene_tif, expect):
    al = alerts(out + "/alerts.gpkg")
    ok, why, vals = True, [], []
    for aid, v in sorted(al.items()):
        md = texts(files(out, aid)[0])
        ma = texts(files(out, aid)[1])
        g = convergence(scene_tif, v["lat"], v["lon"])
        vals.append("%.2f" % g)
        note = md.get("North-Note")
        if expect == "note":
            want = "grid north differs from true north by %.1f\u00b0" % abs(g)
            alt = "grid north differs from true north by %.1f\u00b0" % (abs(g) + 0.05)
            alt2 = "grid north differs from true north by %.1f\u00b0" % (abs(g) - 0.05)
            if note not in (want, alt, alt2) or ma.get("North-Note") != note:
                ok = False
                why.append("%s: %r, expected %r" % (aid, note, want))
        elif note is not None or abs(g) > 1:
            ok = False
            why.append("%s: %r (convergence %.2f)" % (aid, note, g))
    if expect == "note":
        report(ok and al, "chips: grid-north note far from the central meridian (convergence %s)"
               % sorted(set(vals))[:3], "; ".join(why[:3]))
    else:
        report(ok and al, "chips: no grid-north note near the central meridian (convergence %s)"
               % sorted(set(vals))[:3], "; ".join(why[:3]))


def cmd_maxchips(out, n):
    n = int(n)
    al = alerts(out + "/alerts.gpkg")
    dirs = sorted(os.path.basename(d) for d in glob.glob(out + "/evidence/*"))
    largest = sorted(sorted(al, key=lambda a: -al[a]["area"])[:n])
    report(dirs == largest and all(os.path.isfile(f) for a in dirs for f in files(out, a)),
           "chips: --max-chips %d writes the %d largest alerts only" % (n, n),
           "got %s, expected %s" % (dirs, largest))
    c = json.load(open(out + "/run.json")).get("counts", {})
    report(c.get("chips") == n and c.get("chips_left_out") == len(al) - n,
           "chips: run.json counts %d chips and %d left out" % (n, len(al) - n),
           "counts: chips %s, chips_left_out %s" % (c.get("chips"), c.get("chips_left_out")))


def strip_run_id(path):
    return [(t, d) for t, d in chunks(path) if not (t == "tEXt" and d.startswith(b"Run-Id\0"))]


def cmd_same(a, b):
    fa = sorted(os.path.relpath(f, a) for f in glob.glob(a + "/evidence/*/*"))
    fb = sorted(os.path.relpath(f, b) for f in glob.glob(b + "/evidence/*/*"))
    if not report(fa == fb and fa, "chips: same chip files with 1 and 2 threads (%d)" % len(fa)):
        return
    png = [f for f in fa if f.endswith(".png")]    # beside them: world files, .aux.xml
    ida, idb = texts(a + "/" + png[0]).get("Run-Id"), texts(b + "/" + png[0]).get("Run-Id")
    diff = [f for f in fa if open(a + "/" + f, "rb").read() != open(b + "/" + f, "rb").read()]
    if ida == idb:
        report(not diff, "chips: PNG bytes identical with 1 and 2 threads", str(diff[:3]))
    else:
        # run_id hashes the settings, thread count included: only that chunk may differ.
        diff = [f for f in fa if (strip_run_id(a + "/" + f) != strip_run_id(b + "/" + f)
                                  if f.endswith(".png") else
                                  open(a + "/" + f, "rb").read() != open(b + "/" + f, "rb").read())]
        report(not diff, "chips: PNG bytes identical with 1 and 2 threads except the Run-Id "
               "chunk (the run id hashes --threads)", str(diff[:3]))


def cmd_big(out, scene_tif):
    al = alerts(out + "/alerts.gpkg")
    gt = scene(scene_tif)[0]
    big = max(al, key=lambda a: al[a]["area"])
    fb = files(out, big)[0]
    md = texts(fb)
    img = pixels(fb)
    x0, y0, w, h, z = window(md)
    e = al[big]["env"]
    span = max(e[1] - e[0], e[3] - e[2]) / abs(gt[1])
    report(z.startswith("1/") and img.shape[1] <= 1024 and w >= span and
           is_colour(img, OUTLINE).sum() > 0,
           "chips: a %.0f px wide alert gets a downsampled chip <= 1024 px (%dx%d, zoom %s)"
           % (span, img.shape[1], img.shape[0], z))


def cmd_geographic(out):
    """Lon/lat scene: pixel size = geodesic length of one pixel along the parallel."""
    al = alerts(out + "/alerts.gpkg")
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    ok, why = bool(al), []
    for aid, v in sorted(al.items()):
        md = texts(files(out, aid)[0])
        lat = math.radians(v["lat"])
        # Length of 0.0001 degree of the WGS84 parallel (the geodesic is within 1e-9 of it).
        want = math.pi / 180 * a * math.cos(lat) / math.sqrt(1 - e2 * math.sin(lat) ** 2) * 1e-4
        got = float(md["Pixel-Size"].split()[0])
        metres, _m, px, _px = md["Scale-Bar"].split()
        z = int(window(md)[4])
        if abs(got - want) > 2e-3 * want or abs(int(px) - float(metres) / want * z) > 1:
            ok = False
            why.append("%s: %s, %s (expected %.4f m)"
                       % (aid, md["Pixel-Size"], md["Scale-Bar"], want))
    report(ok, "chips: geographic CRS: pixel size from the ellipsoid, scale bar to match",
           "; ".join(why[:3]))


getattr(sys.modules[__name__], "cmd_" + sys.argv[1])(*sys.argv[2:])
PY

P="$TMP/sample"
synth "$P" --size 400x400 --seed 1 --scenario sample || { fail "chips: generator"; exit 0; }
detect_pair "$P" "$TMP/out"
if [ "$RC" -ne 0 ]; then fail "chips: canopy detect ($RC: $ERR_TXT)"; exit 0; fi
# A check that stops (an exception) prints no verdict of its own: a failure.
chk() { $PY "$CHK" "$@" || fail "chips: the $1 check stopped (exit $?)"; }
chk layout "$TMP/out" "$P/before.tif"
chk edge "$TMP/out" "$P/before.tif"
chk north "$TMP/out" "$P/before.tif" none

# ~3.3 degrees west of the UTM 21S central meridian at 36 S: convergence ~2 degrees.
# (At the default 10 S, 3 degrees off the meridian gives only ~0.6 degree.)
G="$TMP/west"
synth "$G" --size 400x400 --seed 1 --scenario sample --epsg 32721 --origin 200000,6000000 \
    || { fail "chips: generator (west)"; exit 0; }
detect_pair "$G" "$TMP/west-out"
if [ "$RC" -eq 0 ]; then
    chk north "$TMP/west-out" "$G/before.tif" note
else
    fail "chips: canopy detect far from the central meridian ($RC: $ERR_TXT)"
fi

# The same pair in lon/lat (EPSG:4326, 0.0001 degree pixels).
L="$TMP/lonlat"
mkdir -p "$L"
for f in before after before_mask after_mask; do
    gdalwarp -q -t_srs EPSG:4326 -tr 0.0001 0.0001 -te -56.1 -10.0 -56.05 -9.95 -r near \
        "$P/$f.tif" "$L/$f.tif" || fail "chips: gdalwarp $f to EPSG:4326"
done
detect_pair "$L" "$TMP/lonlat-out"
[ "$RC" -eq 0 ] && $PY "$CHK" geographic "$TMP/lonlat-out" \
    || fail "chips: canopy detect on a lon/lat pair ($RC: $ERR_TXT)"

# A cloud (SCL 9) over the western half of clearing 1 in the AFTER mask.
C="$TMP/cloud"
mkdir -p "$C" && cp "$P"/before.tif "$P"/after.tif "$P"/before_mask.tif "$P"/after_mask.tif "$C"/
bbox=$($PY - "$P/truth.csv" "$C/after_mask.tif" <<'PY'
import csv, sys
from osgeo import gdal
row = next(r for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "clearing")
x0, y0, x1, y1 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
ds = gdal.Open(sys.argv[2], gdal.GA_Update)
gt = ds.GetGeoTransform()
c0, c1 = int(round((x0 - gt[0]) / gt[1])), int(round((x1 - gt[0]) / gt[1]))
r0, r1 = int(round((y1 - gt[3]) / gt[5])), int(round((y0 - gt[3]) / gt[5]))
b = ds.GetRasterBand(1)
a = b.ReadAsArray()
a[r0:r1, c0:(c0 + c1) // 2] = 9
b.WriteArray(a)
ds = None
print("%s,%s,%s,%s" % (x0, y0, x1, y1))
PY
)
detect_pair "$C" "$TMP/cloud-out"
if [ "$RC" -eq 0 ] && [ -n "$bbox" ]; then
    chk cloud "$TMP/cloud-out" "$C" "$TMP/out" "$bbox"
else
    fail "chips: canopy detect with an added cloud ($RC: $ERR_TXT)"
fi

detect_pair "$P" "$TMP/max2" --max-chips 2
[ "$RC" -eq 0 ] && $PY "$CHK" maxchips "$TMP/max2" 2 \
    || fail "chips: --max-chips 2 run ($RC: $ERR_TXT)"

detect_pair "$P" "$TMP/noev" --no-evidence
[ "$RC" -eq 0 ] && [ -s "$TMP/noev/alerts.gpkg" ] && [ ! -e "$TMP/noev/evidence" ] \
    && pass "chips: --no-evidence writes no evidence folder" \
    || fail "chips: --no-evidence ($RC: $ERR_TXT; $(ls "$TMP/noev" 2>&1 | tr '\n' ' '))"

detect_pair "$P" "$TMP/t1" --threads 1; rc1=$RC
detect_pair "$P" "$TMP/t2" --threads 2; rc2=$RC
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then
    chk same "$TMP/t1" "$TMP/t2"
else
    fail "chips: runs with 1 and 2 threads ($rc1 $rc2: $ERR_TXT)"
fi
# Same arguments twice: the files are byte-identical, Run-Id included.
detect_pair "$P" "$TMP/t2b" --threads 2
[ "$RC" -eq 0 ] && diff -r "$TMP/t2/evidence" "$TMP/t2b/evidence" >/dev/null \
    && pass "chips: byte-identical chips run after run" \
    || fail "chips: chips differ between two identical runs"

# One alert wider than the chip limit: the window is downsampled, not cropped.
B="$TMP/big"
synth "$B" --size 1400x1400 --seed 2 --scenario sample || { fail "chips: generator (big)"; exit 0; }
$PY - "$B/after.tif" <<'PY'
import sys
from osgeo import gdal
ds = gdal.Open(sys.argv[1], gdal.GA_Update)
for b, v in zip(range(1, 5), (900, 1300, 1800, 2200)):   # bare soil over 1150 x 1150 px
    band = ds.GetRasterBand(b)
    a = band.ReadAsArray()
    a[100:1250, 150:1300] = v
    band.WriteArray(a)
ds = None
PY
detect_pair "$B" "$TMP/big-out"
[ "$RC" -eq 0 ] && $PY "$CHK" big "$TMP/big-out" "$B/before.tif" \
    || fail "chips: canopy detect on a scene-sized clearing ($RC: $ERR_TXT)"
