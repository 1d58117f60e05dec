"""Checks of the evidence an investigator takes away from a canopy detect run.

Usage: check_evidence.py COMMAND OUTDIR [ARGS...]; each command prints what it
checked and exits non-zero with the reasons when a check fails (test_evidence.sh
turns that into PASS/FAIL lines).

  points OUTDIR      every place an alert is pointed at (report links, CSV
                     coordinates, KML balloons, chip captions) lies inside it
  overview OUTDIR    overview.png opens in GDAL on the processed window (its
                     extent, the scene CRS) and the yellow outlines drawn on it
                     lie on the edges of the alerts rasterized onto its grid
  overview-labels OUTDIR [N]
                     overview.png numbers the alerts as the reports do (#1 =
                     largest): each number sits beside its alert; a scale bar,
                     north arrow and legend panel; at least N numbers
  chips-georef OUTDIR
                     before.png and after.png of every alert open georeferenced
                     (world file, CRS) on their window, the outline drawn on
                     the alert's edge
  kmz-overlay OUTDIR alerts.kmz lays overview.png over the ground (a
                     GroundOverlay on gx:LatLonQuad) exactly where its world
                     file puts it: corners, and every alert's point
  pdf OUTDIR [CASE OPERATOR]
                     report.pdf: pages (cover, overview, one or more per alert with
                     chips, the others compact, the cap stated,
                     method), fonts embedded, no creation date; its text has
                     the case, run id, input hashes, every alert with its
                     vertices in WGS84 and in the grid CRS, credits, software
  kmz-stored OUTDIR  the PNGs in alerts.kmz are stored as they are (PNG is
                     compressed already), byte for byte
"""
import csv
import os
import re
import sys
import zipfile

from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()


def wgs84_alerts(out):
    """id -> WGS84 outline (alerts.geojson) and attributes (alerts.gpkg)."""
    ds = ogr.Open(out + "/alerts.geojson")
    geom = {f.GetField("id"): f.GetGeometryRef().Clone() for f in ds.GetLayer(0)}
    g = ogr.Open(out + "/alerts.gpkg")
    attrs = {f.GetField("id"): f.items() for f in g.GetLayerByName("alerts")}
    return geom, attrs


def inside(poly, lon, lat):
    p = ogr.Geometry(ogr.wkbPoint)
    p.AddPoint_2D(float(lon), float(lat))
    return p.Within(poly)


def png_text(path):
    """tEXt and iTXt chunks of a PNG."""
    import struct
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    i = 8
    while i < len(data):
        n, t = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if t == b"tEXt":
            k, v = body.split(b"\0", 1)
            out[k.decode("latin-1")] = v.decode("latin-1")
        elif t == b"iTXt":
            import zlib
            k, rest = body.split(b"\0", 1)
            v = rest[2:].split(b"\0", 2)[2]
            if rest[0] == 1:
                v = zlib.decompress(v)
            out[k.decode("latin-1")] = v.decode("utf-8")
        i += 12 + n
    return out


