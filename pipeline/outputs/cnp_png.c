/* pipeline/outputs/cnp_png.c - RGB8 PNG writer with tEXt/iTXt metadata.
 *
 * libpng's classic API, because the simplified png_image API (STYLE §8) cannot
 * write text chunks. libpng reports errors by longjmp: the error callback
 * records the reason and png_longjmp()s back into write_png(), the one
 * function that calls setjmp. Its locals that change after setjmp are
 * volatile; the FILE and the message buffer live in the caller's frame, which
 * longjmp does not touch. Writes go through our own callback so that a full
 * disk is reported with errno's text instead of libpng's bare "Write Error".
 */
#include "cnp_png.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <png.h>
#include <zlib.h>            /* Z_RLE */

#include "cnp_err.h"
#include "cnp_ident.h"

/* Values longer than this go into a compressed iTXt chunk. */
#define TEXT_INLINE_MAX 1024
/* Fixed zlib level for pixels and compressed text: output is a function of
 * the input alone, not of libpng's defaults. */
#define ZLIB_LEVEL 6
/* Pixels: level 1 with run-length matches only (Z_RLE) compresses a 2048 x
 * 2048 quicklook several times faster than level 6 for some more bytes: after
 * the SUB filter, image noise leaves few long matches to find, and the
 * hatching and flat areas are runs. */
#define ZLIB_LEVEL_PIXELS 1

typedef struct png_ctx {
    FILE *fp;
    cnp_png_kind kind;
    char  msg[256];
    char  warning[128];                  /* last libpng warning, for context */
} png_ctx;

/* libpng often states the cause as a warning just before a generic error
 * ("Image width exceeds user limit in IHDR", then "Invalid IHDR data"), so
 * the last warning is appended to the error. Warnings are never printed:
 * only main() prints. */
static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    if (ctx) {
        if (!msg)
            msg = "unknown libpng error";
        if (ctx->warning[0])
            snprintf(ctx->msg, sizeof ctx->msg, "%s (%s)", msg, ctx->warning);
        else
            snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    }
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    if (ctx && msg)
        snprintf(ctx->warning, sizeof ctx->warning, "%s", msg);
}

static void on_png_write(png_structp png, png_bytep data, size_t len)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fwrite(data, 1, len, ctx->fp) != len) {
        ctx->warning[0] = '\0';         /* errno says it all */
        png_error(png, strerror(errno));
    }
}

static void on_png_flush(png_structp png)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fflush(ctx->fp) != 0) {
        ctx->warning[0] = '\0';
        png_error(png, strerror(errno));
    }
}

/* PNG keyword rules (PNG spec 11.3.4.2), restricted to printable ASCII since
 * keys are Latin-1 and ours are English. NULL when valid, else the reason. */
static const char *key_problem(const char *key)
{
    const size_t n = strlen(key);
    if (n == 0 || n > 79)
        return "must be 1 to 79 characters";
    for (size_t i = 0; i < n; i++)
        if (key[i] < 32 || key[i] > 126)
            return "must be printable ASCII";
    if (key[0] == ' ' || key[n - 1] == ' ' || strstr(key, "  "))
        return "must not start or end with a space or contain two in a row";
    return NULL;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* libpng's png_text has non-const pointers but png_set_text() copies the
 * strings: the cast through uintptr_t is safe and keeps -Wcast-qual quiet. */
static png_charp unconst(const char *s)
{
    return (png_charp)(uintptr_t)s;
}

/* Everything that can longjmp. Returns true on success; on failure
 * ctx->msg holds the reason and every libpng object has been freed. */
static bool write_png(png_ctx *ctx, const cnp_rgb8 *img,
                      const cnp_png_text *text, size_t ntext)
{
    png_structp volatile png = NULL;
    png_infop volatile info = NULL;
    png_textp volatile chunks = NULL;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error,
                                  on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create the libpng writer");
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_structp p = png;
        png_infop i = info;
        png_destroy_write_struct(&p, &i);
        free(chunks);
        return false;
    }

    info = png_create_info_struct(png);
    if (!info)
        png_error(png, "out of memory");
    png_set_write_fn(png, ctx, on_png_write, on_png_flush);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, ZLIB_LEVEL_PIXELS);
    png_set_compression_strategy(png, ctx->kind == CNP_PNG_ZOOMED ? Z_DEFAULT_STRATEGY : Z_RLE);
    /* One filter, not libpng's per-row trial of all five: SUB suits smooth
     * imagery and costs a fraction of the adaptive search (a trial of SUB
     * and UP alone made the chips 20 % slower to write); UP turns the
     * repeated rows of a zoomed chip into zeros. */
    png_set_filter(png, PNG_FILTER_TYPE_BASE,
                   ctx->kind == CNP_PNG_ZOOMED ? PNG_FILTER_UP : PNG_FILTER_SUB);
    png_set_text_compression_level(png, ZLIB_LEVEL);

    if (ntext > 0) {
        chunks = calloc(ntext, sizeof *chunks);
        if (!chunks)
            png_error(png, "out of memory");
        for (size_t i = 0; i < ntext; i++) {
            png_text *t = &chunks[i];
            const size_t len = strlen(text[i].value);
            t->key = unconst(text[i].key);
            t->text = unconst(text[i].value);
            if (len > TEXT_INLINE_MAX)
                t->compression = PNG_ITXT_COMPRESSION_zTXt;
            else if (!is_ascii(text[i].value))
                t->compression = PNG_ITXT_COMPRESSION_NONE;
            else
                t->compression = PNG_TEXT_COMPRESSION_NONE;     /* tEXt */
            /* iTXt: language tag and translated keyword stay empty. */
        }
        png_set_text(png, info, chunks, (int)ntext);
        png_textp done = chunks;
        chunks = NULL;
        free(done);
    }

    png_write_info(png, info);
    for (int32_t y = 0; y < img->height; y++)
        png_write_row(png, img->px + (ptrdiff_t)y * img->stride);
    png_write_end(png, NULL);

    png_structp p = png;
    png_infop i = info;
    png_destroy_write_struct(&p, &i);
    return true;
}

