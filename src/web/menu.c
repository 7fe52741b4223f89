/*
 * menu.c — メニュー: one table of the seed's menu names with the roles that see them. An entry
 * without a path belongs to a feature not yet built and is shown as 準備中, never as a link to
 * a fake page.
 */
#include <string.h>

#include "web/menu.h"
#include "web/web.h"

static const struct {
    const char *label;
    const char *path; /* NULL: not yet available */
    unsigned roles;
    const char *description;
} MENU[] = {
    {"管理者権限のユーザID申請リスト", "/admin-lists", ROLE_MHLW | ROLE_OPERATOR,
     "申請リストの登録・承認・払出し"},
    {"自治体ユーザ新規登録", "/muni-users/new", ROLE_MUNI_ADMIN, "自治体職員のユーザを登録します"},
    {"自治体ユーザ検索", "/muni-users", ROLE_MUNI_ADMIN, "自治体職員のユーザの検索とID・PW発行通知書の出力"},
    {"医療機関ユーザ新規登録", "/inst-users/new", ROLES_MUNI, "指定医・医療機関の責任者を個別登録・一括登録します"},
    {"医療機関ユーザ検索", "/inst-users", ROLES_MUNI, "医療機関ユーザの検索とID・PW発行通知書の出力"},
    {"医療機関ユーザデータファイル等ダウンロード", "/forms", ROLES_MUNI,
     "自治体のホームページに掲載する申請書と一括登録ファイル"},
    {"媒体受領", "/media", ROLES_MUNI, "運用事業者から届いた媒体の受領・医療機関への送付・破損連絡"},
    {"指定医マスタの登録通知", "/registrations", ROLE_OPERATOR | ROLE_MHLW, "登録された医療機関ユーザの一覧"},
    {"媒体送付サイクル", "/cycles", ROLE_OPERATOR | ROLE_MHLW, "媒体の作成・梱包・発送（厚労省は閲覧のみ）"},
    {"送信できていないメール", "/operator/mail", ROLE_OPERATOR, "送信に失敗したメールの確認と再送"},
    {"医療機関マスタの修正", "/institutions", ROLE_OPERATOR, "医療機関名・所在地などの誤りの修正"},
    {"医療機関ユーザ一覧", "/institution/users", ROLE_INST_MANAGER, "自医療機関のユーザ"},
    {"登録情報", "/me", ROLES_INSTITUTION, "自分の登録内容"},
    {"監査ログ", "/audit", ROLE_MHLW, "ログイン・登録・変更の記録"},
    {"自アカウント管理", "/account/password", ROLES_ALL, "パスワードの変更"},
};

json_t *menu_items_for(user_role role, const char *current_path)
{
    unsigned bit = role_bit(role);
    json_t *items = json_array();
    for (size_t i = 0; i < sizeof MENU / sizeof MENU[0]; i++) {
        if (!(MENU[i].roles & bit))
            continue;
        json_t *item = json_object();
        json_object_set_new(item, "label", json_string(MENU[i].label));
        json_object_set_new(item, "description", json_string(MENU[i].description));
        if (MENU[i].path != NULL) {
            json_object_set_new(item, "href", json_string(MENU[i].path));
            if (current_path != NULL && strcmp(current_path, MENU[i].path) == 0)
                json_object_set_new(item, "current", json_true());
        }
        json_array_append_new(items, item);
    }
    return items;
}

void web_menu(web_ctx *ctx)
{
    json_t *data = page_data(ctx, "メニュー");
    json_object_set_new(data, "items", menu_items_for(ctx->user->role, NULL));
    const char *done = http_query(ctx->req, "done");
    if (done != NULL && strcmp(done, "password") == 0)
        json_object_set_new(data, "notice", json_string("パスワードを変更しました。"));
    page_render(ctx, "menu", data);
}
