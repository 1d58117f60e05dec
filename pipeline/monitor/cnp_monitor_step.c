/* pipeline/monitor/cnp_monitor_step.c - one scene applied to one footprint:
 * which footprint it belongs to (by its product's name, or the grid it
 * overlaps most), the footprint's grid when it is new, the scene put onto
 * that grid, the pass (cnp_monitor_pass.c) and the alert records
 * (cnp_monitor_alerts.c); a failed step is undone entirely.
 */
#include "cnp_monitor_pass.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_footprint.h"
#include "cnp_geom.h"

static int32_t date_num(const char *d)
{
    int y, m, dd;
    return sscanf(d, "%4d-%2d-%2d", &y, &m, &dd) == 3 ? y * 10000 + m * 100 + dd : 0;
}

/* The footprint grid of a first scene: its own, or [grid] t_srs / tr. */
static cnp_status first_grid(mon_ctx *c, const mon_input *in, cnp_scene *sc, mon_fp *fp)
{
    const cnp_settings *s = c->s;
    cnp_scene tmp;
    int win[4];
    cnp_status st = CNP_OK;
    const cnp_scene *g = sc;

    memset(&tmp, 0, sizeof tmp);
    if (s->grid_t_srs[0] || s->grid_tr > 0) {
        if ((st = cnp_scene_open(&tmp, "SCENE", in->path, in->mask, s, in->date_option)) !=
                CNP_OK ||
            (st = cnp_scene_align(&tmp, sc, win)) != CNP_OK)
            goto done;
    }
    fp->wkt = strdup(g->wkt);
    memcpy(fp->gt, g->gt, sizeof fp->gt);
    fp->width = g->width;
    fp->height = g->height;
    if (!fp->wkt)
        st = cnp_err(CNP_E_NOMEM, "out of memory");
done:
    cnp_scene_free(&tmp);
    return st;
}

/* --forest-mask, --exclude and --aoi on the footprint's grid (as detect's,
 * io/cnp_ctxmask.h); `win`, the scene's part of the grid, shrinks to the
 * area of interest. */
static cnp_status open_context(const mon_ctx *c, const mon_fp *fp, int win[4], cnp_ctxmask **m)
{
    cnp_status st = cnp_ctxmask_open(c->ctx, fp->wkt, fp->gt, fp->width, fp->height, m);
    if (st == CNP_OK && c->aoi) {
        cnp_geometry *aoi = NULL;
        int64_t repaired = 0;
        st = cnp_ctxmask_open_aoi(c->aoi, "the scene", fp->wkt, fp->gt, win, &aoi, &repaired, m);
        cnp_geometry_free(aoi);
        if (c->aoi_repaired && repaired > *c->aoi_repaired)
            *c->aoi_repaired = repaired;
    }
    return st;
}

/* Long: one scene's step with its undo: every exit goes through the same
 * clean-up, which a split would have to hand around. */
