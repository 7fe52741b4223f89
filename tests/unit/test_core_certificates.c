/*
 * test_core_certificates.c — the certificate lifecycle of core/certificates.c on a real database
 * (SQLite always, PostgreSQL with NSDB_DATABASE_URL): an institution's certificate is revoked
 * only once all its users are suspended, once; the CRL lists it with its reason and takes a
 * larger number each time; a certificate issued long enough ago is due for renewal until a
 * renewal media names it, and a revoked one never is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* the test suspends users with one UPDATE: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "core/actor.h"
#include "core/certificates.h"
#include "core/registration.h"
#include "core/registry.h"
#include "domain/fields.h"
#include "store/media_store.h"
#include "store/revocations.h"
#include "store/sql.h"
#include "store/store.h"

#include "both_backends.h"
#include "test_support.h"
#include "core_fixture.h"

static int setup_with(void **state, const char *url)
{
    struct fixture *f = core_fixture_open(url, "nsdb-test-certs");
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&f->cli, "131016", "千代田区", NULL, NULL, &pb);
    assert_true(e == NSDB_OK || e == NSDB_ERR_EXISTS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f != NULL) {
        char path[128];
        static const char *const CA_FILES[] = {"ca.key", "ca.crt", "ca.lock"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/ca/%s", f->dir, CA_FILES[i]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/ca", f->dir);
        rmdir(path);
    }
    return core_fixture_close(state);
}

/* A Luhn-valid institution code, different on every run and call (a PostgreSQL database is
   shared by the runs). */
