/*
 * registration.c — see registration.h.
 */
#include "core/registration.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "domain/cycle.h"
#include "domain/encoding.h"
#include "domain/holiday.h"
#include "domain/inst_master.h"
#include "store/audit.h"
#include "store/import_batches.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/registrations.h"
#include "util/log.h"
#include "util/str.h"
#include <time.h>

/* The institution of the code, created when new. The code identifies the institution: a name or
   address that differs from the master's after normalising (inst_master.h) registers the user
   all the same, keeps the master and sets *warning_out to the sentence naming both values (in
   ar); the same sentence for every municipality, which names the master and nobody's users.
   Institutions are shared by municipalities, whose transactions run at once on PostgreSQL: the
   row is created by an upsert and stays locked until the registration ends, so that the check
   for the same person at the institution sees every municipality's registrations. */
static NSDB_MUST_CHECK nsdb_err institution_for(db *conn, arena *ar, const registration_input *in,
                                                int64_t now, int64_t *pk_out,
                                                const char **warning_out)
{
    *warning_out = NULL;
    const store_institution values = {.code = in->inst_code,
                                      .name = in->inst_name,
                                      .postal = in->inst_postal,
                                      .address = in->inst_address,
                                      .phone = in->inst_phone};
    store_institution *inst = NULL;
    bool created = false;
    nsdb_err e = store_institution_ensure_locked(conn, ar, &values, now, &inst, &created);
    if (e != NSDB_OK)
        return e;
    *pk_out = inst->pk;
    if (!created)
        *warning_out = inst_master_difference(ar, inst->code, in->inst_name, in->inst_address,
                                              inst->name, inst->address);
    return NSDB_OK;
}

nsdb_err registration_cycle(db *conn, int64_t now, cycle_window *out)
{
    /* the calendar in the database (the operator may have adjusted it) decides */
    time_t t = (time_t)(now + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&t, &tm);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    nsdb_err e = store_cycle_for_date(conn, today, out);
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    cycle_for_time(now, out); /* beyond the stored calendar: the rule itself, kept */
    if (db_in_transaction(conn))
        return store_cycle_ensure(conn, out);
    e = db_begin_scoped(conn, DB_SCOPE_NONE, 0); /* one upsert */
    if (e == NSDB_OK)
        e = store_cycle_ensure(conn, out);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK && db_in_transaction(conn))
        db_rollback(conn);
    return e;
}

const char *registration_duplicate_message(arena *a, const char *name, const char *kana,
                                           const char *user_id, bool other_municipality)
{
    if (other_municipality)
        return arena_printf(a,
                            "%s（%s）は同じ医療機関・同じ区分で、別の自治体により既に登録されてい"
                            "ます。同じ方を重ねて登録することはできません。",
                            name, kana);
    return arena_printf(a,
                        "%s（%s）は同じ医療機関・同じ区分で既に登録されています（ユーザID %s）。",
                        name, kana, user_id);
}

const char *registration_same_doctor_message(arena *a, const char *name, const char *kana,
                                             const char *user_id, const char *doctor_number,
                                             user_category had)
{
    return arena_printf(a,
                        "%s（%s）は同じ医療機関・同じ区分で既に登録されています（ユーザID %s、"
                        "指定医番号 %s、%s）。",
                        name, kana, user_id, doctor_number, category_label(had));
}

/* same: the municipality's doctor at the institution under the same name and 指定医番号, of
   another category than the input's (issue 12, item 6). Registered again for the other category,
   the account becomes 両方 instead of a second account (*merged, out naming it); when it already
   holds the input's category (両方), the registration is a duplicate. An account of an import
   batch still being written is not changed: the batch may yet fail and remove it, and the
   registration with it; the staff member is asked to register again once the import is done. */
static NSDB_MUST_CHECK nsdb_err doctor_again(core_ctx *c, arena *ar, const registration_input *in,
                                             const store_user *same, accounts_issued *out,
                                             bool *merged, nsdb_problem *pb)
{
    user_category had = 0, adds = 0;
    if (!category_from_key(same->category, &had) || !category_from_key(in->category, &adds))
        return NSDB_ERR_INVALID;
    user_category now_is = category_union(had, adds);
    if (now_is == had)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           registration_same_doctor_message(ar, in->name, in->name_kana,
                                                            same->user_id, in->doctor_number, had));
    bool shown = false;
    nsdb_err e = store_user_is_shown(c->conn, same->pk, &shown);
    if (e != NSDB_OK)
        return e;
    if (!shown)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           arena_printf(ar,
                                        "%s（%s）は、実行中の一括登録で登録しているところです。"
                                        "一括登録が終わってから、もう一度登録してください。",
                                        in->name, in->name_kana));
    e = store_user_set_category(c->conn, same->pk, category_key(now_is), c->who.now);
    if (e != NSDB_OK)
        return e;
    memset(out, 0, sizeof *out);
    out->pk = same->pk;
    snprintf(out->user_id, sizeof out->user_id, "%s", same->user_id);
    *merged = true;
    return core_audit(c, "user_update", same->user_id, "ok",
                      arena_printf(ar, "category %s -> %s (registered again)", category_key(had),
                                   category_key(now_is)));
}

