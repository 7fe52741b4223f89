/*
 * bulk_import.h — the set-wise reads and writes of a 一括登録 (issue 11): the institutions of
 * many codes and the users at many institutions read in a few statements, and institutions,
 * users, registrations and audit records written as multi-row INSERTs (STORE_BULK_ROWS rows a
 * statement, so that each statement is prepared once per connection and stays far below the
 * parameter limits: SQLite 32,766, PostgreSQL 65,535). On PostgreSQL users, registrations and
 * audit records go in by COPY instead (db_copy_in): a stream of rows, without a statement to
 * bind and run for every 100 of them, nor ON CONFLICT's probe before each user. The decisions
 * (duplicates, 両方, master differences) are core/import_check.c's; this layer only moves rows.
 */
#ifndef NSDB_STORE_BULK_IMPORT_H
#define NSDB_STORE_BULK_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/institutions.h"
#include "util/arena.h"

/* Rows of one multi-row statement (the last statements of a call take one row each). */
#define STORE_BULK_ROWS 100

/* The institutions of these codes that exist (in a; any order, fewer when some are new). */
NSDB_MUST_CHECK nsdb_err store_bulk_institutions_find(db *conn, arena *a, const char *const *codes,
                                                      size_t n, store_institution **rows_out,
                                                      size_t *count_out);

/* A user at an institution, as a duplicate check of a registration needs it. Strings are valid
   during the callback only. */
typedef struct store_bulk_user {
    int64_t pk, institution_pk, municipality_pk;
    user_role role;
    const char *user_id, *category, *name_search, *doctor_number;
} store_bulk_user;

/* Calls each for every institution user (doctor, inst_manager) at these institutions that a
   registration's duplicate check sees: registered one by one, or by a batch that is visible or
   being written by another import (not a failed batch's, nor those of own_batch). The users of
   one institution come in id order (oldest first). */
NSDB_MUST_CHECK nsdb_err store_bulk_users_at(db *conn, int64_t own_batch,
                                             const int64_t *institution_pks, size_t n,
                                             void (*each)(void *ctx, const store_bulk_user *u),
                                             void *ctx);

/* PostgreSQL: locks these institutions (ids in ascending order, so that two imports never wait
   for each other in a circle) FOR NO KEY UPDATE until the transaction ends: it waits for, and
   holds off, a registration, which locks its institution FOR UPDATE before its duplicate check,
   and another import's chunk; not the foreign-key checks of registrations being written (the
   import's own, beside the next chunk: import_tail.h). Nothing on SQLite (one writer). */
NSDB_MUST_CHECK nsdb_err store_bulk_institutions_lock(db *conn, const int64_t *sorted_pks,
                                                      size_t n);

typedef struct store_bulk_institution_new {
    const char *code, *name, *postal, *address, *phone;
} store_bulk_institution_new;

/* Inserts the institutions whose code is not there yet (another writer may have made one since
   it was read: that one is kept) and sets pks_out[i] to the id of code rows[i].code, made_out[i]
   to whether this call inserted it. */
NSDB_MUST_CHECK nsdb_err store_bulk_institutions_insert(db *conn,
                                                        const store_bulk_institution_new *rows,
                                                        size_t n, int64_t now, int64_t *pks_out,
                                                        bool *made_out);

/* What the users of one bulk insert share. */
typedef struct store_bulk_user_common {
    int64_t municipality_pk;
    int64_t created_by; /* also initial_password_by; 0: none */
    int64_t batch_pk;   /* users.batch_id */
    int64_t now;
} store_bulk_user_common;

typedef struct store_bulk_user_new {
    const char *user_id; /* drawn by the caller */
    user_role role;
    const char *name, *name_kana, *email, *category, *doctor_number, *specialty, *search_key;
    int64_t institution_pk;
    const unsigned char *initial_sealed;
    size_t initial_sealed_len;
    int64_t pk; /* out: the new id, or 0 when the user ID was taken (draw another, call again) */
} store_bulk_user_new;

/* Inserts the users (user IDs distinct among rows), ids in the rows' order; a taken user ID
   inserts nothing for its row (pk 0) without failing the others. The name index is left to
   store_user_grams_add_batch. PostgreSQL: ids from the sequence, then all rows by COPY; when a
   user ID is taken (rare: IDs are drawn at random) the COPY inserts nothing and the rows go in
   by INSERT … ON CONFLICT DO NOTHING, which tells which. */
NSDB_MUST_CHECK nsdb_err store_bulk_users_insert(db *conn, store_bulk_user_new *rows, size_t n,
                                                 const store_bulk_user_common *common);

typedef struct store_bulk_registration {
    int64_t user_pk, institution_pk;
} store_bulk_registration;

NSDB_MUST_CHECK nsdb_err store_bulk_registrations_insert(db *conn,
                                                         const store_bulk_registration *rows,
                                                         size_t n, int64_t municipality_pk,
                                                         const char *cycle_id, int64_t batch_pk,
                                                         int64_t now);

/* Audit records of one actor: at, actor and client_ip from actor, the rest from each row. */
NSDB_MUST_CHECK nsdb_err store_bulk_audit_insert(db *conn, const store_audit *actor,
                                                 const store_audit *rows, size_t n);

/* One row of the name index to add: users more users have key as search key and gram in it. */
typedef struct store_bulk_gram {
    const char *gram, *key;
    int64_t users;
} store_bulk_gram;

/* Adds the grams of a chunk of new users to the name index (user_grams) of the municipality, one
   upsert row per distinct (gram, key) (text_grams), and new_users to its count of institution
   users: what store_user_grams_add_batch does, counted in C rather than by SQL. */
NSDB_MUST_CHECK nsdb_err store_bulk_user_grams_add(db *conn, int64_t municipality_pk,
                                                   const store_bulk_gram *rows, size_t n,
                                                   int64_t new_users);

/* Gives back what store_bulk_user_grams_add added for users that are removed (a failed batch's):
   each row's users taken from its (gram, key) row of the municipality's name index, the rows
   that reach 0 deleted (as user_grams_remove leaves them, one user at a time), and users taken
   from its count of institution users; STORE_BULK_ROWS pairs a statement. */
NSDB_MUST_CHECK nsdb_err store_bulk_user_grams_remove(db *conn, int64_t municipality_pk,
                                                      const store_bulk_gram *rows, size_t n,
                                                      int64_t users);

/* Deletes those of these institutions (ids, any order, repeats allowed) that were made for a
   failed batch alone: created at or after the batch and used by no user, registration or media
   any more. None while an import runs: it may have found one by its code, to register users
   there (an institution without users is harmless). */
NSDB_MUST_CHECK nsdb_err store_bulk_institutions_discard(db *conn, int64_t batch_id,
                                                         const int64_t *pks, size_t n);

/* SQLite: hold (true) or give back (false, SQLite's default of 1,000 pages) the checkpoints a
   commit of conn runs, so that an import checkpoints its WAL itself between chunks, outside its
   write transactions and once for several chunks (each checkpoint syncs the files). Nothing on
   PostgreSQL. */
NSDB_MUST_CHECK nsdb_err store_bulk_wal_hold(db *conn, bool hold);
/* SQLite: a passive checkpoint of the WAL (it waits for no one). Nothing on PostgreSQL. */
NSDB_MUST_CHECK nsdb_err store_bulk_wal_checkpoint(db *conn);

#endif
