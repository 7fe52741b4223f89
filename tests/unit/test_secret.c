/*
 * test_secret.c — the secret key file (creation, reload, refusal of unsafe files) and sealing,
 * MACs and token hashes of domain/secret.c. Key files live in a fresh temporary directory.
 */
#include "test_support.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "domain/secret.h"

typedef struct {
    char dir[64];
    char path[96];
} fixture;

static int setup_dir(void **state)
{
    if (sodium_init() < 0)
        return -1;
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (test_mkdtemp(f->dir, sizeof f->dir, "nsdb-secret") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/secret.key", f->dir);
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0); /* beat the umask */
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

static void key_is_created_with_mode_0600_and_reloaded(void **state)
{
    fixture *f = *state;
    secret_key created, loaded;
    assert_int_equal(secret_key_load_or_create(f->path, &created), NSDB_OK);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_false(sodium_is_zero(created.master, sizeof created.master));

    assert_int_equal(secret_key_load_or_create(f->path, &loaded), NSDB_OK);
    assert_memory_equal(created.master, loaded.master, sizeof created.master);
    secret_key_wipe(&created);
    assert_true(sodium_is_zero(created.master, sizeof created.master));
    secret_key_wipe(&loaded);
}

static void two_created_keys_differ(void **state)
{
    fixture *f = *state;
    secret_key a, b;
    assert_int_equal(secret_key_load_or_create(f->path, &a), NSDB_OK);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(secret_key_load_or_create(f->path, &b), NSDB_OK);
    assert_memory_not_equal(a.master, b.master, sizeof a.master);
    secret_key_wipe(&a);
    secret_key_wipe(&b);
}

static void key_readable_by_others_is_refused(void **state)
{
    fixture *f = *state;
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    static const mode_t unsafe[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        write_file(f->path, bytes, sizeof bytes, unsafe[i]);
        secret_key k;
        assert_int_equal(secret_key_load_or_create(f->path, &k), NSDB_ERR_CRYPTO);
        assert_true(sodium_is_zero(k.master, sizeof k.master));
    }
    /* Refusal leaves the file alone; made private, the same bytes are accepted. */
    assert_int_equal(chmod(f->path, 0400), 0);
    secret_key k;
    assert_int_equal(secret_key_load_or_create(f->path, &k), NSDB_OK);
    assert_memory_equal(k.master, bytes, sizeof bytes);
    secret_key_wipe(&k);
}

static void key_of_wrong_size_is_refused(void **state)
{
    fixture *f = *state;
    unsigned char bytes[33] = {1, 2, 3};
    secret_key k;
    write_file(f->path, bytes, 31, 0600);
    assert_int_equal(secret_key_load_or_create(f->path, &k), NSDB_ERR_CRYPTO);
    write_file(f->path, bytes, 33, 0600);
    assert_int_equal(secret_key_load_or_create(f->path, &k), NSDB_ERR_CRYPTO);
    write_file(f->path, bytes, 0, 0600);
    assert_int_equal(secret_key_load_or_create(f->path, &k), NSDB_ERR_CRYPTO);
}

static void key_in_missing_directory_is_an_io_error(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/dir/secret.key", f->dir);
    secret_key k;
    assert_int_equal(secret_key_load_or_create(path, &k), NSDB_ERR_IO);
}

static void key_path_that_is_a_directory_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->path, 0700), 0);
    secret_key k;
    assert_int_not_equal(secret_key_load_or_create(f->path, &k), NSDB_OK);
    assert_int_equal(rmdir(f->path), 0);
}

static void test_key(secret_key *k, unsigned char fill)
{
    memset(k->master, fill, sizeof k->master);
}

static void seal_and_unseal_round_trip(void **state)
{
    (void)state;
    secret_key k;
    test_key(&k, 7);
    static const char *const plains[] = {"K7M2QX9ZP4TB", "", "初期パスワード"};
    for (size_t i = 0; i < sizeof plains / sizeof plains[0]; i++) {
        unsigned char *sealed;
        size_t sealed_len;
        size_t n = strlen(plains[i]);
        assert_int_equal(secret_seal(&k, plains[i], n, &sealed, &sealed_len), NSDB_OK);
        assert_int_equal(sealed_len, n + 40);
        if (n > 0)
            assert_null(memmem(sealed, sealed_len, plains[i], n));
        char *plain;
        assert_int_equal(secret_unseal(&k, sealed, sealed_len, &plain), NSDB_OK);
        assert_string_equal(plain, plains[i]);
        free(plain);
        free(sealed);
    }
}

