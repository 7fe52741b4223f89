/*
 * err.h — the one error enum every internal call returns, and the Japanese messages table.
 * 0 is success. A message is what a user may read; details for operators go to the log.
 */
#ifndef NSDB_ERR_H
#define NSDB_ERR_H

typedef enum nsdb_err {
    NSDB_OK = 0,
    NSDB_ERR_NOMEM,        /* allocation failed */
    NSDB_ERR_IO,           /* file or socket failure */
    NSDB_ERR_DB,           /* storage failure */
    NSDB_ERR_NOT_FOUND,    /* no such row / file / user */
    NSDB_ERR_EXISTS,       /* unique value already taken */
    NSDB_ERR_INVALID,      /* input failed validation */
    NSDB_ERR_PARSE,        /* malformed file or template */
    NSDB_ERR_TOO_LARGE,    /* over a size limit */
    NSDB_ERR_AUTH,         /* wrong user ID or password */
    NSDB_ERR_LOCKED,       /* account temporarily locked */
    NSDB_ERR_SUSPENDED,    /* account suspended */
    NSDB_ERR_FORBIDDEN,    /* role or scope does not allow it */
    NSDB_ERR_CRYPTO,       /* key, sealing or hashing failure */
    NSDB_ERR_BUSY,         /* storage busy / locked too long */
    NSDB_ERR_COUNT
} nsdb_err;

/* Japanese text for users; never NULL. */
const char *nsdb_err_message(nsdb_err err);
/* Short English name for logs ("not_found"). */
const char *nsdb_err_name(nsdb_err err);

#endif
