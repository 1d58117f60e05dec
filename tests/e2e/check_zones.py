"""check_zones.py OUTDIR ZONES: the overlaps a run with --zones ZONES wrote
are those OGR finds: each alert_zones row's overlap_ha is the alert's
(geodesic) area times the share of its outline the zone covers (planar, in
the scene's CRS: over a few hundred metres the scale does not change), the
alerts' zones lists and zones.csv agree with alert_zones."""
import csv
import json
import sys
from osgeo import ogr, osr

out, zpath = sys.argv[1], sys.argv[2]
ds = ogr.Open(out + "/alerts.gpkg")
alerts = {f["id"]: (f["area_ha"], f.GetGeometryRef().Clone(), f["zones"])
          for f in ds.GetLayer("alerts")}
rows = [(f["alert_id"], f["layer"], f["zone"], f["overlap_ha"])
        for f in ds.GetLayer("alert_zones")]
scene_srs = ds.GetLayer("alerts").GetSpatialRef()
scene_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
zds = ogr.Open(zpath)
zl = zds.GetLayer(0)
zsrs = zl.GetSpatialRef()
zsrs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(zsrs, scene_srs)
zones = {}
for f in zl:
    g = f.GetGeometryRef().Clone()
    g.Transform(ct)
    zones[f["name"]] = g if g.IsValid() else g.MakeValid()

bad = []
expect = {}
for aid, (ha, ag, _) in alerts.items():
    for name, zg in zones.items():
        inter = ag.Intersection(zg)
        if inter is not None and inter.GetArea() > 0:
            share = inter.GetArea() / ag.GetArea()
            if round(ha * share, 4) > 0:
                expect[(aid, name)] = ha * share
got = {(a, z): h for a, _, z, h in rows}
if set(got) != set(expect):
    bad.append(f"alert_zones pairs {sorted(got)} != OGR's {sorted(expect)}")
for k, v in expect.items():
    if k in got and abs(got[k] - v) > max(5e-4, 2e-4 * v):
        bad.append(f"{k}: overlap {got[k]} ha, OGR says {v:.5f}")
# The list field says the same as the table.
for aid, (_, _, text) in alerts.items():
    mine = ";".join(f"{z.replace(';', chr(92) + ';')}:{h:.4f}"
                    for a, _, z, h in rows if a == aid)
    if (text or "") != mine:
        bad.append(f"{aid}: zones field {text!r} != {mine!r}")
with open(out + "/alerts.csv", newline="") as fh:
    for r in csv.DictReader(fh):
        if r["zones"] != (alerts[r["id"]][2] or ""):
            bad.append(f"alerts.csv {r['id']}: {r['zones']!r}")
gj = json.load(open(out + "/alerts.geojson"))
for feat in gj["features"]:
    p = feat["properties"]
    if p.get("zones") != alerts[p["id"]][2]:
        bad.append(f"alerts.geojson {p['id']}: {p.get('zones')!r}")
# zones.csv: per zone, its alerts and the sum of their overlaps.
with open(out + "/zones.csv", newline="") as fh:
    for r in csv.DictReader(fh):
        mine = [h for a, _, z, h in rows if z == r["zone"]]
        if int(r["alerts"]) != len(mine) or abs(float(r["area_ha"]) - sum(mine)) > 1e-6:
            bad.append(f"zones.csv {r['zone']}: {r['alerts']} alerts {r['area_ha']} ha, "
                       f"alert_zones {len(mine)} {sum(mine)}")
print("\n".join(bad) if bad else f"{len(rows)} overlaps as OGR finds them")
sys.exit(1 if bad else 0)
