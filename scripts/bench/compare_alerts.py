#!/usr/bin/python3
"""scripts/bench/compare_alerts.py - do the benchmark's pipelines find the same alerts?

Usage: compare_alerts.py CANOPY.gpkg NAME=OTHER.gpkg [NAME=OTHER.gpkg ...]

Reads canopy's alerts.gpkg and each baseline's polygons (features with DN = 1
when the layer has a DN field), and matches polygons by their envelope: a
clearing found by two pipelines covers the same pixels, so it has the same
bounding box even when one of them filled a hole. Areas are planar, in the
scene CRS (canopy's own area_ha is geodesic, so it is not used here).

Prints a Markdown table, one row per baseline: polygon counts, total area,
polygons matched with equal area, matched but larger in the baseline (holes
filled by the sieve: gdal_sieve / rasterio sieve also merge background regions
under 50 pixels into the clearing around them, canopy keeps them as holes),
other differences, and polygons found by one side only.
Exit status: 0 when every baseline has canopy's polygon count and envelopes,
1 otherwise, 2 on usage error.
"""
import sys

from osgeo import ogr

ogr.UseExceptions()
EPS_M2 = 0.5


def polygons(path):
    """[(envelope, planar area m2)] of the alert polygons in the first layer of path."""
    ds = ogr.Open(path)
    if ds is None:
        raise SystemExit("compare_alerts: cannot open %s" % path)
    lyr = ds.GetLayer(0)
    dn = lyr.GetLayerDefn().GetFieldIndex("DN")
    out = []
    for f in lyr:
        if dn >= 0 and f.GetField(dn) != 1:
            continue
        g = f.GetGeometryRef()
        env = tuple(round(v, 3) for v in g.GetEnvelope())
        out.append((env, g.GetArea()))
    return out


def compare(ref, other):
    by_env = {}
    for env, area in other:
        by_env.setdefault(env, []).append(area)
    same = larger = differ = only_ref = 0
    extra_m2 = 0.0
    for env, area in ref:
        cands = by_env.get(env)
        if not cands:
            only_ref += 1
            continue
        a = cands.pop()
        if abs(a - area) <= EPS_M2:
            same += 1
        elif a > area:
            larger += 1
            extra_m2 += a - area
        else:
            differ += 1
    only_other = sum(len(v) for v in by_env.values())
    return same, larger, extra_m2, differ, only_ref, only_other


def main(argv):
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ref = polygons(argv[1])
    ref_ha = sum(a for _, a in ref) / 1e4
    print("| pipeline | polygons | total area (ha, planar) | same polygon, same area | "
          "same polygon, larger (holes filled) | other area difference | only in canopy | "
          "only in this pipeline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("| canopy | %d | %.2f | - | - | - | - | - |" % (len(ref), ref_ha))
    status = 0
    for arg in argv[2:]:
        name, path = arg.split("=", 1)
        other = polygons(path)
        same, larger, extra, differ, only_ref, only_other = compare(ref, other)
        other_ha = sum(a for _, a in other) / 1e4
        print("| %s | %d | %.2f (%+.2f) | %d | %d (+%.2f ha) | %d | %d | %d |"
              % (name, len(other), other_ha, other_ha - ref_ha, same, larger, extra / 1e4,
                 differ, only_ref, only_other))
        if len(other) != len(ref) or only_ref or only_other:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
