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
static NSDB_MUST_CHECK nsdb_err institution_for(db *conn, arena *ar,
                                                const registration_input *in, int64_t now,
                                                int64_t *pk_out, const char **warning_out)
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
                               const char **warning_out, nsdb_problem *pb)
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
                        .defer_grams = batch_id != 0,
                        .batch_pk = batch_id};
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
    /* an import keeps its warnings with the batch, once per institution */
    if (*warning_out != NULL && batch_id == 0)
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
        e = registration_register(c, c->arena, in, 0, out, merged, &warning, &refusal);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, refusal.field, refusal.message);
    return NSDB_OK;
}

/* The name index of an import is added IMPORT_GRAMS_CHUNK users at a time, in one grouped
   statement each (see store_user_grams_add_batch). */
#define IMPORT_GRAMS_CHUNK 4096

/* The institutions of an import whose name or address differs from the master: one warning per
   institution (its first such row), at most MASTER_WARNINGS_SHOWN, then only counted. */
#define MASTER_WARNINGS_SHOWN 100

typedef struct master_warnings {
    const char *codes[MASTER_WARNINGS_SHOWN];
    size_t count;
    size_t rows_omitted; /* rows past the cap whose institution differs */
    strbuf text;         /* one sentence a line */
} master_warnings;

static void master_warning_add(master_warnings *mw, const inst_import *imp,
                               const inst_import_row *r, const char *warning)
{
    for (size_t i = 0; i < mw->count; i++)
        if (strcmp(mw->codes[i], r->inst_code) == 0)
            return;
    if (mw->count == MASTER_WARNINGS_SHOWN) {
        mw->rows_omitted++;
        return;
    }
    mw->codes[mw->count++] = r->inst_code; /* the rows outlive the import */
    const char *file = r->file < imp->file_count ? imp->files[r->file] : "";
    strbuf_printf(&mw->text, "%s%s%s%s%u行目: %s", mw->text.len ? "\n" : "", *file ? "「" : "",
                  file, *file ? "」" : "", r->record, warning);
}

/* One line for a row that made an existing doctor 両方 (issue 12, item 6). */
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

/* The warnings of the files, then those of the master, then the rows that made a doctor 両方,
   as kept with the batch. */
static const char *master_warnings_join(arena *a, const char *file_warnings,
                                        const master_warnings *mw, const strbuf *merges)
{
    const char *more =
        mw->rows_omitted == 0
            ? ""
            : arena_printf(a,
                           "\nほかにも医療機関マスタと医療機関名または所在地が異なる行が%zu行"
                           "あります（マスタは変更していません）。",
                           mw->rows_omitted);
    const char *master = mw->text.data ? mw->text.data : "";
    const char *merged = merges->data ? merges->data : "";
    const char *text = arena_printf(a, "%s%s%s%s", file_warnings ? file_warnings : "",
                                    file_warnings && *file_warnings && *master ? "\n" : "",
                                    master, more);
    return arena_printf(a, "%s%s%s", text, *text && *merged ? "\n" : "", merged);
}

/* Registers one row on the import's transaction; a refusal becomes a conflict, a difference from
   the institution master a warning. */
static NSDB_MUST_CHECK nsdb_err import_row(core_ctx *c, int64_t batch, const inst_import *imp,
                                           const inst_import_row *r, accounts_issued *issued,
                                           bool *merged, registration_conflict *conflict,
                                           bool *refused, master_warnings *mw)
{
    registration_input in = {r->inst_code, r->inst_name, r->inst_postal, r->inst_address,
                             r->inst_phone, r->user_type, r->name, r->name_kana, r->category,
                             r->doctor_number, r->specialty, r->email, r->search_key};
    nsdb_problem refusal = {0};
    /* a scratch arena per row keeps a 100,000-row import in bounded memory */
    arena *row_arena = arena_new();
    const char *warning = NULL;
    nsdb_err e =
        registration_register(c, row_arena, &in, batch, issued, merged, &warning, &refusal);
    *refused = e == NSDB_ERR_INVALID && refusal.message != NULL;
    if (*refused) {
        conflict->row = r;
        conflict->field = refusal.field; /* static */
        conflict->message = arena_strdup(c->arena, refusal.message);
    }
    if (e == NSDB_OK && warning != NULL)
        master_warning_add(mw, imp, r, warning);
    arena_free(row_arena);
    return e;
}

nsdb_err core_import_batch_open(core_ctx *c, const char *filenames, size_t row_count,
                                const char *warnings, int64_t *batch_out, nsdb_problem *pb)
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
                                    (int64_t)row_count, warnings, c->who.now, batch_out);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL,
                           "一括登録を始められませんでした。時間をおいて再度お試しください。");
    return NSDB_OK;
}

