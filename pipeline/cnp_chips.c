/* pipeline/cnp_chips.c - per-alert evidence chips (placeholder, being written). */
#include "cnp_evidence.h"

cnp_status cnp_evidence_chips(const char *dir, cnp_evidence_ctx *ctx)
{
    (void)dir;
    ctx->chips_written = 0;
    ctx->chips_left_out = 0;
    return CNP_OK;
}
