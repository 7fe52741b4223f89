/*
 * import_check.c — the first half of 一括登録 (see import_internal.h): every row of the file is
 * decided before anything is written. The institutions of all codes and the institution users
 * who may clash with a row (same institution, role and name key) are read in a few statements;
 * then the rows are decided in file order in memory, each row seeing the accounts of the rows
 * before it, exactly as registration_register decided them one by one when each row was
 * inserted before the next was checked: the same person twice is a conflict, the same doctor for
 * the other category makes one account 両方, a name or address that differs from the master is a
 * warning. Hash tables map codes, institution ids and (institution, role, name key) to indexes.
 */
#include "core/import_internal.h"

#include <stdlib.h>
#include <string.h>

#include "domain/inst_master.h"
#include "store/bulk_import.h"
#include "util/key_map.h"
#include "util/log.h"

/* ---- the plan ------------------------------------------------------------------------------ */

typedef struct check_state {
    core_ctx *c;
    const inst_import *imp;
    int64_t batch; /* the import's own (its rows are not registered users) */
    import_plan *plan;
    arena *keys; /* the chain keys and what was read: lives for the check only */
    key_map codes, chains, inst_pks;
    strbuf key; /* a chain key being looked up */
    nsdb_err error;
} check_state;

/* "institution, role, name key" of a chain, in s->key. */
static void chain_key(check_state *s, uint32_t inst, user_role role, const char *search_key)
{
    strbuf_reset(&s->key);
    strbuf_printf(&s->key, "%u\x1f%d\x1f%s", inst, (int)role, search_key ? search_key : "");
}

/* The static key of a category as stored (an unknown one kept as read). */
static const char *category_static(arena *a, const char *key)
{
    user_category cat;
    if (key != NULL && category_from_key(key, &cat))
        return category_key(cat);
    return arena_strdup(a, key ? key : "");
}

/* Appends an account to chain k (accounts come in id order: the registered, then the rows'). */
static NSDB_MUST_CHECK nsdb_err account_add(import_plan *p, uint32_t chain,
                                            const import_account *acc)
{
    if (p->account_count >= UINT32_MAX - 1)
        return NSDB_ERR_TOO_LARGE;
    if (p->account_count == p->account_cap) { /* realloc: a big block moves without a copy */
        size_t cap = p->account_cap ? p->account_cap * 2 : 1024;
        import_account *more = realloc(p->accounts, cap * sizeof *more);
        if (more == NULL)
            return NSDB_ERR_NOMEM;
        p->accounts = more;
        p->account_cap = cap;
    }
    uint32_t index = (uint32_t)p->account_count++;
    p->accounts[index] = *acc;
    p->accounts[index].next = 0;
    uint32_t *first = &p->chains[2 * chain], *last = &p->chains[2 * chain + 1];
    if (*last != 0)
        p->accounts[*last - 1].next = index + 1;
    else
        *first = index + 1;
    *last = index + 1;
    return NSDB_OK;
}

/* A registered institution user: kept when a row has its institution, role and name key. */
static void registered_user(void *ctx, const store_bulk_user *u)
{
    check_state *s = ctx;
    uint32_t inst = key_map_get(&s->inst_pks, &u->institution_pk, sizeof u->institution_pk);
    if (s->error != NSDB_OK || inst == UINT32_MAX)
        return;
    chain_key(s, inst, u->role, u->name_search);
    uint32_t chain = key_map_get(&s->chains, s->key.data, s->key.len);
    if (chain == UINT32_MAX)
        return;
    const char *category = category_static(s->plan->a, u->category);
    import_account acc = {.pk = u->pk,
                          .municipality_pk = u->municipality_pk,
                          .category = category,
                          .category_read = category,
                          .doctor_number = u->doctor_number
                                               ? arena_strdup(s->plan->a, u->doctor_number)
                                               : NULL,
                          .row = IMPORT_ACCOUNT_EXISTING};
    snprintf(acc.user_id, sizeof acc.user_id, "%s", u->user_id ? u->user_id : "");
    s->error = account_add(s->plan, chain, &acc);
}

