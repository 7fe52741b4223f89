/*
 * muni_users.c — 自治体ユーザ新規登録 and 自治体ユーザ検索 (Flow I ⑧⑨) for a municipal admin:
 * registration of staff (or another admin) of the admin's own municipality, search, 編集,
 * パスワード初期化 and 利用停止/再開. Every query carries the admin's municipality, so another
 * municipality's user is simply not found (404, audited).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/users.h"
#include "domain/text.h"
#include "web/form_fields.h"
#include "web/user_actions.h"
#include "web/web.h"

#define PAGE_SIZE 50

typedef struct muni_user_form {
    const char *name, *name_kana, *email, *department, *category, *role;
    user_role role_value; /* role once valid */
} muni_user_form;

static json_t *form_json(const muni_user_form *f)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", f->name ? f->name : "",
                     "name_kana", f->name_kana ? f->name_kana : "", "email",
                     f->email ? f->email : "", "department", f->department ? f->department : "",
                     "category", f->category ? f->category : "nanbyo", "role",
                     f->role ? f->role : "muni_staff");
}

/* Validates the posted form into f; errors go to data. Returns true when valid. */
static bool form_read(web_ctx *ctx, json_t *data, muni_user_form *f, bool with_role)
{
    http_request *req = ctx->req;
    f->name = http_form(req, "name");
    f->name_kana = http_form(req, "name_kana");
    f->email = http_form(req, "email");
    f->department = http_form(req, "department");
    f->category = http_form(req, "category");
    f->role = http_form(req, "role"); /* the edit passes it on to the core unchecked */
    muni_user_form raw = *f;
    form_field_read(ctx, data, FIELD_NAME, 0, &f->name);
    form_field_read(ctx, data, FIELD_NAME_KANA, 0, &f->name_kana);
    form_field_read(ctx, data, FIELD_EMAIL, 0, &f->email);
    form_field_read(ctx, data, FIELD_DEPARTMENT, 0, &f->department);
    form_field_read(ctx, data, FIELD_CATEGORY, 0, &f->category);
    if (with_role)
        form_field_read(ctx, data, FIELD_ROLE, 0, &f->role);
    /* on error the form shows what the user typed */
    json_object_set_new(data, "form", form_json(json_array_size(json_object_get(data, "error_list"))
                                                    ? &raw
                                                    : f));
    return json_array_size(json_object_get(data, "error_list")) == 0;
}

/* Reads the form into f; when a field is refused, renders the page again with every error
   (400) and returns false. */
static bool form_read_or_refuse(web_ctx *ctx, json_t *data, muni_user_form *f, bool with_role,
                                const char *template_name)
{
    if (form_read(ctx, data, f, with_role))
        return true;
    ctx->req->status = 400;
    page_render(ctx, template_name, data);
    return false;
}

void web_muni_user_new_form(web_ctx *ctx)
{
    json_t *data = page_data(ctx, "自治体ユーザ新規登録");
    muni_user_form empty = {0};
    json_object_set_new(data, "form", form_json(&empty));
    page_render(ctx, "muni_user_new", data);
}

void web_muni_user_new_submit(web_ctx *ctx)
{
    json_t *data = page_data(ctx, "自治体ユーザ新規登録");
    muni_user_form f;
    if (!form_read_or_refuse(ctx, data, &f, true, "muni_user_new"))
        return;
    user_add_input in = {.role = f.role,
                         .name = f.name,
                         .name_kana = f.name_kana,
                         .email = f.email,
                         .department = f.department,
                         .category = f.category};
    core_ctx c = web_core(ctx);
    accounts_issued issued;
    nsdb_problem pb = {0};
    nsdb_err e = core_user_add(&c, &in, &issued, &pb);
    if (e != NSDB_OK) {
        page_add_error(data, pb.field ? pb.field : "name", "登録", problem_message(&pb));
        ctx->req->status = web_problem_status(&pb);
        page_render(ctx, "muni_user_new", data);
        return;
    }
    const char *location = arena_printf(ctx->req->arena, "/muni-users?registered=%s", issued.user_id);
    sodium_memzero(&issued, sizeof issued);
    json_decref(data);
    http_redirect(ctx->req, 303, location);
}

