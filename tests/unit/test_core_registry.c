/*
 * test_core_registry.c — the operations of core/registry.c and core/registration.c that issue 14
 * (finding 7) hardened, on a real database (SQLite always, PostgreSQL with NSDB_DATABASE_URL): an
 * API token expires after its days and is refused at once when revoked, each refusal answered
 * alike and audited with its reason; a registration refused because of another municipality's
 * entry does not name that user's ID; a different spelling of an institution registers with a
 * warning naming the master's (issue 12 item 5); correcting the master keeps to its scope.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/institutions.h"
#include "core/registration.h"
#include "core/registry.h"
#include "domain/fields.h"
#include "domain/ids.h"
#include "domain/secret.h"
#include "store/registrations.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-registry");
    nsdb_problem pb = {0};
    /* a PostgreSQL database is shared by the runs: a code already there is fine */
    nsdb_err e = core_municipality_add(&f->cli, "131016", "千代田区", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    e = core_municipality_add(&f->cli, "011002", "札幌市", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return core_fixture_close(state);
}

static const char *hash_of(struct fixture *f, const char *token)
{
    char *hash = arena_alloc(f->arena, SECRET_TOKEN_HASH_HEX_LEN + 1);
    secret_token_hash((const unsigned char *)token, strlen(token), hash);
    return hash;
}

/* The newest audit record (of any action). */
static store_audit *last_audit(struct fixture *f)
{
    store_audit *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->cli.conn, f->arena, 1, &rows, &n), NSDB_OK);
    assert_int_equal(n, 1);
    return &rows[0];
}

/* The token used at the given time, from a request for /metrics. */
static nsdb_err use_at(struct fixture *f, const char *hash, int64_t when)
{
    core_ctx c = f->cli;
    c.who.now = when;
    c.who.user_id = NULL;
    c.who.client_ip = "192.0.2.7";
    return core_api_token_use(&c, hash, "/metrics");
}

static void days_out_of_range_are_refused(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    char token[SESSION_TOKEN_TEXT_LEN + 1];
    int64_t id = 0, expires = 0;
    nsdb_problem pb = {0};
    assert_int_equal(core_api_token_add(&f->cli, "ops", 0, token, &id, &expires, &pb),
                     NSDB_ERR_INVALID);
    assert_string_equal(pb.field, "days");
    assert_int_equal(core_api_token_add(&f->cli, "ops", API_TOKEN_DAYS_MAX + 1, token, &id,
                                        &expires, &pb),
                     NSDB_ERR_INVALID);
    assert_int_equal(core_api_token_add(&f->cli, "ops", API_TOKEN_DAYS_MAX, token, &id, &expires,
                                        &pb),
                     NSDB_OK);
    assert_int_equal(expires, f->cli.who.now + (int64_t)API_TOKEN_DAYS_MAX * 86400);
}

/* Valid until its last second, refused from then on like an unknown token; each refusal is an
   api_denied record that says why. */
static void a_token_expires_after_its_days(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    char token[SESSION_TOKEN_TEXT_LEN + 1];
    int64_t id = 0, expires = 0;
    nsdb_problem pb = {0};
    assert_int_equal(core_api_token_add(&f->cli, "監視", 2, token, &id, &expires, &pb), NSDB_OK);
    assert_true(id > 0);
    const char *hash = hash_of(f, token);
    int64_t now = f->cli.who.now;
    assert_int_equal(expires, now + 2 * 86400);
    assert_int_equal(use_at(f, hash, now), NSDB_OK);
    assert_int_equal(use_at(f, hash, expires - 1), NSDB_OK);
    assert_int_equal(use_at(f, hash, expires), NSDB_ERR_NOT_FOUND);
    store_audit *a = last_audit(f);
    assert_string_equal(a->action, "api_denied");
    assert_string_equal(a->result, "denied");
    assert_string_equal(a->detail, "expired");
    assert_string_equal(a->target, "/metrics");
    assert_string_equal(a->client_ip, "192.0.2.7");
    /* an unknown token: the same answer, its own reason */
    assert_int_equal(use_at(f, hash_of(f, "no-such-token-aaaaaaaaaaaaaaaaaaaa"), now),
                     NSDB_ERR_NOT_FOUND);
    assert_string_equal(last_audit(f)->detail, "unknown");
}

