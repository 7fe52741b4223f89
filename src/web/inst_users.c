/*
 * inst_users.c — 医療機関ユーザ新規登録 (個別登録 tab) and 医療機関ユーザ検索 (Flow II ⑥⑫) for
 * municipal staff: one designated doctor or 責任者 at a time, the search with its 操作 column
 * (通知書, 編集, パスワード初期化, 利用停止/再開), and the ticked rows' notices as one PDF.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/registration.h"
#include "domain/cycle.h"
#include "domain/ids.h"
#include "domain/text.h"
#include "domain/validate.h"
#include "store/institutions.h"
#include "web/inst_users.h"
#include "web/user_actions.h"
#include "web/web.h"

#define PAGE_SIZE 50

static const char *const FORM_FIELDS[] = {
    "inst_code", "inst_name", "inst_postal", "inst_address", "inst_phone", "user_type",
    "name",      "name_kana", "category",    "doctor_number", "specialty", "email"};
#define FORM_FIELD_COUNT (sizeof FORM_FIELDS / sizeof FORM_FIELDS[0])

static const char *validate_inst_code(arena *a, const char *in, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL || *n == '\0')
        return "医療機関コードを入力してください。";
    if (strlen(n) != 10 || strspn(n, "0123456789") != 10)
        return "医療機関コードは10桁の数字で入力してください。";
    if (!ids_institution_code_valid(n))
        return "医療機関コードの検査数字（10桁目）が正しくありません。コードを確認してください。";
    *out = n;
    return NULL;
}

static const char *validate_required_text(arena *a, const char *in, size_t max, const char *what,
                                          const char **out)
{
    const char *err = validate_optional_text(a, in, max, out);
    if (err != NULL)
        return err;
    if (*out == NULL)
        return arena_printf(a, "%sを入力してください。", what);
    return NULL;
}

static const char *validate_doctor_number(arena *a, const char *in, bool required,
                                          const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL)
        return "使用できない文字が含まれています。";
    if (*n == '\0') {
        *out = NULL;
        return required ? "指定医番号を入力してください。" : NULL;
    }
    size_t len = strlen(n);
    if (len > 20)
        return "指定医番号は20文字以内で入力してください。";
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-')
            return "指定医番号は半角英数字とハイフンで入力してください。";
    *out = n;
    return NULL;
}

/* Validates the individual form; fills in and records errors in data. */
static bool inst_form_read(web_ctx *ctx, json_t *data, registration_input *in)
{
    arena *a = ctx->req->arena;
    const char *raw[FORM_FIELD_COUNT];
    json_t *form = json_object();
    for (size_t i = 0; i < FORM_FIELD_COUNT; i++) {
        raw[i] = http_form(ctx->req, FORM_FIELDS[i]);
        json_object_set_new(form, FORM_FIELDS[i], json_string(raw[i] ? raw[i] : ""));
    }
    json_object_set_new(data, "form", form);
    memset(in, 0, sizeof *in);
    const char *err;
    if ((err = validate_inst_code(a, raw[0], &in->inst_code)))
        page_add_error(data, "inst_code", "医療機関コード", err);
    if ((err = validate_required_text(a, raw[1], 100, "医療機関名", &in->inst_name)))
        page_add_error(data, "inst_name", "医療機関名", err);
    if ((in->inst_postal = text_postal_normalize(a, raw[2] ? raw[2] : "")) == NULL)
        page_add_error(data, "inst_postal", "医療機関郵便番号",
                       "郵便番号は「123-4567」の形で入力してください。");
    if ((err = validate_required_text(a, raw[3], 200, "医療機関所在地", &in->inst_address)))
        page_add_error(data, "inst_address", "医療機関所在地", err);
    if ((err = validate_phone(a, raw[4], &in->inst_phone)) ||
        (in->inst_phone == NULL && (err = "医療機関電話番号を入力してください。")))
        page_add_error(data, "inst_phone", "医療機関電話番号", err);
    if (raw[5] != NULL && (strcmp(raw[5], "doctor") == 0 || strcmp(raw[5], "inst_manager") == 0))
        in->user_type = raw[5];
    else
        page_add_error(data, "user_type", "ユーザ種別", "ユーザ種別は「指定医」か「責任者」を選んでください。");
    if ((err = validate_person_name(a, raw[6], &in->name)))
        page_add_error(data, "name", "氏名", err);
    if ((err = validate_name_kana(a, raw[7], &in->name_kana)))
        page_add_error(data, "name_kana", "氏名カナ", err);
    if ((err = validate_category(a, raw[8], &in->category)))
        page_add_error(data, "category", "難病/小慢", err);
    bool doctor = in->user_type != NULL && strcmp(in->user_type, "doctor") == 0;
    if ((err = validate_doctor_number(a, raw[9], doctor, &in->doctor_number)))
        page_add_error(data, "doctor_number", "指定医番号", err);
    if ((err = validate_optional_text(a, raw[10], 50, &in->specialty)))
        page_add_error(data, "specialty", "診療科", err);
    if (raw[11] != NULL && *raw[11] != '\0' && (err = validate_email(a, raw[11], &in->email)))
        page_add_error(data, "email", "メールアドレス", err);
    if (in->name && in->name_kana)
        in->search_key = text_search_key(a, arena_printf(a, "%s %s", in->name, in->name_kana));
    return json_array_size(json_object_get(data, "error_list")) == 0;
}

