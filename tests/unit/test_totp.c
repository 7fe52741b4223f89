/*
 * test_totp.c — domain/totp.c: the RFC 6238 appendix B test vectors (SHA1, 8 digits) and their
 * 6-digit forms through totp_verify, the ±1 step window and the refusal of a used step,
 * malformed codes, the base32 secret and otpauth URI, recovery codes and their hashes, the QR SVG
 * and the roles that must enrol.
 */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/totp.h"

/* RFC 6238 appendix B: the SHA1 key is the ASCII string "12345678901234567890". */
static const unsigned char RFC_KEY[] = "12345678901234567890";
#define RFC_KEY_LEN 20

static const struct {
    int64_t time;
    const char *code;
} RFC_VECTORS[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};
#define RFC_VECTOR_COUNT (sizeof RFC_VECTORS / sizeof RFC_VECTORS[0])

static void rfc6238_sha1_vectors_with_8_digits(void **state)
{
    (void)state;
    for (size_t i = 0; i < RFC_VECTOR_COUNT; i++) {
        char code[9];
        assert_int_equal(totp_code_at(RFC_KEY, RFC_KEY_LEN, totp_step_at(RFC_VECTORS[i].time), 8,
                                      code),
                         NSDB_OK);
        assert_string_equal(code, RFC_VECTORS[i].code);
    }
}

static void verify_accepts_the_6_digit_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < RFC_VECTOR_COUNT; i++) {
        const char *six = RFC_VECTORS[i].code + 2;
        int64_t step = -1;
        assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, RFC_VECTORS[i].time, six, 0, &step));
        assert_int_equal(step, totp_step_at(RFC_VECTORS[i].time));
    }
}

static void verify_window_is_one_step_each_way(void **state)
{
    (void)state;
    const int64_t t = 1234567890; /* step 41152263 */
    const char *six = "005924";
    int64_t step = 0;
    assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, t + 30, six, 0, &step));
    assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, t - 30, six, 0, &step));
    assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t + 60, six, 0, &step));
    assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t - 60, six, 0, &step));
}

static void verify_refuses_a_used_step(void **state)
{
    (void)state;
    const int64_t t = 1234567890;
    int64_t step = 0;
    assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, t, "005924", 0, &step));
    assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t, "005924", step, &step));
    assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t, "005924", step + 1, &step));
    /* the next step's code is still good after this one was used */
    char next[7];
    assert_int_equal(totp_code_at(RFC_KEY, RFC_KEY_LEN, totp_step_at(t) + 1, 6, next), NSDB_OK);
    int64_t used = totp_step_at(t);
    assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, t, next, used, &step));
    assert_int_equal(step, used + 1);
}

