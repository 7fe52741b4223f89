/*
 * test_import_job.c — 一括登録 in the background (src/core/import_job.c) through its public API,
 * as the upload handler uses it (import_jobs_submit, then import_jobs_wait), on a real database
 * (SQLite always, PostgreSQL with NSDB_DATABASE_URL): a good import ends visible with its users;
 * an import whose row repeats a registered user ends refused, the row named in its refusal; and
 * when the refusal cannot be written (every write of that path made to fail in turn by the fault
 * hook of store/db_fault.h) the batch still ends, so the municipality can import again (migration
 * 024 allows one running batch per municipality); an upload just after an import ended, before
 * its worker took it off the list, is not refused as if it ran; and a 個別登録 does not make an
 * account of a batch still being written 両方.
 */
/* inst_import_rows.h's group teardown is renamed: both_backends.h's BOTH names this file's own */
#define teardown inst_import_rows_teardown
#include "inst_import_rows.h"
#undef teardown

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/import_job.h"
#include "core/registration.h"
#include "core/registry.h"
#include "core/users.h"
#include "domain/fields.h"
#include "store/bulk_import.h"
#include "store/db_fault.h"
#include "store/import_batches.h"
#include "store/import_recovery.h"
#include "store/institutions.h"
#include "store/registrations.h"
#include "store/store.h"

#include "both_backends.h"
#include "core_fixture.h"

/* How long a test waits for an import of a few rows to end (a sanitizer build on PostgreSQL is
   slow; an import that never ends fails the test). */
#define JOB_WAIT_MS 60000

typedef struct job_fixture {
    struct fixture *f;
    import_jobs *jobs;
    core_ctx staff; /* a municipal user of the municipality, as the upload handler's context */
    char inst_code[11];
} job_fixture;

/* The municipality of this run: a PostgreSQL database is shared by runs, so the codes differ
   from run to run (an existing municipality of the same code is used as it is), and each test
   has an institution of its own (its users are its own): the set-up's count is two digits of
   the code, as every test is set up twice (SQLite, PostgreSQL). */
static char muni_code[7];
static unsigned tests_set_up;

static int setup_with(void **state, const char *url)
{
    unsigned run = (unsigned)getpid();
    char first5[6];
    snprintf(first5, sizeof first5, "13%03u", run % 1000u);
    snprintf(muni_code, sizeof muni_code, "%s%c", first5, ids_municipality_check_digit(first5));
    char payload[10];
    snprintf(payload, sizeof payload, "13%02u%05u", tests_set_up++ % 100u, run % 100000u);

    job_fixture *jf = calloc(1, sizeof *jf);
    assert_non_null(jf);
    make_code(payload, jf->inst_code);
    struct fixture *f = jf->f = core_fixture_open(url, "nsdb-test-import-job");
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&f->cli, muni_code, "一括登録市", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    user_add_input in = {.role = "muni_staff",
                         .name = "一括 担当",
                         .municipality_code = muni_code,
                         .profile_optional = true};
    accounts_issued issued;
    assert_int_equal(core_user_add(&f->cli, &in, &issued, &pb), NSDB_OK);
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->cli.conn, f->arena, issued.user_id, &u),
                     NSDB_OK);
    jf->staff = f->cli;
    jf->staff.who = (core_actor){.user_pk = u->pk,
                                 .user_id = u->user_id,
                                 .municipality_pk = u->municipality_pk,
                                 .client_ip = "127.0.0.1",
                                 .now = f->cli.who.now};
    assert_int_equal(import_jobs_start(&f->app, &jf->jobs), NSDB_OK);
    *state = jf;
    return 0;
}

static int teardown(void **state)
{
    job_fixture *jf = *state;
    if (jf == NULL)
        return 0;
    db_fault_inject(0);
    import_jobs_stop(jf->jobs);
    int rc = core_fixture_close((void **)&jf->f);
    free(jf);
    return rc;
}

static job_fixture *fixture_of(void **state)
{
    if (*state == NULL)
        skip(); /* PostgreSQL: NSDB_DATABASE_URL is not set */
    return *state;
}

