/*
 * inst_import.c — 一括登録 (Flow II ⑥): one or more 指定医一括登録ファイル (CSV) or
 * 医療機関ユーザデータファイル (xlsx) uploaded at once are validated as a whole; if any row is
 * wrong, or clashes with what is registered, nothing is registered and every bad row is listed
 * (file, row, column, reason). Otherwise the rows are registered in the background
 * (core/import_job.h): a small file ends within the upload's short wait and goes straight to the
 * result, listed with the new user IDs, also as a formula-safe CSV; a big one goes to its
 * progress page (inst_import_state.c), which becomes the result when the batch is visible.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/import_job.h"
#include "core/registration.h"
#include "domain/csv_out.h"
#include "domain/encoding.h"
#include "domain/inst_import.h"
#include "domain/upload_limits.h"
#include "store/import_batches.h"
#include "store/registrations.h"
#include "util/log.h"
#include "web/inst_import_state.h"
#include "web/inst_users.h"
#include "domain/fields.h"
#include "web/cycle_view.h"
#include "web/web.h"

#define RESULT_ROWS_SHOWN 1000
/* How long an upload waits for its import to end before it shows the progress page: a file of
   at most IMPORT_WAIT_ALL_ROWS rows (about a second, a few on a slow build) is waited for as
   before the background imports, up to IMPORT_WAIT_SMALL_MS; a bigger one not at all. The wait
   holds the HTTP thread, and with it every other connection that thread serves. */
#define IMPORT_WAIT_MS 0
#define IMPORT_WAIT_ALL_ROWS 10000
#define IMPORT_WAIT_SMALL_MS 60000

static json_t *error_row(const char *file, unsigned record, const char *column, const char *text)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "file", file && *file ? file : "－", "row",
                     record ? "" : "－", "column", column ? column : "－", "message", text);
}

static void import_refuse(web_ctx *ctx, json_t *data, json_t *rows, size_t count,
                          const char *summary)
{
    json_object_set_new(data, "tab", json_string("bulk"));
    if (rows != NULL) {
        json_object_set_new(data, "row_errors", rows);
        json_object_set_new(data, "row_error_count", json_integer((json_int_t)count));
    }
    page_add_error(data, "file", "一括登録ファイル", summary);
    web_audit_now(ctx, "inst_users_import", NULL, "failed", summary);
    ctx->req->status = 400;
    /* new_render lives in inst_users.c: render the same page */
    inst_user_new_render(ctx, data, 400);
}

static json_t *errors_json(arena *a, const inst_import *imp)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < imp->error_count; i++) {
        const inst_import_error *e = &imp->errors[i];
        const char *file = e->file < imp->file_count ? imp->files[e->file] : "";
        json_t *row = error_row(file, e->record,
                                e->column ? arena_printf(a, "%u（%s）", e->column,
                                                         e->column_name ? e->column_name : "")
                                          : NULL,
                                e->reason ? e->reason : e->message);
        if (e->record)
            json_object_set_new(row, "row", json_integer(e->record));
        json_array_append_new(rows, row);
    }
    return rows;
}

/* A file part of the form: a chosen but empty file counts (and is refused with its own message);
   a file input left empty sends a part without a name and content. */
static bool import_is_file(const http_param *p)
{
    return strcmp(p->name, "file") == 0 && p->filename != NULL &&
           (p->value_len > 0 || *p->filename != '\0');
}

/* Parses every uploaded file into one result in a (the arena the background import will own);
 * false (page rendered) when none was given or the request passes an upload limit
 * (upload_limits.h): the file count before any parsing, then the budget of unpacked bytes,
 * cells and rows that the files share. */