void inst_user_new_render(web_ctx *ctx, json_t *data, int status)
{
    const char *tab = http_query(ctx->req, "tab");
    if (json_object_get(data, "tab") == NULL)
        json_object_set_new(data, "tab", json_string(tab && strcmp(tab, "bulk") == 0 ? "bulk" : "single"));
    if (json_object_get(data, "form") == NULL)
        json_object_set_new(data, "form", json_pack("{s:s, s:s}", "user_type", "doctor",
                                                    "category", "nanbyo"));
    cycle_window c;
    registration_cycle(web_db(ctx), ctx->now, &c);
    json_object_set_new(data, "cycle", json_pack("{s:s, s:s, s:s}", "registration_to",
                                                 c.registration_to, "delivery_from",
                                                 c.delivery_from, "delivery_to", c.delivery_to));
    ctx->req->status = status;
    page_render(ctx, "inst_user_new", data);
}

void web_inst_user_new_form(web_ctx *ctx)
{
    inst_user_new_render(ctx, page_data(ctx, "医療機関ユーザ新規登録"), 200);
}

void web_inst_user_new_submit(web_ctx *ctx)
{
    json_t *data = page_data(ctx, "医療機関ユーザ新規登録");
    json_object_set_new(data, "tab", json_string("single"));
    registration_input in;
    if (!inst_form_read(ctx, data, &in)) {
        inst_user_new_render(ctx, data, 400);
        return;
    }
    registration_actor actor = {ctx->user->municipality_pk, ctx->user->pk, ctx->user->user_id,
                                ctx->req->client_ip, 0, ctx->now};
    db *conn = web_db(ctx);
    accounts_issued issued;
    const char *refusal = NULL;
    registration_field field = REGISTRATION_FIELD_NAME;
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = registration_register(ctx->app, conn, ctx->req->arena, &in, &actor, &issued, &refusal,
                                  &field);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        static const char *const FIELD_IDS[] = {"inst_name", "inst_address", "name"};
        static const char *const FIELD_LABELS[] = {"医療機関名", "医療機関所在地", "氏名"};
        page_add_error(data, refusal ? FIELD_IDS[field] : "inst_code",
                       refusal ? FIELD_LABELS[field] : "登録",
                       refusal ? refusal : nsdb_err_message(e));
        inst_user_new_render(ctx, data, refusal ? 400 : 503);
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/inst-users?registered=%s", issued.user_id));
}

/* yyyy-mm-dd (Japan time) → Unix time of that day's start; 0 when absent or malformed. */
static int64_t parse_day(const char *s)
{
    int y, m, d;
    if (s == NULL || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > 31 || y < 2000 || y > 2100)
        return 0;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return (int64_t)timegm(&tm) - 9 * 3600;
}

static const char *query_choice(web_ctx *ctx, const char *name, const char *const *allowed)
{
    const char *v = http_query(ctx->req, name);
    for (; v != NULL && *allowed != NULL; allowed++)
        if (strcmp(v, *allowed) == 0)
            return v;
    return NULL;
}

