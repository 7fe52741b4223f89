/*
 * notices.c — ID・PW発行通知書 (SPEC §5.3). A notice is printed only for a user in the printer's
 * scope whose initial password is still sealed (未発行 or 発行済); printing sets 発行済 and is
 * audited in the same transaction. Printing again prints the same initial password.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/notice_pdf.h"
#include "util/log.h"
#include "web/notices.h"
#include "web/web.h"

/* Who may print whom: a municipal admin its municipality's staff and institution users, staff
   the institution users. The municipality is already part of the lookup. */
static bool notice_role_allowed(const store_user *printer, const store_user *target)
{
    unsigned target_bit = role_bit(target->role);
    if (strcmp(printer->role, "muni_admin") == 0)
        return (target_bit & (ROLES_MUNI | ROLES_INSTITUTION)) != 0;
    if (strcmp(printer->role, "muni_staff") == 0)
        return (target_bit & ROLES_INSTITUTION) != 0;
    return false;
}

const char *notices_issue_date(arena *a, int64_t now)
{
    time_t t = (time_t)(now + 9 * 3600); /* Japan time */
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_printf(a, "%d年%d月%d日", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

const char *notices_login_url(web_ctx *ctx)
{
    const char *base = ctx->app->cfg.public_url;
    if (base == NULL) {
        const char *host = http_header_value(ctx->req, "Host");
        base = arena_printf(ctx->req->arena, "http://%s", host ? host : "127.0.0.1:8080");
    }
    size_t n = strlen(base);
    return arena_printf(ctx->req->arena, "%.*s/login",
                        (int)(n > 0 && base[n - 1] == '/' ? n - 1 : n), base);
}

nsdb_err notices_fill(web_ctx *ctx, const store_user *u, notice *out, char **password_out)
{
    char *password = NULL;
    nsdb_err e = secret_unseal(&ctx->app->key, u->initial_sealed, u->initial_sealed_len, &password);
    if (e != NSDB_OK)
        return e;
    bool institution = (role_bit(u->role) & ROLES_INSTITUTION) != 0;
    out->municipality_name = u->municipality_name ? u->municipality_name : "";
    out->category_label = category_label(u->category);
    out->department_label = institution ? "医療機関名" : "部署";
    out->department = institution ? (u->institution_name ? u->institution_name : "")
                                  : (u->department ? u->department : "");
    out->name = u->name;
    out->user_id = u->user_id;
    out->initial_password = password;
    out->issue_date = notices_issue_date(ctx->req->arena, ctx->now);
    out->login_url = notices_login_url(ctx);
    *password_out = password;
    return NSDB_OK;
}

void notices_wipe(char *password)
{
    if (password == NULL)
        return;
    sodium_memzero(password, strlen(password));
    free(password);
}

void web_user_notice(web_ctx *ctx)
{
    const char *id = ctx->req->path_params[0];
    store_user *u = NULL;
    if (store_user_find_in_municipality(web_db(ctx), ctx->req->arena, ctx->user->municipality_pk,
                                        id, &u) != NSDB_OK ||
        !notice_role_allowed(ctx->user, u)) {
        web_audit_now(ctx, "scope_denied", id, "denied", ctx->req->path);
        page_error(ctx, 404, "指定されたユーザは見つかりません。");
        return;
    }
    if (u->initial_sealed == NULL || strcmp(u->status, "active") != 0) {
        page_error(ctx, 409, strcmp(u->status, "active") != 0
                                 ? "利用停止中のユーザの通知書は出力できません。"
                                 : "このユーザは既にパスワードを変更して利用中のため、通知書は出力できません。"
                                   "必要な場合はパスワード初期化を行ってから出力してください。");
        return;
    }
    notice n;
    char *password = NULL;
    nsdb_err e = notices_fill(ctx, u, &n, &password);
    strbuf pdf = STRBUF_INIT;
    if (e == NSDB_OK)
        e = notice_pdf_render(&n, 1, &pdf);
    notices_wipe(password);
    db *conn = web_db(ctx);
    if (e == NSDB_OK)
        e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_user_mark_notice_issued(conn, u->pk, ctx->now);
    if (e == NSDB_OK)
        e = web_audit(ctx, "notice_print", u->user_id, "ok", NULL);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        strbuf_free(&pdf);
        log_event(LOG_ERROR, "notice_failed", "user", u->user_id, "error", nsdb_err_name(e), NULL);
        page_error(ctx, 500, "通知書を作成できませんでした。");
        return;
    }
    http_send_file(ctx->req, "application/pdf",
                   arena_printf(ctx->req->arena, "IDPW発行通知書_%s.pdf", u->user_id), pdf.data,
                   pdf.len);
    strbuf_free(&pdf);
}
