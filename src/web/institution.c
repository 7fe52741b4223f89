/*
 * institution.c — the screens of medical-institution users: the 責任者 sees its institution's
 * users, resets their passwords (the new notice is printed at the institution) and suspends
 * them; a designated doctor sees its own registration.
 */
#include <string.h>

#include "core/users.h"
#include "domain/cycle.h"
#include "web/inst_users.h"
#include "web/user_actions.h"
#include "web/web.h"

void web_institution_users(web_ctx *ctx)
{
    store_user_query q = {.municipality_pk = ctx->user->municipality_pk,
                          .municipal_roles = false,
                          .institution_pk = ctx->user->institution_pk,
                          .limit = 1000};
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    nsdb_err e = store_user_search(web_db(ctx), ctx->req->arena, &q, &rows, &n, &total);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "医療機関ユーザ一覧");
    json_t *list = json_array();
    core_ctx c = web_core(ctx);
    for (size_t i = 0; i < n; i++) {
        json_t *row = inst_user_row_json(&rows[i]);
        json_object_set_new(row, "is_self", json_boolean(rows[i].pk == ctx->user->pk));
        if (core_notice_refusal(&c, &rows[i]) != NULL) /* the municipality prints that one */
            json_object_set_new(row, "printable", json_false());
        json_array_append_new(list, row);
    }
    json_object_set_new(data, "users", list);
    const char *done = user_action_done_message(ctx);
    if (done != NULL)
        json_object_set_new(data, "notice", json_string(done));
    page_render(ctx, "institution_users", data);
}




void web_me(web_ctx *ctx)
{
    const store_user *u = ctx->user;
    json_t *data = page_data(ctx, "登録情報");
    json_object_set_new(
        data, "me",
        json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?, s:s?}", "user_id", u->user_id, "name",
                  u->name, "name_kana", u->name_kana, "role_label", user_role_label(u->role),
                  "category", category_label_of_key(u->category), "inst_name", u->institution_name,
                  "inst_code", u->institution_code, "municipality", u->municipality_name));
    page_render(ctx, "me", data);
}
