/*
 * test_import_discard.c — the removal of a failed 一括登録 batch's rows (src/core/import_discard.c)
 * gives back exactly what the import's chunks added, on SQLite always and on PostgreSQL with
 * NSDB_DATABASE_URL: after two municipalities' batches are written by the background import
 * (import_jobs_submit), then failed and removed by core_import_batch_discard, each
 * municipality's name index (user_grams, row for row with its users), its count of institution
 * users and the institutions are what they were before the imports. The batches' names repeat
 * within a batch (a key of several users goes to 0 and its rows are deleted), repeat the names
 * of users registered before (their rows stay, with their own count) and repeat across the two
 * municipalities; the larger batch needs three removal chunks.
 */
/* inst_import_rows.h's group teardown is renamed: both_backends.h's BOTH names this file's own */
#define teardown inst_import_rows_teardown
#include "inst_import_rows.h"
#undef teardown

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the test reads user_grams and flips a batch's state with plain SQL: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "core/actor.h"
#include "core/import_job.h"
#include "core/registration.h"
#include "core/registry.h"
#include "core/users.h"
#include "domain/fields.h"
#include "store/import_batches.h"
#include "store/sql.h"
#include "store/store.h"

#include "both_backends.h"
#include "core_fixture.h"

#define JOB_WAIT_MS 120000
/* rows of the two batches: the first needs three removal chunks */
#define ROWS_A (2 * IMPORT_DISCARD_CHUNK + 100)
#define ROWS_B 30

static const char *const FAMILY[][2] = {
    {"山田", "ヤマダ"}, {"佐藤", "サトウ"},   {"鈴木", "スズキ"},
    {"田中", "タナカ"}, {"高橋", "タカハシ"}, {"伊藤", "イトウ"},
};
static const char *const GIVEN[][2] = {
    {"太郎", "タロウ"},   {"花子", "ハナコ"}, {"一郎", "イチロウ"}, {"次郎", "ジロウ"},
    {"三郎", "サブロウ"}, {"四郎", "シロウ"}, {"五郎", "ゴロウ"},
};
#define FAMILIES (sizeof FAMILY / sizeof FAMILY[0])
#define NAMES (FAMILIES * (sizeof GIVEN / sizeof GIVEN[0]))

typedef struct discard_fixture {
    struct fixture *f;
    import_jobs *jobs;
    core_ctx staff[2]; /* a municipal user of each municipality */
    unsigned run;
} discard_fixture;

/* Name number k (of NAMES) as its 氏名 and カナ, in a. */
static void name_of(arena *a, size_t k, const char **name, const char **kana)
{
    size_t fam = k % FAMILIES, giv = k / FAMILIES;
    *name = arena_printf(a, "%s %s", FAMILY[fam][0], GIVEN[giv][0]);
    *kana = arena_printf(a, "%s %s", FAMILY[fam][1], GIVEN[giv][1]);
}

/* Institution number i of municipality m, unique to the run (a PostgreSQL database is shared). */
static const char *inst_code(discard_fixture *df, int m, size_t i)
{
    char payload[10];
    snprintf(payload, sizeof payload, "%02u%01u%06u", 14u + (unsigned)m, (unsigned)(i / 1000),
             (df->run % 1000u) * 1000u + (unsigned)(i % 1000));
    char *code = arena_calloc(df->f->arena, 11, 1);
    make_code(payload, code);
    return code;
}

static void add_staff(discard_fixture *df, int m, const char *muni_code)
{
    struct fixture *f = df->f;
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&f->cli, muni_code, m == 0 ? "破棄市" : "破棄町", NULL, NULL,
                                       &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    user_add_input in = {.role = "muni_staff",
                         .name = "破棄 担当",
                         .municipality_code = muni_code,
                         .profile_optional = true};
    accounts_issued issued;
    assert_int_equal(core_user_add(&f->cli, &in, &issued, &pb), NSDB_OK);
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, issued.user_id, &u),
                     NSDB_OK);
    df->staff[m] = f->cli;
    df->staff[m].who = (core_actor){.user_pk = u->pk,
                                    .user_id = u->user_id,
                                    .municipality_pk = u->municipality_pk,
                                    .client_ip = "127.0.0.1",
                                    .now = f->cli.who.now};
}