static bool import_read(web_ctx *ctx, arena *a, json_t *data, inst_import *total, strbuf *names)
{
    memset(total, 0, sizeof *total);
    size_t files = 0;
    for (const http_param *p = http_form_params(ctx->req); p != NULL; p = p->next)
        files += import_is_file(p);
    if (!upload_files_fit(files)) {
        import_refuse(ctx, data, NULL, 0, UPLOAD_MSG_TOO_MANY_FILES);
        return false;
    }
    upload_budget budget = upload_budget_for_request();
    for (const http_param *p = http_form_params(ctx->req); p != NULL; p = p->next) {
        if (!import_is_file(p))
            continue;
        inst_import one;
        memset(&one, 0, sizeof one);
        /* the name as text (a CP932 name would drop the messages that quote it) */
        const char *name = encoding_file_name(a, p->filename);
        /* NSDB_ERR_INVALID: the file's errors are in one, listed with the others */
        nsdb_err e = inst_import_parse_file(p->value, p->value_len, name, &budget, a, &one);
        if (e == NSDB_ERR_TOO_LARGE) {
            import_refuse(ctx, data, NULL, 0,
                          budget.exceeded ? budget.exceeded : nsdb_err_message(e));
            return false;
        }
        if (e == NSDB_OK || e == NSDB_ERR_INVALID)
            e = inst_import_merge(total, &one, a);
        if (e != NSDB_OK && e != NSDB_ERR_INVALID) {
            page_error(ctx, 503, nsdb_err_message(e));
            json_decref(data);
            return false;
        }
        strbuf_printf(names, "%s%s", names->len ? ", " : "", name);
    }
    if (files == 0) {
        import_refuse(
            ctx, data, NULL, 0,
            "一括登録ファイル（CSV または .xlsx）を「参照」で選んでからアップロードしてください。");
        return false;
    }
    return true;
}

/* The page of an import that ended within the upload's wait, or 303 to its page. */
static void import_answer(web_ctx *ctx, json_t *data, int64_t batch)
{
    arena *a = ctx->req->arena;
    store_import_batch b;
    nsdb_err e = store_import_batch_get(web_db(ctx), a, ctx->user->municipality_pk, batch, &b);
    if (e == NSDB_OK && b.state == IMPORT_STATE_REFUSED) {
        size_t n = 0;
        json_t *rows = inst_import_refusal_rows(a, b.refusal, &n);
        import_refuse(ctx, data, rows, n, IMPORT_MSG_REFUSED);
        return;
    }
    json_decref(data);
    if (e != NSDB_OK) {
        page_error(ctx, 503, IMPORT_MSG_FAILED);
        return;
    }
    if (b.state == IMPORT_STATE_FAILED) /* its page says why (a row registered meanwhile, …) */
        log_event(LOG_ERROR, "import_failed", "batch", arena_printf(a, "%lld", (long long)batch),
                  NULL);
    /* visible: today's result page; still running: the same URL is its progress page; failed:
       the reason and the way back to 一括登録 */
    http_redirect(ctx->req, 303, arena_printf(a, "/inst-users/import/%lld", (long long)batch));
}

void web_inst_user_import(web_ctx *ctx)
{
    arena *a = ctx->req->arena;
    json_t *data = page_data(ctx, "医療機関ユーザ新規登録");
    inst_import imp;
    strbuf names = STRBUF_INIT;
    /* the import outlives the request: it is parsed into an arena the background job takes */
    arena *owned = arena_new();
    if (!import_read(ctx, owned, data, &imp, &names)) {
        strbuf_free(&names);
        arena_free(owned);
        return;
    }
    if (imp.warning_count > 0) {
        json_t *w = json_array();
        for (size_t i = 0; i < imp.warning_count; i++)
            json_array_append_new(w, json_string(imp.warnings[i]));
        json_object_set_new(data, "warnings", w);
    }
    if (imp.error_count > 0 || imp.row_count == 0) {
        strbuf_free(&names);
        import_refuse(ctx, data, errors_json(a, &imp), imp.error_count,
                      imp.row_count == 0 && imp.error_count == 0
                          ? "ファイルに登録する行がありません。"
                          : "一括登録ファイルに誤りがあります。何も登録していません。");
        arena_free(owned);
        return;
    }
    if (ctx->app->import_jobs == NULL) {
        strbuf_free(&names);
        arena_free(owned);
        json_decref(data);
        page_error(ctx, 503, IMPORT_MSG_FAILED);
        return;
    }
    strbuf warnings = STRBUF_INIT;
    for (size_t i = 0; i < imp.warning_count; i++)
        strbuf_printf(&warnings, "%s%s", i ? "\n" : "", imp.warnings[i]);
    core_ctx c = web_core(ctx);
    int64_t batch = 0, running = 0;
    unsigned wait_ms = imp.row_count <= IMPORT_WAIT_ALL_ROWS ? IMPORT_WAIT_SMALL_MS
                                                             : IMPORT_WAIT_MS;
    nsdb_problem pb = {0};
    /* owned (and imp with it) belongs to the job from here on */
    nsdb_err e = import_jobs_submit(ctx->app->import_jobs, &c, owned, &imp, names.data,
                                    warnings.data, &batch, &running, &pb);
    strbuf_free(&warnings);
    strbuf_free(&names);
    if (e == NSDB_ERR_CONFLICT) {
        inst_import_running_page(ctx, data, running, problem_message(&pb));
        return;
    }
    if (e != NSDB_OK) {
        json_decref(data);
        log_event(LOG_ERROR, "import_failed", "error", nsdb_err_name(e), NULL);
        page_error(ctx, 503, problem_message(&pb));
        return;
    }
    import_jobs_wait(ctx->app->import_jobs, batch, wait_ms);
    import_answer(ctx, data, batch);
}

