/*
 * registration.h — registering one medical-institution user (指定医 or 責任者) into the
 * designated-doctor master (Flow II ⑥⑦): the institution is matched by code (a name or address
 * that differs from the master after normalising is a warning; the master is never overwritten
 * here) or created, a duplicate person is refused, the
 * account is issued, and the registration notification with its cycle is recorded — all on the
 * caller's transaction, so a bulk file is registered whole or not at all.
 */
#ifndef NSDB_REGISTRATION_H
#define NSDB_REGISTRATION_H

#include <stdatomic.h>

#include "core/accounts.h"
#include "core/actor.h"
#include "core/app.h"
#include "domain/inst_import.h"
#include "domain/cycle.h"

typedef struct registration_input {
    const char *inst_code, *inst_name, *inst_postal, *inst_address, *inst_phone;
    const char *user_type; /* doctor | inst_manager */
    const char *name, *name_kana, *category, *doctor_number, *specialty, *email;
    const char *search_key;
} registration_input;

/* The sentences of a person registered already, one wording for 個別登録 and 一括登録 (in a):
   the same person at the institution in the same category by this municipality (user_id), or by
   another one (neither its ID nor its spelling is named); a doctor whose 指定医番号 is already
   registered for a category that includes the new one (had: its category). */
const char *registration_duplicate_message(arena *a, const char *name, const char *kana,
                                           const char *user_id, bool other_municipality);
const char *registration_same_doctor_message(arena *a, const char *name, const char *kana,
                                             const char *user_id, const char *doctor_number,
                                             user_category had);

/* Registers one user on c's open transaction (the actor's municipality), as 個別登録 does (an
   import writes its rows as a set: import_write.c). Scratch allocations go to ar. The institution code identifies the institution: when the given
   name or address differs from the master's after normalising (inst_master.h), the user is
   registered at the master's institution, the master is kept, and *warning_out (in ar; NULL
   otherwise) names both values, kept with the registration (store_registration_warning). NSDB_ERR_INVALID with
   *pb naming the field ("name"; message in ar) when the person is already registered.
   A doctor whose 指定医番号 the municipality registered at the same institution for the other
   category under the same name is not registered again: that account becomes 両方 (audited), out
   names it (no password) and *merged is true; the same category again is refused ("name"). */
NSDB_MUST_CHECK nsdb_err registration_register(core_ctx *c, arena *ar, const registration_input *in,
                                               accounts_issued *out, bool *merged,
                                               const char **warning_out, nsdb_problem *pb);

/* 個別登録 as one operation: registration_register in its own transaction. On a refusal
   pb->field is the form field ("name"). A warning about the institution master is kept with the
   registration, for the result page. *merged as in registration_register. */
NSDB_MUST_CHECK nsdb_err core_register_one(core_ctx *c, const registration_input *in,
                                           accounts_issued *out, bool *merged, nsdb_problem *pb);

/* A row of an import that the database refused (a person already registered). */
typedef struct registration_conflict {
    const inst_import_row *row;
    const char *field; /* the field's name in the field table ("name") */
    const char *message;
} registration_conflict;

#define REGISTRATION_MAX_CONFLICTS 1000

/* Progress of a running import, shared with the progress page and the server's stop. */
typedef struct import_progress {
    atomic_size_t rows_checked; /* rows checked against the database so far */
    atomic_size_t rows_written; /* rows written into the (still invisible) batch so far */
    atomic_bool stop;           /* set when the server stops: the import ends as failed */
} import_progress;

/* Rows an import writes in one transaction (core/import_write.c): on SQLite each chunk stays
   under 100 ms on the 2-core machine (measured into a database of 110,000 users: at most 72 ms
   for 1,000 rows, 121 ms for 2,000), so other municipalities' logins and registrations wait at
   most that long; PostgreSQL, without one write lock, takes more at a time.
   NSDB_IMPORT_CHUNK_ROWS in the environment sets another size (tests of chunk boundaries). */
#define REGISTRATION_IMPORT_CHUNK_ROWS 1000 /* the first chunk; later ones adapt (import_write.c) */
#define REGISTRATION_IMPORT_CHUNK_ROWS_PG 5000

/* Opens the batch of an import of the actor's municipality, run by the server owner: row_count
   rows of filenames (kept as given, after encoding_file_name), the files' warnings (one sentence
   a line, or NULL). The batch is in state checking and invisible (store/import_batches.h). */
NSDB_MUST_CHECK nsdb_err core_import_batch_open(core_ctx *c, const char *owner,
                                                const char *filenames, size_t row_count,
                                                const char *warnings, int64_t *batch_out,
                                                nsdb_problem *pb);

/* 一括登録 of the checked rows of imp (error_count 0) into batch (core_import_batch_open), all or
   nothing. Every row is checked against the database first; rows that clash with what is
   registered end the batch as refused: NSDB_ERR_INVALID with *conflicts_out (in c->arena, at most
   REGISTRATION_MAX_CONFLICTS), the rows kept with the batch as JSON
   ([{"file","row","field","message"}]) and nothing registered. Then the rows are written into the
   invisible batch, and one last short step makes the batch visible with its warnings (the files'
   warnings, one per institution whose name or address differs from the master, the rows that made
   a doctor 両方) and one inst_users_import audit record. Any other error, or progress->stop, ends
   the batch as failed with the reason kept (its written rows stay invisible). progress may be
   NULL; its counters are updated as the import goes. */
NSDB_MUST_CHECK nsdb_err core_register_import(core_ctx *c, const inst_import *imp, int64_t batch,
                                              import_progress *progress,
                                              registration_conflict **conflicts_out,
                                              size_t *conflict_count_out, nsdb_problem *pb);

/* The cycle a registration made at now falls into, from the calendar in the database. */
NSDB_MUST_CHECK nsdb_err registration_cycle(db *conn, int64_t now, cycle_window *out);

#endif
