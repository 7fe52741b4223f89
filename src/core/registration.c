/*
 * registration.c — see registration.h.
 */
#include "core/registration.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "domain/cycle.h"
#include "domain/encoding.h"
#include "domain/holiday.h"
#include "domain/text.h"
#include "store/audit.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/registrations.h"
#include <time.h>

/* Compares two texts as the user would: NFKC, without spaces. */
static bool same_text(arena *a, const char *x, const char *y)
{
    const char *kx = text_search_key(a, x ? x : "");
    const char *ky = text_search_key(a, y ? y : "");
    return kx != NULL && ky != NULL && strcmp(kx, ky) == 0;
}

/* Why the institution of code cannot take the row, for a municipality other than those whose
   users are there: the stored name or address is another municipality's entry and is not shown
   (issue 14: the message names the field and what was typed, never the other's spelling). */
static const char *institution_mismatch_elsewhere(arena *ar, const char *code, bool name,
                                                  const char *typed)
{
    return arena_printf(ar,
                        "医療機関コード %s は別の自治体で登録済みで、登録されている%sが入力"
                        "（「%s」）と異なります。医療機関コードと%sを確認してください。入力が正しい"
                        "場合は、運用事業者に医療機関情報の確認を依頼してください。",
                        code, name ? "医療機関名" : "所在地", typed ? typed : "",
                        name ? "医療機関名" : "所在地");
}

/* The institution of the code, created when new. A stored name or address that differs (after
   normalising) is refused with *pb naming the field; the master is never overwritten here. The
   stored spelling is quoted only to a municipality that has users there itself. */
static NSDB_MUST_CHECK nsdb_err institution_for(db *conn, arena *ar,
                                                const registration_input *in,
                                                int64_t municipality_pk, int64_t now,
                                                int64_t *pk_out, nsdb_problem *pb)
{
    store_institution *inst = NULL;
    nsdb_err e = store_institution_find_by_code(conn, ar, in->inst_code, &inst);
    if (e == NSDB_ERR_NOT_FOUND)
        return store_institution_insert(conn, in->inst_code, in->inst_name, in->inst_postal,
                                        in->inst_address, in->inst_phone, now, pk_out);
    if (e != NSDB_OK)
        return e;
    bool name_differs = !same_text(ar, inst->name, in->inst_name);
    bool address_differs = !name_differs && !same_text(ar, inst->address, in->inst_address);
    if (!name_differs && !address_differs) {
        *pk_out = inst->pk;
        return NSDB_OK;
    }
    bool own = false;
    e = store_institution_has_users_of(conn, inst->pk, municipality_pk, &own);
    if (e != NSDB_OK)
        return e;
    if (!own)
        return problem_set(pb, NSDB_ERR_INVALID, name_differs ? "inst_name" : "inst_address",
                           institution_mismatch_elsewhere(ar, inst->code, name_differs,
                                                          name_differs ? in->inst_name
                                                                       : in->inst_address));
    if (name_differs)
        return problem_set(pb, NSDB_ERR_INVALID, "inst_name",
                           arena_printf(ar,
                                        "医療機関コード %s は「%s」として登録されています。医療機関名が"
                                        "異なります（入力：「%s」）。コードと名称を確認してください。",
                                        inst->code, inst->name, in->inst_name));
    return problem_set(pb, NSDB_ERR_INVALID, "inst_address",
                       arena_printf(ar,
                                    "医療機関コード %s の所在地は「%s」として登録されています。"
                                    "入力された所在地（「%s」）と異なります。",
                                    inst->code, inst->address ? inst->address : "",
                                    in->inst_address));
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
    e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_cycle_ensure(conn, out);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK && db_in_transaction(conn))
        db_rollback(conn);
    return e;
}

