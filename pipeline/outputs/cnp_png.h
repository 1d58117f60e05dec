/* pipeline/outputs/cnp_png.h - evidence and overview PNGs with text metadata (libpng).
 *
 * The only module that includes png.h. Output is deterministic: the same
 * pixels and texts give the same bytes (no tIME chunk, fixed zlib settings),
 * given the same libpng/zlib build.
 */
#ifndef CNP_PNG_H
#define CNP_PNG_H

#include <stddef.h>

#include "cnp_draw.h"
#include "cnp_status.h"

/* One text chunk. key: 1..79 printable ASCII characters without leading,
 * trailing or doubled spaces (PNG keyword rules; e.g. "Title", "Software",
 * "Source", "Description"). value: any NUL-terminated string; written as UTF-8
 * (a byte that is not valid UTF-8, as in some file names, becomes U+FFFD). */
typedef struct cnp_png_text { const char *key, *value; } cnp_png_text;

/* cnp_png_write_rgb() :
 * Writes img as an 8-bit RGB, non-interlaced PNG to `path`, creating or
 * truncating it. The caller passes a temporary name and renames it into place
 * on success; on failure the partial file is removed (only if it is a regular
 * file: writing to a device such as /dev/stdout never unlinks it).
 * Text chunks go before the image data, in the given order:
 *   value all ASCII and <= 1024 bytes  -> tEXt (readable with `strings`);
 *   otherwise (any byte >= 0x80, e.g. a UTF-8 path or "°")
 *                                      -> iTXt, UTF-8, uncompressed;
 *   longer than 1024 bytes             -> iTXt, zlib-compressed.
 * (UTF-8 is never squeezed into tEXt's Latin-1, so readers that assume
 * UTF-8 see the right characters.)
 * text may be NULL when ntext == 0.
 * @return CNP_OK;
 *         CNP_E_ARG for an invalid view (NULL, non-positive size,
 *           stride < 3 * width), a NULL key/value or an invalid key (nothing
 *           is created);
 *         CNP_E_IO when the file cannot be created or written, or libpng
 *           fails; the message (cnp_err_msg()) names the path and libpng's or
 *           the system's reason. */
cnp_status cnp_png_write_rgb(const char *path, const cnp_rgb8 *img,
                             const cnp_png_text *text, size_t ntext);

/* How an image is compressed (the pixels read back the same either way). */
typedef enum cnp_png_kind {
    CNP_PNG_IMAGERY = 0,      /* SUB filter, zlib level 1 run-length matches only:
                               * fast on imagery and on a quicklook's flat areas */
    CNP_PNG_ZOOMED            /* each row repeated (a chip zoomed Z times shows a
                               * scene row as Z equal rows): UP filter, which
                               * turns the copies into zeros, and level 1 with
                               * full LZ77 matches. On 150 demo-style chips:
                               * 5.8 MB in 2.0 s against 26 MB in 2.3 s       */
} cnp_png_kind;

/* cnp_png_write_rgb_as() :
 * cnp_png_write_rgb() with the compression for `kind` (cnp_png_write_rgb
 * writes CNP_PNG_IMAGERY). */
cnp_status cnp_png_write_rgb_as(const char *path, const cnp_rgb8 *img,
                                const cnp_png_text *text, size_t ntext, cnp_png_kind kind);

#endif /* CNP_PNG_H */
