/*
 * import_write.c — 一括登録 as a set (issue 11): core_register_import checks every row first
 * (import_check.c: bulk reads, decisions in memory, nothing written), then writes the rows in
 * chunks, each its own short transaction, into the batch that stays invisible (new
 * institutions, users with sealed initial passwords, registrations, user_create audit records,
 * the name index, rows_written), and ends with one short step that makes the batch visible:
 * the rows that make an account registered before 両方, the batch's warnings, the state and the
 * inst_users_import audit record. So no write transaction holds SQLite's only write lock for
 * long, and a stop or a crash between chunks leaves only an invisible, failed batch.
 */
#include "core/import_internal.h"
#include "core/import_prep.h"
#include "core/import_tail.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit.h"
#include "store/bulk_import.h"
#include "store/import_batches.h"
#include "store/registrations.h"
#include "store/users.h"
#include "domain/text.h"
#include "util/key_map.h"
#include "util/clock.h"
#include "util/log.h"

#define IMPORT_ID_ATTEMPTS 8
#define IMPORT_CHECKPOINT_ROWS 8000

/* A positive number from the environment (the tests' knobs below), else 0. */
static long env_number(const char *name, long max)
{
    const char *env = getenv(name);
    if (env == NULL || *env == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(env, &end, 10);
    return errno == 0 && *end == '\0' && v > 0 && v <= max ? v : 0;
}

/* Rows of one chunk: NSDB_IMPORT_CHUNK_ROWS in the environment (tests), else the dialect's. */
static size_t import_chunk_rows(db *conn)
{
    long v = env_number("NSDB_IMPORT_CHUNK_ROWS", 1000000);
    if (v > 0)
        return (size_t)v;
    return db_get_dialect(conn) == DB_POSTGRESQL ? REGISTRATION_IMPORT_CHUNK_ROWS_PG
                                                 : REGISTRATION_IMPORT_CHUNK_ROWS;
}

/* A pause before each chunk: NSDB_IMPORT_CHUNK_PAUSE_MS in the environment, for tests that must
   see an import running (its progress page, a kill -9 mid-way) however fast the machine is. */
static void import_test_pause(void)
{
    long ms = env_number("NSDB_IMPORT_CHUNK_PAUSE_MS", 10000);
    if (ms > 0)
        nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

typedef struct import_writer {
    core_ctx *c;
    const inst_import *imp;
    import_plan *plan;
    int64_t batch;
    const char *cycle_id;
    size_t chunks;
    int64_t longest_ms;
    int64_t check_ms;    /* the check before the writes */
    key_map existing;    /* pk of a registered account the check read -> its index */
    const char *failure; /* why the import stopped, when a row clashes after all (c->arena) */
    import_tail tail;    /* the registrations of the last chunk, written beside (PostgreSQL) */
} import_writer;

typedef struct new_institution {
    store_bulk_institution_new row;
    uint32_t inst;
} new_institution;

static int new_institution_cmp(const void *a, const void *b)
{
    return strcmp(((const new_institution *)a)->row.code, ((const new_institution *)b)->row.code);
}

/* The institutions first named by rows from..to-1 that are not registered yet, inserted in code
   order: another import (PostgreSQL) may insert some of the same codes at once, and each waits
   at the unique index for a code the other inserted first; in file order, two files that name
   them in different orders waited for each other (a deadlock, one import failed). */
static NSDB_MUST_CHECK nsdb_err write_institutions(import_writer *w, arena *a, size_t from,
                                                   size_t to)
{
    import_plan *p = w->plan;
    new_institution *made = arena_calloc(a, to - from, sizeof *made);
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        const import_inst *inst = &p->insts[p->rows[i].inst];
        if (inst->pk != 0 || inst->first_row != i)
            continue;
        const inst_import_row *r = &w->imp->rows[i];
        made[n++] = (new_institution){{r->inst_code, r->inst_name, r->inst_postal, r->inst_address,
                                       r->inst_phone},
                                      p->rows[i].inst};
    }
    if (n == 0)
        return NSDB_OK;
    qsort(made, n, sizeof *made, new_institution_cmp);
    uint32_t *which = arena_calloc(a, n, sizeof *which);
    store_bulk_institution_new *rows = arena_calloc(a, n, sizeof *rows);
    for (size_t k = 0; k < n; k++) {
        rows[k] = made[k].row;
        which[k] = made[k].inst;
    }
    int64_t *pks = arena_calloc(a, n, sizeof *pks);
    bool *inserted = arena_calloc(a, n, sizeof *inserted);
    nsdb_err e = store_bulk_institutions_insert(w->c->conn, rows, n, w->c->who.now, pks, inserted);
    for (size_t k = 0; e == NSDB_OK && k < n; k++) {
        p->insts[which[k]].pk = pks[k];
        p->insts[which[k]].made = inserted[k];
    }
    return e;
}

/* ---- the check again, row by row of each chunk, under the chunk's locks --------------------

   The rows were decided before the first chunk, without locks; a registration or another
   import may since have registered the same person (another municipality, or this one by
   個別登録). So each chunk, in its own transaction, locks its institutions (PostgreSQL: as a
   registration locks its institution before its duplicate check; SQLite has one writer) and
   reads their users again. A user the check did not see, or one whose category or 指定医番号
   changed since, at the institution, role and name key of a row of the chunk, that the row's
   decision would have counted (decide_row's rule: same category, or a doctor's same 指定医番号;
   of another category, only this municipality's: 両方) stops the import: nothing is
   registered, and the batch's page says which row and (this municipality's) whom. Every row of
   the chunk with that key is tried: a file may hold one doctor once per category. A
   registration after the chunk sees the chunk's rows (registration_register's duplicate check
   sees a batch being written). */

typedef struct recheck {
    import_writer *w;
    size_t from, to;
    key_map rows;   /* "institution id, role, name key" -> the chunk's first row of it */
    uint32_t *next; /* [i - from]: the chunk's next row of row i's key, or UINT32_MAX */
    strbuf key;
    size_t row;          /* the first clashing row, or SIZE_MAX */
    const char *user_id; /* registered by this municipality: its user ID, else NULL */
} recheck;

static void recheck_key(strbuf *b, int64_t inst_pk, user_role role, const char *search_key)
{
    strbuf_reset(b);
    strbuf_printf(b, "%lld\x1f%d\x1f%s", (long long)inst_pk, (int)role,
                  search_key ? search_key : "");
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL || *a == '\0') ? (b == NULL || *b == '\0') : (b != NULL && strcmp(a, b) == 0);
}

