/*
 * issuance.c — 払出し. Per row of the list: the municipality is created (name, 郵便番号,
 * 所属先住所 from columns C, N, O) or renamed; a 新規 or 変更 row sets the 発送先 of its own
 * department (郵便番号, 所属先住所, 部署名, 電話番号 of 難病 or 小慢; 両方 sets both), never the
 * other's. 新規 issues a muni_admin whose user ID and initial password are mailed (⑦); 変更
 * updates the admin the row names; 削除 suspends it.
 * Every account change has its audit record and the mail its outbox row in the same transaction.
 */
#include "core/issuance.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/admin_lists.h"
#include "core/mailer.h"
#include "domain/fields.h"
#include "domain/mail.h"
#include "domain/text.h"
#include "store/admin_lists.h"
#include "store/audit.h"
#include "store/municipalities.h"
#include "store/sessions.h"
#include "store/users.h"

typedef struct issuance_ctx {
    core_ctx *core;
    app *app;
    db *conn;
    arena *arena;
    int64_t actor_pk;
    int64_t now;
    issuance_result *result;
} issuance_ctx;

static NSDB_MUST_CHECK nsdb_err audit(issuance_ctx *c, const char *action, const char *target,
                                      const char *detail)
{
    return core_audit(c->core, action, target, "ok", detail);
}

static NSDB_MUST_CHECK nsdb_err issue_new(issuance_ctx *c, const store_admin_list_row *r,
                                          int64_t muni_pk)
{
    store_user *existing = NULL;
    nsdb_err e = store_user_find_muni_admin_by_email(c->conn, c->arena, muni_pk, r->email,
                                                     &existing);
    if (e == NSDB_OK) {
        c->result->skipped++;
        return store_admin_list_row_set_outcome(
            c->conn, r->id, existing->pk,
            arena_printf(c->arena, "登録済みのため作成しませんでした（%s）", existing->user_id));
    }
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    store_user_new u = {.role = USER_ROLE_MUNI_ADMIN,
                        .name = r->name,
                        .name_kana = r->name_kana,
                        .email = r->email,
                        .department = r->department,
                        .title = r->title,
                        .phone = r->phone,
                        .category = r->category,
                        .municipality_pk = muni_pk,
                        .created_by = c->actor_pk,
                        .search_key = field_search_key(c->arena, r->name, r->name_kana)};
    accounts_issued issued;
    e = accounts_issue(c->app, c->conn, &u, c->now, &issued);
    if (e != NSDB_OK)
        return e;
    strbuf mail = STRBUF_INIT;
    const mail_account_issued message = {
        c->app->cfg.mail_from,   r->email, r->name, r->municipality_name, issued.user_id,
        issued.initial_password, app_login_url(&c->app->cfg, c->arena),   c->app->cfg.helpdesk,
        (long long)c->now};
    e = mail_compose_account_issued_message(&message, &mail);
    if (e == NSDB_OK)
        e = mailer_enqueue(c->app, c->conn, r->email, "account_issued", mail.data, mail.len,
                           c->now);
    if (mail.data != NULL)
        sodium_memzero(mail.data, mail.len);
    strbuf_free(&mail);
    if (e == NSDB_OK)
        e = audit(c, "user_create", issued.user_id, "muni_admin (払出し)");
    if (e == NSDB_OK)
        e = audit(c, "mail_queued", issued.user_id, "account_issued");
    if (e == NSDB_OK)
        e = store_admin_list_row_set_outcome(c->conn, r->id, issued.pk, "作成しました");
    if (e == NSDB_OK)
        c->result->created++;
    sodium_memzero(&issued, sizeof issued);
    return e;
}

static NSDB_MUST_CHECK nsdb_err issue_change_or_delete(issuance_ctx *c,
                                                       const store_admin_list_row *r, bool delete)
{
    store_user *u = NULL;
    admin_list_match m;
    nsdb_err e = core_admin_list_target(c->conn, c->arena, r->municipality_code, r->category,
                                        r->email, r->name_kana, &m, &u);
    if (e != NSDB_OK)
        return e;
    if (m != ADMIN_LIST_MATCH_ONE) {
        /* checked at upload; the admins changed since (another list, a 変更 row above): this
           row is skipped with the reason, the others are issued */
        c->result->skipped++;
        return store_admin_list_row_set_outcome(
            c->conn, r->id, 0,
            arena_printf(c->arena, "処理しませんでした: %s",
                         admin_list_match_reason(c->arena, r->request_type, r->category, r->email,
                                                 r->name_kana, m)));
    }
    if (delete) {
        e = store_user_set_status(c->conn, u->pk, ACCOUNT_STATUS_SUSPENDED, c->now);
        if (e == NSDB_OK)
            e = store_session_delete_for_user(c->conn, u->pk, NULL);
        if (e == NSDB_OK)
            e = audit(c, "user_suspend", u->user_id, "削除申請 (払出し)");
        if (e == NSDB_OK)
            c->result->suspended++;
        return e == NSDB_OK ? store_admin_list_row_set_outcome(c->conn, r->id, u->pk, "利用停止しました")
                            : e;
    }
    store_user_profile p = {.name = r->name,
                            .name_kana = r->name_kana,
                            .email = r->email,
                            .department = r->department,
                            .title = r->title,
                            .phone = r->phone,
                            .category = r->category};
    e = store_user_update_profile(c->conn, u->pk, &p, field_search_key(c->arena, r->name, r->name_kana),
                                  c->now);
    if (e == NSDB_OK)
        e = audit(c, "user_update", u->user_id, "変更申請 (払出し)");
    if (e == NSDB_OK)
        c->result->changed++;
    return e == NSDB_OK ? store_admin_list_row_set_outcome(c->conn, r->id, u->pk, "変更しました") : e;
}