/* Pass 1: the institution and the chain of every row. */
static NSDB_MUST_CHECK nsdb_err index_rows(check_state *s)
{
    import_plan *p = s->plan;
    size_t inst_cap = 0;
    for (size_t i = 0; i < s->imp->row_count; i++) {
        const inst_import_row *r = &s->imp->rows[i];
        user_role role; /* the validators admit only doctor and inst_manager */
        if (!user_role_from_key(r->user_type, &role) || (role_bit(role) & ROLES_INSTITUTION) == 0)
            return NSDB_ERR_INVALID;
        uint32_t inst = 0, chain = 0;
        bool added = false;
        nsdb_err e = key_map_get_or_add(&s->codes, r->inst_code, strlen(r->inst_code),
                                        (uint32_t)p->inst_count, &inst, &added);
        if (e != NSDB_OK)
            return e;
        if (added) {
            p->insts = arena_grow(p->a, p->insts, p->inst_count, &inst_cap, sizeof *p->insts);
            p->insts[p->inst_count++] = (import_inst){.code = r->inst_code,
                                                      .name = r->inst_name,
                                                      .address = r->inst_address,
                                                      .first_row = i};
        }
        chain_key(s, inst, role, r->search_key);
        const char *key = arena_strndup(s->keys, s->key.data, s->key.len);
        e = key_map_get_or_add(&s->chains, key, s->key.len, (uint32_t)p->chain_count, &chain,
                               &added);
        if (e != NSDB_OK)
            return e;
        p->chain_count += added;
        p->rows[i].inst = inst;
        p->rows[i].chain = chain;
    }
    p->chains = arena_calloc(p->a, 2 * (p->chain_count ? p->chain_count : 1), sizeof *p->chains);
    return NSDB_OK;
}

/* The registered institutions of the codes (their master name and address) and the registered
   users of the rows' chains. */
static NSDB_MUST_CHECK nsdb_err read_registered(check_state *s)
{
    import_plan *p = s->plan;
    const char **codes = arena_calloc(s->keys, p->inst_count, sizeof *codes);
    for (size_t i = 0; i < p->inst_count; i++)
        codes[i] = p->insts[i].code;
    store_institution *found = NULL;
    size_t n_found = 0;
    nsdb_err e = store_bulk_institutions_find(s->c->conn, s->keys, codes, p->inst_count, &found,
                                              &n_found);
    int64_t *pks = arena_calloc(s->keys, n_found ? n_found : 1, sizeof *pks);
    for (size_t i = 0; e == NSDB_OK && i < n_found; i++) {
        uint32_t inst = key_map_get(&s->codes, found[i].code, strlen(found[i].code));
        if (inst == UINT32_MAX)
            continue;
        import_inst *in = &p->insts[inst];
        in->pk = pks[i] = found[i].pk;
        in->name = found[i].name;
        in->address = found[i].address;
        bool added = false;
        uint32_t same = 0;
        e = key_map_get_or_add(&s->inst_pks, &in->pk, sizeof in->pk, inst, &same, &added);
    }
    if (e == NSDB_OK && n_found > 0)
        e = store_bulk_users_at(s->c->conn, s->batch, pks, n_found, registered_user, s);
    return e != NSDB_OK ? e : s->error;
}

/* The sentences registration_register gives for a person registered already. */
static const char *clash_message(arena *a, const inst_import_row *r, const import_account *acc,
                                 int64_t municipality_pk)
{
    return registration_duplicate_message(a, r->name, r->name_kana, acc->user_id,
                                          acc->municipality_pk != municipality_pk);
}

/* Decides row i against the accounts of its chain: *message set when it clashes. */
static NSDB_MUST_CHECK nsdb_err decide_row(check_state *s, size_t i, const char **message)
{
    import_plan *p = s->plan;
    const inst_import_row *r = &s->imp->rows[i];
    import_row_plan *rp = &p->rows[i];
    int64_t muni = s->c->who.municipality_pk;
    *message = NULL;
    user_role role = USER_ROLE_DOCTOR;
    if (!user_role_from_key(r->user_type, &role))
        return NSDB_ERR_INVALID;
    bool numbered = role == USER_ROLE_DOCTOR && r->doctor_number != NULL &&
                    *r->doctor_number != '\0';
    /* the oldest account of the same institution, name key and role with the same category or
       (a doctor) the same 指定医番号: store_user_find_duplicate's rule */
    import_account *dup = NULL;
    for (uint32_t a = p->chains[2 * rp->chain]; a != 0 && dup == NULL;
         a = p->accounts[a - 1].next) {
        import_account *acc = &p->accounts[a - 1];
        if (strcmp(acc->category, r->category) == 0 ||
            (numbered && acc->doctor_number != NULL &&
             strcmp(acc->doctor_number, r->doctor_number) == 0))
            dup = acc;
    }
    if (dup != NULL && strcmp(dup->category, r->category) != 0) {
        if (dup->municipality_pk == muni) { /* the same doctor: 両方, or registered already */
            user_category had = 0, adds = 0;
            if (!category_from_key(dup->category, &had) || !category_from_key(r->category, &adds))
                return NSDB_ERR_INVALID;
            user_category now_is = category_union(had, adds);
            if (now_is == had) {
                *message = registration_same_doctor_message(s->c->arena, r->name, r->name_kana,
                                                            dup->user_id, r->doctor_number, had);
                return NSDB_OK;
            }
            dup->category = category_key(now_is);
            rp->kind = IMPORT_ROW_MERGE;
            rp->account = (uint32_t)(dup - p->accounts);
            rp->had = (uint8_t)had;
            rp->now = (uint8_t)now_is;
            p->merges++;
            return NSDB_OK;
        }
        dup = NULL; /* another municipality's account of another category */
    }
    if (dup != NULL) {
        *message = clash_message(s->c->arena, r, dup, muni);
        return NSDB_OK;
    }
    import_account acc = {.municipality_pk = muni,
                          .category = category_static(p->a, r->category),
                          .doctor_number = r->doctor_number,
                          .row = (uint32_t)i};
    /* drawn now, so that a later row's clash names it as registration_register did; a taken
       ID is drawn again when written */
    ids_user_id_generate(acc.user_id);
    rp->kind = IMPORT_ROW_NEW;
    rp->account = (uint32_t)p->account_count;
    p->new_accounts++;
    return account_add(p, rp->chain, &acc);
}

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