static void recheck_user(void *ctx, const store_bulk_user *u)
{
    recheck *rc = ctx;
    import_writer *w = rc->w;
    recheck_key(&rc->key, u->institution_pk, u->role, u->name_search);
    uint32_t at = key_map_get(&rc->rows, rc->key.data, rc->key.len);
    if (at == UINT32_MAX || (rc->row != SIZE_MAX && at >= rc->row))
        return;
    uint32_t known = key_map_get(&w->existing, &u->pk, sizeof u->pk);
    if (known != UINT32_MAX) {
        const import_account *acc = &w->plan->accounts[known];
        if (same_text(acc->category_read, u->category) &&
            same_text(acc->doctor_number, u->doctor_number))
            return; /* as the check saw it */
    }
    bool ours = u->municipality_pk == w->c->who.municipality_pk;
    for (; at != UINT32_MAX && (rc->row == SIZE_MAX || at < rc->row);
         at = rc->next[at - rc->from]) {
        const inst_import_row *r = &w->imp->rows[at];
        bool numbered = u->role == USER_ROLE_DOCTOR && r->doctor_number != NULL &&
                        *r->doctor_number != '\0';
        bool same_category = same_text(u->category, r->category);
        if (!same_category && !(numbered && same_text(u->doctor_number, r->doctor_number)))
            continue; /* another person for decide_row */
        if (!same_category && !ours)
            continue; /* another municipality's account of another category: no clash */
        rc->row = at;
        rc->user_id = ours ? arena_strdup(w->c->arena, u->user_id ? u->user_id : "") : NULL;
        return;
    }
}