/* ---- the rows and the import -------------------------------------------------------------- */

static const char *const PEOPLE[][3] = {
    {"山田 太郎", "ヤマダ タロウ", "D-0001"},
    {"佐藤 花子", "サトウ ハナコ", "D-0002"},
};

/* A 指定医 row of the test's institution for PEOPLE[who]. */
static void person_row(const job_fixture *jf, size_t who, csv_row row)
{
    good_row(row);
    row[C_CODE] = jf->inst_code;
    row[C_NAME] = PEOPLE[who][0];
    row[C_KANA] = PEOPLE[who][1];
    row[C_DOCTOR_NUMBER] = PEOPLE[who][2];
    row[C_EMAIL] = NULL;
}

/* PEOPLE[who] registered by 個別登録 of the municipality, as the row of person_row says. */
static void register_person(job_fixture *jf, size_t who)
{
    struct fixture *f = jf->f;
    csv_row r;
    person_row(jf, who, r);
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
                             field_search_key(f->arena, r[C_NAME], r[C_KANA])};
    accounts_issued issued;
    bool merged = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_register_one(&jf->staff, &in, &issued, &merged, &pb), NSDB_OK);
    assert_false(merged);
}

/* Submits the import of PEOPLE[who[0..n-1]] (file "import.csv", rows 2..n+1) as the upload
   handler does; the job takes the arena the rows are parsed into. */
static nsdb_err submit(job_fixture *jf, const size_t *who, size_t n, int64_t *batch)
{
    csv_row rows[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++)
        person_row(jf, who[i], rows[i]);
    size_t len = 0;
    char *text = csv_text(rows, n, "\r\n", &len);
    arena *owned = arena_new();
    inst_import imp;
    nsdb_err e = inst_import_parse_csv_named(text, len, "import.csv", owned, &imp);
    free(text);
    assert_no_errors(&imp);
    assert_int_equal(e, NSDB_OK);
    int64_t running = 0;
    nsdb_problem pb = {0};
    return import_jobs_submit(jf->jobs, &jf->staff, owned, &imp, "import.csv", NULL, batch,
                              &running, &pb);
}

/* The batch once its import has ended. */
static store_import_batch ended_batch(job_fixture *jf, int64_t batch)
{
    assert_true(import_jobs_wait(jf->jobs, batch, JOB_WAIT_MS));
    store_import_batch b = {0};
    assert_int_equal(store_import_batch_get(jf->f->cli.conn, jf->f->arena,
                                            jf->staff.who.municipality_pk, batch, &b),
                     NSDB_OK);
    return b;
}

/* No batch of the municipality is in checking or writing. */
static void assert_no_running_batch(job_fixture *jf)
{
    int64_t running = 0;
    assert_int_equal(store_import_batch_running(jf->f->cli.conn, jf->staff.who.municipality_pk,
                                                &running),
                     NSDB_ERR_NOT_FOUND);
}

/* The visible users of the test's institution. */
static int64_t institution_users(job_fixture *jf)
{
    struct fixture *f = jf->f;
    store_user_query q = {.municipality_pk = jf->staff.who.municipality_pk,
                          .inst_code = jf->inst_code,
                          .limit = 10};
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_user_search(f->cli.conn, f->arena, &q, &rows, &n, &total), NSDB_OK);
    return total;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static void a_good_import_ends_visible_with_its_users(void **state)
{
    job_fixture *jf = fixture_of(state);
    const size_t who[] = {0, 1};
    int64_t batch = 0;
    assert_int_equal(submit(jf, who, 2, &batch), NSDB_OK);
    assert_true(batch > 0);
    store_import_batch b = ended_batch(jf, batch);
    assert_int_equal(b.state, IMPORT_STATE_VISIBLE);
    assert_int_equal(b.row_count, 2);
    assert_int_equal(b.rows_written, 2);
    assert_null(b.refusal);
    assert_int_equal(institution_users(jf), 2);
    import_job_view view;
    assert_false(import_jobs_view_get(jf->jobs, batch, &view)); /* ended: no longer a job */
    assert_no_running_batch(jf);
}

