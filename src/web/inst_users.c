/*
 * inst_users.c — 医療機関ユーザ新規登録 (個別登録 tab) and 医療機関ユーザ検索 (Flow II ⑥⑫) for
 * municipal staff: one designated doctor or 責任者 at a time, the search with its 操作 column
 * (通知書, 編集, パスワード初期化, 利用停止/再開), and the ticked rows' notices as one PDF.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/registration.h"
#include "core/users.h"
#include "domain/cycle.h"
#include "domain/holiday.h"
#include "domain/ids.h"
#include "domain/text.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/registrations.h"
#include "web/cycle_view.h"
#include "web/form_fields.h"
#include "web/inst_users.h"
#include "web/user_actions.h"
#include "web/web.h"

#define PAGE_SIZE 50

/* The 個別登録 form: every field of registration_input but the search key, in form order. */
static const struct {
    field_id id;
    size_t offset;
} FORM_FIELDS[] = {
    {FIELD_INST_CODE, offsetof(registration_input, inst_code)},
    {FIELD_INST_NAME, offsetof(registration_input, inst_name)},
    {FIELD_INST_POSTAL, offsetof(registration_input, inst_postal)},
    {FIELD_INST_ADDRESS, offsetof(registration_input, inst_address)},
    {FIELD_INST_PHONE, offsetof(registration_input, inst_phone)},
    {FIELD_USER_TYPE, offsetof(registration_input, user_type)},
    {FIELD_NAME, offsetof(registration_input, name)},
    {FIELD_NAME_KANA, offsetof(registration_input, name_kana)},
    {FIELD_CATEGORY, offsetof(registration_input, category)},
    {FIELD_DOCTOR_NUMBER, offsetof(registration_input, doctor_number)},
    {FIELD_SPECIALTY, offsetof(registration_input, specialty)},
    {FIELD_EMAIL, offsetof(registration_input, email)},
};
#define FORM_FIELD_COUNT (sizeof FORM_FIELDS / sizeof FORM_FIELDS[0])

static bool is_doctor(const char *user_type_key)
{
    user_role role = 0;
    return user_role_from_key(user_type_key, &role) && role == USER_ROLE_DOCTOR;
}

/* Validates the individual form through the field table; fills in and records errors in data. */
static bool inst_form_read(web_ctx *ctx, json_t *data, registration_input *in)
{
    json_t *form = json_object();
    for (size_t i = 0; i < FORM_FIELD_COUNT; i++) {
        const char *name = field_get(FORM_FIELDS[i].id)->name, *raw = http_form(ctx->req, name);
        json_object_set_new(form, name, json_string(raw ? raw : ""));
    }
    json_object_set_new(data, "form", form);
    memset(in, 0, sizeof *in);
    for (size_t i = 0; i < FORM_FIELD_COUNT; i++) {
        unsigned flags = 0;
        if (FORM_FIELDS[i].id == FIELD_EMAIL)
            flags = FIELD_OPTIONAL; /* institution users may have none */
        else if (FORM_FIELDS[i].id == FIELD_DOCTOR_NUMBER && is_doctor(in->user_type))
            flags = FIELD_REQUIRED; /* user_type comes before it */
        const char **slot = (const char **)(void *)((char *)in + FORM_FIELDS[i].offset);
        form_field_read(ctx, data, FORM_FIELDS[i].id, flags, slot);
    }
    if (in->name && in->name_kana)
        in->search_key = field_search_key(ctx->req->arena, in->name, in->name_kana);
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
    /* without the calendar the form still works; only the media schedule is left out */
    if (cycle_view_current_and_next(ctx, data, &c))
        json_object_set_new(data, "media_promise", json_string(cycle_view_media_promise(ctx, &c)));
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
    core_ctx c = web_core(ctx);
    accounts_issued issued;
    nsdb_problem pb = {0};
    bool merged = false;
    nsdb_err e = core_register_one(&c, &in, &issued, &merged, &pb);
    if (e != NSDB_OK) {
        const field_def *f = pb.field ? field_find(pb.field) : NULL;
        const char *label = f ? f->label : "登録";
        page_add_error(data, pb.field ? pb.field : "inst_code", label, problem_message(&pb));
        inst_user_new_render(ctx, data, web_problem_status(&pb));
        return;
    }
    sodium_memzero(issued.initial_password, sizeof issued.initial_password);
    json_decref(data);
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/inst-users?%s=%s",
                               merged ? "merged" : "registered", issued.user_id));
}