static int pk_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static NSDB_MUST_CHECK nsdb_err recheck_chunk(import_writer *w, arena *a, size_t from, size_t to)
{
    import_plan *p = w->plan;
    recheck rc = {.w = w, .from = from, .to = to, .key = STRBUF_INIT, .row = SIZE_MAX};
    int64_t *pks = arena_calloc(a, to - from, sizeof *pks);
    uint32_t *last = arena_calloc(a, to - from, sizeof *last); /* per key: its last row so far */
    rc.next = arena_calloc(a, to - from, sizeof *rc.next);
    size_t n = 0;
    nsdb_err e = NSDB_OK;
    for (size_t i = from; e == NSDB_OK && i < to; i++) {
        const inst_import_row *r = &w->imp->rows[i];
        const import_inst *inst = &p->insts[p->rows[i].inst];
        rc.next[i - from] = UINT32_MAX;
        /* an institution this transaction inserted has no users of anyone else (no other
           transaction sees it before the commit): nothing to lock or read again */
        if (inst->made && inst->first_row >= from)
            continue;
        int64_t pk = inst->pk;
        user_role role = USER_ROLE_DOCTOR;
        (void)user_role_from_key(r->user_type, &role); /* checked by import_plan_check */
        recheck_key(&rc.key, pk, role, r->search_key);
        uint32_t first = 0;
        bool added = false;
        e = key_map_get_or_add(&rc.rows, arena_strndup(a, rc.key.data, rc.key.len), rc.key.len,
                               (uint32_t)i, &first, &added);
        if (e == NSDB_OK && !added)
            rc.next[last[first - from] - from] = (uint32_t)i;
        if (e == NSDB_OK)
            last[(added ? i : first) - from] = (uint32_t)i;
        pks[n++] = pk;
    }
    qsort(pks, n, sizeof *pks, pk_cmp);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (distinct == 0 || pks[distinct - 1] != pks[i])
            pks[distinct++] = pks[i];
    if (e == NSDB_OK)
        e = store_bulk_institutions_lock(w->c->conn, pks, distinct);
    if (e == NSDB_OK)
        e = store_bulk_users_at(w->c->conn, w->batch, pks, distinct, recheck_user, &rc);
    if (e == NSDB_OK && rc.row != SIZE_MAX) {
        const inst_import_row *r = &w->imp->rows[rc.row];
        const char *file = r->file < w->imp->file_count ? w->imp->files[r->file] : "";
        /* another municipality's account is not named (as registration_register names none) */
        const char *whom = rc.user_id != NULL
                               ? arena_printf(w->c->arena, "ほかの登録でユーザID %s として",
                                              rc.user_id)
                               : "別の自治体により同じ医療機関・同じ区分で";
        w->failure = arena_printf(
            w->c->arena,
            "%s%s%s%u行目：%s（%s）は、この一括登録の確認の後に、%s登録されました。"
            "一括登録を中止し、何も登録していません。"
            "もう一度アップロードすると、この行を登録済みの内容と照らして確認します。",
            *file ? "「" : "", file, *file ? "」の" : "", r->record, r->name, r->name_kana, whom);
        e = NSDB_ERR_CONFLICT;
    }
    strbuf_free(&rc.key);
    key_map_free(&rc.rows);
    return e;
}

/* w->existing: the registered accounts the check read, by id. */
static NSDB_MUST_CHECK nsdb_err existing_index(import_writer *w)
{
    import_plan *p = w->plan;
    nsdb_err e = NSDB_OK;
    for (size_t i = 0; e == NSDB_OK && i < p->account_count; i++) {
        if (p->accounts[i].row != IMPORT_ACCOUNT_EXISTING)
            continue;
        uint32_t at = 0;
        bool added = false;
        e = key_map_get_or_add(&w->existing, &p->accounts[i].pk, sizeof p->accounts[i].pk,
                               (uint32_t)i, &at, &added);
    }
    return e;
}

/* The new accounts prepared in pr (a user ID that is taken is drawn again); *regs_out
   (malloc'd, *n_regs_out) gets their registrations to write, and *min_pk and *max_pk span their
   ids (0 when none). */
