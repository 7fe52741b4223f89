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
    NSDB_ERR_CONFLICT,     /* the target's state does not allow it (already decided, oneself) */
    NSDB_ERR_COUNT
} nsdb_err;

/* Marks a function whose nsdb_err result must be handled (curl's WARN_UNUSED_RESULT): ignoring
   it is a compile error with -Werror. */
#define NSDB_MUST_CHECK __attribute__((warn_unused_result))

/* What an operation tells its caller when it refuses or fails: the code, the input field it
   concerns (the form field name, NULL for the request as a whole) and one Japanese sentence for
   the user (NULL: the code's message). Replaces per-operation side channels. */
typedef struct nsdb_problem {
    nsdb_err code;
    const char *field;
    const char *message;
} nsdb_problem;

/* Fills *p (when not NULL) and returns code, so that `return problem_set(p, …);` reads well. */
nsdb_err problem_set(nsdb_problem *p, nsdb_err code, const char *field, const char *message);
/* The sentence to show: p->message, or the code's message. */
const char *problem_message(const nsdb_problem *p);

/* Japanese text for users; never NULL. */
const char *nsdb_err_message(nsdb_err err);
/* Short English name for logs ("not_found"). */
const char *nsdb_err_name(nsdb_err err);

#endif