static void a_revoked_token_is_refused_at_once(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    char token[SESSION_TOKEN_TEXT_LEN + 1], other[SESSION_TOKEN_TEXT_LEN + 1];
    int64_t id = 0, other_id = 0, expires = 0;
    nsdb_problem pb = {0};
    assert_int_equal(core_api_token_add(&f->cli, "ops", 90, token, &id, &expires, &pb), NSDB_OK);
    assert_int_equal(core_api_token_add(&f->cli, "ops", 90, other, &other_id, &expires, &pb),
                     NSDB_OK);
    const char *hash = hash_of(f, token);
    int64_t now = f->cli.who.now;
    assert_int_equal(use_at(f, hash, now), NSDB_OK);
    assert_int_equal(core_api_token_revoke(&f->cli, id, &pb), NSDB_OK);
    store_audit *a = last_audit(f);
    assert_string_equal(a->action, "api_token_revoke");
    assert_string_equal(a->target, arena_printf(f->arena, "api_token:%lld", (long long)id));
    assert_int_equal(use_at(f, hash, now), NSDB_ERR_NOT_FOUND);
    assert_string_equal(last_audit(f)->detail, "revoked");
    /* the other token of the same name is untouched */
    assert_int_equal(use_at(f, hash_of(f, other), now), NSDB_OK);
    assert_int_equal(core_api_token_revoke(&f->cli, id, &pb), NSDB_ERR_CONFLICT);
    assert_int_equal(core_api_token_revoke(&f->cli, other_id + 1000, &pb), NSDB_ERR_NOT_FOUND);
    store_api_token *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_api_token_list(f->cli.conn, f->arena, &rows, &n), NSDB_OK);
    bool seen = false;
    for (size_t i = 0; i < n; i++)
        if (rows[i].id == id) {
            seen = true;
            assert_true(rows[i].revoked_at >= now);
            assert_true(rows[i].last_used_at >= now);
        }
    assert_true(seen);
}

/* The staff of the municipality with this code, as the core sees it. */
static core_ctx staff_of(struct fixture *f, const char *muni_code)
{
    store_municipality *m = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, muni_code, &m),
                     NSDB_OK);
    core_ctx staff = f->cli;
    staff.who.municipality_pk = m->pk;
    return staff;
}

static nsdb_err register_doctor(struct fixture *f, const char *muni_code, const char *inst_code,
                                const char *inst_name, const char *address, const char *name,
                                const char *kana, accounts_issued *issued, nsdb_problem *pb)
{
    core_ctx staff = staff_of(f, muni_code);
    registration_input in = {inst_code,
                             inst_name,
                             "100-0001",
                             address,
                             "03-1234-5678",
                             "doctor",
                             name,
                             kana,
                             "nanbyo",
                             "D-1",
                             NULL,
                             NULL,
                             field_search_key(f->arena, name, kana)};
    bool merged = false;
    return core_register_one(&staff, &in, issued, &merged, pb);
}

/* The warning kept with the registration of user_id by the municipality of muni_code. */
static const char *warning_of(struct fixture *f, const char *muni_code, const char *user_id)
{
    core_ctx staff = staff_of(f, muni_code);
    const char *w = NULL;
    assert_int_equal(store_registration_warning(f->cli.conn, f->arena, staff.who.municipality_pk,
                                                user_id, &w),
                     NSDB_OK);
    return w;
}

/* A code of its own per run (a PostgreSQL database is shared by the runs); salt tells apart the
   codes of one test. */
static void fresh_code(struct fixture *f, int salt, char code[16])
{
    snprintf(code, 16, "13%07d", (int)((f->cli.who.now + salt) % 10000000));
    code[9] = ids_luhn_check_digit(code);
    code[10] = '\0';
}

/* Issue 14 and issue 12 item 5: municipality B registering at a hospital that A registered never
   sees A's user ID; a different spelling of the hospital registers B's doctor at the master's
   hospital with a warning naming both values (the master is not A's secret), for A as for B. */
