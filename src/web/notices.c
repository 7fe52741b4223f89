/*
 * notices.c — ID・PW発行通知書 (SPEC §5.3). A notice is printed only for a user in the printer's
 * scope whose initial password is still sealed (未発行 or 発行済); printing sets 発行済 and is
 * audited in the same transaction. Printing again prints the same initial password.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/holiday.h"
#include "core/users.h"
#include "domain/notice_pdf.h"
#include "util/log.h"
#include "domain/ids.h"
#include "web/notices.h"
#include "web/user_actions.h"
#include "web/web.h"

/* Whom a role may print for: a municipal admin its municipality's staff and institution
   users, staff the institution users, a 責任者 its institution's users (after a reset). The
   municipality or institution is part of the lookup itself. */
static unsigned printable_roles(const store_user *printer)
{
    if (printer->role == USER_ROLE_MUNI_ADMIN)
        return ROLES_MUNI | ROLES_INSTITUTION;
    return ROLES_INSTITUTION;
}

/* Why u's notice cannot be printed; NULL when it can. */
static const char *notice_refusal(const store_user *u)
{
    if (u->status != ACCOUNT_STATUS_ACTIVE)
        return "利用停止中のユーザの通知書は出力できません。";
    if (u->initial_sealed == NULL)
        return "このユーザは既にパスワードを変更して利用中のため、通知書は出力できません。"
               "必要な場合はパスワード初期化を行ってから出力してください。";
    return NULL;
}

const char *notices_issue_date(arena *a, int64_t now)
{
    time_t t = (time_t)(now + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_printf(a, "%d年%d月%d日", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

const char *notices_login_url(web_ctx *ctx)
{
    return app_login_url(&ctx->app->cfg, ctx->req->arena);
}

nsdb_err notices_fill(web_ctx *ctx, const store_user *u, notice *out, char **password_out)
{
    char *password = NULL;
    nsdb_err e = secret_unseal(&ctx->app->key, u->initial_sealed, u->initial_sealed_len, &password);
    if (e != NSDB_OK)
        return e;
    bool institution = (role_bit(u->role) & ROLES_INSTITUTION) != 0;
    out->municipality_name = u->municipality_name ? u->municipality_name : "";
    out->category_label = category_label_of_key(u->category);
    out->department_label = institution ? "医療機関名" : "部署";
    out->department = institution ? (u->institution_name ? u->institution_name : "")
                                  : (u->department ? u->department : "");
    out->name = u->name;
    out->user_id = u->user_id;
    out->initial_password = password;
    out->issue_date = notices_issue_date(ctx->req->arena, ctx->now);
    out->login_url = notices_login_url(ctx);
    out->helpdesk = ctx->app->cfg.helpdesk;
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

/* Renders the notices of users[0..n) as one PDF, marks them 発行済 and audits each print in
   one transaction, then sends the file. */
static void notices_send(web_ctx *ctx, store_user **users, size_t n, const char *filename)
{
    notice *notices = arena_calloc(ctx->req->arena, n, sizeof *notices);
    char **passwords = arena_calloc(ctx->req->arena, n, sizeof *passwords);
    nsdb_err e = NSDB_OK;
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = notices_fill(ctx, users[i], &notices[i], &passwords[i]);
    strbuf pdf = STRBUF_INIT;
    if (e == NSDB_OK)
        e = notice_pdf_render(notices, n, &pdf);
    for (size_t i = 0; i < n; i++)
        notices_wipe(passwords[i]);
    core_ctx c = web_core(ctx);
    if (e == NSDB_OK)
        e = core_notices_printed(&c, users, n);
    if (e != NSDB_OK) {
        if (pdf.data)
            sodium_memzero(pdf.data, pdf.len);
        strbuf_free(&pdf);
        log_event(LOG_ERROR, "notice_failed", "error", nsdb_err_name(e), NULL);
        page_error(ctx, 500, "通知書を作成できませんでした。");
        return;
    }
    http_send_file(ctx->req, "application/pdf", filename, pdf.data, pdf.len);
    sodium_memzero(pdf.data, pdf.len);
    strbuf_free(&pdf);
}

void web_user_notice(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, printable_roles(ctx->user));
    if (u == NULL)
        return;
    const char *refusal = notice_refusal(u);
    if (refusal != NULL) {
        page_error(ctx, 409, refusal);
        return;
    }
    core_ctx c = web_core(ctx);
    refusal = core_notice_refusal(&c, u);
    if (refusal != NULL) {
        web_audit_now(ctx, "notice_print", u->user_id, "denied", "not reset by this user");
        page_error(ctx, 403, refusal);
        return;
    }
    notices_send(ctx, &u, 1, arena_printf(ctx->req->arena, "IDPW発行通知書_%s.pdf", u->user_id));
}

void web_inst_user_notices(web_ctx *ctx)
{
    arena *a = ctx->req->arena;
    size_t n = 0;
    for (const http_param *p = http_form_params(ctx->req); p != NULL; p = p->next)
        n += strcmp(p->name, "user_id") == 0;
    if (n == 0) {
        http_redirect(ctx->req, 303, "/inst-users?refused=none");
        return;
    }
    if (n > NOTICE_PDF_MAX_NOTICES) {
        page_error(ctx, 413, "一度に出力できる通知書は10,000件までです。");
        return;
    }
    store_user **users = arena_calloc(a, n, sizeof *users);
    strbuf refused = STRBUF_INIT;
    size_t count = 0;
    for (const http_param *p = http_form_params(ctx->req); p != NULL; p = p->next) {
        if (strcmp(p->name, "user_id") != 0)
            continue;
        store_user *u = NULL;
        if (store_user_find_in_municipality(web_db(ctx), a, ctx->user->municipality_pk, p->value,
                                            &u) != NSDB_OK ||
            (role_bit(u->role) & ROLES_INSTITUTION) == 0) {
            web_audit_now(ctx, "scope_denied", ids_user_id_valid(p->value) ? p->value : "(形式不正)",
                          "denied", ctx->req->path);
            strbuf_printf(&refused, "%s%s（見つかりません）", refused.len ? "、" : "",
                          ids_user_id_valid(p->value) ? p->value : "不正なID");
            continue;
        }
        if (notice_refusal(u) != NULL) {
            strbuf_printf(&refused, "%s%s（%s）", refused.len ? "、" : "", u->user_id,
                          notice_status_label(u->notice_status));
            continue;
        }
        users[count++] = u;
    }
    if (refused.len > 0) {
        char *msg = arena_printf(a, "次のユーザの通知書は出力できないため、何も出力していません："
                                    "%s。未発行または発行済（初期パスワード）のユーザだけを選んでください。",
                                 refused.data);
        strbuf_free(&refused);
        page_error(ctx, 409, msg);
        return;
    }
    strbuf_free(&refused);
    notices_send(ctx, users, count, "IDPW発行通知書_一括.pdf");
}
