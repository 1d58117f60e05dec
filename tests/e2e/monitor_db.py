#!/usr/bin/python3
"""tests/e2e/monitor_db.py - read a `canopy monitor` database for the tests.

  monitor_db.py dump CONN [--runs]     canonical text of the tables, row by
                                       row, sorted: alerts (every attribute,
                                       geometry as WKT), observations, scenes
                                       (no path or generation: they differ
                                       between run schedules); --runs adds the
                                       runs table without its timestamps
  monitor_db.py check CONN TRUTH       the series' expected outcomes
                                       (scripts/make-series.py truth.json)
  monitor_db.py owns STATE CONN        every alert of the state folder STATE is
                                       in the database as the state has it, and
                                       no generation has two `runs` rows

CONN is a GeoPackage path or a PG: connection string.
"""
import json
import os
import sys

from osgeo import ogr

ogr.UseExceptions()


def rows(ds, table, skip=()):
    lyr = ds.GetLayerByName(table)
    if lyr is None:
        raise SystemExit("no table %s" % table)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    out = []
    for f in lyr:
        r = {n: f.GetField(n) for n in names if n not in skip}
        g = f.GetGeometryRef()
        if g is not None:
            r["geometry"] = g.ExportToIsoWkt()
        out.append(r)
    return out


def fmt(r):
    return " | ".join("%s=%s" % (k, r[k]) for k in sorted(r))


def dump(conn, with_runs):
    ds = ogr.Open(conn)
    lines = []
    for r in sorted(rows(ds, "alerts"), key=lambda r: r["id"]):
        lines.append("alert " + fmt(r))
    for r in sorted(rows(ds, "observations"),
                    key=lambda r: (r["alert_id"], str(r["date"]), r["scene_id"])):
        lines.append("observation " + fmt(r))
    for r in sorted(rows(ds, "scenes", skip=("path", "generation")),
                    key=lambda r: (r["scene_id"], r["status"], r["reason"] or "")):
        lines.append("scene " + fmt(r))
    if with_runs:
        for r in sorted(rows(ds, "runs", skip=("started", "finished")),
                        key=lambda r: r["generation"]):
            lines.append("run " + fmt(r))
    return lines


def check(conn, truth_path):
    truth = json.load(open(truth_path))
    ds = ogr.Open(conn)
    alerts = rows(ds, "alerts")
    obs = rows(ds, "observations")
    errors = []
    if len(alerts) != truth["alerts"]:
        errors.append("%d alerts, expected %d" % (len(alerts), truth["alerts"]))

    def day(v):
        return v.replace("/", "-") if v else None

    # Match alerts to events by first detection date and size.
    exp = truth["expected"]
    by_id = {a["id"]: a for a in alerts}
    obs_of = {}
    for o in obs:
        obs_of.setdefault(o["alert_id"], []).append(o)
    found = {}
    for name, e in exp.items():
        want_px = e.get("pixels", 100)
        cands = [a for a in alerts if day(a["first_detected"]) == e["first_detected"] and
                 a["status"] == e["status"] and a["pixels"] == want_px and
                 day(a["confirmed_at"]) == e.get("confirmed_at") and
                 day(a["rejected_at"]) == e.get("rejected_at") and
                 a["id"] not in found.values()]
        if e.get("cloudy_on"):
            cands = [a for a in cands
                     if any(day(o["date"]) == e["cloudy_on"] and o["status"] == "cloudy"
                            for o in obs_of.get(a["id"], []))]
        if len(cands) != 1:
            errors.append("%s: %d matching alerts (first_detected %s, status %s, %d px, "
                          "confirmed_at %s, rejected_at %s)" %
                          (name, len(cands), e["first_detected"], e["status"], want_px,
                           e.get("confirmed_at"), e.get("rejected_at")))
            continue
        a = cands[0]
        found[name] = a["id"]
        for k in ("confirmed_at", "rejected_at"):
            if day(a[k]) != e.get(k):
                errors.append("%s: %s %s, expected %s" % (name, k, day(a[k]), e.get(k)))
        for d in e.get("grew_on", []):
            if not any(day(o["date"]) == d and "grew" in o["effect"] for o in obs_of[a["id"]]):
                errors.append("%s: no 'grew' observation on %s" % (name, d))
        if e["status"] == "rejected":
            if not any(day(o["date"]) == e["rejected_at"] and "rejected" in o["effect"]
                       for o in obs_of[a["id"]]):
                errors.append("%s: no 'rejected' observation on %s" % (name, e["rejected_at"]))
        trig = [o for o in obs_of[a["id"]] if "triggered" in o["effect"]]
        if len(trig) != 1 or day(trig[0]["date"]) != e["first_detected"]:
            errors.append("%s: triggered %d times" % (name, len(trig)))
        g = ogr.CreateGeometryFromWkt(a["geometry"])
        if not g.IsValid():
            errors.append("%s: invalid geometry" % name)
    if errors:
        print("\n".join(errors))
        return 1
    return 0


def owns(state, conn):
    gen = json.load(open(os.path.join(state, "CURRENT")))["generation"]
    ds = ogr.Open(conn)
    errors = []
    gens = [r["generation"] for r in rows(ds, "runs")]
    twice = sorted(set(g for g in gens if gens.count(g) > 1))
    if twice:
        errors.append("generations with two runs rows: %s" % twice)
    if gen == 0:
        return report(errors)
    st = json.load(open(os.path.join(state, "state", "g%08d" % gen, "state.json")))
    by_id = {a["id"]: a for a in rows(ds, "alerts")}
    words = {1: "probable", 2: "confirmed", 3: "rejected"}
    for fp in st["footprints"]:
        for a in fp["alerts"]:
            r = by_id.get(a["id"])
            if r is None:
                errors.append("alert %s of the state is not in the database" % a["id"])
                continue
            want = {"footprint": fp["key"], "status": words[a["status"]],
                    "n_observations": a["n_observations"], "pixels": a["pixels"],
                    "last_observed": a["last_observed"] or ""}
            got = dict(want, **{k: r[k] for k in want})
            got["last_observed"] = (got["last_observed"] or "").replace("/", "-")
            if got != want:
                errors.append("alert %s: database %s, state %s" % (a["id"], got, want))
    return report(errors)


def report(errors):
    if errors:
        print("\n".join(errors))
        return 1
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        print("\n".join(dump(sys.argv[2], "--runs" in sys.argv[3:])))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "owns":
        return owns(sys.argv[2], sys.argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
