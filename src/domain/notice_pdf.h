/*
 * notice_pdf.h — the ID・PW発行通知書 of SPEC §5.3: one A4 page per user carrying its user ID and
 * initial password, rendered to PDF with cairo and Pango. Pure rendering: the caller looks the
 * users up, unseals the passwords and decides who may print; this module only lays out pages.
 */
#ifndef NSDB_NOTICE_PDF_H
#define NSDB_NOTICE_PDF_H

#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

/* More notices than this in one PDF is refused (NSDB_ERR_TOO_LARGE): a bulk print is a page of
 * search results, not the whole database. */
#define NOTICE_PDF_MAX_NOTICES 10000
/* Longest accepted field, in bytes (NSDB_ERR_TOO_LARGE); validators upstream are stricter. */
#define NOTICE_PDF_MAX_FIELD 2048

typedef struct notice {
    const char *municipality_name; /* 自治体 */
    const char *category_label;    /* 難病/小慢 value: 難病, 小慢 or 難病・小慢 */
    const char *department_label;  /* "部署" for municipal users, "医療機関名" for institution users */
    const char *department;        /* the value for that row */
    const char *name;              /* printed as "<name> 様" */
    const char *user_id;           /* IDS_ALPHABET symbols only (upper case) */
    const char *initial_password;  /* IDS_ALPHABET symbols only */
    const char *issue_date;        /* e.g. "2026年11月25日" */
    const char *login_url;         /* e.g. "https://nsdb.example.go.jp/login" */
    const char *helpdesk; /* the help desk's contact (nsdb serve --helpdesk); NULL or "": none */
} notice;

/*
 * Appends one PDF with one A4 page per notice, in order, to out. Fonts are embedded as subsets.
 * Every field is printed as plain text (never markup); long values wrap, shrink and at worst are
 * cut with an ellipsis so that a notice never leaves its page. Thread-safe: each call has its
 * own font map. Returns NSDB_ERR_INVALID for count 0, a NULL field, text that is not clean
 * UTF-8, or an empty ID or password or one with a symbol outside IDS_ALPHABET (other fields may
 * be empty); on any error out is left as it was.
 */
NSDB_MUST_CHECK nsdb_err notice_pdf_render(const notice *notices, size_t count, strbuf *out);

#endif