/* The users of the batch of the path within the caller's municipality (none when every row made
   a registered doctor 両方); false after a 404 page. */
static bool batch_users(web_ctx *ctx, int64_t limit, store_user **rows, size_t *n, int64_t *total,
                        long long *batch_out)
{
    char *end = NULL;
    long long batch = strtoll(ctx->req->path_params[0], &end, 10);
    const char *warnings = NULL;
    *rows = NULL;
    *n = 0;
    if (*end != '\0' || batch <= 0 ||
        store_registration_batch_users(web_db(ctx), ctx->req->arena, ctx->user->municipality_pk,
                                       batch, limit, rows, n, total) != NSDB_OK ||
        (*n == 0 &&
         store_import_batch_warnings(web_db(ctx), ctx->req->arena, ctx->user->municipality_pk,
                                     batch, &warnings) != NSDB_OK)) {
        web_audit_now(ctx, "scope_denied", ctx->req->path, "denied", NULL);
        page_error(ctx, 404, "指定された一括登録の結果は見つかりません。");
        return false;
    }
    *batch_out = batch;
    return true;
}

void web_inst_user_import_result(web_ctx *ctx)
{
    /* a batch that is not visible yet (or never will be) has a page of its own */
    if (inst_import_state_page(ctx, false))
        return;
    size_t n = 0;
    long long batch = 0;
    int64_t total = 0;
    store_user *rows = NULL;
    if (!batch_users(ctx, RESULT_ROWS_SHOWN, &rows, &n, &total, &batch))
        return;
    json_t *data = page_data(ctx, "一括登録の結果");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, inst_user_row_json(&rows[i]));
    json_object_set_new(data, "users", list);
    json_object_set_new(data, "count", json_integer((json_int_t)total));
    json_object_set_new(data, "shown", json_integer((json_int_t)n));
    json_object_set_new(data, "batch", json_integer(batch));
    const char *outlook = cycle_view_batch_outlook(ctx, batch);
    if (outlook != NULL && *outlook != '\0')
        json_object_set_new(data, "media_outlook", json_string(outlook));
    const char *warnings = NULL;
    if (store_import_batch_warnings(web_db(ctx), ctx->req->arena, ctx->user->municipality_pk, batch,
                                    &warnings) == NSDB_OK &&
        warnings != NULL && *warnings != '\0') {
        json_t *lines = json_array();
        char *copy = arena_strdup(ctx->req->arena, warnings);
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save))
            json_array_append_new(lines, json_string(line));
        json_object_set_new(data, "warnings", lines);
    }
    page_render(ctx, "inst_import_result", data);
}

void web_inst_user_import_csv(web_ctx *ctx)
{
    if (inst_import_state_page(ctx, true))
        return;
    size_t n = 0;
    long long batch = 0;
    store_user *rows = NULL;
    if (!batch_users(ctx, 0, &rows, &n, NULL, &batch))
        return;
    strbuf csv = STRBUF_INIT;
    strbuf_puts(&csv, "\xef\xbb\xbf");
    const char *header[] = {"公共団体ID", "公共団体名", "医療機関ID", "医療機関名", "ユーザID",
                            "ユーザ種別", "氏名",       "氏名カナ",   "難病/小慢"};
    csv_out_row(&csv, header, sizeof header / sizeof header[0]);
    for (size_t i = 0; i < n; i++) {
        const store_user *u = &rows[i];
        const char *cells[] = {u->municipality_code,
                               u->municipality_name,
                               u->institution_code,
                               u->institution_name,
                               u->user_id,
                               u->role == USER_ROLE_DOCTOR ? "指定医" : "責任者",
                               u->name,
                               u->name_kana,
                               category_label_of_key(u->category)};
        csv_out_row(&csv, cells, sizeof cells / sizeof cells[0]);
    }
    web_audit_now(ctx, "inst_users_import_download",
                  arena_printf(ctx->req->arena, "batch:%lld", batch), "ok", NULL);
    http_send_file(ctx->req, "text/csv; charset=utf-8",
                   arena_printf(ctx->req->arena, "一括登録結果_%lld.csv", batch), csv.data,
                   csv.len);
    strbuf_free(&csv);
}