static NSDB_MUST_CHECK nsdb_err write_users(import_writer *w, import_prep *pr,
                                            store_bulk_registration **regs_out, size_t *n_regs_out,
                                            int64_t *min_pk, int64_t *max_pk)
{
    import_plan *p = w->plan;
    core_ctx *c = w->c;
    arena *a = pr->arena;
    *min_pk = *max_pk = 0;
    *regs_out = NULL;
    *n_regs_out = 0;
    size_t n = pr->n_users;
    if (n == 0)
        return NSDB_OK;
    store_bulk_user_new *users = pr->users;
    for (size_t k = 0; k < n; k++) /* known now: the chunk inserted its new institutions */
        users[k].institution_pk = p->insts[p->rows[pr->rows[k]].inst].pk;
    store_bulk_user_common common = {c->who.municipality_pk, c->who.user_pk, w->batch, c->who.now};
    /* the rows still to insert: all, then those whose user ID was taken, drawn again */
    store_bulk_user_new *pending = arena_calloc(a, n, sizeof *pending);
    size_t *pending_of = arena_calloc(a, n, sizeof *pending_of);
    size_t n_pending = 0;
    for (size_t j = 0; j < n; j++) {
        pending[n_pending] = users[j];
        pending_of[n_pending++] = j;
    }
    nsdb_err e = NSDB_OK;
    for (int attempt = 0; e == NSDB_OK && n_pending > 0; attempt++) {
        if (attempt == IMPORT_ID_ATTEMPTS) {
            e = NSDB_ERR_EXISTS;
            break;
        }
        e = store_bulk_users_insert(c->conn, pending, n_pending, &common);
        size_t left = 0;
        for (size_t j = 0; e == NSDB_OK && j < n_pending; j++) {
            size_t u = pending_of[j];
            users[u].pk = pending[j].pk;
            if (pending[j].pk != 0)
                continue;
            ids_user_id_generate(p->accounts[pr->accounts[u]].user_id); /* users[u].user_id */
            pending[left] = users[u];
            pending_of[left++] = u;
        }
        n_pending = left;
    }
    if (e != NSDB_OK)
        return e;
    store_bulk_registration *regs = malloc(n * sizeof *regs);
    if (regs == NULL)
        return NSDB_ERR_NOMEM;
    for (size_t j = 0; j < n; j++) {
        p->accounts[pr->accounts[j]].pk = users[j].pk;
        regs[j] = (store_bulk_registration){users[j].pk, users[j].institution_pk};
        *min_pk = *min_pk == 0 || users[j].pk < *min_pk ? users[j].pk : *min_pk;
        *max_pk = users[j].pk > *max_pk ? users[j].pk : *max_pk;
    }
    *regs_out = regs;
    *n_regs_out = n;
    return NSDB_OK;
}

/* The audit records prepared in pr (import_prep.c says which). */
static NSDB_MUST_CHECK nsdb_err write_audit(import_writer *w, const import_prep *pr)
{
    core_ctx *c = w->c;
    store_audit actor = {.at = c->who.now,
                         .actor_user_pk = c->who.user_pk,
                         .actor_user_id = c->who.user_id,
                         .client_ip = c->who.client_ip};
    return pr->n_audit == 0 ? NSDB_OK
                            : store_bulk_audit_insert(c->conn, &actor, pr->audit, pr->n_audit);
}

/* The name index of the new accounts, counted in pr: each distinct (gram, key) once with the
   number of those users, rather than by a recursive SQL query per chunk. */
static NSDB_MUST_CHECK nsdb_err write_grams(import_writer *w, const import_prep *pr)
{
    /* an import registers institution users only */
    return store_bulk_user_grams_add(w->c->conn, w->c->who.municipality_pk, pr->grams.rows,
                                     pr->grams.count, (int64_t)pr->n_users);
}

static int user_id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The user IDs drawn for the new accounts, sorted and dealt out again in account (= row) order,
   shuffled within each run of IMPORT_ID_RUN accounts. The IDs stay random and unique, but the
   accounts of one chunk get IDs from one narrow part of the ID space, so each chunk's inserts
   into the unique index of user IDs touch a few of its pages rather than nearly all of them
   (every chunk rewrote that whole index into the WAL). Clash messages are not shown for a batch
   that is written, and merges name the account's ID when the batch is made visible. */