/* An upload in the moment after the municipality's last import has ended in the database (its
   page shows the result) and before its worker has taken it off the list is not refused as if an
   import were running: it waits for the worker (the worker is held there 300 ms by
   NSDB_IMPORT_END_PAUSE_MS; an e2e test once hit the moment by chance and got 409). */
static void an_upload_just_after_an_import_ended_is_not_told_one_runs(void **state)
{
    job_fixture *jf = fixture_of(state);
    assert_int_equal(setenv("NSDB_IMPORT_END_PAUSE_MS", "300", 1), 0);
    const size_t first[] = {0}, second[] = {1};
    int64_t batch = 0, next = 0;
    assert_int_equal(submit(jf, first, 1, &batch), NSDB_OK);
    store_import_batch b = {0};
    for (int i = 0; i < JOB_WAIT_MS / 5; i++) { /* as the batch's page sees it */
        assert_int_equal(store_import_batch_get(jf->f->cli.conn, jf->f->arena,
                                                jf->staff.who.municipality_pk, batch, &b),
                         NSDB_OK);
        if (b.state != IMPORT_STATE_CHECKING && b.state != IMPORT_STATE_WRITING)
            break;
        usleep(5000);
    }
    assert_int_equal(b.state, IMPORT_STATE_VISIBLE);
    import_job_view view;
    assert_true(import_jobs_view_get(jf->jobs, batch, &view)); /* still listed: the moment */
    assert_int_equal(submit(jf, second, 1, &next), NSDB_OK);
    assert_int_equal(unsetenv("NSDB_IMPORT_END_PAUSE_MS"), 0);
    assert_true(next > batch);
    assert_int_equal(ended_batch(jf, next).state, IMPORT_STATE_VISIBLE);
    assert_int_equal(institution_users(jf), 2);
    assert_no_running_batch(jf);
}

static void an_import_repeating_a_registered_user_ends_refused_naming_the_row(void **state)
{
    job_fixture *jf = fixture_of(state);
    register_person(jf, 0);
    const size_t who[] = {1, 0}; /* row 3 repeats the registered doctor */
    int64_t batch = 0;
    assert_int_equal(submit(jf, who, 2, &batch), NSDB_OK);
    store_import_batch b = ended_batch(jf, batch);
    assert_int_equal(b.state, IMPORT_STATE_REFUSED);
    assert_non_null(b.refusal);
    json_error_t err;
    json_t *rows = json_loads(b.refusal, 0, &err);
    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "row")), 3);
    assert_string_equal(json_string_value(json_object_get(row, "file")), "import.csv");
    assert_string_equal(json_string_value(json_object_get(row, "field")), "name");
    assert_contains(json_string_value(json_object_get(row, "message")), "既に登録されています");
    json_decref(rows);
    assert_int_equal(institution_users(jf), 1); /* row 2 was not registered either */
    assert_no_running_batch(jf);
}

/* A 個別登録 that would make an account of a batch still being written 両方 is refused, saying to
   register again when the import is done: the batch may yet fail and remove the account, and the
   registration would be lost with it. Once the batch is visible, the same registration merges. */