static void another_spelling_registers_with_a_warning(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    char code[16];
    fresh_code(f, 0, code);
    accounts_issued a;
    nsdb_problem pb = {0};
    assert_int_equal(register_doctor(f, "131016", code, "千代田秘密記念病院",
                                     "東京都千代田区秘密町1-1", "秘密 太郎", "ヒミツ タロウ", &a,
                                     &pb),
                     NSDB_OK);
    assert_null(warning_of(f, "131016", a.user_id));
    accounts_issued b;
    /* the same doctor from Sapporo: refused without A's user ID */
    assert_int_equal(register_doctor(f, "011002", code, "千代田秘密記念病院",
                                     "東京都千代田区秘密町1-1", "秘密 太郎", "ヒミツ タロウ", &b,
                                     &pb),
                     NSDB_ERR_INVALID);
    assert_string_equal(pb.field, "name");
    assert_null(strstr(pb.message, a.user_id));
    assert_non_null(strstr(pb.message, "別の自治体"));
    /* the same hospital written otherwise: registered, no warning */
    assert_int_equal(register_doctor(f, "011002", code, "千代田　秘密記念病院",
                                     "千代田区秘密町１丁目１番地", "札幌 一郎", "サッポロ イチロウ",
                                     &b, &pb),
                     NSDB_OK);
    assert_null(warning_of(f, "011002", b.user_id));
    /* another name: registered at the master's hospital, with a warning naming both */
    assert_int_equal(register_doctor(f, "011002", code, "札幌側の呼び名病院",
                                     "東京都千代田区秘密町1-1", "札幌 花子", "サッポロ ハナコ", &b,
                                     &pb),
                     NSDB_OK);
    const char *w = warning_of(f, "011002", b.user_id);
    assert_non_null(w);
    assert_non_null(strstr(w, "入力「札幌側の呼び名病院」"));
    assert_non_null(strstr(w, "マスタ「千代田秘密記念病院」"));
    assert_null(strstr(w, a.user_id));
    assert_null(warning_of(f, "131016", b.user_id)); /* another municipality's registration */
    /* another address */
    assert_int_equal(register_doctor(f, "011002", code, "千代田秘密記念病院", "北海道札幌市どこか",
                                     "札幌 次郎", "サッポロ ジロウ", &b, &pb),
                     NSDB_OK);
    w = warning_of(f, "011002", b.user_id);
    assert_non_null(strstr(w, "所在地が医療機関マスタと異なります"));
    assert_non_null(strstr(w, "マスタ「東京都千代田区秘密町1-1」"));
    store_institution *inst = NULL;
    assert_int_equal(store_institution_find_by_code(f->cli.conn, f->arena, code, &inst), NSDB_OK);
    assert_string_equal(inst->name, "千代田秘密記念病院"); /* the master is kept */
    assert_string_equal(inst->address, "東京都千代田区秘密町1-1");
    /* the municipality that registered the doctor is still pointed at its own account */
    assert_int_equal(register_doctor(f, "131016", code, "千代田秘密記念病院",
                                     "東京都千代田区秘密町1-1", "秘密 太郎", "ヒミツ タロウ", &b,
                                     &pb),
                     NSDB_ERR_INVALID);
    assert_non_null(strstr(pb.message, a.user_id));
}

/* 医療機関情報の修正: staff of a municipality with users there may correct the master (audited
   with the old and new values); staff of a municipality without users there get the answer of an
   unknown code; a bad field is refused naming it. */
static void institution_edit_scope_and_rules(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    char code[16];
    fresh_code(f, 1, code);
    accounts_issued a;
    nsdb_problem pb = {0};
    assert_int_equal(register_doctor(f, "131016", code, "修正前病院", "千代田区修正町1-1",
                                     "修正 太郎", "シュウセイ タロウ", &a, &pb),
                     NSDB_OK);
    core_ctx sapporo = staff_of(f, "011002");
    institution_edit_input in = {"修正後病院", "100-0002", "千代田区修正町２丁目２番", "03-1234-5678"};
    nsdb_problem refused = {0};
    assert_int_equal(core_institution_edit(&sapporo, code, &in, &refused), NSDB_ERR_NOT_FOUND);
    store_audit *log = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->cli.conn, f->arena, 1, &log, &n), NSDB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(log[0].action, "scope_denied");
    assert_non_null(strstr(log[0].target, code));
    nsdb_problem unknown = {0};
    assert_int_equal(core_institution_edit(&sapporo, "1312345679", &in, &unknown),
                     NSDB_ERR_NOT_FOUND);
    assert_string_equal(problem_message(&refused), problem_message(&unknown));
    core_ctx chiyoda = staff_of(f, "131016");
    institution_edit_input bad = in;
    bad.postal = "12-345";
    assert_int_equal(core_institution_edit(&chiyoda, code, &bad, &pb), NSDB_ERR_INVALID);
    assert_string_equal(pb.field, "inst_postal");
    assert_int_equal(core_institution_edit(&chiyoda, code, &in, &pb), NSDB_OK);
    assert_int_equal(store_audit_list(f->cli.conn, f->arena, 1, &log, &n), NSDB_OK);
    assert_string_equal(log[0].action, "institution_edit");
    assert_non_null(strstr(log[0].detail, "name「修正前病院」→「修正後病院」"));
    assert_non_null(strstr(log[0].detail, "postal「100-0001」→「100-0002」"));
    assert_null(strstr(log[0].detail, "phone")); /* unchanged */
    store_institution *inst = NULL;
    assert_int_equal(store_institution_find_by_code(f->cli.conn, f->arena, code, &inst), NSDB_OK);
    assert_string_equal(inst->name, "修正後病院");
    assert_string_equal(inst->postal, "100-0002");
    assert_string_equal(inst->address, "千代田区修正町2丁目2番"); /* NFKC, as registration */
    /* the command line (no municipality) reaches every institution */
    in.name = "再修正病院";
    assert_int_equal(core_institution_edit(&f->cli, code, &in, &pb), NSDB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(days_out_of_range_are_refused),
        BOTH(a_token_expires_after_its_days),
        BOTH(a_revoked_token_is_refused_at_once),
        BOTH(another_spelling_registers_with_a_warning),
        BOTH(institution_edit_scope_and_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