/* Rows decided between two looks at progress. */
#define CHECK_PROGRESS_ROWS 1024

/* Pass 2: every row in file order. */
static NSDB_MUST_CHECK nsdb_err decide_rows(check_state *s, import_progress *progress,
                                            master_warnings *mw)
{
    import_plan *p = s->plan;
    arena *scratch = arena_new();
    nsdb_err e = NSDB_OK;
    size_t i = 0;
    for (; e == NSDB_OK && i < s->imp->row_count; i++) {
        if (i % CHECK_PROGRESS_ROWS == 0 && i > 0) {
            arena_free(scratch);
            scratch = arena_new();
            if (progress != NULL) {
                atomic_store(&progress->rows_checked, i);
                if (atomic_load(&progress->stop)) {
                    e = NSDB_ERR_BUSY;
                    break;
                }
            }
        }
        const char *message = NULL;
        e = decide_row(s, i, &message);
        if (e != NSDB_OK)
            break;
        const inst_import_row *r = &s->imp->rows[i];
        if (message != NULL) {
            if (p->conflicts == NULL)
                p->conflicts = arena_calloc(s->c->arena, REGISTRATION_MAX_CONFLICTS,
                                            sizeof *p->conflicts);
            p->rows[i].kind = IMPORT_ROW_REFUSED;
            p->conflicts[p->conflict_count++] = (registration_conflict){r, "name", message};
            /* go on to list every clash, up to the cap */
            if (p->conflict_count >= REGISTRATION_MAX_CONFLICTS)
                break;
            continue;
        }
        const import_inst *inst = &p->insts[p->rows[i].inst];
        if (inst->pk == 0 && inst->first_row == i)
            continue; /* the row that makes the institution */
        const char *warning = inst_master_difference(scratch, inst->code, r->inst_name,
                                                     r->inst_address, inst->name, inst->address);
        if (warning != NULL) {
            p->rows[i].differs = true;
            master_warning_add(mw, s->imp, r, warning);
        }
    }
    arena_free(scratch);
    if (progress != NULL)
        atomic_store(&progress->rows_checked, i < s->imp->row_count ? i : s->imp->row_count);
    return e;
}

nsdb_err import_plan_check(core_ctx *c, const inst_import *imp, int64_t batch,
                           import_progress *progress, import_plan *plan, master_warnings *mw)
{
    memset(plan, 0, sizeof *plan);
    plan->a = arena_new();
    plan->rows = arena_calloc(plan->a, imp->row_count, sizeof *plan->rows);
    check_state s = {
        .c = c, .imp = imp, .batch = batch, .plan = plan, .keys = arena_new(), .key = STRBUF_INIT};
    nsdb_err e = imp->row_count < UINT32_MAX - 1 ? index_rows(&s) : NSDB_ERR_TOO_LARGE;
    if (e == NSDB_OK)
        e = read_registered(&s);
    if (e == NSDB_OK)
        e = decide_rows(&s, progress, mw);
    key_map_free(&s.codes);
    key_map_free(&s.chains);
    key_map_free(&s.inst_pks);
    strbuf_free(&s.key);
    /* the master's names are kept only for the check */
    for (size_t i = 0; i < plan->inst_count; i++)
        plan->insts[i].name = plan->insts[i].address = NULL;
    arena_free(s.keys);
    if (e != NSDB_OK)
        log_event(LOG_ERROR, "import_check_failed", "error", nsdb_err_name(e), NULL);
    return e;
}

void import_plan_free(import_plan *plan)
{
    free(plan->accounts);
    plan->accounts = NULL;
    arena_free(plan->a);
    plan->a = NULL;
}