static void a_registration_waits_for_the_import_writing_its_account(void **state)
{
    job_fixture *jf = fixture_of(state);
    struct fixture *f = jf->f;
    db *conn = f->cli.conn;
    register_person(jf, 1); /* makes the institution */
    store_institution *inst = NULL;
    assert_int_equal(store_institution_find_by_code(conn, f->arena, jf->inst_code, &inst), NSDB_OK);
    /* PEOPLE[0], 難病, written by a batch that is still being written */
    int64_t muni = jf->staff.who.municipality_pk, now = jf->staff.who.now, batch = 0;
    const char *key = field_search_key(f->arena, PEOPLE[0][0], PEOPLE[0][1]);
    char user_id[IDS_USER_ID_LEN + 1];
    ids_user_id_generate(user_id);
    static const unsigned char SEALED[] = {1, 2, 3};
    store_bulk_user_new u = {.user_id = user_id,
                             .role = USER_ROLE_DOCTOR,
                             .name = PEOPLE[0][0],
                             .name_kana = PEOPLE[0][1],
                             .category = "nanbyo",
                             .doctor_number = PEOPLE[0][2],
                             .search_key = key,
                             .institution_pk = inst->pk,
                             .initial_sealed = SEALED,
                             .initial_sealed_len = sizeof SEALED};
    store_bulk_user_common common = {muni, jf->staff.who.user_pk, 0, now};
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_import_batch_open(conn, muni, jf->staff.who.user_pk, "import.csv", 1,
                                             NULL, NULL, now, &batch),
                     NSDB_OK);
    assert_int_equal(store_import_batch_set_state(conn, batch, IMPORT_STATE_WRITING, NULL, NULL,
                                                  now),
                     NSDB_OK);
    common.batch_pk = batch;
    assert_int_equal(store_bulk_users_insert(conn, &u, 1, &common), NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);

    csv_row r;
    person_row(jf, 0, r);
    registration_input in = {r[C_CODE],  r[C_INST_NAME],     r[C_POSTAL],    r[C_ADDRESS],
                             r[C_PHONE], "doctor",           r[C_NAME],      r[C_KANA],
                             "shoman",   r[C_DOCTOR_NUMBER], r[C_SPECIALTY], NULL,
                             key};
    accounts_issued issued;
    bool merged = false;
    nsdb_problem pb = {0};
    assert_int_equal(core_register_one(&jf->staff, &in, &issued, &merged, &pb), NSDB_ERR_INVALID);
    assert_false(merged);
    assert_string_equal(pb.field, "name");
    assert_contains(pb.message, "実行中の一括登録で登録しているところです");
    const char *category = NULL;
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_user_category_locked(conn, f->arena, u.pk, &category), NSDB_OK);
    assert_string_equal(category, "nanbyo"); /* unchanged */
    /* the batch made visible: the same registration merges */
    assert_int_equal(store_import_batch_set_state(conn, batch, IMPORT_STATE_VISIBLE, NULL, NULL,
                                                  now),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
    pb = (nsdb_problem){0};
    assert_int_equal(core_register_one(&jf->staff, &in, &issued, &merged, &pb), NSDB_OK);
    assert_true(merged);
    assert_string_equal(issued.user_id, user_id);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_user_category_locked(conn, f->arena, u.pk, &category), NSDB_OK);
    assert_string_equal(category, "both");
    assert_int_equal(db_commit(conn), NSDB_OK);
    assert_no_running_batch(jf);
}

/* core_register_import ends a refused batch with one write transaction (the state with its
   refusal, then the audit record); when it fails, run_import ends the batch failed instead.
   Each write of the path fails in turn, after do_faultsim_test: the first two are the batch's
   opening (import_batches, hidden_batches: the upload is refused, no batch), the next two the
   refusal's, whose batch must end failed rather than stay in checking for ever, which would
   refuse every later upload of the municipality; the first countdown that fails nothing ends
   the batch refused, as without faults. */
static void a_refusal_that_cannot_be_written_still_ends_the_batch(void **state)
{
    job_fixture *jf = fixture_of(state);
    register_person(jf, 0); /* also writes today's cycle: the import writes none */
    const size_t who[] = {1, 0};
    int refused_uploads = 0, failed_batches = 0;
    bool fault_free = false;
    for (int countdown = 1; countdown <= 20 && !fault_free; countdown++) {
        db_fault_inject(countdown);
        int64_t batch = 0;
        nsdb_err e = submit(jf, who, 2, &batch);
        if (e != NSDB_OK) {
            assert_int_equal(e, NSDB_ERR_DB); /* the batch could not be opened */
            assert_int_equal(batch, 0);
            refused_uploads++;
        } else {
            store_import_batch b = ended_batch(jf, batch);
            if (!import_state_ended(b.state)) /* its municipality could import nothing more */
                fail_msg("countdown %d: the import ended, its batch stayed %s", countdown,
                         import_state_key(b.state));
            if (b.state == IMPORT_STATE_FAILED) {
                assert_null(b.refusal); /* the refusal was not written */
                assert_non_null(b.failure);
                failed_batches++;
            } else {
                assert_int_equal(b.state, IMPORT_STATE_REFUSED); /* never checking or writing */
                fault_free = true;
            }
        }
        db_fault_inject(0);
        assert_no_running_batch(jf);
    }
    assert_true(fault_free);
    /* 2 and 2 today; at least one of each, should the opening or the refusal write more */
    assert_true(refused_uploads >= 1);
    assert_true(failed_batches >= 1);
    /* the municipality imports again */
    const size_t good[] = {1};
    int64_t batch = 0;
    assert_int_equal(submit(jf, good, 1, &batch), NSDB_OK);
    assert_int_equal(ended_batch(jf, batch).state, IMPORT_STATE_VISIBLE);
    assert_int_equal(institution_users(jf), 2);
}

