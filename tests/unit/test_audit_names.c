/*
 * test_audit_names.c — the 監査ログ's Japanese names (domain/audit_names.c): every action key the
 * code writes (as of this test; grep core_audit and web_audit_now) has a Japanese name, results
 * too, and an unknown key has none (the screen then shows the key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "domain/audit_names.h"

static void every_written_action_has_a_japanese_name(void **state)
{
    (void)state;
    static const char *const KEYS[] = {
        "login", "login_password", "logout", "lockout", "password_change", "password_reset",
        "totp_enrol_start", "totp_enrol", "totp_disable", "totp_reset", "user_create",
        "user_update", "user_suspend", "user_resume", "notice_print", "municipality_create",
        "municipality_update", "admin_list_upload", "admin_list_download", "admin_list_approve",
        "admin_list_reject", "admin_list_issue", "inst_users_import", "inst_users_import_download",
        "registrations_download", "api_token_create", "api_token_revoke", "api_denied",
        "mail_queued", "mail_resend", "cycle_adjust", "media_create", "media_build_failed",
        "media_packed", "package_create", "package_supplement", "media_shipped", "package_shipped",
        "package_received", "media_received", "passphrase_print", "media_forwarded", "media_damaged",
        "media_reissued", "cert_revoked", "crl_issued", "media_renewed", "access_denied",
        "scope_denied", "csrf_rejected"};
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        const char *label = audit_action_label(KEYS[i]);
        assert_non_null(label);
        /* Japanese: holds Japanese characters (three-byte UTF-8 sequences) */
        bool japanese = false;
        for (const char *p = label; *p; p++)
            japanese = japanese || (unsigned char)*p >= 0xE3;
        assert_true(japanese);
    }
    assert_string_equal(audit_action_label("login"), "ログイン");
    assert_string_equal(audit_action_label("admin_list_issue"), "払出し");
}

static void results_and_unknown_keys(void **state)
{
    (void)state;
    assert_string_equal(audit_result_label("ok"), "成功");
    assert_string_equal(audit_result_label("denied"), "拒否");
    assert_string_equal(audit_result_label("failed"), "失敗");
    assert_null(audit_result_label("maybe"));
    assert_null(audit_action_label("no_such_action"));
    assert_null(audit_action_label(""));
    assert_null(audit_action_label(NULL));
    assert_null(audit_result_label(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_written_action_has_a_japanese_name),
        cmocka_unit_test(results_and_unknown_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
