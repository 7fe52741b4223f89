/*
 * smtp.h — delivery of one composed message to one recipient through libcurl's SMTP client
 * (STARTTLS when offered or required, AUTH when the URL carries user:pass@). Retrying is the
 * outbox's business: this layer only says whether a failure is worth retrying.
 */
#ifndef NSDB_SMTP_H
#define NSDB_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct smtp_config {
    const char *url;          /* smtp://host:port or smtps://…; user:pass@ in the URL means AUTH */
    const char *from_address; /* envelope sender (MAIL FROM) */
    long timeout_seconds;     /* whole transfer; ≤ 0 means 30 */
    bool require_tls;         /* STARTTLS must succeed (CURLUSESSL_ALL), else it is tried */
} smtp_config;

/* Once at program start, before any thread sends; and once at exit. */
void smtp_global_init(void);
void smtp_global_cleanup(void);

/* Sends len bytes of data (a complete RFC 5322 message, CRLF line ends) to to_address.
 * NSDB_ERR_IO for a failure worth retrying (no connection, timeout, TLS or AUTH failure, a 4xx
 * reply); NSDB_ERR_INVALID for a permanent refusal (a 5xx reply other than to AUTH) or invalid
 * arguments; NSDB_ERR_NOMEM when curl cannot start. On failure *error_out (when error_out is not
 * NULL) is a malloc'd English reason for operators — never the message, which may hold a
 * password — or NULL; on success it is set to NULL. */
NSDB_MUST_CHECK nsdb_err smtp_send(const smtp_config *cfg, const char *to_address, const char *data,
                                   size_t len, char **error_out);

#endif
