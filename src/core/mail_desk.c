/*
 * mail_desk.c — see mail_desk.h.
 */
#include "core/mail_desk.h"

#include <stdlib.h>
#include <string.h>

#include "core/mailer.h"
#include "store/outbox.h"
#include "util/str.h"

static const char MSG_NOT_FOUND[] = "お探しのメールは見つかりません。";
static const char MSG_SENT[] = "このメールは送信済みです。再送はできません。";
static const char MSG_NOT_TRIED[] = "このメールは送信待ちです。まもなく送信されます。";
static const char MSG_SENDING[] =
    "このメールは送信中です。しばらくしてから画面を開き直してください。";

int64_t core_mail_id(const char *id_raw)
{
    if (id_raw == NULL)
        return 0;
    size_t n = strlen(id_raw);
    if (n == 0 || n > 18 || strspn(id_raw, "0123456789") != n)
        return 0;
    return strtoll(id_raw, NULL, 10);
}

const char *core_mail_resend_refusal(const store_outbox_entry *m, int64_t now)
{
    if (m->status == MAIL_STATUS_SENT)
        return MSG_SENT;
    if (m->status == MAIL_STATUS_PENDING && m->attempts == 0)
        return MSG_NOT_TRIED;
    if (m->claim_until > now)
        return MSG_SENDING;
    return NULL;
}

nsdb_err core_mail_resend(core_ctx *c, const char *id_raw, nsdb_problem *pb)
{
    int64_t id = core_mail_id(id_raw);
    if (id == 0)
        return problem_set(pb, NSDB_ERR_NOT_FOUND, NULL, MSG_NOT_FOUND);
    nsdb_err e = core_begin(c);
    store_outbox_entry *m = NULL;
    if (e == NSDB_OK)
        e = store_outbox_find(c->conn, c->arena, id, &m);
    const char *refusal = e == NSDB_OK ? core_mail_resend_refusal(m, c->who.now) : NULL;
    if (refusal != NULL)
        e = NSDB_ERR_CONFLICT;
    if (e == NSDB_OK)
        e = store_outbox_resend(c->conn, id, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "mail_resend", core_target_id(c, "mail", id), "ok",
                       arena_printf(c->arena, "%s to %s; %s after %lld attempts", m->purpose,
                                    m->to_address, mail_status_key(m->status),
                                    (long long)m->attempts));
    e = core_end(c, e);
    if (e == NSDB_OK) {
        mailer_thread_wake(c->app->mailer);
        return NSDB_OK;
    }
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, NULL, MSG_NOT_FOUND);
    if (e == NSDB_ERR_CONFLICT) /* the store refuses a claimed row too (taken just now) */
        return problem_set(pb, e, NULL, refusal != NULL ? refusal : MSG_SENDING);
    return problem_set(pb, e, NULL, NULL);
}
