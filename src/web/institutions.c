/*
 * institutions.c — 医療機関情報の修正 (the institution master, issue 12 item 5):
 * GET/POST /institutions/{code}/edit for the operator and for municipal staff of a municipality
 * that has registered a user at the institution (core_institution_find decides, so staff of
 * another municipality get the same 404 as for an unknown code), and the operator's way in,
 * GET /institutions, a search by code or name.
 */
#include <string.h>

#include "core/institutions.h"
#include "domain/text.h"
#include "web/form_fields.h"
#include "web/web.h"

#define SEARCH_LIMIT 100

/* The institution fields of the form, in order. */
static const field_id EDIT_FIELDS[] = {FIELD_INST_NAME, FIELD_INST_POSTAL, FIELD_INST_ADDRESS,
                                       FIELD_INST_PHONE};
#define EDIT_FIELD_COUNT (sizeof EDIT_FIELDS / sizeof EDIT_FIELDS[0])

static void edit_render(web_ctx *ctx, json_t *data, const store_institution *inst, int status)
{
    json_object_set_new(data, "inst", json_pack("{s:s, s:s}", "code", inst->code, "name",
                                                 inst->name ? inst->name : ""));
    json_object_set_new(data, "operator", json_boolean(ctx->user->role == USER_ROLE_OPERATOR));
    ctx->req->status = status;
    page_render(ctx, "institution_edit", data);
}

/* The institution of the path in the caller's scope; NULL after the error page. */
static store_institution *institution_of_path(web_ctx *ctx)
{
    core_ctx c = web_core(ctx);
    store_institution *inst = NULL;
    nsdb_problem pb = {0};
    if (core_institution_find(&c, ctx->req->path_params[0], &inst, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return NULL;
    }
    return inst;
}

void web_institution_edit_form(web_ctx *ctx)
{
    store_institution *inst = institution_of_path(ctx);
    if (inst == NULL)
        return;
    json_t *data = page_data(ctx, "医療機関情報の修正");
    json_object_set_new(data, "form",
                        json_pack("{s:s, s:s?, s:s?, s:s?}", "inst_name", inst->name,
                                  "inst_postal", inst->postal, "inst_address", inst->address,
                                  "inst_phone", inst->phone));
    const char *saved = http_query(ctx->req, "saved");
    if (saved != NULL && strcmp(saved, "1") == 0)
        json_object_set_new(data, "notice", json_string("医療機関情報を修正しました。"));
    edit_render(ctx, data, inst, 200);
}

void web_institution_edit_submit(web_ctx *ctx)
{
    store_institution *inst = institution_of_path(ctx);
    if (inst == NULL)
        return;
    json_t *data = page_data(ctx, "医療機関情報の修正");
    json_t *form = json_object();
    const char *raw[EDIT_FIELD_COUNT];
    for (size_t i = 0; i < EDIT_FIELD_COUNT; i++) {
        const char *name = field_get(EDIT_FIELDS[i])->name;
        raw[i] = http_form(ctx->req, name);
        json_object_set_new(form, name, json_string(raw[i] ? raw[i] : ""));
    }
    json_object_set_new(data, "form", form);
    /* every field's error at once; core_institution_edit checks them again by the same rules */
    for (size_t i = 0; i < EDIT_FIELD_COUNT; i++) {
        const char *ignored = NULL;
        form_field_read(ctx, data, EDIT_FIELDS[i], 0, &ignored);
    }
    if (json_array_size(json_object_get(data, "error_list")) > 0) {
        edit_render(ctx, data, inst, 400);
        return;
    }
    institution_edit_input in = {raw[0], raw[1], raw[2], raw[3]};
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_institution_edit(&c, inst->code, &in, &pb) != NSDB_OK) {
        const field_def *f = pb.field ? field_find(pb.field) : NULL;
        if (f == NULL) {
            json_decref(data);
            web_problem_page(ctx, &pb);
            return;
        }
        page_add_error(data, f->name, f->label, problem_message(&pb));
        edit_render(ctx, data, inst, web_problem_status(&pb));
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/institutions/%s/edit?saved=1", inst->code));
}

static json_t *institution_json(const store_institution *inst)
{
    json_t *row = json_object();
    page_row_text(row, "code", inst->code);
    page_row_text(row, "name", inst->name);
    page_row_text(row, "postal", inst->postal);
    page_row_text(row, "address", inst->address);
    page_row_text(row, "phone", inst->phone);
    return row;
}

void web_institutions(web_ctx *ctx)
{
    arena *a = ctx->req->arena;
    const char *code = http_query(ctx->req, "code");
    const char *name = http_query(ctx->req, "name");
    const char *code_key = code && *code ? text_nfkc(a, code) : NULL;
    const char *valid_code = NULL;
    /* a code typed in groups or full width finds its institution; an invalid one finds none */
    if (code_key != NULL && field_check(a, FIELD_INST_CODE, code_key, 0, &valid_code) != NULL)
        valid_code = "-";
    const char *name_key = name && *name ? text_nfkc(a, name) : NULL;
    json_t *data = page_data(ctx, "医療機関マスタの修正");
    json_object_set_new(data, "query", json_pack("{s:s, s:s}", "code", code ? code : "", "name",
                                                 name ? name : ""));
    if (valid_code != NULL || name_key != NULL) {
        store_institution *rows = NULL;
        size_t n = 0;
        nsdb_err e = store_institution_search(web_db(ctx), a, valid_code, name_key, SEARCH_LIMIT,
                                              &rows, &n);
        if (e != NSDB_OK) {
            json_decref(data);
            page_error(ctx, 503, nsdb_err_message(e));
            return;
        }
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, institution_json(&rows[i]));
        json_object_set_new(data, "institutions", list);
        json_object_set_new(data, "searched", json_true());
        json_object_set_new(data, "count", json_integer((json_int_t)n));
    }
    page_render(ctx, "institutions", data);
}