static json_t *user_row_json(web_ctx *ctx, const store_user *u)
{
    bool printable = u->initial_sealed != NULL && u->status == ACCOUNT_STATUS_ACTIVE;
    json_t *row = json_object();
    page_row_text(row, "user_id", u->user_id);
    page_row_text(row, "name", u->name);
    page_row_text(row, "name_kana", u->name_kana);
    page_row_text(row, "department", u->department);
    page_row_text(row, "role_label", user_role_label(u->role));
    page_row_text(row, "category", category_label_of_key(u->category));
    page_row_text(row, "notice_status", notice_status_key(u->notice_status));
    page_row_text(row, "notice_label", notice_status_label(u->notice_status));
    page_row_bool(row, "printable", printable);
    page_row_bool(row, "suspended", u->status == ACCOUNT_STATUS_SUSPENDED);
    page_row_bool(row, "is_self", u->pk == ctx->user->pk);
    page_row_text(row, "email", u->email);
    return row;
}

void web_muni_users(web_ctx *ctx)
{
    http_request *req = ctx->req;
    arena *a = req->arena;
    const char *q = http_query(req, "q");
    const char *status = http_query(req, "status");
    const char *page_text = http_query(req, "page");
    long page = page_text ? strtol(page_text, NULL, 10) : 1;
    if (page < 1 || page > 100000)
        page = 1;
    notice_status status_filter = 0; /* an unknown status is no filter */
    if (!notice_status_from_key(status, &status_filter))
        status = NULL;
    char *key = q && *q ? text_search_key(a, q) : NULL;
    char *id_upper = q ? str_trim(arena_strdup(a, q)) : NULL;
    for (char *p = id_upper; p && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    store_user_query query = {.municipality_pk = ctx->user->municipality_pk,
                              .municipal_roles = true,
                              .search_key = key,
                              .user_id_upper = id_upper,
                              .notice_status = status_filter,
                              .limit = PAGE_SIZE,
                              .offset = (page - 1) * PAGE_SIZE};
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    nsdb_err e = store_user_search(web_db(ctx), a, &query, &rows, &n, &total);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "自治体ユーザ検索");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, user_row_json(ctx, &rows[i]));
    json_object_set_new(data, "users", list);
    json_object_set_new(data, "q", json_string(q ? q : ""));
    json_object_set_new(data, "status", json_string(status ? status : ""));
    page_set_total(data, total);
    json_object_set_new(data, "searched", json_boolean(q != NULL || status != NULL));
    int64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    if (page > 1)
        json_object_set_new(data, "prev_page", json_integer(page - 1));
    if (page < pages)
        json_object_set_new(data, "next_page", json_integer(page + 1));
    json_object_set_new(data, "page", json_integer(page));
    json_object_set_new(data, "pages", json_integer(pages ? pages : 1));
    static const char *const QUERY_KEYS[] = {"q", "status"};
    json_object_set_new(data, "query_string",
                        json_string(page_query_string(ctx, QUERY_KEYS,
                                                      sizeof QUERY_KEYS / sizeof QUERY_KEYS[0])));
    const char *registered = http_query(req, "registered");
    const char *done = user_action_done_message(ctx);
    if (registered != NULL && ids_user_id_valid(registered))
        json_object_set_new(data, "notice",
                            json_string(arena_printf(a, "自治体ユーザを登録しました（ユーザID %s）。"
                                                        "操作列の「IDパスワード通知書ダウンロード」から"
                                                        "通知書を出力して交付してください。",
                                                     registered)));
    else if (done != NULL)
        json_object_set_new(data, "notice", json_string(done));
    page_render(ctx, "muni_users", data);
}

void web_muni_user_edit_form(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_MUNI);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "自治体ユーザの編集");
    muni_user_form f = {u->name,       u->name_kana, u->email, u->department,
                        u->category,   user_role_key(u->role), u->role};
    json_object_set_new(data, "form", form_json(&f));
    json_object_set_new(data, "target", user_row_json(ctx, u));
    page_render(ctx, "muni_user_edit", data);
}

void web_muni_user_edit_submit(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_MUNI);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "自治体ユーザの編集");
    json_object_set_new(data, "target", user_row_json(ctx, u));
    muni_user_form f;
    if (!form_read_or_refuse(ctx, data, &f, false, "muni_user_edit"))
        return;
    user_profile_input p = {.name = f.name,
                            .name_kana = f.name_kana,
                            .email = f.email,
                            .department = f.department,
                            .category = f.category,
                            .role = f.role}; /* checked by the core; none keeps the role */
    user_action_save_profile(ctx, u, &p, data, "muni_user_edit", "/muni-users");
}