/* Waits until the users of a failed batch are removed (its discard job runs in the background,
   and its writes would take the next countdown's fault). */
static void wait_discarded(job_fixture *jf, int64_t batch)
{
    for (int waited = 0;; waited += 50) {
        int64_t *ids = NULL;
        size_t n = 0;
        assert_int_equal(store_import_batches_to_discard(jf->f->cli.conn, jf->f->arena, &ids, &n),
                         NSDB_OK);
        bool listed = false;
        for (size_t i = 0; i < n; i++)
            listed = listed || ids[i] == batch;
        if (!listed)
            return;
        if (waited >= JOB_WAIT_MS)
            fail_msg("the users of failed batch %lld stay", (long long)batch);
        usleep(50 * 1000);
    }
}

/* A good import whose writes fail in turn (its chunk's, its registrations' — on PostgreSQL
   written on a second connection beside the chunk, core/import_tail.h — and its last step's)
   registers all or nothing: a failed batch shows no user, and a visible one has every user with
   its registration. */
static void a_good_import_whose_writes_fail_in_turn_registers_all_or_nothing(void **state)
{
    job_fixture *jf = fixture_of(state);
    const size_t who[] = {0, 1};
    int failed_batches = 0;
    bool visible = false;
    /* 1, 2: the opening; a few rows take many statements (one a row below 100 rows) */
    for (int countdown = 3; countdown <= 200 && !visible; countdown++) {
        db_fault_inject(countdown);
        int64_t batch = 0;
        assert_int_equal(submit(jf, who, 2, &batch), NSDB_OK);
        store_import_batch b = ended_batch(jf, batch);
        db_fault_inject(0);
        if (b.state == IMPORT_STATE_FAILED) {
            assert_non_null(b.failure);
            assert_int_equal(institution_users(jf), 0);
            wait_discarded(jf, batch);
            failed_batches++;
            continue;
        }
        assert_int_equal(b.state, IMPORT_STATE_VISIBLE);
        visible = true;
        assert_int_equal(institution_users(jf), 2);
        store_user *rows = NULL;
        size_t n = 0;
        int64_t total = 0;
        assert_int_equal(store_registration_batch_users(jf->f->cli.conn, jf->f->arena,
                                                        jf->staff.who.municipality_pk, batch, 10,
                                                        &rows, &n, &total),
                         NSDB_OK);
        assert_int_equal(total, 2);
    }
    assert_true(visible);
    /* the chunk (state, institution, users, audit, name index, progress), the registrations and
       the last step each write: every one of them failed an import */
    assert_true(failed_batches >= 8);
    assert_no_running_batch(jf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(a_good_import_ends_visible_with_its_users),
        BOTH(an_upload_just_after_an_import_ended_is_not_told_one_runs),
        BOTH(an_import_repeating_a_registered_user_ends_refused_naming_the_row),
        BOTH(a_registration_waits_for_the_import_writing_its_account),
        BOTH(a_refusal_that_cannot_be_written_still_ends_the_batch),
        BOTH(a_good_import_whose_writes_fail_in_turn_registers_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, setup, inst_import_rows_teardown);
}