#define IMPORT_ID_RUN 256

static NSDB_MUST_CHECK nsdb_err user_ids_deal(import_plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->account_count; i++)
        n += p->accounts[i].row != IMPORT_ACCOUNT_EXISTING;
    if (n < 2)
        return NSDB_OK;
    char(*ids)[IDS_USER_ID_LEN + 1] = malloc(n * sizeof *ids);
    uint32_t *r = malloc(n * sizeof *r);
    if (ids == NULL || r == NULL) {
        free(ids);
        free(r);
        return NSDB_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < p->account_count; i++)
        if (p->accounts[i].row != IMPORT_ACCOUNT_EXISTING)
            memcpy(ids[k++], p->accounts[i].user_id, sizeof ids[0]);
    qsort(ids, n, sizeof ids[0], user_id_cmp);
    randombytes_buf(r, n * sizeof *r);
    for (size_t run = 0; run < n; run += IMPORT_ID_RUN) { /* Fisher-Yates within the run */
        size_t len = n - run < IMPORT_ID_RUN ? n - run : IMPORT_ID_RUN;
        for (size_t j = len - 1; j > 0; j--) {
            size_t other = r[run + j] % (j + 1);
            char tmp[IDS_USER_ID_LEN + 1];
            memcpy(tmp, ids[run + j], sizeof tmp);
            memcpy(ids[run + j], ids[run + other], sizeof tmp);
            memcpy(ids[run + other], tmp, sizeof tmp);
        }
    }
    k = 0;
    for (size_t i = 0; i < p->account_count; i++)
        if (p->accounts[i].row != IMPORT_ACCOUNT_EXISTING)
            memcpy(p->accounts[i].user_id, ids[k++], sizeof ids[0]);
    free(ids);
    free(r);
    return NSDB_OK;
}

/* The rows of pr (pr->from..pr->to-1) in one transaction; the first chunk also moves the batch to
   writing. Their registrations go into the same transaction, or beside it once it has committed
   (w->tail). */
static NSDB_MUST_CHECK nsdb_err write_chunk(import_writer *w, import_prep *pr, int64_t *ms_out)
{
    core_ctx *c = w->c;
    size_t from = pr->from, to = pr->to;
    int64_t started = clock_monotonic_ms(), min_pk = 0, max_pk = 0;
    store_bulk_registration *regs = NULL;
    size_t n_regs = 0;
    bool beside = import_tail_beside(&w->tail);
    nsdb_err e = import_prep_wait(pr); /* before the transaction: no lock held meanwhile */
    if (e == NSDB_OK)
        e = core_begin(c);
    else
        log_event(LOG_ERROR, "import_prep_failed", "error", nsdb_err_name(e), NULL);
    if (e == NSDB_OK && from == 0)
        e = store_import_batch_set_state(c->conn, w->batch, IMPORT_STATE_WRITING, NULL, NULL,
                                         c->who.now);
    if (e == NSDB_OK)
        e = write_institutions(w, pr->arena, from, to);
    if (e == NSDB_OK)
        e = recheck_chunk(w, pr->arena, from, to);
    if (e == NSDB_OK)
        e = write_users(w, pr, &regs, &n_regs, &min_pk, &max_pk);
    if (e == NSDB_OK && !beside && n_regs > 0)
        e = store_bulk_registrations_insert(c->conn, regs, n_regs, c->who.municipality_pk,
                                            w->cycle_id, w->batch, c->who.now);
    if (e == NSDB_OK)
        e = write_audit(w, pr);
    if (e == NSDB_OK && min_pk != 0)
        e = write_grams(w, pr);
    if (e == NSDB_OK)
        e = store_import_batch_progress(c->conn, w->batch, (int64_t)to, c->who.now);
    e = core_end(c, e);
    if (e == NSDB_OK && beside) {
        e = import_tail_start(&w->tail, regs, n_regs, c->who.now); /* takes regs */
        regs = NULL;
    }
    free(regs);
    int64_t ms = clock_monotonic_ms() - started;
    *ms_out = ms;
    w->longest_ms = ms > w->longest_ms ? ms : w->longest_ms;
    w->chunks++;
    char rows[32], took[32];
    snprintf(rows, sizeof rows, "%zu", to);
    snprintf(took, sizeof took, "%lld", (long long)ms);
    log_event(LOG_DEBUG, "import_chunk", "rows_written", rows, "ms", took, NULL);
    return e;
}