json_t *inst_user_row_json(const store_user *u)
{
    bool printable = u->initial_sealed != NULL && strcmp(u->status, "active") == 0;
    json_t *row = json_object();
    page_row_text(row, "user_id", u->user_id);
    page_row_text(row, "name", u->name);
    page_row_text(row, "name_kana", u->name_kana);
    page_row_text(row, "inst_code", u->institution_code);
    page_row_text(row, "inst_name", u->institution_name);
    page_row_text(row, "type_label", strcmp(u->role, "doctor") == 0 ? "指定医" : "責任者");
    page_row_text(row, "category", category_label(u->category));
    page_row_text(row, "notice_status", u->notice_status);
    page_row_text(row, "notice_label", notice_status_label(u->notice_status));
    page_row_bool(row, "printable", printable);
    page_row_bool(row, "suspended", strcmp(u->status, "suspended") == 0);
    return row;
}

void web_inst_users(web_ctx *ctx)
{
    static const char *const STATUSES[] = {"unissued", "issued", "active", NULL};
    static const char *const CATEGORIES[] = {"nanbyo", "shoman", "both", NULL};
    static const char *const TYPES[] = {"doctor", "inst_manager", NULL};
    http_request *req = ctx->req;
    arena *a = req->arena;
    const char *q = http_query(req, "q");
    const char *inst_code = http_query(req, "inst_code");
    const char *inst_name = http_query(req, "inst_name");
    const char *from = http_query(req, "from");
    const char *to = http_query(req, "to");
    const char *page_text = http_query(req, "page");
    long page = page_text ? strtol(page_text, NULL, 10) : 1;
    if (page < 1 || page > 100000)
        page = 1;
    char *id_upper = q ? str_trim(arena_strdup(a, q)) : NULL;
    if (id_upper)
        ids_user_id_normalize(id_upper);
    int64_t to_time = parse_day(to);
    store_user_query query = {.municipality_pk = ctx->user->municipality_pk,
                              .municipal_roles = false,
                              .search_key = q && *q ? text_search_key(a, q) : NULL,
                              .user_id_upper = id_upper,
                              .notice_status = query_choice(ctx, "status", STATUSES),
                              .inst_code = inst_code ? text_nfkc(a, inst_code) : NULL,
                              .inst_name_like = inst_name ? text_nfkc(a, inst_name) : NULL,
                              .category = query_choice(ctx, "category", CATEGORIES),
                              .role = query_choice(ctx, "user_type", TYPES),
                              .created_from = parse_day(from),
                              .created_to = to_time ? to_time + 86400 : 0,
                              .limit = PAGE_SIZE,
                              .offset = (page - 1) * PAGE_SIZE};
    /* an institution code is looked up once, so the search walks only that institution's users */
    store_institution *inst = NULL;
    if (query.inst_code != NULL && *query.inst_code != '\0' &&
        store_institution_find_by_code(web_db(ctx), a, query.inst_code, &inst) == NSDB_OK) {
        query.institution_pk = inst->pk;
        query.inst_code = NULL;
    }
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    nsdb_err e = store_user_search(web_db(ctx), a, &query, &rows, &n, &total);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "医療機関ユーザ検索");
    page_set_total(data, total);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, inst_user_row_json(&rows[i]));
    json_object_set_new(data, "users", list);
    json_object_set_new(
        data, "query",
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "q", q ? q : "", "inst_code",
                  inst_code ? inst_code : "", "inst_name", inst_name ? inst_name : "", "status",
                  query.notice_status ? query.notice_status : "", "category",
                  query.category ? query.category : "", "user_type", query.role ? query.role : "",
                  "from", from ? from : "", "to", to ? to : ""));
    int64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    json_object_set_new(data, "page", json_integer(page));
    json_object_set_new(data, "pages", json_integer(pages ? pages : 1));
    if (page > 1)
        json_object_set_new(data, "prev_page", json_integer(page - 1));
    if (page < pages)
        json_object_set_new(data, "next_page", json_integer(page + 1));
    strbuf qs = STRBUF_INIT;
    const char *keys[] = {"q", "inst_code", "inst_name", "status", "category", "user_type", "from", "to"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = http_query(req, keys[i]);
        if (v == NULL || *v == '\0')
            continue;
        strbuf_printf(&qs, "%s=", keys[i]);
        strbuf_append_url(&qs, v);
        strbuf_putc(&qs, '&');
    }
    json_object_set_new(data, "query_string", json_string(qs.data ? qs.data : ""));
    strbuf_free(&qs);
    const char *registered = http_query(req, "registered");
    const char *done = user_action_done_message(ctx);
    if (registered != NULL && ids_user_id_valid(registered)) {
        cycle_window c;
        registration_cycle(web_db(ctx), ctx->now, &c);
        json_object_set_new(
            data, "notice",
            json_string(arena_printf(a,
                                     "医療機関ユーザを登録しました（ユーザID %s）。この登録の媒体は"
                                     "%s〜%s に運用事業者から届く予定です。",
                                     registered, c.delivery_from, c.delivery_to)));
    } else if (done != NULL) {
        json_object_set_new(data, "notice", json_string(done));
    }
    const char *refused = http_query(req, "refused");
    if (refused != NULL)
        json_object_set_new(data, "error_notice",
                            json_string("選択されたユーザに、通知書を出力できないユーザが含まれています。"
                                        "未発行または発行済（初期パスワード）のユーザだけを選んでください。"));
    page_render(ctx, "inst_users", data);
}

