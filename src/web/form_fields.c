/*
 * form_fields.c — posted fields through the field table; see form_fields.h.
 */
#include "web/form_fields.h"

bool form_field_read(web_ctx *ctx, json_t *data, field_id id, unsigned flags, const char **out)
{
    const field_def *f = field_get(id);
    const char *reason = field_check(ctx->req->arena, id, http_form(ctx->req, f->name), flags, out);
    if (reason == NULL)
        return true;
    page_add_error(data, f->name, f->label, reason);
    return false;
}