/* How long an import lets waiting writers go first before each chunk, at most. */
#define IMPORT_YIELD_MS 1000

/* Rows of the next chunk on SQLite: as many as fit IMPORT_CHUNK_TARGET_MS by the last chunk's
   pace, at most a quarter more than the last chunk (so a chunk overshoots the target by at most
   that much when rows get dearer as the indexes grow), within IMPORT_CHUNK_MIN..MAX. Each commit writes every
   page the chunk touched, so fewer, larger chunks write much less; the target keeps each
   transaction short for the logins and registrations waiting behind it (issue 11: ~100 ms).
   At 85 ms the longest chunk of the bench's 100k import took 88–97 ms; at 70 ms, 74–89 ms and
   the import 4% longer (5 alternating pairs). */
#define IMPORT_CHUNK_TARGET_MS 85
#define IMPORT_CHUNK_MIN 300
#define IMPORT_CHUNK_MAX 8000

static size_t next_chunk_rows(size_t rows, int64_t ms)
{
    size_t next = ms <= 0 ? SIZE_MAX : (size_t)((double)rows * IMPORT_CHUNK_TARGET_MS / (double)ms);
    next = next > rows + rows / 4 ? rows + rows / 4 : next;
    next -= next % STORE_BULK_ROWS; /* whole statements: a rest goes one row a statement */
    return next < IMPORT_CHUNK_MIN   ? IMPORT_CHUNK_MIN
           : next > IMPORT_CHUNK_MAX ? IMPORT_CHUNK_MAX
                                     : next;
}

/* Every chunk in order; progress->stop ends the import between two chunks (NSDB_ERR_BUSY).
   Each chunk's bounds are set, and its part made on another thread (import_prep.h), while the
   chunk before it is written; so on SQLite a chunk's size follows the pace of the chunk before
   the last. The WAL is checkpointed after every IMPORT_CHECKPOINT_ROWS rows, beside the writes
   when the pool has a second connection (import_tail_checkpoint; after every second one, the
   pages of the one chunk written meanwhile are copied after it, so the WAL starts over every
   2 × IMPORT_CHECKPOINT_ROWS rows: 49 MB at most, 0.1 s less than after every one), not by
   every chunk's commit (a checkpoint syncs the files: once per chunk, it took a third of the
   import and a large part of each write transaction). */
