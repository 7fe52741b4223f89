/*
 * institutions.h — correcting the institution master (医療機関マスタの修正, issue 12 item 5). The
 * 医療機関コード identifies an institution shared by every municipality that registers its
 * doctors; a registration never overwrites its name or address (see registration.h), so this is
 * how a typo is fixed: by the operator, or by municipal staff of a municipality that has
 * registered at least one user there. Validated by the field table's rules for the same fields
 * of 医療機関ユーザ新規登録, in one transaction, audited with the old and the new values.
 */
#ifndef NSDB_CORE_INSTITUTIONS_H
#define NSDB_CORE_INSTITUTIONS_H

#include "core/actor.h"
#include "store/institutions.h"

typedef struct institution_edit_input {
    const char *name, *postal, *address, *phone; /* as typed: inst_name, inst_postal, … */
} institution_edit_input;

/* The institution of code (as typed: groups, full-width digits) that the actor may correct: any
   for an actor without a municipality (the operator, the command line), for municipal staff only
   one where their municipality has registered a user, never for an institution user. Anything
   else is NSDB_ERR_NOT_FOUND with one message whether or not the code exists (a scope_denied
   audit record when it does). */
NSDB_MUST_CHECK nsdb_err core_institution_find(core_ctx *c, const char *code,
                                               store_institution **out, nsdb_problem *pb);

/* Corrects the master of the institution of code (scope as core_institution_find): each field
   by the field table's rule (NSDB_ERR_INVALID with pb->field "inst_name", "inst_postal",
   "inst_address" or "inst_phone"), one institution_edit audit record naming the old and the new
   value of each field that changed. The search and every list show the new name at once (they
   read the master). */
NSDB_MUST_CHECK nsdb_err core_institution_edit(core_ctx *c, const char *code,
                                               const institution_edit_input *in,
                                               nsdb_problem *pb);

#endif
