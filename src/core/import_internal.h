/*
 * import_internal.h — what the two halves of 一括登録 share (issue 11): import_check.c decides
 * every row against the database and against the earlier rows of the file, reading in bulk and
 * writing nothing, into an import_plan; import_write.c writes the plan in short chunks into the
 * invisible batch and makes it visible in one last short step. The decisions are exactly those
 * registration_register makes for one row (duplicates, 両方, the institution master).
 */
#ifndef NSDB_CORE_IMPORT_INTERNAL_H
#define NSDB_CORE_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/registration.h"
#include "domain/ids.h"
#include "util/str.h"

/* The institutions of an import whose name or address differs from the master: one warning per
   institution (its first such row), at most MASTER_WARNINGS_SHOWN, then only counted. */
#define MASTER_WARNINGS_SHOWN 100

typedef struct master_warnings {
    const char *codes[MASTER_WARNINGS_SHOWN];
    size_t count;
    size_t rows_omitted; /* rows past the cap whose institution differs */
    strbuf text;         /* one sentence a line */
} master_warnings;

/* One institution code of the file. */
typedef struct import_inst {
    const char *code;
    int64_t pk;                 /* 0: new, made by the chunk that holds first_row */
    bool made;                  /* inserted by the import (not found made by another writer) */
    const char *name, *address; /* the master's, or (new) those of first_row */
    size_t first_row;
} import_inst;

#define IMPORT_ACCOUNT_EXISTING UINT32_MAX

/* An account a row may clash with or merge into: registered already, or made by a row. */
typedef struct import_account {
    int64_t pk; /* registered: its id; made by a row: 0 until written */
    int64_t municipality_pk;
    const char *category;      /* its key, merges of earlier rows applied */
    const char *category_read; /* registered: its key as the check read it */
    const char *doctor_number; /* NULL when none */
    uint32_t next;             /* the next account (index + 1) of the same institution, role
                                  and name key, in id order; 0: none */
    uint32_t row;              /* the row that makes it, or IMPORT_ACCOUNT_EXISTING */
    char user_id[IDS_USER_ID_LEN + 1];
} import_account;

typedef enum import_row_kind {
    IMPORT_ROW_NEW,     /* a new account (its own, accounts[account]) */
    IMPORT_ROW_MERGE,   /* accounts[account] becomes 両方 (or holds the union) */
    IMPORT_ROW_REFUSED, /* a conflict */
} import_row_kind;

typedef struct import_row_plan {
    uint32_t inst;
    uint32_t chain;   /* (institution, role, name key) */
    uint32_t account; /* NEW: its own account; MERGE: the account it merges into */
    uint8_t kind;     /* import_row_kind */
    uint8_t had, now; /* MERGE: the user_category before and after */
    bool differs;     /* the institution's name or address differs from the master */
} import_row_plan;

typedef struct import_plan {
    arena *a; /* everything below but accounts; freed by import_plan_free */
    import_inst *insts;
    size_t inst_count;
    import_account *accounts; /* malloc'd */
    size_t account_count, account_cap;
    import_row_plan *rows; /* one per row of the import */
    uint32_t *chains;      /* per chain k: [2k] its first, [2k + 1] its last account (index +
                              1), 0 while none */
    size_t chain_count;
    registration_conflict *conflicts; /* in the caller's arena */
    size_t conflict_count;
    size_t new_accounts, merges;
} import_plan;

/* Decides every row of imp (see core_register_import): the institutions and the accounts that
   rows may clash with are read in bulk, the rows decided in order in memory. Conflicts (at most
   REGISTRATION_MAX_CONFLICTS) go to plan->conflicts in c->arena, master differences to mw.
   progress->rows_checked counts the rows decided. Writes nothing. */
NSDB_MUST_CHECK nsdb_err import_plan_check(core_ctx *c, const inst_import *imp, int64_t batch,
                                           import_progress *progress, import_plan *plan,
                                           master_warnings *mw);
void import_plan_free(import_plan *plan);

#endif
