/*
 * mail_desk.c — the operator's screen of mail that has not gone out (issue 14: a weekend SMTP
 * outage must not drop the ⑦ mails with new admins' initial passwords): failed mail and mail
 * waiting after failed attempts, with the server's last answer, and 再送 (a confirmation page,
 * then core_mail_resend). The message itself is never read here: the outbox rows this file gets
 * carry no text. Also the outbox gauges of /metrics.
 */
#include <stdio.h>
#include <string.h>

#include "core/mail_desk.h"
#include "store/outbox.h"
#include "web/web.h"

#define MAIL_DESK_ROWS 500

static const struct {
    const char *key;
    const char *label;
} PURPOSES[] = {
    {"account_issued", "自治体管理者のユーザIDと初期パスワード（払出し）"},
};

static const char *purpose_label(const char *key)
{
    for (size_t i = 0; i < sizeof PURPOSES / sizeof PURPOSES[0]; i++)
        if (key != NULL && strcmp(PURPOSES[i].key, key) == 0)
            return PURPOSES[i].label;
    return key != NULL ? key : "";
}

static const char *status_label(const store_outbox_entry *m)
{
    if (m->status != MAIL_STATUS_PENDING)
        return mail_status_label(m->status);
    if (m->attempts == 0)
        return mail_status_label(m->status);
    return m->refused_since != 0 ? "再送待ち（受信拒否）" : "再送待ち";
}

static json_t *mail_json(web_ctx *ctx, const store_outbox_entry *m)
{
    json_t *row = json_object();
    json_object_set_new(row, "id", json_integer(m->id));
    page_row_text(row, "status", status_label(m));
    page_row_text(row, "purpose", purpose_label(m->purpose));
    page_row_text(row, "to", m->to_address);
    page_row_text(row, "queued_at", page_format_time(ctx, m->created_at));
    json_object_set_new(row, "attempts", json_integer(m->attempts));
    page_row_text(row, "next_attempt",
                  m->status == MAIL_STATUS_PENDING ? page_format_time(ctx, m->next_attempt_at)
                                                   : "—");
    page_row_text(row, "last_error", m->last_error != NULL ? m->last_error : "");
    return row;
}

void web_mail_desk(web_ctx *ctx)
{
    store_outbox_entry *rows = NULL;
    size_t n = 0;
    store_outbox_stats stats;
    nsdb_err e = store_outbox_list_troubled(web_db(ctx), ctx->req->arena, MAIL_DESK_ROWS, &rows,
                                            &n);
    if (e == NSDB_OK)
        e = store_outbox_stats_read(web_db(ctx), ctx->now, &stats);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, mail_json(ctx, &rows[i]));
    json_t *data = page_data(ctx, "送信できていないメール");
    json_object_set_new(data, "rows", list);
    json_t *s = json_pack("{s:I, s:I, s:I}", "pending", (json_int_t)stats.pending, "waiting",
                          (json_int_t)stats.waiting, "failed", (json_int_t)stats.failed);
    if (stats.pending > 0)
        json_object_set_new(s, "oldest",
                            json_string(
                                page_format_time(ctx, ctx->now - stats.oldest_pending_age)));
    json_object_set_new(data, "stats", s);
    const char *done = http_query(ctx->req, "done");
    if (done != NULL && strcmp(done, "resent") == 0)
        json_object_set_new(data, "notice",
                            json_string("メールを再送の順番に戻しました。まもなく送信します。"));
    page_render(ctx, "mail_desk", data);
}

void web_mail_resend_form(web_ctx *ctx)
{
    int64_t id = core_mail_id(ctx->req->path_params[0]);
    store_outbox_entry *m = NULL;
    nsdb_err e = id != 0 ? store_outbox_find(web_db(ctx), ctx->req->arena, id, &m)
                         : NSDB_ERR_NOT_FOUND;
    if (e == NSDB_ERR_NOT_FOUND) {
        page_error(ctx, 404, "お探しのメールは見つかりません。");
        return;
    }
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    const char *refusal = core_mail_resend_refusal(m, ctx->now);
    if (refusal != NULL) {
        page_error(ctx, 409, refusal);
        return;
    }
    json_t *data = page_data(ctx, "メールの再送");
    json_object_set_new(data, "mail", mail_json(ctx, m));
    page_render(ctx, "mail_resend", data);
}

void web_mail_resend(web_ctx *ctx)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_mail_resend(&c, ctx->req->path_params[0], &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(ctx->req, 303, "/operator/mail?done=resent");
}

void web_mail_metrics_write(web_ctx *ctx, strbuf *out)
{
    store_outbox_stats s;
    if (store_outbox_stats_read(web_db(ctx), ctx->now, &s) != NSDB_OK)
        return; /* the gauges are missing, which an alert on absent series notices */
    strbuf_printf(out,
                  "# HELP nsdb_mail_pending Mail not yet handed to the SMTP server.\n"
                  "# TYPE nsdb_mail_pending gauge\n"
                  "nsdb_mail_pending %lld\n"
                  "# HELP nsdb_mail_waiting Pending mail after at least one failed attempt.\n"
                  "# TYPE nsdb_mail_waiting gauge\n"
                  "nsdb_mail_waiting %lld\n"
                  "# HELP nsdb_mail_failed Mail given up (refused for a day); resend on "
                  "/operator/mail.\n"
                  "# TYPE nsdb_mail_failed gauge\n"
                  "nsdb_mail_failed %lld\n"
                  "# HELP nsdb_mail_oldest_pending_age_seconds Age of the oldest pending mail.\n"
                  "# TYPE nsdb_mail_oldest_pending_age_seconds gauge\n"
                  "nsdb_mail_oldest_pending_age_seconds %lld\n",
                  (long long)s.pending, (long long)s.waiting, (long long)s.failed,
                  (long long)s.oldest_pending_age);
}