static int setup_with(void **state, const char *url)
{
    discard_fixture *df = calloc(1, sizeof *df);
    assert_non_null(df);
    df->run = (unsigned)getpid();
    df->f = core_fixture_open(url, "nsdb-test-import-discard");
    for (int m = 0; m < 2; m++) {
        char first5[6], code[7];
        snprintf(first5, sizeof first5, "%02u%03u", 14u + (unsigned)m, df->run % 1000u);
        snprintf(code, sizeof code, "%s%c", first5, ids_municipality_check_digit(first5));
        add_staff(df, m, code);
    }
    assert_int_equal(import_jobs_start(&df->f->app, &df->jobs), NSDB_OK);
    *state = df;
    return 0;
}

static int teardown(void **state)
{
    discard_fixture *df = *state;
    if (df == NULL)
        return 0;
    import_jobs_stop(df->jobs);
    int rc = core_fixture_close((void **)&df->f);
    free(df);
    return rc;
}

static discard_fixture *fixture_of(void **state)
{
    if (*state == NULL)
        skip(); /* PostgreSQL: NSDB_DATABASE_URL is not set */
    return *state;
}

/* A 指定医 row of municipality m: name k at institution i. */
static void doctor_row(discard_fixture *df, int m, size_t i, size_t k, csv_row row)
{
    arena *a = df->f->arena;
    good_row(row);
    row[C_CODE] = inst_code(df, m, i);
    row[C_INST_NAME] = arena_printf(a, "破棄病院%zu", i);
    name_of(a, k, &row[C_NAME], &row[C_KANA]);
    row[C_DOCTOR_NUMBER] = arena_printf(a, "D-%zu-%zu", i, k);
    row[C_EMAIL] = NULL;
}

/* Registers by 個別登録 of municipality m the doctor of doctor_row(m, i, k). */
static void register_doctor(discard_fixture *df, int m, size_t i, size_t k)
{
    arena *a = df->f->arena;
    csv_row r;
    doctor_row(df, m, i, k, r);
    registration_input in = {r[C_CODE],
                             r[C_INST_NAME],
                             r[C_POSTAL],
                             r[C_ADDRESS],
                             r[C_PHONE],
                             "doctor",
                             r[C_NAME],
                             r[C_KANA],
                             "nanbyo",
                             r[C_DOCTOR_NUMBER],
                             r[C_SPECIALTY],
                             NULL,
                             field_search_key(a, r[C_NAME], r[C_KANA])};
    accounts_issued issued;
    bool merged = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_register_one(&df->staff[m], &in, &issued, &merged, &pb), NSDB_OK);
}

/* Imports n rows of municipality m in the background (institutions from first on, names k mod
   NAMES) and waits for the batch to end visible. */
static int64_t import_rows(discard_fixture *df, int m, size_t first, size_t n)
{
    csv_row *rows = calloc(n, sizeof *rows);
    assert_non_null(rows);
    for (size_t i = 0; i < n; i++)
        doctor_row(df, m, first + i, (first + i) % NAMES, rows[i]);
    size_t len = 0;
    char *text = csv_text((const csv_row *)rows, n, "\r\n", &len);
    free(rows);
    arena *owned = arena_new();
    inst_import imp;
    nsdb_err e = inst_import_parse_csv_named(text, len, "import.csv", owned, &imp);
    free(text);
    assert_no_errors(&imp);
    assert_int_equal(e, NSDB_OK);
    int64_t batch = 0, running = 0;
    nsdb_problem pb = {0};
    assert_int_equal(import_jobs_submit(df->jobs, &df->staff[m], owned, &imp, "import.csv", NULL,
                                        &batch, &running, &pb),
                     NSDB_OK);
    assert_true(import_jobs_wait(df->jobs, batch, JOB_WAIT_MS));
    store_import_batch b = {0};
    assert_int_equal(store_import_batch_get(df->f->cli.conn, df->f->arena, 0, batch, &b), NSDB_OK);
    assert_int_equal(b.state, IMPORT_STATE_VISIBLE);
    assert_int_equal(b.rows_written, (int64_t)n);
    return batch;
}

/* One line a row of st's cols columns, each as text; finalizes st. */
static char *rows_text(db_stmt *st, int cols)
{
    strbuf b = STRBUF_INIT;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        for (int c = 0; c < cols; c++) {
            const char *v = db_column_text(st, c);
            strbuf_printf(&b, "%s%s", c ? "|" : "", v ? v : "NULL");
        }
        strbuf_putc(&b, '\n');
    }
    db_finalize(st);
    assert_int_equal(rc, DB_DONE);
    return strbuf_detach(&b, NULL);
}

typedef struct snapshot {
    char *grams, *counts, *institutions;
} snapshot;