nsdb_err registration_register(core_ctx *c, arena *ar, const registration_input *in,
                               accounts_issued *out, bool *merged, const char **warning_out,
                               nsdb_problem *pb)
{
    db *conn = c->conn;
    *merged = false;
    int64_t inst_pk = 0;
    nsdb_err e = institution_for(conn, ar, in, c->who.now, &inst_pk, warning_out);
    if (e != NSDB_OK)
        return e;
    user_role role; /* the validators admit only doctor and inst_manager */
    if (!user_role_from_key(in->user_type, &role) || (role_bit(role) & ROLES_INSTITUTION) == 0)
        return NSDB_ERR_INVALID;
    /* a doctor is also found by 指定医番号 (another category, maybe: then 両方); a doctor at
       another institution too has an account there */
    bool numbered = role == USER_ROLE_DOCTOR && in->doctor_number != NULL &&
                    *in->doctor_number != '\0';
    store_user *dup = NULL;
    e = store_user_find_duplicate(conn, ar, inst_pk, in->search_key, in->category, role,
                                  numbered ? in->doctor_number : NULL, &dup);
    if (e == NSDB_OK && strcmp(dup->category, in->category) != 0) {
        if (dup->municipality_pk == c->who.municipality_pk)
            return doctor_again(c, ar, in, dup, out, merged, pb);
        e = NSDB_ERR_NOT_FOUND; /* another municipality's account of another category */
    }
    /* another municipality's user is not named: neither its ID nor its spelling */
    if (e == NSDB_OK)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           registration_duplicate_message(ar, in->name, in->name_kana, dup->user_id,
                                                          dup->municipality_pk !=
                                                              c->who.municipality_pk));
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    store_user_new u = {.role = role,
                        .name = in->name,
                        .name_kana = in->name_kana,
                        .email = in->email,
                        .category = in->category,
                        .municipality_pk = c->who.municipality_pk,
                        .institution_pk = inst_pk,
                        .doctor_number = in->doctor_number,
                        .specialty = in->specialty,
                        .created_by = c->who.user_pk,
                        .search_key = in->search_key};
    e = accounts_issue(c->app, conn, &u, c->who.now, out);
    if (e != NSDB_OK)
        return e;
    cycle_window cycle;
    e = registration_cycle(conn, c->who.now, &cycle);
    if (e != NSDB_OK)
        return e;
    e = store_registration_insert(conn, out->pk, c->who.municipality_pk, inst_pk, cycle.id, 0,
                                  c->who.now);
    if (e != NSDB_OK)
        return e;
    if (*warning_out != NULL)
        e = store_registration_set_warning(conn, out->pk, *warning_out);
    if (e != NSDB_OK)
        return e;
    return core_audit(c, "user_create", out->user_id, "ok",
                      arena_printf(ar, "%s %s%s", in->user_type, in->inst_code,
                                   *warning_out ? " (differs from the institution master)" : ""));
}

nsdb_err core_register_one(core_ctx *c, const registration_input *in, accounts_issued *out,
                           bool *merged, nsdb_problem *pb)
{
    *merged = false;
    if (c->who.municipality_pk == 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    nsdb_problem refusal = {0};
    const char *warning = NULL;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = registration_register(c, c->arena, in, out, merged, &warning, &refusal);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, refusal.field, refusal.message);
    return NSDB_OK;
}

nsdb_err core_import_batch_open(core_ctx *c, const char *owner, const char *filenames,
                                size_t row_count, const char *warnings, int64_t *batch_out,
                                nsdb_problem *pb)
{
    *batch_out = 0;
    if (c->who.municipality_pk == 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    if (row_count == 0)
        return problem_set(pb, NSDB_ERR_INVALID, "file", "ファイルに登録する行がありません。");
    filenames = encoding_file_name(c->arena, filenames ? filenames : "");
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_import_batch_open(c->conn, c->who.municipality_pk, c->who.user_pk, filenames,
                                    (int64_t)row_count, warnings, owner, c->who.now, batch_out);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL,
                           "一括登録を始められませんでした。時間をおいて再度お試しください。");
    return NSDB_OK;
}