static void sealing_twice_uses_different_nonces(void **state)
{
    (void)state;
    secret_key k;
    test_key(&k, 7);
    unsigned char *a, *b;
    size_t a_len, b_len;
    assert_int_equal(secret_seal(&k, "K7M2QX9ZP4TB", 12, &a, &a_len), NSDB_OK);
    assert_int_equal(secret_seal(&k, "K7M2QX9ZP4TB", 12, &b, &b_len), NSDB_OK);
    assert_int_equal(a_len, b_len);
    assert_memory_not_equal(a, b, 24);           /* nonce */
    assert_memory_not_equal(a + 24, b + 24, 28); /* MAC and ciphertext */
    free(a);
    free(b);
}

static void tampering_is_detected(void **state)
{
    (void)state;
    secret_key k, other;
    test_key(&k, 7);
    test_key(&other, 8);
    unsigned char *sealed;
    size_t n;
    assert_int_equal(secret_seal(&k, "K7M2QX9ZP4TB", 12, &sealed, &n), NSDB_OK);
    char *plain = (char *)1;
    for (size_t i = 0; i < n; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(secret_unseal(&k, sealed, n, &plain), NSDB_ERR_CRYPTO);
        assert_null(plain);
        sealed[i] ^= 0x01;
    }
    assert_int_equal(secret_unseal(&k, sealed, n - 1, &plain), NSDB_ERR_CRYPTO);
    assert_int_equal(secret_unseal(&k, sealed, 39, &plain), NSDB_ERR_CRYPTO);
    assert_int_equal(secret_unseal(&k, sealed, 0, &plain), NSDB_ERR_CRYPTO);
    assert_int_equal(secret_unseal(&other, sealed, n, &plain), NSDB_ERR_CRYPTO);
    assert_int_equal(secret_unseal(&k, sealed, n, &plain), NSDB_OK);
    free(plain);
    free(sealed);
}

static void mac_differs_by_purpose_key_and_message(void **state)
{
    (void)state;
    secret_key k, other;
    test_key(&k, 7);
    test_key(&other, 8);
    unsigned char csrf[32], session[32], again[32], by_other[32], other_msg[32], shifted[32];
    secret_mac(&k, "csrf", "abc", 3, csrf);
    secret_mac(&k, "session", "abc", 3, session);
    secret_mac(&k, "csrf", "abc", 3, again);
    secret_mac(&other, "csrf", "abc", 3, by_other);
    secret_mac(&k, "csrf", "abd", 3, other_msg);
    secret_mac(&k, "csr", "fabc", 4, shifted); /* same bytes, different split */
    assert_memory_equal(csrf, again, 32);
    assert_memory_not_equal(csrf, session, 32);
    assert_memory_not_equal(csrf, by_other, 32);
    assert_memory_not_equal(csrf, other_msg, 32);
    assert_memory_not_equal(csrf, shifted, 32);
}

static void mac_is_not_the_plain_token_hash(void **state)
{
    (void)state;
    secret_key k;
    test_key(&k, 0);
    unsigned char mac[32], plain[32];
    secret_mac(&k, "", "abc", 3, mac);
    crypto_generichash(plain, 32, (const unsigned char *)"abc", 3, NULL, 0);
    assert_memory_not_equal(mac, plain, 32);
}

static void token_hash_is_blake2b_256_hex(void **state)
{
    (void)state;
    char hex[65];
    /* BLAKE2b-256("abc"), the reference test vector. */
    secret_token_hash((const unsigned char *)"abc", 3, hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    char other[65];
    secret_token_hash((const unsigned char *)"abd", 3, other);
    assert_string_not_equal(hex, other);
    assert_int_equal(strlen(other), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(key_is_created_with_mode_0600_and_reloaded, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(two_created_keys_differ, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(key_readable_by_others_is_refused, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(key_of_wrong_size_is_refused, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(key_in_missing_directory_is_an_io_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(key_path_that_is_a_directory_is_refused, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(seal_and_unseal_round_trip),
        cmocka_unit_test(sealing_twice_uses_different_nonces),
        cmocka_unit_test(tampering_is_detected),
        cmocka_unit_test(mac_differs_by_purpose_key_and_message),
        cmocka_unit_test(mac_is_not_the_plain_token_hash),
        cmocka_unit_test(token_hash_is_blake2b_256_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
