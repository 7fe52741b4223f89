/*
 * page.c — page rendering inside the layout, the error page, form error lists and the security
 * headers every response carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "domain/holiday.h"
#include "util/log.h"
#include "util/str.h"
#include "web/menu.h"
#include "web/web.h"

static const char CONTENT_SECURITY_POLICY[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

void page_set_security_headers(http_request *req)
{
    http_add_header(req, "Content-Security-Policy", CONTENT_SECURITY_POLICY);
    http_add_header(req, "X-Content-Type-Options", "nosniff");
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "X-Frame-Options", "DENY");
    http_add_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    http_add_header(req, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

json_t *page_data(web_ctx *ctx, const char *title)
{
    json_t *data = json_object();
    json_object_set_new(data, "title", json_string(title));
    json_object_set_new(data, "csrf", json_string(auth_csrf_token(ctx)));
    json_object_set_new(data, "errors", json_object());
    json_object_set_new(data, "error_list", json_array());
    if (ctx->app->cfg.helpdesk != NULL)
        json_object_set_new(data, "helpdesk", json_string(ctx->app->cfg.helpdesk));
    store_user *u = ctx->user;
    if (u != NULL) {
        json_t *user = json_object();
        json_object_set_new(user, "user_id", json_string(u->user_id));
        json_object_set_new(user, "name", json_string(u->name));
        json_object_set_new(user, "role", json_string(user_role_key(u->role)));
        json_object_set_new(user, "role_label", json_string(user_role_label(u->role)));
        if (u->municipality_name)
            json_object_set_new(user, "municipality_name", json_string(u->municipality_name));
        if (u->institution_name)
            json_object_set_new(user, "institution_name", json_string(u->institution_name));
        json_object_set_new(data, "user", user);
        json_object_set_new(data, "must_change_password", json_boolean(u->must_change_password));
        if (!u->must_change_password && !ctx->totp_pending && !web_totp_enrolment_due(ctx))
            json_object_set_new(data, "nav", menu_items_for(u->role, ctx->req->path));
    }
    return data;
}

void page_add_error(json_t *data, const char *field, const char *label, const char *message)
{
    json_t *errors = json_object_get(data, "errors");
    if (json_object_get(errors, field) == NULL)
        json_object_set_new(errors, field, json_string(message));
    json_t *item = json_object();
    json_object_set_new(item, "field", json_string(field));
    json_object_set_new(item, "label", json_string(label));
    json_object_set_new(item, "message", json_string(message));
    json_array_append_new(json_object_get(data, "error_list"), item);
}

void page_render(web_ctx *ctx, const char *name, json_t *data)
{
    http_request *req = ctx->req;
    strbuf content = STRBUF_INIT;
    nsdb_err e = template_render(ctx->app->templates, name, data, &content);
    if (e == NSDB_OK) {
        /* our own output: templates and values that were UTF-8 already (no second check of
           the whole page, which costs jansson a function call per byte) */
        json_object_set_new(data, "content",
                            json_stringn_nocheck(content.data ? content.data : "", content.len));
        strbuf_reset(&req->out);
        e = template_render(ctx->app->templates, "layout", data, &req->out);
    }
    strbuf_free(&content);
    json_decref(data);
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "render_failed", "template", name, "error", nsdb_err_name(e), NULL);
        http_send_text(req, 500, "画面の表示に失敗しました。");
        return;
    }
    req->content_type = "text/html; charset=utf-8";
    http_add_header(req, "Cache-Control", "no-store");
}

void page_error(web_ctx *ctx, int status, const char *message)
{
    static const struct {
        int status;
        const char *title;
    } TITLES[] = {{400, "入力内容を確認してください"},
                  {403, "操作できません"},
                  {404, "ページが見つかりません"},
                  {405, "操作できません"},
                  {409, "操作できません"},
                  {413, "データが大きすぎます"},
                  {500, "システムエラー"},
                  {503, "ただいま混み合っています"}};
    const char *title = "エラー";
    for (size_t i = 0; i < sizeof TITLES / sizeof TITLES[0]; i++)
        if (TITLES[i].status == status)
            title = TITLES[i].title;
    json_t *data = page_data(ctx, title);
    json_object_set_new(data, "message", json_string(message));
    json_object_set_new(data, "status", json_integer(status));
    ctx->req->status = status;
    page_render(ctx, "error", data);
}

const char *page_format_time(web_ctx *ctx, int64_t unix_time)
{
    /* Japan has no daylight saving time: UTC+9 always */
    time_t t = (time_t)(unix_time + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_printf(ctx->req->arena, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

void page_row_text(json_t *obj, const char *key, const char *value)
{
    json_t *v = value == NULL                               ? json_null()
                : str_is_clean_utf8(value, strlen(value)) ? json_string_nocheck(value)
                                                            : json_string("\xEF\xBF\xBD");
    json_object_set_new_nocheck(obj, key, v);
}

void page_row_bool(json_t *obj, const char *key, bool value)
{
    json_object_set_new_nocheck(obj, key, json_boolean(value));
}

void page_set_total(json_t *data, int64_t total)
{
    json_object_set_new(data, "total", json_integer(total));
    json_object_set_new(data, "total_label",
                        json_string(total > STORE_SEARCH_COUNT_CAP
                                        ? "10000 件以上（条件を絞り込んでください）"
                                        : NULL));
}

void page_send_generated(web_ctx *ctx, nsdb_err (*write_file)(const char *path),
                         const char *content_type, const char *filename)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/nsdb-generated-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    strbuf content = STRBUF_INIT;
    if (fd >= 0) {
        close(fd);
        if (write_file(path) == NSDB_OK) {
            FILE *f = fopen(path, "rb");
            char buf[8192];
            size_t got;
            while (f != NULL && (got = fread(buf, 1, sizeof buf, f)) > 0)
                strbuf_append(&content, buf, got);
            if (f != NULL)
                fclose(f);
        }
        unlink(path);
    }
    if (content.len == 0) {
        strbuf_free(&content);
        log_event(LOG_ERROR, "generated_file_failed", "file", filename, NULL);
        page_error(ctx, 500, "様式を作成できませんでした。時間をおいて再度お試しください。");
        return;
    }
    http_send_file(ctx->req, content_type, filename, content.data, content.len);
    strbuf_free(&content);
}

const char *page_query_string(web_ctx *ctx, const char *const *keys, size_t n)
{
    strbuf qs = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *v = http_query(ctx->req, keys[i]);
        if (v == NULL || *v == '\0')
            continue;
        strbuf_append_url(&qs, keys[i]);
        strbuf_putc(&qs, '=');
        strbuf_append_url(&qs, v);
        strbuf_putc(&qs, '&');
    }
    const char *out = arena_strdup(ctx->req->arena, qs.data ? qs.data : "");
    strbuf_free(&qs);
    return out;
}