cnp_status mon_step_scene(mon_ctx *c, const mon_input *in, const char **outcome, char *reason,
                          size_t rsize, char *fp_key, size_t ksize, mon_step_counts *counts)
{
    cnp_scene sc, ref;
    mon_fp *fp = NULL;
    cnp_ctxmask *ctxm = NULL;
    cnp_coreg_summary coreg;
    int created = 0, win[4] = { 0 };
    mon_step s;
    cnp_status st;
    mon_step_counts sc_counts = { 0 };

    memset(&sc, 0, sizeof sc);
    memset(&ref, 0, sizeof ref);
    memset(&s, 0, sizeof s);
    *outcome = "failed";
    reason[0] = '\0';
    fp_key[0] = '\0';

    if ((st = cnp_scene_open(&sc, "SCENE", in->path, in->mask, c->s, in->date_option)) !=
        CNP_OK) {
        snprintf(reason, rsize, "%s", cnp_err_msg());
        st = CNP_OK;
        goto out;
    }
    if (!sc.date[0] || date_num(sc.date) <= 0) {
        snprintf(reason, rsize, "'%s': no acquisition date", in->path);
        goto out;
    }

    /* Its footprint: by name, else the grid footprint it overlaps most. */
    if (in->fp_key[0]) {
        fp = mon_state_find_fp(c->st, in->fp_key);
    } else {
        double best = 0.1;
        for (size_t i = 0; i < c->st->nfps; i++) {
            if (strncmp(c->st->fps[i].key, "grid-", 5) != 0)
                continue;
            const mon_fp *g = &c->st->fps[i];
            const double f = cnp_crs_overlap_fraction(sc.wkt, sc.gt, sc.width, sc.height, g->wkt,
                                                      g->gt, g->width, g->height);
            if (f > best) {
                best = f;
                fp = &c->st->fps[i];
            }
        }
    }
    if (!fp) {
        if ((st = mon_state_add_fp(c->st, &fp)) != CNP_OK)
            goto out;
        created = 1;
        if ((st = first_grid(c, in, &sc, fp)) != CNP_OK) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
            goto out;
        }
        if (in->fp_key[0]) {
            snprintf(fp->key, sizeof fp->key, "%s", in->fp_key);
            snprintf(fp->name, sizeof fp->name, "%s", in->fp_name);
        } else {
            if ((st = cnp_footprint_key(NULL, sc.wkt, sc.gt, sc.width, sc.height, fp->key,
                                        sizeof fp->key, in->path)) != CNP_OK)
                goto out;
            snprintf(fp->name, sizeof fp->name, "rasters overlapping %.100s", in->id);
        }
        /* Re-open: first_grid may have warped it. */
        cnp_scene_free(&sc);
        if ((st = cnp_scene_open(&sc, "SCENE", in->path, in->mask, c->s, in->date_option)) !=
            CNP_OK) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
            goto out;
        }
    }
    snprintf(fp_key, ksize, "%s", fp->key);

    if (fp->last_date[0] && strcmp(sc.date, fp->last_date) < 0) {
        *outcome = "skipped";
        snprintf(reason, rsize, "acquired %s, before the last scene applied to footprint %s "
                 "(%s, %s): scenes are applied in date order", sc.date, fp->key, fp->last_scene,
                 fp->last_date);
        goto out;
    }

    /* Onto the footprint's grid. */
    if ((st = cnp_scene_open_grid(&ref, "FOOTPRINT", fp->wkt, fp->gt, fp->width, fp->height,
                                  c->s)) != CNP_OK)
        goto out;
    if ((st = cnp_scene_align(&sc, &ref, win)) != CNP_OK) {
        snprintf(reason, rsize, "footprint %s: %s", fp->key, cnp_err_msg());
        st = CNP_OK;
        goto out;
    }
    if ((st = open_context(c, fp, win, &ctxm)) != CNP_OK) {
        snprintf(reason, rsize, "footprint %s: %s", fp->key, cnp_err_msg());
        st = CNP_OK;
        goto out;
    }
    /* Put on the footprint's baseline (or refused) before the pass reads it. */
    int coreg_state = 0;
    if ((st = mon_coreg_scene(c, fp, &sc, win, &coreg, &coreg_state)) != CNP_OK) {
        if (coreg_state)
            goto out;
        snprintf(reason, rsize, "%s", cnp_err_msg());   /* as the pass's read errors */
        st = CNP_OK;
        goto out;
    }

    s.c = c;
    s.fp = fp;
    s.in = in;
    s.sc = &sc;
    memcpy(s.win, win, sizeof win);
    s.date = date_num(sc.date);
    s.threads = c->s->threads;
    s.ctxm = ctxm;
    if ((st = mon_norm_open(c, fp, &sc, win, &s.norm)) != CNP_OK)
        goto out;
    snprintf(s.dir, sizeof s.dir, "%s/%s/step%04d", c->work_dir, fp->key, fp->nsteps + 1);
    if ((st = cnp_fs_mkdirs(s.dir)) != CNP_OK)
        goto out;

    /* Alert records change in place: keep a copy to restore on failure. */
    const size_t nalerts0 = fp->nalerts;
    mon_alert *saved = nalerts0 ? malloc(nalerts0 * sizeof *saved) : NULL;
    const size_t nobs0 = c->ob->nobs, ntouch0 = c->ob->ntouched, nnews0 = c->ob->nnews;
    if (nalerts0 && !saved) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto out;
    }
    if (nalerts0)
        memcpy(saved, fp->alerts, nalerts0 * sizeof *saved);
    for (size_t i = 0; i < nalerts0; i++)
        saved[i].geom_hex = saved[i].zones = NULL;
    for (size_t i = 0; i < nalerts0 && st == CNP_OK; i++)
        if ((fp->alerts[i].geom_hex && !(saved[i].geom_hex = strdup(fp->alerts[i].geom_hex))) ||
            (fp->alerts[i].zones && !(saved[i].zones = strdup(fp->alerts[i].zones))))
            st = cnp_err(CNP_E_NOMEM, "out of memory");

    uint32_t old_next = 0, new_next = 0;
    if (st == CNP_OK)
        st = mon_pass_run(&s, &old_next, &new_next);
    const int scene_error = s.scene_failed && !s.state_failed;
    if (st == CNP_OK)
        st = mon_alerts_finish(&s, old_next, new_next, &sc_counts);
    cnp_tilestore *store = NULL;
    char corr_note[400];
    mon_norm_note(s.norm, corr_note, sizeof corr_note);
    if (st == CNP_OK) {         /* the step's state is now the footprint's */
        store = s.store;
        s.store = NULL;
    }
    mon_pass_free(&s);
    mon_norm_free(&s.norm);
    memset(&s, 0, sizeof s);
    if (st != CNP_OK) {
        /* Undo: the alert records, the outbox rows, the step folder. */
        for (size_t i = 0; i < fp->nalerts; i++) {
            free(fp->alerts[i].geom_hex);
            free(fp->alerts[i].zones);
        }
        if (nalerts0)
            memcpy(fp->alerts, saved, nalerts0 * sizeof *saved);
        fp->nalerts = nalerts0;
        free(saved);
        c->ob->nobs = nobs0;
        c->ob->ntouched = ntouch0;
        c->ob->nnews = nnews0;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s/step%04d", c->work_dir, fp->key, fp->nsteps + 1);
        cnp_fs_remove_tree(dir);
        if (scene_error) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
        }
        goto out;
    }
    for (size_t i = 0; i < nalerts0; i++) {
        free(saved[i].geom_hex);
        free(saved[i].zones);
    }
    free(saved);

    /* The step's state is now the footprint's; an earlier step's goes. */
    if (fp->store) {
        cnp_tilestore_close(&fp->store, 1);
        cnp_fs_remove_tree(fp->step_dir);
    }
    fp->store = store;
    fp->hist_k = mon_hist_planes(c->s);
    snprintf(fp->step_dir, sizeof fp->step_dir, "%s/%s/step%04d", c->work_dir, fp->key,
             fp->nsteps + 1);
    fp->nsteps++;
    fp->touched = 1;
    if (fp->format[0] && strcmp(fp->format, in->format) != 0)
        snprintf(reason, rsize, "format changed: %s -> %s", fp->format, in->format);
    snprintf(fp->format, sizeof fp->format, "%s", in->format);
    snprintf(fp->last_date, sizeof fp->last_date, "%s", sc.date);
    snprintf(fp->last_scene, sizeof fp->last_scene, "%s", in->id);
    counts->alerts_new += sc_counts.alerts_new;
    counts->alerts_confirmed += sc_counts.alerts_confirmed;
    counts->alerts_rejected += sc_counts.alerts_rejected;
    counts->alerts_grown += sc_counts.alerts_grown;
    *outcome = "processed";
    created = 0;
    char note[300];
    mon_coreg_note(&coreg, note, sizeof note);
    if (note[0])
        mon_log_entry(c->coreg_log, in->id, in->path, fp->key, "coregistration", note);
    if (corr_note[0])
        mon_log_entry(c->corr_log, in->id, in->path, fp->key, "corrections", corr_note);

out:
    mon_norm_free(&s.norm);
    if (created && st == CNP_OK) {
        /* A footprint that never got a scene is not kept. */
        free(fp->wkt);
        free(fp->alerts);
        c->st->nfps--;
    }
    cnp_ctxmask_close(&ctxm);
    cnp_scene_free(&ref);
    cnp_scene_free(&sc);
    return st;
}