/* same: the municipality's doctor at the institution under the same name and 指定医番号, of
   another category than the input's (issue 12, item 6). Registered again for the other category,
   the account becomes 両方 instead of a second account (*merged, out naming it); when it already
   holds the input's category (両方), the registration is a duplicate. */
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
                           arena_printf(ar,
                                        "%s（%s）は同じ医療機関・同じ区分で既に登録されています"
                                        "（ユーザID %s、指定医番号 %s、%s）。",
                                        in->name, in->name_kana, same->user_id,
                                        in->doctor_number, category_label(had)));
    nsdb_err e = store_user_set_category(c->conn, same->pk, category_key(now_is), c->who.now);
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
                               int64_t batch_id, accounts_issued *out, bool *merged,
                               nsdb_problem *pb)
{
    db *conn = c->conn;
    *merged = false;
    int64_t inst_pk = 0;
    nsdb_err e = institution_for(conn, ar, in, c->who.municipality_pk, c->who.now, &inst_pk, pb);
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
    if (e == NSDB_OK && dup->municipality_pk != c->who.municipality_pk)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           arena_printf(ar,
                                        "%s（%s）は同じ医療機関・同じ区分で、別の自治体により既に"
                                        "登録されています。同じ方を重ねて登録することはできませ"
                                        "ん。",
                                        in->name, in->name_kana));
    if (e == NSDB_OK)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           arena_printf(ar,
                                        "%s（%s）は同じ医療機関・同じ区分で既に登録されています"
                                        "（ユーザID %s）。",
                                        in->name, in->name_kana, dup->user_id));
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
                        .search_key = in->search_key,
                        /* an import adds the name index of its whole batch at the end */
                        .defer_grams = batch_id != 0};
    e = accounts_issue(c->app, conn, &u, c->who.now, out);
    if (e != NSDB_OK)
        return e;
    cycle_window cycle;
    e = registration_cycle(conn, c->who.now, &cycle);
    if (e != NSDB_OK)
        return e;
    e = store_registration_insert(conn, out->pk, c->who.municipality_pk, inst_pk, cycle.id,
                                  batch_id, c->who.now);
    if (e != NSDB_OK)
        return e;
    return core_audit(c, "user_create", out->user_id, "ok",
                      arena_printf(ar, "%s %s", in->user_type, in->inst_code));
}

nsdb_err core_register_one(core_ctx *c, const registration_input *in, accounts_issued *out,
                           bool *merged, nsdb_problem *pb)
{
    *merged = false;
    if (c->who.municipality_pk == 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    nsdb_problem refusal = {0};
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = registration_register(c, c->arena, in, 0, out, merged, &refusal);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, refusal.field, refusal.message);
    return NSDB_OK;
}

/* The name index of an import is added IMPORT_GRAMS_CHUNK users at a time, in one grouped
   statement each (see store_user_grams_add_batch). */
#define IMPORT_GRAMS_CHUNK 4096

/* Registers one row on the import's transaction; a refusal becomes a conflict. */
static NSDB_MUST_CHECK nsdb_err import_row(core_ctx *c, int64_t batch, const inst_import_row *r,
                                           accounts_issued *issued, bool *merged,
                                           registration_conflict *conflict, bool *refused)
{
    registration_input in = {r->inst_code, r->inst_name, r->inst_postal, r->inst_address,
                             r->inst_phone, r->user_type, r->name, r->name_kana, r->category,
                             r->doctor_number, r->specialty, r->email, r->search_key};
    nsdb_problem refusal = {0};
    /* a scratch arena per row keeps a 100,000-row import in bounded memory */
    arena *row_arena = arena_new();
    nsdb_err e = registration_register(c, row_arena, &in, batch, issued, merged, &refusal);
    *refused = e == NSDB_ERR_INVALID && refusal.message != NULL;
    if (*refused) {
        conflict->row = r;
        conflict->field = refusal.field; /* static */
        conflict->message = arena_strdup(c->arena, refusal.message);
    }
    arena_free(row_arena);
    return e;
}

