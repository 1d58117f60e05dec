/* pipeline/monitor/cnp_monitor_log.c - the one JSON line a `canopy monitor` run
 * hands to the CLI, which prints it on stdout (cron appends it to
 * STATE/monitor.log).
 *
 * Inputs' ids, paths and reasons go in as valid UTF-8 (json-c escapes the
 * control characters but passes any other byte on), so the line stays JSON
 * whatever lands in the incoming folder.
 */
#include "cnp_monitor_cmd.h"
#include "cnp_monitor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "cnp_err.h"
#include "cnp_num.h"
#include "cnp_version.h"

static json_object *text(const char *v)
{
    if (cnp_ident_utf8_valid(v))
        return json_object_new_string(v);
    char *u = cnp_ident_utf8_dup(v);
    json_object *j = json_object_new_string(u ? u : "");
    free(u);
    return j;
}

void mon_log_init(mon_log *l, const char *state_dir, const char *started)
{
    memset(l, 0, sizeof *l);
    l->o = json_object_new_object();
    json_object_object_add(l->o, "program", json_object_new_string("canopy"));
    json_object_object_add(l->o, "command", json_object_new_string("monitor"));
    json_object_object_add(l->o, "version", json_object_new_string(cnp_version));
    json_object_object_add(l->o, "state", text(state_dir));
    json_object_object_add(l->o, "started", json_object_new_string(started));
    l->failures = json_object_new_array();
    l->skipped = json_object_new_array();
    l->format_changes = json_object_new_array();
    l->coregistration = json_object_new_array();
    l->corrections = json_object_new_array();
}

void mon_log_str(mon_log *l, const char *k, const char *v)
{
    json_object_object_add(l->o, k, v ? text(v) : NULL);
}

void mon_log_int(mon_log *l, const char *k, int64_t v)
{
    json_object_object_add(l->o, k, json_object_new_int64(v));
}

void mon_log_entry(struct json_object *arr, const char *id, const char *path, const char *key,
                   const char *what, const char *why)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "input", text(id));
    json_object_object_add(e, "path", text(path));
    if (key && *key)
        json_object_object_add(e, "footprint", text(key));
    json_object_object_add(e, what, text(why));
    json_object_array_add(arr, e);
}

/* One zone's share of a run's new alerts. */
typedef struct zone_tally {
    char   *name;
    int64_t alerts;
    double  ha;
} zone_tally;

static int cmp_tally(const void *a, const void *b)
{
    return strcmp(((const zone_tally *)a)->name, ((const zone_tally *)b)->name);
}

/* Entry `e` of a zones list (cnp_zones.h: "name:ha;name:ha", '\' before a
 * ':', ';', '/' or '\' of a name) into name (unescaped) and its hectares;
 * @return where the next entry starts, NULL at the end. */
static const char *next_zone(const char *e, char *name, size_t size, double *ha)
{
    size_t n = 0;
    const char *p = e;
    for (; *p && *p != ':' && *p != ';'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < size)
            name[n++] = *p;
    }
    name[n] = '\0';
    *ha = *p == ':' ? strtod(p + 1, NULL) : 0.0;
    while (*p && *p != ';')
        p++;
    return *p == ';' ? p + 1 : NULL;
}

static cnp_status tally_add(zone_tally **t, size_t *n, size_t *cap, const char *name, double ha)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*t)[i].name, name) == 0) {
            (*t)[i].alerts++;
            (*t)[i].ha += ha;
            return CNP_OK;
        }
    if (cnp_grow((void **)t, cap, *n + 1, sizeof **t, "the zones of new alerts") != CNP_OK)
        return CNP_E_NOMEM;
    if (!((*t)[*n].name = strdup(name)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    (*t)[*n].alerts = 1;
    (*t)[(*n)++].ha = ha;
    return CNP_OK;
}

void mon_log_zones(mon_log *l, const mon_outbox *ob, mon_state *st)
{
    zone_tally *t = NULL;
    size_t n = 0, cap = 0;
    cnp_status s = CNP_OK;
    for (size_t i = 0; i < ob->nnews && s == CNP_OK; i++) {
        const mon_alert *a = strstr(ob->news[i].change, "new") ? mon_state_find_alert(st, ob->news[i].id)
                                                               : NULL;
        char name[512];
        double ha;
        for (const char *e = a && a->zones ? a->zones : NULL; e && s == CNP_OK;) {
            e = next_zone(e, name, sizeof name, &ha);
            s = tally_add(&t, &n, &cap, name, ha);
        }
    }
    if (s == CNP_OK) {
        qsort(t, n, sizeof *t, cmp_tally);
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
            json_object *z = json_object_new_object();
            json_object_object_add(z, "zone", text(t[i].name));
            json_object_object_add(z, "alerts", json_object_new_int64(t[i].alerts));
            json_object_object_add(z, "overlap_ha", json_object_new_double(
                                                        cnp_round_to(t[i].ha, 1e4)));
            json_object_array_add(arr, z);
        }
        json_object_object_add(l->o, "new_alerts_by_zone", arr);
    }
    for (size_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

int mon_log_finish(mon_log *l, const char *status, int exit_code, const char *error)
{
    char finished[32];
    cnp_utc_now(finished);
    mon_log_str(l, "finished", finished);
    mon_log_str(l, "status", status);
    mon_log_int(l, "exit_status", exit_code);
    mon_log_str(l, "error", error);
    mon_log_int(l, "inputs_found", l->found);
    mon_log_int(l, "inputs_already_seen", l->already_seen);
    mon_log_int(l, "scenes_processed", l->processed);
    mon_log_int(l, "scenes_failed", l->failed);
    mon_log_int(l, "scenes_skipped", l->skipped_n);
    mon_log_int(l, "alerts_new", l->counts.alerts_new);
    mon_log_int(l, "alerts_confirmed", l->counts.alerts_confirmed);
    mon_log_int(l, "alerts_rejected", l->counts.alerts_rejected);
    mon_log_int(l, "alerts_grown", l->counts.alerts_grown);
    json_object_object_add(l->o, "failures", l->failures);
    json_object_object_add(l->o, "skipped", l->skipped);
    json_object_object_add(l->o, "format_changes", l->format_changes);
    json_object_object_add(l->o, "coregistration", l->coregistration);
    json_object_object_add(l->o, "corrections", l->corrections);
    if (l->has_aoi)
        mon_log_int(l, "aoi_repaired_polygons", l->aoi_repaired);
    if (l->ev && l->ev->log_line)
        l->ev->log_line(l->ev->arg, json_object_to_json_string_ext(
                                        l->o, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(l->o);
    memset(l, 0, sizeof *l);
    return exit_code;
}