static cnp_status write_file(const char *path, const cnp_rgb8 *img, const cnp_png_text *text,
                             size_t ntext, cnp_png_kind kind);

cnp_status cnp_png_write_rgb(const char *path, const cnp_rgb8 *img,
                             const cnp_png_text *text, size_t ntext)
{
    return cnp_png_write_rgb_as(path, img, text, ntext, CNP_PNG_IMAGERY);
}

cnp_status cnp_png_write_rgb_as(const char *path, const cnp_rgb8 *img,
                                const cnp_png_text *text, size_t ntext, cnp_png_kind kind)
{
    if (!path || !*path)
        return cnp_err(CNP_E_ARG, "PNG: no output path");
    if (!img || !img->px || img->width <= 0 || img->height <= 0 ||
        img->stride < 3 * (ptrdiff_t)img->width)
        return cnp_err(CNP_E_ARG, "PNG '%s': invalid image view", path);
    if (ntext > 0 && !text)
        return cnp_err(CNP_E_ARG, "PNG '%s': %zu text chunks but no array", path, ntext);
    if (ntext > INT_MAX)
        return cnp_err(CNP_E_ARG, "PNG '%s': too many text chunks", path);
    for (size_t i = 0; i < ntext; i++) {
        const char *why;
        if (!text[i].key || !text[i].value)
            return cnp_err(CNP_E_ARG, "PNG '%s': text chunk %zu has no key or value",
                           path, i);
        if ((why = key_problem(text[i].key)) != NULL)
            return cnp_err(CNP_E_ARG, "PNG '%s': text key '%.79s': %s", path,
                           text[i].key, why);
    }
    /* Values describe inputs, and a path's bytes need not be UTF-8: iTXt
     * gets valid UTF-8, each invalid byte as U+FFFD (base/cnp_ident). */
    cnp_png_text *tx = ntext ? calloc(ntext, sizeof *tx) : NULL;
    char **own = ntext ? calloc(ntext, sizeof *own) : NULL;
    bool nomem = ntext && (!tx || !own);
    for (size_t i = 0; i < ntext && !nomem; i++) {
        tx[i] = text[i];
        if (!cnp_ident_utf8_valid(text[i].value))
            nomem = !(tx[i].value = own[i] = cnp_ident_utf8_dup(text[i].value));
    }
    const cnp_status st = nomem ? cnp_err(CNP_E_NOMEM, "PNG '%s': out of memory", path)
                                : write_file(path, img, tx, ntext, kind);
    for (size_t i = 0; own && i < ntext; i++)
        free(own[i]);
    free(own);
    free(tx);
    return st;
}

static cnp_status write_file(const char *path, const cnp_rgb8 *img, const cnp_png_text *text,
                             size_t ntext, cnp_png_kind kind)
{
    png_ctx ctx = { .fp = fopen(path, "wb"), .kind = kind };
    if (!ctx.fp)
        return cnp_err(CNP_E_IO, "cannot create PNG '%s': %s", path, strerror(errno));
    /* Only unlink what can be a partial file of ours, never a device. */
    struct stat sb;
    const bool regular = fstat(fileno(ctx.fp), &sb) == 0 && S_ISREG(sb.st_mode);

    bool ok = write_png(&ctx, img, text, ntext);
    /* The last buffered bytes reach the disk only now: check both steps. */
    if (ok && fflush(ctx.fp) != 0) {
        snprintf(ctx.msg, sizeof ctx.msg, "%s", strerror(errno));
        ok = false;
    }
    if (fclose(ctx.fp) != 0 && ok) {
        snprintf(ctx.msg, sizeof ctx.msg, "%s", strerror(errno));
        ok = false;
    }
    if (!ok) {
        if (regular)
            remove(path);
        return cnp_err(CNP_E_IO, "writing PNG '%s': %s", path, ctx.msg);
    }
    return CNP_OK;
}