/* The row's 発送先 for its department (両方: both departments); audited. */
static NSDB_MUST_CHECK nsdb_err set_departments(issuance_ctx *c, const store_admin_list_row *r,
                                                int64_t muni_pk)
{
    user_category category = 0;
    if (!category_from_key(r->category, &category))
        return NSDB_OK; /* checked at upload */
    shipping_destination to = {0, r->postal, r->address, r->department, r->phone};
    nsdb_err e = NSDB_OK;
    for (user_category k = CATEGORY_NANBYO; e == NSDB_OK && k <= CATEGORY_SHOMAN; k++) {
        if (category != CATEGORY_BOTH && category != k)
            continue;
        e = store_municipality_department_set(c->conn, muni_pk, k, &to, c->now);
        if (e == NSDB_OK)
            e = audit(c, "municipality_address_set", r->municipality_code,
                      arena_printf(c->arena, "%s: 〒%s %s %s", category_label(k), r->postal,
                                   r->address, r->department ? r->department : ""));
    }
    return e;
}

static NSDB_MUST_CHECK nsdb_err issue_row(issuance_ctx *c, const store_admin_list_row *r)
{
    int64_t muni_pk = 0;
    bool created = false;
    nsdb_err e = store_municipality_upsert(c->conn, r->municipality_code, r->municipality_name,
                                           r->postal, r->address, c->now, &muni_pk, &created);
    if (e == NSDB_OK)
        e = audit(c, created ? "municipality_create" : "municipality_update", r->municipality_code,
                  r->municipality_name);
    if (e == NSDB_OK && strcmp(r->request_type, "delete") != 0)
        e = set_departments(c, r, muni_pk);
    if (e != NSDB_OK)
        return e;
    if (strcmp(r->request_type, "new") == 0)
        return issue_new(c, r, muni_pk);
    return issue_change_or_delete(c, r, strcmp(r->request_type, "delete") == 0);
}

/* The whole 払出し on the caller's open transaction. */
static NSDB_MUST_CHECK nsdb_err issuance_run(core_ctx *core, int64_t list_id, issuance_result *out)
{
    memset(out, 0, sizeof *out);
    bool changed = false;
    nsdb_err e = store_admin_list_transition(core->conn, list_id, ADMIN_LIST_STATUS_APPROVED,
                                             ADMIN_LIST_ACTION_ISSUE, core->who.user_pk,
                                             core->who.now, NULL, &changed);
    if (e != NSDB_OK)
        return e;
    if (!changed)
        return NSDB_ERR_CONFLICT;
    arena *ar = arena_new();
    issuance_ctx c = {core, core->app, core->conn, ar, core->who.user_pk, core->who.now, out};
    store_admin_list_row *rows = NULL;
    size_t n = 0;
    e = store_admin_list_rows(core->conn, ar, list_id, &rows, &n);
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = issue_row(&c, &rows[i]);
    if (e == NSDB_OK) {
        char detail[128];
        snprintf(detail, sizeof detail, "created=%d changed=%d suspended=%d skipped=%d",
                 out->created, out->changed, out->suspended, out->skipped);
        e = audit(&c, "admin_list_issue", arena_printf(ar, "admin_list:%lld", (long long)list_id),
                  detail);
    }
    arena_free(ar);
    return e;
}

nsdb_err core_admin_list_issue(core_ctx *c, int64_t list_id, issuance_result *out,
                               nsdb_problem *pb)
{
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = issuance_run(c, list_id, out);
    e = core_end(c, e);
    if (e == NSDB_ERR_CONFLICT)
        return problem_set(pb, e, NULL, "この申請リストは承認済ではないため払出しできません。");
    if (e != NSDB_OK) {
        /* nothing was issued; the attempt is on record */
        nsdb_err logged = core_audit_event(c, "admin_list_issue",
                                           core_target_id(c, "admin_list", list_id), "failed",
                                           nsdb_err_name(e));
        (void)logged; /* a failure is logged by core_audit_event */
        return problem_set(pb, e, NULL,
                           "払出しに失敗しました。何も登録していません。時間をおいて再度お試し"
                           "ください。");
    }
    if (c->app->mailer != NULL)
        mailer_thread_wake(c->app->mailer);
    return NSDB_OK;
}
