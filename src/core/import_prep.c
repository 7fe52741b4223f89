/*
 * import_prep.c — see import_prep.h.
 */
#include "core/import_prep.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "domain/states.h"

/* The new accounts of the rows, each with its initial password sealed (an import shows none). */
static NSDB_MUST_CHECK nsdb_err prep_users(import_prep *pr)
{
    const import_plan *p = pr->plan;
    size_t n = 0;
    for (size_t i = pr->from; i < pr->to; i++)
        n += p->rows[i].kind == IMPORT_ROW_NEW;
    if (n == 0)
        return NSDB_OK;
    pr->users = arena_calloc(pr->arena, n, sizeof *pr->users);
    pr->accounts = arena_calloc(pr->arena, n, sizeof *pr->accounts);
    pr->rows = arena_calloc(pr->arena, n, sizeof *pr->rows);
    for (size_t i = pr->from; i < pr->to; i++) {
        if (p->rows[i].kind != IMPORT_ROW_NEW)
            continue;
        const inst_import_row *r = &pr->imp->rows[i];
        const import_account *acc = &p->accounts[p->rows[i].account];
        char password[IDS_INITIAL_PASSWORD_LEN + 1];
        unsigned char *sealed = NULL;
        size_t sealed_len = 0;
        nsdb_err e = accounts_initial_password(pr->app, password, &sealed, &sealed_len);
        sodium_memzero(password, sizeof password);
        if (e != NSDB_OK)
            return e;
        unsigned char *kept = arena_alloc(pr->arena, sealed_len);
        memcpy(kept, sealed, sealed_len);
        free(sealed);
        user_role role = USER_ROLE_DOCTOR;
        (void)user_role_from_key(r->user_type, &role); /* checked by import_plan_check */
        size_t k = pr->n_users++;
        pr->accounts[k] = p->rows[i].account;
        pr->rows[k] = (uint32_t)i;
        pr->users[k] = (store_bulk_user_new){.user_id = acc->user_id, /* drawn again on a clash */
                                             .role = role,
                                             .name = r->name,
                                             .name_kana = r->name_kana,
                                             .email = r->email,
                                             .category = acc->category,
                                             .doctor_number = r->doctor_number,
                                             .specialty = r->specialty,
                                             .search_key = r->search_key,
                                             .initial_sealed = kept,
                                             .initial_sealed_len = sealed_len};
    }
    return NSDB_OK;
}

/* The audit records, as registration_register wrote them: user_create for a new account,
   user_update for a row that made an account of an earlier row 両方 (an account registered
   before the import is changed, and audited, in the last step). */
static void prep_audit(import_prep *pr)
{
    const import_plan *p = pr->plan;
    arena *a = pr->arena;
    pr->audit = arena_calloc(a, pr->to - pr->from, sizeof *pr->audit);
    for (size_t i = pr->from; i < pr->to; i++) {
        const import_row_plan *rp = &p->rows[i];
        const inst_import_row *r = &pr->imp->rows[i];
        const import_account *acc = &p->accounts[rp->account];
        if (rp->kind == IMPORT_ROW_NEW)
            pr->audit[pr->n_audit++] = (store_audit){
                .action = "user_create",
                .target = acc->user_id,
                .result = "ok",
                .detail = arena_printf(a, "%s %s%s", r->user_type, r->inst_code,
                                       rp->differs ? " (differs from the institution master)"
                                                   : "")};
        else if (rp->kind == IMPORT_ROW_MERGE && acc->row != IMPORT_ACCOUNT_EXISTING)
            pr->audit[pr->n_audit++] = (store_audit){
                .action = "user_update",
                .target = acc->user_id,
                .result = "ok",
                .detail = arena_printf(a, "category %s -> %s (registered again)",
                                       category_key((user_category)rp->had),
                                       category_key((user_category)rp->now))};
    }
}

/* The name index of the new accounts: each distinct (gram, key) once with its number of users. */
static NSDB_MUST_CHECK nsdb_err prep_grams(import_prep *pr)
{
    nsdb_err e = NSDB_OK;
    for (size_t k = 0; e == NSDB_OK && k < pr->n_users; k++)
        e = import_grams_add(&pr->grams, pr->arena, pr->users[k].search_key);
    return e;
}

static void *prep_main(void *arg)
{
    import_prep *pr = arg;
    nsdb_err e = prep_users(pr);
    if (e == NSDB_OK) {
        prep_audit(pr);
        e = prep_grams(pr);
    }
    pr->result = e;
    return NULL;
}

void import_prep_start(import_prep *pr, app *application, const inst_import *imp, const import_plan *plan,
                       size_t from, size_t to)
{
    *pr = (import_prep){.app = application,
                        .imp = imp,
                        .plan = plan,
                        .from = from,
                        .to = to,
                        .arena = arena_new(),
                        .result = NSDB_ERR_NOMEM};
    if (pr->arena == NULL)
        return;
    if (pthread_create(&pr->thread, NULL, prep_main, pr) == 0)
        pr->running = true;
    else
        prep_main(pr); /* no thread: made here */
}

nsdb_err import_prep_wait(import_prep *pr)
{
    if (pr->running) {
        pthread_join(pr->thread, NULL);
        pr->running = false;
    }
    return pr->result;
}

void import_prep_free(import_prep *pr)
{
    nsdb_err e = import_prep_wait(pr);
    (void)e; /* freed either way */
    import_grams_free(&pr->grams);
    if (pr->arena != NULL)
        arena_free(pr->arena);
    *pr = (import_prep){0};
}
