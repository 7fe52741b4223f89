/*
 * mail.h — composing the system's Japanese e-mail (RFC 5322 + MIME): UTF-8 text bodies in
 * base64, RFC 2047 encoded subjects and display names, and the validation that keeps a value
 * from adding a header of its own. Also the text of the one mail Flow I sends (⑦: a new
 * municipal admin's user ID and initial password). Pure formatting: delivery is smtp.h.
 */
#ifndef NSDB_MAIL_H
#define NSDB_MAIL_H

#include <stdbool.h>

#include "util/err.h"
#include "util/str.h"

/* The sender's display name and the From address used when the caller gives none. A deployment
 * should pass its own address (see mail_compose_account_issued_from) so that SPF/DMARC pass. */
#define MAIL_SENDER_NAME "難病・小慢DB"
#define MAIL_DEFAULT_FROM_ADDRESS "noreply@nsdb.example.go.jp"
#define MAIL_ADDRESS_MAX 254
#define MAIL_ACCOUNT_ISSUED_SUBJECT "【難病・小慢DB】自治体管理者ユーザIDと初期パスワードのお知らせ"

typedef struct mail_message {
    const char *from_address; /* "noreply@nsdb.example.go.jp" */
    const char *from_name;    /* "難病・小慢DB" (may be NULL) */
    const char *to_address;
    const char *to_name;    /* may be NULL */
    const char *subject;    /* UTF-8 */
    const char *body;       /* UTF-8 text, LF line ends (NULL: empty) */
    const char *message_id; /* without <>; NULL: generate "<random>@<from domain>" */
    long long date;         /* Unix time for the Date header (written in JST, +0900) */
} mail_message;

/* Appends the whole message to out: CRLF line ends, headers folded at 76 columns, the body as
 * base64 text/plain; charset=UTF-8. NSDB_ERR_INVALID (out untouched) when an address is not a
 * plausible addr-spec, a header value holds CR, LF or another control character, a value or the
 * body is not valid UTF-8, the message ID is malformed or the date is out of range. */
NSDB_MUST_CHECK nsdb_err mail_compose(const mail_message *m, strbuf *out);

/* A plain dot-atom addr-spec: one '@', local part of atext and dots (≤ 64), a domain of at
 * least two LDH labels, ≤ 254 bytes in all. No spaces, controls, quotes, <>, commas or
 * non-ASCII: anything that could end or add an address in a header is refused. */
bool mail_address_valid(const char *address);

/* The ⑦ message, from MAIL_DEFAULT_FROM_ADDRESS: user ID, initial password, login URL (http:// or
 * https://) and the first-login instruction. to_name and municipality_name may be NULL. */
NSDB_MUST_CHECK nsdb_err mail_compose_account_issued(
    const char *to_address, const char *to_name, const char *municipality_name, const char *user_id,
    const char *initial_password, const char *login_url, long long date, strbuf *out);
/* The same with the deployment's From address (NULL: MAIL_DEFAULT_FROM_ADDRESS). */
NSDB_MUST_CHECK nsdb_err mail_compose_account_issued_from(
    const char *from_address, const char *to_address, const char *to_name,
    const char *municipality_name, const char *user_id, const char *initial_password,
    const char *login_url, long long date, strbuf *out);

/* The ⑦ message with every part named; helpdesk (the help desk's contact, one line of text, NULL
 * or "": none) is printed at the end of the body. */
typedef struct mail_account_issued {
    const char *from_address; /* NULL: MAIL_DEFAULT_FROM_ADDRESS */
    const char *to_address;
    const char *to_name;           /* may be NULL */
    const char *municipality_name; /* may be NULL */
    const char *user_id;
    const char *initial_password;
    const char *login_url;
    const char *helpdesk;
    long long date;
} mail_account_issued;
NSDB_MUST_CHECK nsdb_err mail_compose_account_issued_message(const mail_account_issued *in,
                                                             strbuf *out);

#endif