/* The clashing rows as kept with a refused batch: [{"file","row","field","message"}]. */
static const char *conflicts_json(arena *a, const inst_import *imp,
                                  const registration_conflict *conflicts, size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        const inst_import_row *r = conflicts[i].row;
        json_array_append_new(
            rows, json_pack("{s:s, s:I, s:s, s:s}", "file",
                            r->file < imp->file_count ? imp->files[r->file] : "", "row",
                            (json_int_t)r->record, "field", conflicts[i].field ? conflicts[i].field : "",
                            "message", conflicts[i].message ? conflicts[i].message : ""));
    }
    char *text = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    const char *out = arena_strdup(a, text ? text : "[]");
    free(text);
    return out;
}

/* Ends the batch as refused or failed, in its own transaction, with its audit record. */
static void batch_end(core_ctx *c, int64_t batch, import_state state, const char *failure,
                      const char *refusal)
{
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_import_batch_set_state(c->conn, batch, state, failure, refusal, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "inst_users_import", core_target_id(c, "batch", batch), "failed",
                       failure ? failure : "rows clash with registered users");
    e = core_end(c, e);
    if (e != NSDB_OK)
        log_event(LOG_ERROR, "import_batch_end_failed", "error", nsdb_err_name(e), NULL);
}

nsdb_err core_register_import(core_ctx *c, const inst_import *imp, int64_t batch,
                              import_progress *progress, registration_conflict **conflicts_out,
                              size_t *conflict_count_out, nsdb_problem *pb)
{
    *conflicts_out = NULL;
    *conflict_count_out = 0;
    if (c->who.municipality_pk == 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    if (imp->error_count > 0 || imp->row_count == 0)
        return problem_set(pb, NSDB_ERR_INVALID, "file", "ファイルに登録する行がありません。");
    store_import_batch opened;
    nsdb_err e = store_import_batch_get(c->conn, c->arena, c->who.municipality_pk, batch, &opened);
    if (e == NSDB_OK && opened.state != IMPORT_STATE_CHECKING)
        e = NSDB_ERR_CONFLICT;
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, "一括登録に失敗しました。何も登録していません。");
    const char *warnings = opened.warnings;
    if (e == NSDB_OK)
        e = core_begin(c);
    if (e == NSDB_OK)
        e = store_import_batch_set_state(c->conn, batch, IMPORT_STATE_WRITING, NULL, NULL,
                                         c->who.now);
    registration_conflict *conflicts = NULL;
    size_t n_conflicts = 0;
    int64_t grams_from = 0, grams_to = 0; /* users whose name index is still to be added */
    master_warnings mw = {.count = 0, .rows_omitted = 0, .text = STRBUF_INIT};
    strbuf merges = STRBUF_INIT; /* rows that made an account 両方 */
    size_t n_merges = 0;
    for (size_t i = 0; e == NSDB_OK && i < imp->row_count; i++) {
        if (progress != NULL && atomic_load(&progress->stop)) {
            e = NSDB_ERR_BUSY;
            break;
        }
        accounts_issued issued;
        registration_conflict conflict;
        bool refused = false, merged = false;
        e = import_row(c, batch, imp, &imp->rows[i], &issued, &merged, &conflict, &refused, &mw);
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
            if (progress != NULL) {
                atomic_store(&progress->rows_checked, i + 1);
                atomic_store(&progress->rows_written, i + 1);
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
    if (e == NSDB_OK && (mw.count > 0 || n_merges > 0)) /* said on the result page */
        e = store_import_batch_warnings_set(c->conn, batch,
                                            master_warnings_join(c->arena, warnings, &mw,
                                                                 &merges));
    strbuf_free(&mw.text);
    strbuf_free(&merges);
    if (e == NSDB_OK)
        e = store_import_batch_progress(c->conn, batch, (int64_t)imp->row_count, c->who.now);
    if (e == NSDB_OK)
        e = store_import_batch_set_state(c->conn, batch, IMPORT_STATE_VISIBLE, NULL, NULL,
                                         c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "inst_users_import", core_target_id(c, "batch", batch), "ok",
                       arena_printf(c->arena, "%zu rows", imp->row_count));
    bool stopped = e == NSDB_ERR_BUSY && progress != NULL && atomic_load(&progress->stop);
    e = core_end(c, e);
    if (n_conflicts > 0) {
        batch_end(c, batch, IMPORT_STATE_REFUSED, NULL,
                  conflicts_json(c->arena, imp, conflicts, n_conflicts));
        *conflicts_out = conflicts;
        *conflict_count_out = n_conflicts;
        return problem_set(pb, NSDB_ERR_INVALID, "file",
                           "登録済みの内容と食い違う行があります。何も登録していません。");
    }
    if (e != NSDB_OK) {
        const char *reason = stopped ? "サーバが停止したため、一括登録を中断しました。"
                                       "何も登録していません。もう一度アップロードしてください。"
                                     : "一括登録に失敗しました。何も登録していません。"
                                       "時間をおいて再度お試しください。";
        batch_end(c, batch, IMPORT_STATE_FAILED, reason, NULL);
        return problem_set(pb, e, NULL, reason);
    }
    return NSDB_OK;
}