void web_inst_user_edit_form(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "医療機関ユーザの編集");
    json_object_set_new(data, "target", inst_user_row_json(u));
    json_object_set_new(data, "form",
                        json_pack("{s:s, s:s?, s:s?, s:s}", "name", u->name, "name_kana",
                                  u->name_kana, "email", u->email, "category", u->category));
    page_render(ctx, "inst_user_edit", data);
}

void web_inst_user_edit_submit(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u == NULL)
        return;
    arena *a = ctx->req->arena;
    json_t *data = page_data(ctx, "医療機関ユーザの編集");
    json_object_set_new(data, "target", inst_user_row_json(u));
    const char *raw_name = http_form(ctx->req, "name"), *raw_kana = http_form(ctx->req, "name_kana"),
               *raw_email = http_form(ctx->req, "email"), *raw_cat = http_form(ctx->req, "category");
    json_object_set_new(data, "form",
                        json_pack("{s:s, s:s, s:s, s:s}", "name", raw_name ? raw_name : "",
                                  "name_kana", raw_kana ? raw_kana : "", "email",
                                  raw_email ? raw_email : "", "category", raw_cat ? raw_cat : ""));
    store_user_profile p = {.department = u->department, .title = u->title, .phone = u->phone};
    const char *err;
    if ((err = validate_person_name(a, raw_name, &p.name)))
        page_add_error(data, "name", "氏名", err);
    if ((err = validate_name_kana(a, raw_kana, &p.name_kana)))
        page_add_error(data, "name_kana", "氏名カナ", err);
    if (raw_email != NULL && *raw_email && (err = validate_email(a, raw_email, &p.email)))
        page_add_error(data, "email", "メールアドレス", err);
    if ((err = validate_category(a, raw_cat, &p.category)))
        page_add_error(data, "category", "難病/小慢", err);
    if (json_array_size(json_object_get(data, "error_list")) > 0) {
        ctx->req->status = 400;
        page_render(ctx, "inst_user_edit", data);
        return;
    }
    json_decref(data);
    db *conn = web_db(ctx);
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_user_update_profile(conn, u->pk, &p,
                                      text_search_key(a, arena_printf(a, "%s %s", p.name, p.name_kana)),
                                      ctx->now);
    if (e == NSDB_OK)
        e = web_audit(ctx, "user_update", u->user_id, "ok", NULL);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    http_redirect(ctx->req, 303, arena_printf(a, "/inst-users?done=edit&user=%s", u->user_id));
}

void web_inst_user_reset(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u != NULL)
        user_action_reset(ctx, u, "/inst-users");
}

void web_inst_user_suspend(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u != NULL)
        user_action_set_status(ctx, u, true, "/inst-users");
}

void web_inst_user_resume(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u != NULL)
        user_action_set_status(ctx, u, false, "/inst-users");
}
