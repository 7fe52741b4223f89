/*
 * audit_names.c — see audit_names.h. Every action key written by core_audit or web_audit_now has
 * a row here (tests/unit/test_audit_names.c lists them); a key missing here is shown as it is.
 */
#include "domain/audit_names.h"

#include <stddef.h>
#include <string.h>

static const struct {
    const char *key, *label;
} ACTIONS[] = {
    {"login", "ログイン"},
    {"login_password", "ログイン（パスワード確認済み・二要素認証待ち）"},
    {"logout", "ログアウト"},
    {"lockout", "アカウントのロック"},
    {"password_change", "パスワード変更"},
    {"password_reset", "パスワード初期化"},
    {"totp_enrol_start", "二要素認証の設定開始"},
    {"totp_enrol", "二要素認証の設定"},
    {"totp_disable", "二要素認証の解除"},
    {"totp_reset", "二要素認証の初期化"},
    {"user_create", "ユーザ登録"},
    {"user_update", "ユーザ情報の変更"},
    {"user_suspend", "利用停止"},
    {"user_resume", "利用再開"},
    {"notice_print", "ID・PW発行通知書の出力"},
    {"municipality_create", "自治体の登録"},
    {"municipality_update", "自治体の変更"},
    {"admin_list_upload", "申請リストの登録"},
    {"admin_list_download", "申請リストのダウンロード"},
    {"admin_list_approve", "申請リストの承認"},
    {"admin_list_reject", "申請リストの差戻し"},
    {"admin_list_issue", "払出し"},
    {"inst_users_import", "一括登録"},
    {"inst_users_import_download", "一括登録結果のダウンロード"},
    {"inst_users_import_discard", "中断した一括登録の削除"},
    {"registrations_download", "登録通知のダウンロード"},
    {"api_token_create", "APIトークンの発行"},
    {"api_token_revoke", "APIトークンの失効"},
    {"api_denied", "APIの拒否"},
    {"mail_queued", "メールの送信予約"},
    {"mail_resend", "メールの再送"},
    {"cycle_adjust", "サイクルの日程変更"},
    {"media_create", "媒体の作成"},
    {"media_build_failed", "媒体の作成失敗"},
    {"media_packed", "媒体の梱包"},
    {"package_create", "梱包の作成"},
    {"package_supplement", "追加分の同封"},
    {"media_shipped", "媒体の発送"},
    {"package_shipped", "梱包の発送"},
    {"package_received", "梱包の受領"},
    {"media_received", "媒体の受領"},
    {"passphrase_print", "パスフレーズ一覧の出力"},
    {"package_file_download", "梱包のファイルのダウンロード"},
    {"media_iso_download", "媒体イメージのダウンロード"},
    {"media_archive_download", "サイクルの媒体一式のダウンロード"},
    {"media_forwarded", "医療機関への送付"},
    {"media_damaged", "破損連絡"},
    {"media_reissued", "媒体の再発行"},
    {"cert_revoked", "VPN 証明書の失効"},
    {"media_renewed", "証明書更新の媒体作成"},
    {"crl_issued", "失効リスト（CRL）の発行"},
    {"access_denied", "権限のない操作の拒否"},
    {"scope_denied", "範囲外の対象への操作の拒否"},
    {"csrf_rejected", "不正なフォーム送信の拒否"},
};

static const struct {
    const char *key, *label;
} RESULTS[] = {{"ok", "成功"}, {"denied", "拒否"}, {"failed", "失敗"}};

const char *audit_action_label(const char *action)
{
    for (size_t i = 0; action != NULL && i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
        if (strcmp(ACTIONS[i].key, action) == 0)
            return ACTIONS[i].label;
    return NULL;
}

const char *audit_result_label(const char *result)
{
    for (size_t i = 0; result != NULL && i < sizeof RESULTS / sizeof RESULTS[0]; i++)
        if (strcmp(RESULTS[i].key, result) == 0)
            return RESULTS[i].label;
    return NULL;
}