/* One line of the batch's warnings for a row that made an existing doctor 両方. */
static void merge_line(strbuf *b, const inst_import *imp, const inst_import_row *r,
                       const char *user_id)
{
    const char *file = r->file < imp->file_count ? imp->files[r->file] : "";
    if (b->len > 0)
        strbuf_putc(b, '\n');
    if (*file != '\0')
        strbuf_printf(b, "「%s」の", file);
    strbuf_printf(b,
                  "%u行目：%s（指定医番号 %s）は登録済みの指定医（ユーザID %s）と同じ方のため、"
                  "新しいアカウントは作らず、区分を「両方」にしました。",
                  r->record, r->name, r->doctor_number, user_id);
}

nsdb_err core_register_import(core_ctx *c, const inst_import *imp, const char *filenames,
                              const char *warnings, int64_t *batch_out,
                              registration_conflict **conflicts_out, size_t *conflict_count_out,
                              nsdb_problem *pb)
{
    *batch_out = 0;
    *conflicts_out = NULL;
    *conflict_count_out = 0;
    if (c->who.municipality_pk == 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    if (imp->error_count > 0 || imp->row_count == 0)
        return problem_set(pb, NSDB_ERR_INVALID, "file", "ファイルに登録する行がありません。");
    int64_t batch = 0;
    filenames = encoding_file_name(c->arena, filenames ? filenames : "");
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_import_batch_insert(c->conn, c->who.municipality_pk, c->who.user_pk, filenames,
                                      (int64_t)imp->row_count, warnings, c->who.now, &batch);
    registration_conflict *conflicts = NULL;
    size_t n_conflicts = 0;
    int64_t grams_from = 0, grams_to = 0; /* users whose name index is still to be added */
    strbuf merges = STRBUF_INIT;              /* rows that made an account 両方 */
    size_t n_merges = 0;
    for (size_t i = 0; e == NSDB_OK && i < imp->row_count; i++) {
        accounts_issued issued;
        registration_conflict conflict;
        bool refused = false, merged = false;
        e = import_row(c, batch, &imp->rows[i], &issued, &merged, &conflict, &refused);
        if (e == NSDB_OK && merged && n_merges++ < REGISTRATION_MAX_CONFLICTS)
            merge_line(&merges, imp, &imp->rows[i], issued.user_id);
        if (e == NSDB_OK) {
            if (!merged) {
                grams_from = grams_from ? grams_from : issued.pk;
                grams_to = issued.pk;
            }
            if (grams_from != 0 &&
                (i + 1 == imp->row_count || (i + 1) % IMPORT_GRAMS_CHUNK == 0)) {
                e = store_user_grams_add_batch(c->conn, c->who.municipality_pk, batch,
                                               grams_from, grams_to);
                grams_from = 0;
            }
        } else if (refused) {
            if (conflicts == NULL)
                conflicts = arena_calloc(c->arena, REGISTRATION_MAX_CONFLICTS, sizeof *conflicts);
            conflicts[n_conflicts++] = conflict;
            /* go on to list every clash, up to the cap; nothing is kept */
            e = n_conflicts >= REGISTRATION_MAX_CONFLICTS ? NSDB_ERR_INVALID : NSDB_OK;
        }
        sodium_memzero(&issued, sizeof issued);
    }
    if (e == NSDB_OK && n_conflicts > 0)
        e = NSDB_ERR_INVALID;
    if (e == NSDB_OK && n_merges > 0) /* said on the result page, with the file's warnings */
        e = merges.data ? store_import_batch_add_warnings(c->conn, batch, merges.data)
                        : NSDB_ERR_NOMEM;
    strbuf_free(&merges);
    if (e == NSDB_OK)
        e = core_audit(c, "inst_users_import", core_target_id(c, "batch", batch), "ok",
                       arena_printf(c->arena, "%zu rows", imp->row_count));
    e = core_end(c, e);
    if (n_conflicts > 0) {
        *conflicts_out = conflicts;
        *conflict_count_out = n_conflicts;
        return problem_set(pb, NSDB_ERR_INVALID, "file",
                           "登録済みの内容と食い違う行があります。何も登録していません。");
    }
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL,
                           "一括登録に失敗しました。何も登録していません。"
                           "時間をおいて再度お試しください。");
    *batch_out = batch;
    return NSDB_OK;
}