static const char *institution_code(struct fixture *f)
{
    static int calls;
    char digits[16];
    snprintf(digits, sizeof digits, "13%02d%05ld", ++calls % 100, (long)(getpid() % 100000));
    int sum = 0;
    for (int i = 8; i >= 0; i--) {
        int d = digits[i] - '0';
        if ((8 - i) % 2 == 0 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    digits[9] = (char)('0' + (10 - sum % 10) % 10);
    digits[10] = '\0';
    return arena_strdup(f->arena, digits);
}

/* One doctor registered at a new institution and its media made at issued_at with a serial
   unique to the run; the media's id. */
static int64_t institution_with_media(struct fixture *f, const char *code, int64_t issued_at,
                                      const char **serial_out)
{
    store_municipality *muni = NULL;
    assert_int_equal(store_municipality_find_by_code(f->cli.conn, f->arena, "131016", &muni),
                     NSDB_OK);
    core_ctx staff = f->cli;
    staff.who.municipality_pk = muni->pk;
    registration_input in = {code,
                             "証明書試験病院",
                             "100-0001",
                             "東京都千代田区千代田1-1",
                             "03-1234-5678",
                             "doctor",
                             "証明 一郎",
                             "ショウメイ イチロウ",
                             "nanbyo",
                             arena_printf(f->arena, "C-%s", code),
                             NULL,
                             NULL,
                             field_search_key(f->arena, "証明 一郎", "ショウメイ イチロウ")};
    accounts_issued issued;
    nsdb_problem pb = {0};
    bool merged = false;
    assert_int_equal(core_register_one(&staff, &in, &issued, &merged, &pb), NSDB_OK);
    assert_false(merged);
    cycle_window today;
    assert_int_equal(registration_cycle(f->cli.conn, (int64_t)time(NULL), &today), NSDB_OK);
    store_media *wanted = NULL;
    size_t n = 0;
    assert_int_equal(store_media_candidates(f->cli.conn, f->arena, today.id, &wanted, &n), NSDB_OK);
    const store_media *mine = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(wanted[i].institution_code, code) == 0)
            mine = &wanted[i];
    assert_non_null(mine);
    static const unsigned char SEALED[] = {1, 2, 3};
    store_media m = *mine;
    m.kind = "initial";
    m.iso_path = "x.iso";
    m.sha256 = "00";
    m.size_bytes = 1;
    m.volume_id = "V";
    m.cert_serial = arena_printf(f->arena, "4%s%08lX", code, (unsigned long)time(NULL));
    m.passphrase_sealed = SEALED;
    m.passphrase_sealed_len = sizeof SEALED;
    int64_t id = 0;
    assert_int_equal(db_begin(f->cli.conn), NSDB_OK);
    assert_int_equal(store_media_insert(f->cli.conn, &m, issued_at, &id), NSDB_OK);
    assert_int_equal(db_commit(f->cli.conn), NSDB_OK);
    *serial_out = m.cert_serial;
    return id;
}

static X509_CRL *crl_now(struct fixture *f, int64_t *number_out)
{
    strbuf pem = STRBUF_INIT;
    nsdb_problem pb = {0};
    f->cli.who.now = (int64_t)time(NULL);
    assert_int_equal(core_ca_crl(&f->cli, true, &pem, &pb), NSDB_OK);
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    BIO_free(bio);
    strbuf_free(&pem);
    assert_non_null(crl);
    ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    assert_int_equal(ASN1_INTEGER_get_int64(number_out, number), 1);
    ASN1_INTEGER_free(number);
    return crl;
}

static bool crl_lists(X509_CRL *crl, const char *serial_hex, long *reason_out)
{
    BIGNUM *bn = NULL;
    assert_true(BN_hex2bn(&bn, serial_hex) > 0);
    ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
    X509_REVOKED *entry = NULL;
    bool found = X509_CRL_get0_by_serial(crl, &entry, serial) == 1;
    if (found) {
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
        *reason_out = ASN1_ENUMERATED_get(reason);
        ASN1_ENUMERATED_free(reason);
    }
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return found;
}

static void revoked_once_all_users_are_suspended_and_listed_on_a_newer_crl(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    const char *code = institution_code(f), *serial = NULL;
    institution_with_media(f, code, (int64_t)time(NULL), &serial);
    int64_t first = 0, second = 0;
    long reason = 0;
    X509_CRL *crl = crl_now(f, &first);
    assert_false(crl_lists(crl, serial, &reason));
    X509_CRL_free(crl);

    size_t count = 9;
    nsdb_problem pb = {0};
    assert_int_equal(core_institution_certs_revoke(&f->cli, code, &count, &pb), NSDB_ERR_CONFLICT);
    assert_int_equal(count, 0);
    assert_non_null(strstr(pb.message, "利用中のユーザが 1 人います"));
    assert_int_equal(db_exec_script(f->cli.conn,
                                    arena_printf(f->arena,
                                                 "UPDATE users SET status = 'suspended' WHERE "
                                                 "institution_id = (SELECT id FROM institutions "
                                                 "WHERE code = '%s')",
                                                 code)),
                     NSDB_OK);
    assert_int_equal(core_institution_certs_revoke(&f->cli, code, &count, &pb), NSDB_OK);
    assert_int_equal(count, 1);
    assert_int_equal(core_institution_certs_revoke(&f->cli, code, &count, &pb), NSDB_OK);
    assert_int_equal(count, 0);
    assert_int_equal(core_institution_certs_revoke(&f->cli, "1234567890", &count, &pb),
                     NSDB_ERR_INVALID); /* the check digit is wrong */

    crl = crl_now(f, &second);
    assert_true(second > first);
    assert_true(crl_lists(crl, serial, &reason));
    assert_int_equal(reason, PKI_REVOKED_CESSATION_OF_OPERATION);
    X509_CRL_free(crl);
}

static bool due_for_renewal(struct fixture *f, int64_t media_id)
{
    store_certificate *due = NULL;
    size_t n = 0;
    f->cli.who.now = (int64_t)time(NULL);
    assert_int_equal(core_certs_due_for_renewal(&f->cli, &due, &n), NSDB_OK);
    for (size_t i = 0; i < n; i++)
        if (due[i].media_id == media_id)
            return true;
    return false;
}

static void due_for_renewal_until_renewed_and_never_when_revoked(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip();
    int64_t now = (int64_t)time(NULL), day = 86400;
    const char *serial = NULL;
    int64_t fresh = institution_with_media(f, institution_code(f), now, &serial);
    int64_t window = (int64_t)(PKI_CLIENT_VALID_DAYS - CERT_RENEWAL_DAYS);
    int64_t outside = institution_with_media(f, institution_code(f), now - (window - 1) * day,
                                             &serial);
    int64_t old = institution_with_media(f, institution_code(f), now - (window + 1) * day, &serial);
    int64_t revoked = institution_with_media(f, institution_code(f), now - (window + 1) * day,
                                             &serial);
    assert_false(due_for_renewal(f, fresh));
    assert_false(due_for_renewal(f, outside));
    assert_true(due_for_renewal(f, old));
    assert_true(due_for_renewal(f, revoked));

    core_ctx *c = &f->cli;
    assert_int_equal(core_begin(c), NSDB_OK);
    assert_int_equal(core_cert_revoke_step(c, revoked, PKI_REVOKED_KEY_COMPROMISE), NSDB_OK);
    assert_int_equal(core_renewal_record_step(c, fresh, old), NSDB_OK); /* fresh renews old */
    assert_int_equal(core_end(c, NSDB_OK), NSDB_OK);
    assert_false(due_for_renewal(f, old));
    assert_false(due_for_renewal(f, revoked));
    /* a second renewal of the same media is refused by the database */
    assert_int_equal(core_begin(c), NSDB_OK);
    nsdb_err e = core_renewal_record_step(c, outside, old);
    assert_int_not_equal(e, NSDB_OK);
    assert_int_not_equal(core_end(c, e), NSDB_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(revoked_once_all_users_are_suspended_and_listed_on_a_newer_crl),
        BOTH(due_for_renewal_until_renewed_and_never_when_revoked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