def cmd_points(out):
    geom, attrs = wgs84_alerts(out)
    bad, n = [], 0
    for i, a in attrs.items():
        for k in ("centroid_lon", "centroid_lat", "point_lon", "point_lat"):
            if k not in a:
                bad.append("alerts.gpkg has no %s" % k)
        if "point_lon" in a and not inside(geom[i], a["point_lon"], a["point_lat"]):
            bad.append("%s: point_lon/lat outside the alert" % i)
    html = open(out + "/report.html", encoding="utf-8").read()
    for i in geom:
        sec = re.search(r'<section class="alert" id="alert-%s">(.*?)</section>' % i, html, re.S)
        if not sec:
            bad.append("report.html: no section for %s" % i)
            continue
        links = re.findall(r'openstreetmap\.org/\?mlat=([-0-9.]+)&amp;mlon=([-0-9.]+)', sec.group(1))
        links += re.findall(r'href="geo:([-0-9.]+),([-0-9.]+)"', sec.group(1))
        if not links:
            bad.append("report.html: no map link for %s" % i)
        for lat, lon in links:
            n += 1
            if not inside(geom[i], lon, lat):
                bad.append("report.html: link %s,%s of %s lies outside it" % (lat, lon, i))
    with open(out + "/alerts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if "point_lon" not in r:
            bad.append("alerts.csv has no point_lon/point_lat")
            break
        n += 1
        if not inside(geom[r["id"]], r["point_lon"], r["point_lat"]):
            bad.append("alerts.csv: the point of %s lies outside it" % r["id"])
    kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml").decode()
    for pm in re.findall(r"<Placemark>.*?</Placemark>", kml, re.S):
        name = re.search(r"<name>([^<]*)</name>", pm).group(1)
        if name not in geom:
            continue
        for lat, lon in re.findall(r'mlat=([-0-9.]+)&amp;mlon=([-0-9.]+)', pm):
            n += 1
            if not inside(geom[name], lon, lat):
                bad.append("alerts.kmz: balloon link of %s lies outside it" % name)
    for i in geom:
        for png in ("before.png", "after.png"):
            p = os.path.join(out, "evidence", i, png)
            if not os.path.isfile(p):
                continue
            t = png_text(p)
            if "Point" not in t:
                bad.append("%s has no Point text" % p)
                continue
            lat, lon = t["Point"].split()
            n += 1
            if not inside(geom[i], lon, lat):
                bad.append("%s: Point %s lies outside the alert" % (p, t["Point"]))
    if bad:
        sys.exit("\n".join(sorted(set(bad))))
    print("%d alerts, %d points checked" % (len(geom), n))


def dilate(m, r=1):
    import numpy as np
    p = np.pad(m, r)
    out = np.zeros_like(m)
    H, W = m.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= p[r + dy:r + dy + H, r + dx:r + dx + W]
    return out


def edges(m):
    """Pixels on either side of the boundary of mask m (4-neighbours)."""
    import numpy as np
    p = np.pad(m, 1)
    inner = p[1:-1, 1:-1]
    e = np.zeros_like(m)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        nb = p[1 + dy:1 + dy + m.shape[0], 1 + dx:1 + dx + m.shape[1]]
        e |= inner != nb
    return e


def legend_box(text):
    if "Legend-Box" not in text:
        return None
    return [int(v) for v in text["Legend-Box"].split()]


def cmd_overview(out):
    import json
    import numpy as np
    from osgeo import osr
    run = json.load(open(out + "/run.json"))
    gt, win = run["grid"]["geotransform"], run["grid"]["window"]
    ds = gdal.Open(out + "/overview.png")
    ogt = ds.GetGeoTransform(can_return_null=True)
    assert ogt is not None, "overview.png has no geotransform (no world file / aux.xml)"
    W, H = ds.RasterXSize, ds.RasterYSize
    f = ogt[1] / gt[1]
    assert abs(f - round(f)) < 1e-9 and round(f) >= 1, ("cell is not a whole number of pixels", ogt, gt)
    f = int(round(f))
    want = (gt[0] + win[0] * gt[1], f * gt[1], 0.0, gt[3] + win[1] * gt[5], 0.0, f * gt[5])
    assert all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(ogt, want)), (ogt, want)
    # Extent: the window, rounded up to whole cells.
    assert W == -(-win[2] // f) and H == -(-win[3] // f), (W, H, win, f)
    if win[2] % f == 0 and win[3] % f == 0:
        ext = (ogt[0], ogt[0] + W * ogt[1], ogt[3] + H * ogt[5], ogt[3])
        wext = (gt[0] + win[0] * gt[1], gt[0] + (win[0] + win[2]) * gt[1],
                gt[3] + (win[1] + win[3]) * gt[5], gt[3] + win[1] * gt[5])
        assert all(abs(a - b) < 1e-6 for a, b in zip(ext, wext)), (ext, wext)
    srs = ds.GetSpatialRef()
    assert srs is not None, "overview.png has no CRS"
    ref = osr.SpatialReference()
    ref.ImportFromWkt(run["grid"]["crs_wkt"])
    assert srs.IsSame(ref), srs.ExportToWkt()

    # Outlines: rasterize alerts.gpkg onto the overview grid.
    mem = gdal.GetDriverByName("MEM").Create("", W, H, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(ogt)
    mem.SetProjection(run["grid"]["crs_wkt"])
    gdal.Rasterize(mem, out + "/alerts.gpkg", layers=["alerts"], burnValues=[1])
    m = mem.GetRasterBand(1).ReadAsArray().astype(bool)
    img = ds.ReadAsArray()
    yellow = (img[0] == 255) & (img[1] == 230) & (img[2] == 0)
    e = edges(m)
    # The outline is 2 px wide where cells are up to 4 pixels and its brush
    # extends right/down: at a staircase step it paints 2 px from the edge.
    allowed = dilate(e, 2)
    box = legend_box(png_text(out + "/overview.png"))
    if box:
        x, y, w, h = box
        allowed[y:y + h, x:x + w] = True
    stray = yellow & ~allowed
    assert stray.sum() == 0, "%d yellow pixels off the alert edges, e.g. %s" % (
        stray.sum(), list(zip(*np.nonzero(stray)))[:5])
    covered = (e & dilate(yellow, 1)).sum() / max(1, e.sum())
    assert covered >= 0.9, "only %.1f %% of the alert edges are outlined" % (100 * covered)
    print("overview %dx%d, cell %d px, %d alert edge pixels, %.1f %% outlined" % (
        W, H, f, e.sum(), 100 * covered))


def ranked(out):
    """Alert ids largest first, ties by id: the numbers of the reports."""
    g = ogr.Open(out + "/alerts.gpkg")
    al = [(f.GetField("area_ha"), f.GetField("id"), f.GetGeometryRef().GetEnvelope())
          for f in g.GetLayerByName("alerts")]
    al.sort(key=lambda a: (-a[0], a[1]))
    return al


def cmd_overview_labels(out, want=None):
    import json
    import numpy as np
    t = png_text(out + "/overview.png")
    ds = gdal.Open(out + "/overview.png")
    ogt, W, H = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    img = ds.ReadAsArray()
    for k in ("Legend-Box", "Label-Boxes", "Scale-Bar", "True-North"):
        assert k in t, "overview.png has no %s text" % k
    x, y, w, h = legend_box(t)
    assert 0 <= x and x + w <= W and 0 <= y and y + h <= H, ("legend outside the image", t["Legend-Box"])
    assert (x in (0, W - w)) and (y in (0, H - h)), ("legend not in a corner", t["Legend-Box"])
    # White text and the yellow legend line inside the panel.
    panel = img[:, y:y + h, x:x + w]
    assert ((panel == 255).all(axis=0)).sum() > 20, "no text in the legend panel"
    metres, px = t["Scale-Bar"].split(" m ")
    cell_m = abs(ogt[1])   # projected CRS in metres (the demo's UTM)
    assert abs(float(metres) / cell_m - int(px.split()[0])) <= 1, t["Scale-Bar"]
    al = ranked(out)
    boxes = {}
    for item in t["Label-Boxes"].split(";"):
        if item.strip():
            r, bx, by, bw, bh = (int(v) for v in item.split())
            boxes[r] = (bx, by, bw, bh)
    if want is not None:
        assert len(boxes) >= int(want), ("too few numbers", len(boxes), want)
    bad = []
    for r, (bx, by, bw, bh) in boxes.items():
        area, aid, env = al[r - 1]
        # The alert's box in overview pixels.
        ax0, ax1 = (env[0] - ogt[0]) / ogt[1], (env[1] - ogt[0]) / ogt[1]
        ay0, ay1 = (env[3] - ogt[3]) / ogt[5], (env[2] - ogt[3]) / ogt[5]
        gap = max(ax0 - (bx + bw), bx - ax1, ay0 - (by + bh), by - ay1)
        if not (0 <= gap <= 8):
            bad.append("#%d (%s): label %s is %.1f px from its alert" % (r, aid, (bx, by, bw, bh), gap))
        lab = img[:, by:by + bh, bx:bx + bw]
        if ((lab == 255).all(axis=0)).sum() < 3:
            bad.append("#%d: no number drawn in %s" % (r, (bx, by, bw, bh)))
        for r2, b2 in boxes.items():
            if r2 < r and not (bx + bw <= b2[0] or b2[0] + b2[2] <= bx or by + bh <= b2[1] or b2[1] + b2[3] <= by):
                bad.append("#%d overlaps #%d" % (r, r2))
    assert not bad, "\n".join(bad)
    print("%d of %d alerts numbered; legend %s; scale bar %s" % (len(boxes), len(al), t["Legend-Box"], t["Scale-Bar"]))


def cmd_chips_georef(out):
    import json
    import numpy as np
    from osgeo import osr
    run = json.load(open(out + "/run.json"))
    gt, wkt = run["grid"]["geotransform"], run["grid"]["crs_wkt"]
    ref = osr.SpatialReference()
    ref.ImportFromWkt(wkt)
    n, bad = 0, []
    for aid in sorted(os.listdir(out + "/evidence")):
        for name in ("before.png", "after.png"):
            p = os.path.join(out, "evidence", aid, name)
            t = png_text(p)
            x0, y0, side, _, zoom = t["Window"].split()
            x0, y0, side = int(x0), int(y0), int(side)
            s = 1.0 / int(zoom) if "/" not in zoom else float(zoom.split("/")[1])
            ds = gdal.Open(p)
            cgt = ds.GetGeoTransform(can_return_null=True)
            if cgt is None:
                bad.append("%s: not georeferenced" % p)
                continue
            want = (gt[0] + x0 * gt[1], gt[1] * s, 0.0, gt[3] + y0 * gt[5], 0.0, gt[5] * s)
            if not all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(cgt, want)):
                bad.append("%s: geotransform %s, want %s" % (p, cgt, want))
            if ds.GetSpatialRef() is None or not ds.GetSpatialRef().IsSame(ref):
                bad.append("%s: no or another CRS" % p)
            size = int(round(side / s))
            mem = gdal.GetDriverByName("MEM").Create("", size, size, 1, gdal.GDT_Byte)
            mem.SetGeoTransform(cgt)
            mem.SetProjection(wkt)
            gdal.Rasterize(mem, out + "/alerts.gpkg", layers=["alerts"], burnValues=[1],
                           where="id = '%s'" % aid)
            m = mem.GetRasterBand(1).ReadAsArray().astype(bool)
            img = ds.ReadAsArray()[:, :size, :size]
            yellow = (img[0] == 255) & (img[1] == 230) & (img[2] == 0)
            e = edges(m)
            stray = yellow & ~dilate(e, 1)
            if stray.sum() or (e & yellow).sum() < 0.9 * e.sum():
                bad.append("%s: %d outline pixels off the alert's edge, %d of %d edge pixels outlined" % (
                    p, stray.sum(), (e & yellow).sum(), e.sum()))
            n += 1
    assert n > 0, "no chips"
    assert not bad, "\n".join(bad)
    print("%d chips georeferenced, outlines on the alert edges" % n)


def cmd_kmz_overlay(out):
    from osgeo import osr
    z = zipfile.ZipFile(out + "/alerts.kmz")
    kml = z.read("doc.kml").decode()
    ov = re.search(r"<GroundOverlay>(.*?)</GroundOverlay>", kml, re.S)
    assert ov, "no GroundOverlay in doc.kml"
    href = re.search(r"<href>([^<]*)</href>", ov.group(1)).group(1)
    assert z.read(href) == open(out + "/overview.png", "rb").read(), href + " is not overview.png"
    assert 'xmlns:gx="http://www.google.com/kml/ext/2.2"' in kml
    quad = re.search(r"<gx:LatLonQuad>\s*<coordinates>([^<]*)</coordinates>", ov.group(1)).group(1)
    q = [tuple(float(v) for v in c.split(",")[:2]) for c in quad.split()]
    assert len(q) == 4, quad
    ds = gdal.Open(out + "/overview.png")
    gt, W, H = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
    srs = ds.GetSpatialRef().Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    wgs = osr.SpatialReference()
    wgs.SetWellKnownGeogCS("WGS84")
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(srs, wgs)
    to_scene = osr.CoordinateTransformation(wgs, srs)
    # KML's order: lower-left, lower-right, upper-right, upper-left.
    corners = [(0, H), (W, H), (W, 0), (0, 0)]
    for (u, v), (lon, lat) in zip(corners, q):
        x, y = gt[0] + u * gt[1] + v * gt[2], gt[3] + u * gt[4] + v * gt[5]
        elon, elat = to_wgs.TransformPoint(x, y)[:2]
        assert abs(elon - lon) < 2e-7 and abs(elat - lat) < 2e-7, ((u, v), (lon, lat), (elon, elat))
    # Every alert's point: where the quad's bilinear mapping puts it on the
    # picture against where the world file does.
    worst = 0.0
    gds = ogr.Open(out + "/alerts.gpkg")
    for f in gds.GetLayerByName("alerts"):
        lon, lat = f.GetField("point_lon"), f.GetField("point_lat")
        x, y = to_scene.TransformPoint(lon, lat)[:2]
        u0, v0 = (x - gt[0]) / gt[1], (y - gt[3]) / gt[5]
        # Invert the bilinear map by Newton steps from the affine guess.
        u, v = u0, v0
        for _ in range(20):
            s_, t_ = u / W, v / H
            def at(s_, t_):
                top = [(1 - s_) * q[3][k] + s_ * q[2][k] for k in (0, 1)]
                bot = [(1 - s_) * q[0][k] + s_ * q[1][k] for k in (0, 1)]
                return [(1 - t_) * top[k] + t_ * bot[k] for k in (0, 1)]
            p = at(s_, t_)
            e = 1e-6
            du, dv = at(s_ + e, t_), at(s_, t_ + e)
            J = [[(du[0] - p[0]) / e / W, (dv[0] - p[0]) / e / H], [(du[1] - p[1]) / e / W, (dv[1] - p[1]) / e / H]]
            r = [lon - p[0], lat - p[1]]
            det = J[0][0] * J[1][1] - J[0][1] * J[1][0]
            u += (J[1][1] * r[0] - J[0][1] * r[1]) / det
            v += (-J[1][0] * r[0] + J[0][0] * r[1]) / det
        worst = max(worst, abs(u - u0), abs(v - v0))
    assert worst <= 1.0, "an alert lands %.2f overview pixels off in Google Earth" % worst
    print("overlay on %s, alerts within %.3f overview pixels" % (href, worst))


def pdf_text(path):
    import subprocess
    return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True,
                          text=True, check=True).stdout