/* yyyy-mm-dd (Japan time) → Unix time of that day's start; 0 when absent or malformed. */
static int64_t parse_day(const char *s)
{
    int y, m, d;
    if (s == NULL || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > 31 || y < 2000 || y > 2100)
        return 0;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return (int64_t)timegm(&tm) - JST_OFFSET_SECONDS;
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
    bool printable = u->initial_sealed != NULL && u->status == ACCOUNT_STATUS_ACTIVE;
    json_t *row = json_object();
    page_row_text(row, "user_id", u->user_id);
    page_row_text(row, "name", u->name);
    page_row_text(row, "name_kana", u->name_kana);
    page_row_text(row, "inst_code", u->institution_code);
    page_row_text(row, "inst_name", u->institution_name);
    page_row_text(row, "type_label", u->role == USER_ROLE_DOCTOR ? "指定医" : "責任者");
    page_row_text(row, "doctor_number", u->doctor_number);
    page_row_text(row, "category", category_label_of_key(u->category));
    page_row_text(row, "notice_status", notice_status_key(u->notice_status));
    page_row_text(row, "notice_label", notice_status_label(u->notice_status));
    page_row_bool(row, "printable", printable);
    page_row_bool(row, "suspended", u->status == ACCOUNT_STATUS_SUSPENDED);
    return row;
}

/* The result of 個別登録: the user ID, and what happens to the institution's media — only when
   this registration brings its first media (seed 参考②). */
static const char *registered_notice(web_ctx *ctx, const char *user_id)
{
    arena *a = ctx->req->arena;
    const char *done = arena_printf(a, "医療機関ユーザを登録しました（ユーザID %s）。", user_id);
    char cycle_id[11];
    store_media_outlook outlook;
    cycle_window c;
    if (store_media_outlook_of_user(web_db(ctx), ctx->user->municipality_pk, user_id, cycle_id,
                                    &outlook) != NSDB_OK)
        return done;
    switch (outlook) {
    case MEDIA_OUTLOOK_HAS_MEDIA:
        return arena_printf(a,
                            "%sこの医療機関には既に媒体が送付されているため、新しい媒体は届きません。"
                            "ID・PW発行通知書を出力して医療機関へ送付してください。",
                            done);
    case MEDIA_OUTLOOK_PENDING:
        return arena_printf(a,
                            "%sこの医療機関の媒体は前のサイクルの登録分として作成中のため、この登録で"
                            "新しい媒体は作成されません。",
                            done);
    case MEDIA_OUTLOOK_NEW: break;
    }
    if (store_cycle_get(web_db(ctx), cycle_id, &c) != NSDB_OK)
        return done;
    return arena_printf(a,
                        "%s媒体は運用事業者が %s〜%s に作成して自治体へ送付し、%s までに届きます。"
                        "届いたら「媒体受領」で受領を記録し、ID・PW発行通知書と併せて %s〜%s に"
                        "医療機関へ送付してください。",
                        done, c.media_from, c.media_to, c.media_to, c.delivery_from, c.delivery_to);
}

