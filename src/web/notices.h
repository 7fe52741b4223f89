/*
 * notices.h — what the notice screens share: filling a notice from a user row (the sealed
 * initial password is opened only for the PDF and wiped after), the issue date and login URL.
 */
#ifndef NSDB_WEB_NOTICES_H
#define NSDB_WEB_NOTICES_H

#include "domain/notice_pdf.h"
#include "web/web.h"

/* *password_out holds the opened initial password: pass it to notices_wipe after rendering. */
NSDB_MUST_CHECK nsdb_err notices_fill(web_ctx *ctx, const store_user *u, notice *out,
                                      char **password_out);
void notices_wipe(char *password);
const char *notices_issue_date(arena *a, int64_t now);
const char *notices_login_url(web_ctx *ctx);

#endif