static NSDB_MUST_CHECK nsdb_err write_chunks(import_writer *w, import_progress *progress)
{
    db *conn = w->c->conn;
    size_t rows = w->imp->row_count, chunk = import_chunk_rows(conn);
    bool adapt = db_get_dialect(conn) == DB_SQLITE &&
                 env_number("NSDB_IMPORT_CHUNK_ROWS", 1000000) == 0;
    size_t since_checkpoint = 0;
    bool checkpointing = false; /* a checkpoint runs beside: its rest follows the next chunk */
    unsigned checkpoints_beside = 0;
    import_prep prep[2] = {0};
    int cur = 0;
    nsdb_err e = store_bulk_wal_hold(conn, true);
    if (e == NSDB_OK)
        import_prep_start(&prep[0], w->c->app, w->imp, w->plan, 0, chunk < rows ? chunk : rows);
    for (size_t from = 0; e == NSDB_OK && from < rows;) {
        if (progress != NULL && atomic_load(&progress->stop)) {
            e = NSDB_ERR_BUSY;
            break;
        }
        size_t to = prep[cur].to;
        if (to < rows) /* the next chunk's part, made while this one is written */
            import_prep_start(&prep[1 - cur], w->c->app, w->imp, w->plan, to,
                              to + chunk < rows ? to + chunk : rows);
        db_yield_to_writers(conn, IMPORT_YIELD_MS); /* logins and registrations first */
        import_test_pause();
        int64_t ms = 0;
        e = write_chunk(w, &prep[cur], &ms);
        import_prep_free(&prep[cur]);
        if (e == NSDB_OK && progress != NULL)
            atomic_store(&progress->rows_written, to);
        since_checkpoint += to - from;
        if (e == NSDB_OK && checkpointing) {
            checkpointing = false;
            if (++checkpoints_beside % 2 == 0) /* the rest too: the WAL starts over */
                e = import_tail_checkpoint_end(&w->tail, conn);
        } else if (e == NSDB_OK && since_checkpoint >= IMPORT_CHECKPOINT_ROWS) {
            e = import_tail_checkpoint(&w->tail, conn, &checkpointing);
            since_checkpoint = 0;
        }
        if (adapt)
            chunk = next_chunk_rows(to - from, ms);
        from = to;
        cur = 1 - cur;
    }
    import_prep_free(&prep[0]);
    import_prep_free(&prep[1]);
    /* the last chunk's registrations, before the batch can be made visible */
    nsdb_err beside = import_tail_wait(&w->tail);
    e = e != NSDB_OK ? e : beside;
    /* the connection goes back to the pool as it came */
    nsdb_err restored = store_bulk_wal_hold(conn, false);
    return e != NSDB_OK ? e : restored;
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
                                    file_warnings && *file_warnings && *master ? "\n" : "", master,
                                    more);
    return arena_printf(a, "%s%s%s", text, *text && *merged ? "\n" : "", merged);
}

/* The last short step: accounts registered before made 両方 (audited), the warnings, the batch
   visible with its audit record. */
static NSDB_MUST_CHECK nsdb_err make_visible(import_writer *w, const char *file_warnings,
                                             const master_warnings *mw)
{
    core_ctx *c = w->c;
    import_plan *p = w->plan;
    strbuf merges = STRBUF_INIT; /* rows that made an account 両方 */
    size_t n_merges = 0;
    int64_t started = clock_monotonic_ms();
    nsdb_err e = core_begin(c);
    for (size_t i = 0; e == NSDB_OK && i < w->imp->row_count; i++) {
        const import_row_plan *rp = &p->rows[i];
        if (rp->kind != IMPORT_ROW_MERGE)
            continue;
        const import_account *acc = &p->accounts[rp->account];
        if (n_merges++ < REGISTRATION_MAX_CONFLICTS)
            merge_line(&merges, w->imp, &w->imp->rows[i], acc->user_id);
        if (acc->row != IMPORT_ACCOUNT_EXISTING)
            continue; /* written with its chunk */
        /* the account as it is now (it may have been changed since the check), locked */
        const char *current = NULL;
        user_category had = 0, adds = 0;
        e = store_user_category_locked(c->conn, c->arena, acc->pk, &current);
        if (e == NSDB_OK && (!category_from_key(current, &had) ||
                             !category_from_key(w->imp->rows[i].category, &adds)))
            e = NSDB_ERR_INVALID;
        if (e != NSDB_OK)
            break;
        user_category now_is = category_union(had, adds);
        if (now_is == had)
            continue; /* already holds the row's category */
        e = store_user_set_category(c->conn, acc->pk, category_key(now_is), c->who.now);
        if (e == NSDB_OK)
            e = core_audit(c, "user_update", acc->user_id, "ok",
                           arena_printf(c->arena, "category %s -> %s (registered again)",
                                        category_key(had), category_key(now_is)));
    }
    if (e == NSDB_OK && (mw->count > 0 || n_merges > 0)) /* said on the result page */
        e = store_import_batch_warnings_set(c->conn, w->batch,
                                            master_warnings_join(c->arena, file_warnings, mw,
                                                                 &merges));
    strbuf_free(&merges);
    if (e == NSDB_OK)
        e = store_import_batch_progress(c->conn, w->batch, (int64_t)w->imp->row_count, c->who.now);
    if (e == NSDB_OK)
        e = store_import_batch_set_state(c->conn, w->batch, IMPORT_STATE_VISIBLE, NULL, NULL,
                                         c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "inst_users_import", core_target_id(c, "batch", w->batch), "ok",
                       arena_printf(c->arena, "%zu rows", w->imp->row_count));
    e = core_end(c, e);
    int64_t ms = clock_monotonic_ms() - started;
    w->longest_ms = ms > w->longest_ms ? ms : w->longest_ms;
    return e;
}