void web_inst_users(web_ctx *ctx)
{
    static const char *const CATEGORIES[] = {"nanbyo", "shoman", "both", NULL};
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
                              .inst_code = inst_code ? text_nfkc(a, inst_code) : NULL,
                              .inst_name_like = inst_name ? text_nfkc(a, inst_name) : NULL,
                              .category = query_choice(ctx, "category", CATEGORIES),
                              .created_from = parse_day(from),
                              .created_to = to_time ? to_time + 86400 : 0,
                              .limit = PAGE_SIZE,
                              .offset = (page - 1) * PAGE_SIZE};
    /* an unknown status or type is no filter */
    (void)notice_status_from_key(http_query(req, "status"), &query.notice_status);
    if (user_role_from_key(http_query(req, "user_type"), &query.role) &&
        (role_bit(query.role) & ROLES_INSTITUTION) == 0)
        query.role = 0;
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
                  query.notice_status ? notice_status_key(query.notice_status) : "", "category",
                  query.category ? query.category : "", "user_type",
                  query.role ? user_role_key(query.role) : "",
                  "from", from ? from : "", "to", to ? to : ""));
    int64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    json_object_set_new(data, "page", json_integer(page));
    json_object_set_new(data, "pages", json_integer(pages ? pages : 1));
    if (page > 1)
        json_object_set_new(data, "prev_page", json_integer(page - 1));
    if (page < pages)
        json_object_set_new(data, "next_page", json_integer(page + 1));
    static const char *const QUERY_KEYS[] = {"q",        "inst_code", "inst_name", "status",
                                             "category", "user_type", "from",      "to"};
    json_object_set_new(data, "query_string",
                        json_string(page_query_string(ctx, QUERY_KEYS,
                                                      sizeof QUERY_KEYS / sizeof QUERY_KEYS[0])));
    const char *registered = http_query(req, "registered");
    const char *merged = http_query(req, "merged");
    const char *done = user_action_done_message(ctx);
    if (merged != NULL && ids_user_id_valid(merged)) {
        json_object_set_new(
            data, "notice",
            json_string(arena_printf(a,
                                     "同じ指定医番号・氏名の指定医（ユーザID %s）が同じ医療機関に登録済み"
                                     "のため、新しいアカウントは作らず、その方の区分を「両方」にしま"
                                     "した。ID・パスワードはこれまでのものを使います。",
                                     merged)));
    } else if (registered != NULL && ids_user_id_valid(registered)) {
        json_object_set_new(data, "notice", json_string(registered_notice(ctx, registered)));
        /* the institution differed from the master: registered all the same, and said so */
        const char *warning = NULL;
        if (store_registration_warning(web_db(ctx), a, ctx->user->municipality_pk, registered,
                                       &warning) == NSDB_OK &&
            warning != NULL)
            json_object_set_new(data, "warnings", json_pack("[s]", warning));
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

/* The edit form: the record as registered (issue 12, item 6), in the 個別登録 form's order. */
static const struct {
    field_id id;
    size_t offset;
} EDIT_FIELDS[] = {
    {FIELD_INST_CODE, offsetof(inst_user_edit_input, inst_code)},
    {FIELD_USER_TYPE, offsetof(inst_user_edit_input, user_type)},
    {FIELD_NAME, offsetof(inst_user_edit_input, name)},
    {FIELD_NAME_KANA, offsetof(inst_user_edit_input, name_kana)},
    {FIELD_CATEGORY, offsetof(inst_user_edit_input, category)},
    {FIELD_DOCTOR_NUMBER, offsetof(inst_user_edit_input, doctor_number)},
    {FIELD_SPECIALTY, offsetof(inst_user_edit_input, specialty)},
    {FIELD_EMAIL, offsetof(inst_user_edit_input, email)},
};
#define EDIT_FIELD_COUNT (sizeof EDIT_FIELDS / sizeof EDIT_FIELDS[0])

static const char **edit_slot(inst_user_edit_input *in, size_t i)
{
    return (const char **)(void *)((char *)in + EDIT_FIELDS[i].offset);
}

static json_t *edit_form_json(inst_user_edit_input *in)
{
    json_t *form = json_object();
    for (size_t i = 0; i < EDIT_FIELD_COUNT; i++) {
        const char *v = *edit_slot(in, i);
        json_object_set_new(form, field_get(EDIT_FIELDS[i].id)->name, json_string(v ? v : ""));
    }
    return form;
}

static inst_user_edit_input edit_current(const store_user *u)
{
    return (inst_user_edit_input){u->name,         u->name_kana,          u->email,
                                  u->category,     user_role_key(u->role), u->doctor_number,
                                  u->specialty,    u->institution_code};
}

void web_inst_user_edit_form(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "医療機関ユーザの編集");
    json_object_set_new(data, "target", inst_user_row_json(u));
    inst_user_edit_input now = edit_current(u);
    json_object_set_new(data, "form", edit_form_json(&now));
    page_render(ctx, "inst_user_edit", data);
}

void web_inst_user_edit_submit(web_ctx *ctx)
{
    store_user *u = user_in_scope(ctx, ROLES_INSTITUTION);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "医療機関ユーザの編集");
    json_object_set_new(data, "target", inst_user_row_json(u));
    inst_user_edit_input raw = {0}, in = {0}, now = edit_current(u);
    for (size_t i = 0; i < EDIT_FIELD_COUNT; i++) {
        field_id id = EDIT_FIELDS[i].id;
        const char *v = http_form(ctx->req, field_get(id)->name);
        /* the fields the form had before issue 12 are always sent; the record's other fields
           keep their value when a form of that time (still open in a browser) leaves them out */
        bool newer = id == FIELD_INST_CODE || id == FIELD_USER_TYPE ||
                     id == FIELD_DOCTOR_NUMBER || id == FIELD_SPECIALTY;
        *edit_slot(&raw, i) = v == NULL && newer ? *edit_slot(&now, i) : v;
    }
    json_object_set_new(data, "form", edit_form_json(&raw));
    for (size_t i = 0; i < EDIT_FIELD_COUNT; i++) {
        unsigned flags = 0;
        if (EDIT_FIELDS[i].id == FIELD_EMAIL)
            flags = FIELD_OPTIONAL;
        else if (EDIT_FIELDS[i].id == FIELD_DOCTOR_NUMBER && is_doctor(in.user_type))
            flags = FIELD_REQUIRED; /* user_type comes before it */
        const field_def *f = field_get(EDIT_FIELDS[i].id);
        const char *reason =
            field_check(ctx->req->arena, f->id, *edit_slot(&raw, i), flags, edit_slot(&in, i));
        if (reason != NULL)
            page_add_error(data, f->name, f->label, reason);
    }
    if (json_array_size(json_object_get(data, "error_list")) > 0) {
        ctx->req->status = 400;
        page_render(ctx, "inst_user_edit", data);
        return;
    }
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_inst_user_update(&c, u, &in, &pb) != NSDB_OK) {
        const field_def *f = pb.field ? field_find(pb.field) : NULL;
        page_add_error(data, pb.field ? pb.field : "name", f ? f->label : "編集",
                       problem_message(&pb));
        ctx->req->status = web_problem_status(&pb);
        page_render(ctx, "inst_user_edit", data);
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/inst-users?done=edit&user=%s", u->user_id));
}
