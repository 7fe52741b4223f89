/*
 * system.c — operational endpoints (/healthz, /metrics), the embedded stylesheet and scripts,
 * and the audit-log screen for the Ministry.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "domain/audit_names.h"
#include "domain/holiday.h"
#include "store/audit.h"
#include "util/embedded.h"
#include "web/web.h"

void web_healthz(web_ctx *ctx)
{
    bool ok = store_ping(web_db(ctx)) == NSDB_OK;
    http_add_header(ctx->req, "Cache-Control", "no-store");
    http_send_text(ctx->req, ok ? 200 : 503, ok ? "ok" : "database unavailable");
}

/* The counters are for the machine's own monitoring: a loopback client (the socket's address,
   whatever --trust-proxy reads from headers) or one with an API token; anyone else gets 403. */
void web_metrics(web_ctx *ctx)
{
    if (!http_peer_is_loopback(ctx->req)) {
        web_bearer b = web_bearer_check(ctx);
        if (b == WEB_BEARER_UNAVAILABLE) {
            http_send_text(ctx->req, 503, "storage unavailable");
            return;
        }
        if (b != WEB_BEARER_VALID) {
            http_send_text(ctx->req, 403, "forbidden");
            return;
        }
    }
    http_send_text(ctx->req, 200, "");
    strbuf_reset(&ctx->req->out);
    http_metrics_write(&ctx->req->out);
    web_mail_metrics_write(ctx, &ctx->req->out);
    ctx->req->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void web_static(web_ctx *ctx)
{
    const char *name = ctx->req->path_params[0];
    static const struct {
        const char *ext;
        const char *type;
    } TYPES[] = {{".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".svg", "image/svg+xml"}};
    const char *type = NULL;
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        size_t n = strlen(name), m = strlen(TYPES[i].ext);
        if (n > m && strcmp(name + n - m, TYPES[i].ext) == 0)
            type = TYPES[i].type;
    }
    char *path = arena_printf(ctx->req->arena, "static/%s", name);
    const struct embedded_file *f = type ? embedded_find(path) : NULL;
    if (f == NULL) {
        page_error(ctx, 404, "お探しのファイルは見つかりません。");
        return;
    }
    strbuf_reset(&ctx->req->out);
    strbuf_append(&ctx->req->out, f->data, f->size);
    ctx->req->content_type = type;
    http_add_header(ctx->req, "Cache-Control", "public, max-age=3600");
}

static json_t *audit_row_json(const store_audit *r)
{
    /* Japan time whatever the server's TZ (the screen is read in Japan; no daylight saving) */
    char when[32];
    time_t t = (time_t)(r->at + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    const char *action_label = audit_action_label(r->action);
    const char *result_label = audit_result_label(r->result);
    json_t *row = json_object();
    json_object_set_new(row, "at", json_string(when));
    json_object_set_new(row, "actor", json_string(r->actor_user_id ? r->actor_user_id : "-"));
    json_object_set_new(row, "ip", json_string(r->client_ip ? r->client_ip : "-"));
    json_object_set_new(row, "action", json_string(r->action));
    json_object_set_new(row, "action_label", json_string(action_label ? action_label : r->action));
    json_object_set_new(row, "target", json_string(r->target ? r->target : ""));
    json_object_set_new(row, "result", json_string(result_label ? result_label : r->result));
    json_object_set_new(row, "detail", json_string(r->detail ? r->detail : ""));
    return row;
}

void web_audit_list(web_ctx *ctx)
{
    store_audit *rows = NULL;
    size_t n = 0;
    nsdb_err e = store_audit_list(web_db(ctx), ctx->req->arena, 200, &rows, &n);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "監査ログ");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, audit_row_json(&rows[i]));
    json_object_set_new(data, "rows", list);
    page_render(ctx, "audit", data);
}
