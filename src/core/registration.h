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



/* Registers one user on c's open transaction (the actor's municipality; batch_id 0 for an
   individual registration, else the import batch, whose name index is added by the caller).
   Scratch allocations go to ar. The institution code identifies the institution: when the given
   name or address differs from the master's after normalising (inst_master.h), the user is
   registered at the master's institution, the master is kept, and *warning_out (in ar; NULL
   otherwise) names both values; an individual registration keeps it with the registration
   (store_registration_warning), an import is to keep it with its batch. NSDB_ERR_INVALID with
   *pb naming the field ("name"; message in ar) when the person is already registered.
   A doctor whose 指定医番号 the municipality registered at the same institution for the other
   category under the same name is not registered again: that account becomes 両方 (audited), out
   names it (no password) and *merged is true; the same category again is refused ("name"). */
NSDB_MUST_CHECK nsdb_err registration_register(core_ctx *c, arena *ar,
                                               const registration_input *in, int64_t batch_id,
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

/* 一括登録 as one operation: the checked rows of imp (error_count 0) into one import batch of the
   actor's municipality, all or nothing, with one inst_users_import audit record. filenames and
   warnings (one sentence a line, or NULL) are kept with the batch, followed by one warning per
   institution whose name or address differs from the master (the rows are registered). NSDB_ERR_INVALID with
   *conflicts_out (in c->arena, at most REGISTRATION_MAX_CONFLICTS) when rows clash with what is
   registered: then nothing is registered. Rows that made a doctor 両方 (registration_register)
   are named in the batch's warnings. */
NSDB_MUST_CHECK nsdb_err core_register_import(core_ctx *c, const inst_import *imp,
                                              const char *filenames, const char *warnings,
                                              int64_t *batch_out,
                                              registration_conflict **conflicts_out,
                                              size_t *conflict_count_out, nsdb_problem *pb);

/* The cycle a registration made at now falls into, from the calendar in the database. */
NSDB_MUST_CHECK nsdb_err registration_cycle(db *conn, int64_t now, cycle_window *out);

#endif