def cmd_pdf(out, case=None, operator=None):
    import json
    import subprocess
    pdf = out + "/report.pdf"
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    meta = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
    meta = {k.strip(): v.strip() for k, v in meta.items()}
    al = ranked(out)
    pages = int(meta["Pages"])
    run = json.load(open(out + "/run.json"))
    chips, left_out = run["counts"]["chips"], run["counts"]["chips_left_out"]
    # A page or more for each alert with chips; the others share pages.
    assert pages >= 3 + chips + (left_out > 0), "%d pages for %d alerts with chips" % (pages, chips)
    assert "CreationDate" not in meta and "ModDate" not in meta, "a clock in the PDF: " + info
    assert meta.get("Title", "").startswith("Forest-loss evidence report"), meta.get("Title")
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in r.split("  ", 1)[1] for r in rows), "fonts not embedded:\n" + fonts
    text = pdf_text(pdf)
    flat = re.sub(r"\s+", "", text)
    need = [run["run_id"], "GDAL", "PROJ", "cairo", "Limitations", "Method", "Imagecredits"]
    need += [i["sha256"] for i in run["inputs"] if i["sha256"]]
    if case:
        need.append(re.sub(r"\s+", "", case))
        need.append(re.sub(r"\s+", "", operator))
    if left_out:
        cap = run["settings"]["max_chips"]
        need += ["Alertswithoutchips(%d)" % left_out,
                 "forthe%dlargestalerts(--max-chips%d)" % (chips, cap)]
    missing = [n for n in need if n not in flat]
    # Every alert: its page names it; its outer ring's vertices are listed in
    # lat/lon (7 decimals, as alerts.geojson) and in the grid CRS (2 decimals).
    gj = ogr.Open(out + "/alerts.geojson")
    gp = ogr.Open(out + "/alerts.gpkg")
    grid = {f.GetField("id"): f.GetGeometryRef().Clone() for f in gp.GetLayerByName("alerts")}
    nv = 0
    for f in gj.GetLayer(0):
        aid = f.GetField("id")
        if aid not in flat:
            missing.append(aid)
            continue
        g = f.GetGeometryRef()
        poly = g.GetGeometryRef(0) if g.GetGeometryType() in (ogr.wkbMultiPolygon,) else g
        ring = poly.GetGeometryRef(0)
        # The grid ring may start elsewhere: compare sets of vertices.
        gpoly = grid[aid].GetGeometryRef(0)
        gring = gpoly.GetGeometryRef(0)
        for i in range(ring.GetPointCount() - 1):
            lon, lat = ring.GetX(i), ring.GetY(i)
            if ("%.7f" % lat) not in text or ("%.7f" % lon) not in text:
                missing.append("%s vertex %d (%.7f, %.7f)" % (aid, i, lat, lon))
            nv += 1
        for i in range(gring.GetPointCount() - 1):
            x, y = gring.GetX(i), gring.GetY(i)
            if ("%.2f" % x) not in text or ("%.2f" % y) not in text:
                missing.append("%s grid vertex %d (%.2f, %.2f)" % (aid, i, x, y))
    assert not missing, "not in report.pdf: %s" % missing[:8]
    print("%d pages, %d alerts, %d vertices, fonts embedded" % (pages, len(al), nv))


def cmd_kmz_stored(out):
    z = zipfile.ZipFile(out + "/alerts.kmz")
    assert z.testzip() is None
    pngs = [i for i in z.infolist() if i.filename.endswith(".png")]
    assert pngs, "no PNG in alerts.kmz"
    bad = ["%s: compress_type %d" % (i.filename, i.compress_type) for i in pngs
           if i.compress_type != zipfile.ZIP_STORED]
    assert not bad, "recompressed: " + ", ".join(bad)
    print("%d PNGs stored, %d bytes" % (len(pngs), sum(i.file_size for i in pngs)))


def main():
    cmd, out = sys.argv[1], sys.argv[2]
    {"points": cmd_points, "kmz-stored": cmd_kmz_stored, "overview": cmd_overview,
     "overview-labels": cmd_overview_labels, "chips-georef": cmd_chips_georef,
     "kmz-overlay": cmd_kmz_overlay, "pdf": cmd_pdf}[cmd](out, *sys.argv[3:])


if __name__ == "__main__":
    main()