/* The two municipalities' name index and counts of institution users, and the institutions. */
static snapshot take_snapshot(discard_fixture *df)
{
    db *conn = df->f->cli.conn;
    int64_t a = df->staff[0].who.municipality_pk, b = df->staff[1].who.municipality_pk;
    snapshot s;
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st,
                              "SELECT municipality_id, gram, name_search, users FROM user_grams "
                              "WHERE municipality_id IN ($1, $2) "
                              "ORDER BY municipality_id, gram, name_search",
                              "ii", a, b),
                     NSDB_OK);
    s.grams = rows_text(st, 4);
    assert_int_equal(db_query(conn, &st,
                              "SELECT id, inst_users FROM municipalities WHERE id IN ($1, $2) "
                              "ORDER BY id",
                              "ii", a, b),
                     NSDB_OK);
    s.counts = rows_text(st, 2);
    assert_int_equal(db_query(conn, &st, "SELECT id, code FROM institutions ORDER BY id", ""),
                     NSDB_OK);
    s.institutions = rows_text(st, 2);
    return s;
}

static void snapshot_free(snapshot *s)
{
    free(s->grams);
    free(s->counts);
    free(s->institutions);
}

static int64_t count_of(db *conn, const char *sql, int64_t p)
{
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, sql, "i", p), NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int(st, 0);
    db_finalize(st);
    return n;
}

/* The batch fails (as when its server stopped mid-way: its rows stay, hidden) and is removed. */
static void fail_and_discard(discard_fixture *df, int64_t batch)
{
    struct fixture *f = df->f;
    assert_int_equal(db_begin(f->cli.conn), NSDB_OK);
    assert_int_equal(db_exec(f->cli.conn, NULL,
                             "UPDATE import_batches SET state = 'failed' WHERE id = $1", "i",
                             batch),
                     NSDB_OK);
    assert_int_equal(db_commit(f->cli.conn), NSDB_OK);
    assert_int_equal(core_import_batch_discard(&f->cli, batch, NULL), NSDB_OK);
    assert_int_equal(count_of(f->cli.conn, "SELECT COUNT(*) FROM users WHERE batch_id = $1", batch),
                     0);
    assert_int_equal(count_of(f->cli.conn, "SELECT COUNT(*) FROM registrations WHERE batch_id = $1",
                              batch),
                     0);
}

static void removed_batches_leave_the_index_and_counts_as_before(void **state)
{
    discard_fixture *df = fixture_of(state);
    struct fixture *f = df->f;
    /* registered before: names the batches repeat, in both municipalities; institution 5000 of
       each is also one the batches use */
    for (size_t k = 0; k < 4; k++)
        register_doctor(df, 0, 5000 + k, k);
    register_doctor(df, 1, 5000, 0);
    register_doctor(df, 1, 5001, 2);
    snapshot before = take_snapshot(df);
    int64_t batch_a = import_rows(df, 0, 0, ROWS_A - 1);
    int64_t batch_a2 = import_rows(df, 0, 5000, 1); /* a registered institution: it stays */
    int64_t batch_b = import_rows(df, 1, 0, ROWS_B);
    snapshot during = take_snapshot(df);
    assert_string_not_equal(during.grams, before.grams);
    assert_string_not_equal(during.counts, before.counts);
    /* a key of several batch users, and one shared with a user registered before */
    int64_t muni_a = df->staff[0].who.municipality_pk;
    assert_true(count_of(f->cli.conn,
                         "SELECT MAX(users) FROM user_grams WHERE municipality_id = $1",
                         muni_a) >= ROWS_A / (int64_t)NAMES);
    fail_and_discard(df, batch_b);
    fail_and_discard(df, batch_a2);
    fail_and_discard(df, batch_a);
    snapshot after = take_snapshot(df);
    assert_string_equal(after.grams, before.grams);
    assert_string_equal(after.counts, before.counts);
    assert_string_equal(after.institutions, before.institutions);
    /* the audit record of each removal names its users */
    db_stmt *st = NULL;
    assert_int_equal(db_query(f->cli.conn, &st,
                              "SELECT detail FROM audit_log WHERE action = "
                              "'inst_users_import_discard' AND target = $1",
                              "t", core_target_id(&f->cli, "batch", batch_a)),
                     NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), arena_printf(f->arena, "%d users", ROWS_A - 1));
    db_finalize(st);
    snapshot_free(&before);
    snapshot_free(&during);
    snapshot_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(removed_batches_leave_the_index_and_counts_as_before),
    };
    return cmocka_run_group_tests(tests, setup, inst_import_rows_teardown);
}