static void verify_refuses_malformed_codes(void **state)
{
    (void)state;
    const int64_t t = 1234567890;
    int64_t step = 0;
    const char *bad[] = {NULL, "", "00592", "0059245", "00592a", "５９２４００", "005924\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t, bad[i], 0, &step));
    assert_false(totp_verify(RFC_KEY, RFC_KEY_LEN, t, "005925", 0, &step));
    assert_true(totp_verify(RFC_KEY, RFC_KEY_LEN, t, "005 924", 0, &step));
    assert_true(totp_looks_like_code(" 005924 "));
    assert_false(totp_looks_like_code("ABCDE-FGHJK"));
}

static void secret_is_base32_in_the_otpauth_uri(void **state)
{
    (void)state;
    char b32[TOTP_SECRET_BASE32_LEN + 1];
    assert_int_equal(totp_secret_base32(RFC_KEY, RFC_KEY_LEN, b32), NSDB_OK);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    unsigned char back[TOTP_SECRET_BYTES];
    assert_true(totp_secret_from_base32(b32, back));
    assert_memory_equal(back, RFC_KEY, TOTP_SECRET_BYTES);
    assert_false(totp_secret_from_base32("GEZDGNBV", back));
    char *uri = NULL;
    assert_int_equal(totp_uri("A1B2C3D4E5F6", b32, &uri), NSDB_OK);
    assert_string_equal(uri, "otpauth://totp/nsdb:A1B2C3D4E5F6?secret="
                             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=nsdb&algorithm=SHA1"
                             "&digits=6&period=30");
    free(uri);
    unsigned char s1[TOTP_SECRET_BYTES], s2[TOTP_SECRET_BYTES];
    totp_secret_new(s1);
    totp_secret_new(s2);
    assert_memory_not_equal(s1, s2, TOTP_SECRET_BYTES);
}

static void recovery_codes_hash_after_normalising(void **state)
{
    (void)state;
    secret_key k;
    randombytes_buf(k.master, sizeof k.master);
    char code[TOTP_RECOVERY_CODE_LEN + 1], other[TOTP_RECOVERY_CODE_LEN + 1];
    totp_recovery_code_new(code);
    totp_recovery_code_new(other);
    assert_int_equal(strlen(code), TOTP_RECOVERY_CODE_LEN);
    assert_int_equal(code[5], '-');
    assert_string_not_equal(code, other);
    char h1[SECRET_TOKEN_HASH_HEX_LEN + 1], h2[SECRET_TOKEN_HASH_HEX_LEN + 1];
    assert_true(totp_recovery_code_hash(&k, code, h1));
    /* typed in lower case, without the hyphen, with spaces: the same code */
    char typed[32] = " ";
    for (size_t i = 0, j = 1; code[i]; i++)
        if (code[i] != '-')
            typed[j++] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
    assert_true(totp_recovery_code_hash(&k, typed, h2));
    assert_string_equal(h1, h2);
    assert_true(totp_recovery_code_hash(&k, other, h2));
    assert_string_not_equal(h1, h2);
    assert_false(totp_recovery_code_hash(&k, "ABCDE-FGHI0", h2)); /* I is not in the alphabet */
    assert_false(totp_recovery_code_hash(&k, "ABCDE-FGH", h2));
    assert_false(totp_recovery_code_hash(&k, "123456", h2));
    assert_false(totp_recovery_code_hash(&k, NULL, h2));
}

static void qr_code_is_one_svg_path(void **state)
{
    (void)state;
    char *svg = NULL;
    assert_int_equal(totp_qr_svg("otpauth://totp/nsdb:A1B2C3D4E5F6?secret=GEZDGNBVGY3TQOJQ", &svg),
                     NSDB_OK);
    assert_true(strncmp(svg, "<svg ", 5) == 0);
    assert_non_null(strstr(svg, "<path fill=\"#000\" d=\"M4 4h7v1h-7z")); /* a finder pattern */
    assert_true(strcmp(svg + strlen(svg) - 6, "</svg>") == 0);
    free(svg);
}

static void privileged_roles_must_enrol(void **state)
{
    (void)state;
    assert_true(totp_required_for_role(USER_ROLE_MHLW));
    assert_true(totp_required_for_role(USER_ROLE_OPERATOR));
    assert_true(totp_required_for_role(USER_ROLE_MUNI_ADMIN));
    assert_false(totp_required_for_role(USER_ROLE_MUNI_STAFF));
    assert_false(totp_required_for_role(USER_ROLE_INST_MANAGER));
    assert_false(totp_required_for_role(USER_ROLE_DOCTOR));
}

int main(void)
{
    if (sodium_init() < 0 || totp_library_init() != NSDB_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6238_sha1_vectors_with_8_digits),
        cmocka_unit_test(verify_accepts_the_6_digit_vectors),
        cmocka_unit_test(verify_window_is_one_step_each_way),
        cmocka_unit_test(verify_refuses_a_used_step),
        cmocka_unit_test(verify_refuses_malformed_codes),
        cmocka_unit_test(secret_is_base32_in_the_otpauth_uri),
        cmocka_unit_test(recovery_codes_hash_after_normalising),
        cmocka_unit_test(qr_code_is_one_svg_path),
        cmocka_unit_test(privileged_roles_must_enrol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