/* The clashing rows as kept with a refused batch: [{"file","row","field","message"}]. */
static const char *conflicts_json(arena *a, const inst_import *imp,
                                  const registration_conflict *conflicts, size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        const inst_import_row *r = conflicts[i].row;
        json_array_append_new(rows,
                              json_pack("{s:s, s:I, s:s, s:s}", "file",
                                        r->file < imp->file_count ? imp->files[r->file] : "", "row",
                                        (json_int_t)r->record, "field",
                                        conflicts[i].field ? conflicts[i].field : "", "message",
                                        conflicts[i].message ? conflicts[i].message : ""));
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

static void log_written(const import_writer *w, int64_t started)
{
    char rows[32], chunks[32], longest[32], total[32], check[32];
    snprintf(check, sizeof check, "%lld", (long long)w->check_ms);
    snprintf(rows, sizeof rows, "%zu", w->imp->row_count);
    snprintf(chunks, sizeof chunks, "%zu", w->chunks);
    snprintf(longest, sizeof longest, "%lld", (long long)w->longest_ms);
    snprintf(total, sizeof total, "%lld", (long long)(clock_monotonic_ms() - started));
    log_event(LOG_INFO, "import_written", "rows", rows, "chunks", chunks, "longest_write_ms",
              longest, "check_ms", check, "total_ms", total, NULL);
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
    int64_t started = clock_monotonic_ms();
    cycle_window cycle;
    e = registration_cycle(c->conn, c->who.now, &cycle);
    master_warnings mw = {.count = 0, .rows_omitted = 0, .text = STRBUF_INIT};
    import_plan plan = {0};
    if (e == NSDB_OK)
        e = import_plan_check(c, imp, batch, progress, &plan, &mw);
    if (e == NSDB_OK && plan.conflict_count > 0) {
        batch_end(c, batch, IMPORT_STATE_REFUSED, NULL,
                  conflicts_json(c->arena, imp, plan.conflicts, plan.conflict_count));
        *conflicts_out = plan.conflicts;
        *conflict_count_out = plan.conflict_count;
        import_plan_free(&plan);
        strbuf_free(&mw.text);
        return problem_set(pb, NSDB_ERR_INVALID, "file",
                           "登録済みの内容と食い違う行があります。何も登録していません。");
    }
    import_writer w = {.c = c,
                       .imp = imp,
                       .plan = &plan,
                       .batch = batch,
                       .cycle_id = cycle.id,
                       .check_ms = clock_monotonic_ms() - started};
    if (e == NSDB_OK)
        e = user_ids_deal(&plan);
    if (e == NSDB_OK)
        e = existing_index(&w);
    if (e == NSDB_OK) {
        import_tail_open(&w.tail, c, batch, cycle.id);
        e = write_chunks(&w, progress);
        import_tail_close(&w.tail);
    }
    if (e == NSDB_OK)
        e = make_visible(&w, opened.warnings, &mw);
    if (e == NSDB_OK)
        log_written(&w, started);
    key_map_free(&w.existing);
    import_plan_free(&plan);
    strbuf_free(&mw.text);
    bool stopped = e == NSDB_ERR_BUSY && progress != NULL && atomic_load(&progress->stop);
    if (e != NSDB_OK) {
        const char *reason = stopped ? "サーバが停止したため、一括登録を中断しました。"
                                       "何も登録していません。もう一度アップロードしてください。"
                             : w.failure != NULL ? w.failure
                                                 : "一括登録に失敗しました。何も登録していません。"
                                                   "時間をおいて再度お試しください。";
        batch_end(c, batch, IMPORT_STATE_FAILED, reason, NULL);
        return problem_set(pb, e, NULL, reason);
    }
    return NSDB_OK;
}
