/*
 * mail_desk.h — the operator's hold on mail that has not gone out: one message, failed or waiting
 * after failed attempts, put back in the queue for an immediate attempt (再送), with its audit
 * record. The screen that lists such mail reads the outbox itself (store/outbox.h), which never
 * hands out a message's text.
 */
#ifndef NSDB_CORE_MAIL_DESK_H
#define NSDB_CORE_MAIL_DESK_H

#include "core/actor.h"
#include "store/outbox.h"

/* id_raw: the outbox id as it came in the URL. NSDB_ERR_NOT_FOUND when there is no such mail;
   NSDB_ERR_CONFLICT when it was sent, has not been tried yet, or a sender holds it right now.
   On success the server's sender is woken. */
NSDB_MUST_CHECK nsdb_err core_mail_resend(core_ctx *c, const char *id_raw, nsdb_problem *pb);

/* Why m cannot be resent at now (a Japanese sentence), or NULL when it can: the one rule, shown
   by the confirmation page and applied by core_mail_resend. */
const char *core_mail_resend_refusal(const store_outbox_entry *m, int64_t now);

/* The outbox id in id_raw (1 to 18 digits), or 0 when it is not one. */
int64_t core_mail_id(const char *id_raw);

#endif
