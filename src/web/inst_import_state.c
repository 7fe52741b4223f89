/*
 * inst_import_state.c — the pages of an 一括登録 batch that is not visible (see
 * inst_import_state.h). The progress page is the batch's own URL: it refreshes itself every two
 * seconds without JavaScript and becomes the result page when the batch is visible, so a reload
 * or a bookmark always shows where the import is. Its counters come from the import running in
 * this server, else from the batch's row in the database.
 */
#include "web/inst_import_state.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/import_job.h"
#include "domain/fields.h"
#include "store/import_batches.h"
#include "util/log.h"
#include "web/inst_users.h"

#define IMPORT_REFRESH_SECONDS 2

/* The batch of the path within the caller's municipality; false after a 404 page. */
static bool path_batch(web_ctx *ctx, store_import_batch *b)
{
    char *end = NULL;
    long long batch = strtoll(ctx->req->path_params[0], &end, 10);
    if (*end != '\0' || batch <= 0 ||
        store_import_batch_get(web_db(ctx), ctx->req->arena, ctx->user->municipality_pk, batch,
                               b) != NSDB_OK) {
        web_audit_now(ctx, "scope_denied", ctx->req->path, "denied", NULL);
        page_error(ctx, 404, "指定された一括登録の結果は見つかりません。");
        return false;
    }
    return true;
}

json_t *inst_import_refusal_rows(arena *a, const char *refusal_json, size_t *count_out)
{
    json_t *rows = json_array();
    json_t *kept = refusal_json ? json_loads(refusal_json, 0, NULL) : NULL;
    if (refusal_json != NULL && !json_is_array(kept))
        log_event(LOG_ERROR, "import_refusal_unreadable", NULL); /* written by nsdb: a bug */
    size_t i;
    json_t *r;
    json_array_foreach(kept, i, r)
    {
        const char *file = json_string_value(json_object_get(r, "file"));
        const char *field = json_string_value(json_object_get(r, "field"));
        const char *message = json_string_value(json_object_get(r, "message"));
        /* the CSV columns are the field table's first fields, in order (as at the upload) */
        const field_def *f = field ? field_find(field) : NULL;
        const char *column = f ? arena_printf(a, "%d（%s）", (int)f->id + 1, f->csv_header) : "";
        json_array_append_new(rows, json_pack("{s:s, s:O?, s:s, s:s}", "file",
                                              file && *file ? file : "－", "row",
                                              json_object_get(r, "row"), "column", column,
                                              "message", message ? message : ""));
    }
    json_decref(kept);
    *count_out = json_array_size(rows);
    return rows;
}

void inst_import_running_page(web_ctx *ctx, json_t *data, int64_t running, const char *message)
{
    json_object_set_new(data, "tab", json_string("bulk"));
    if (running > 0)
        json_object_set_new(data, "running_batch", json_integer(running));
    page_add_error(data, "file", "一括登録ファイル", message);
    inst_user_new_render(ctx, data, 409);
}

/* "約 3 分 20 秒" from seconds */
static const char *duration_text(arena *a, int64_t seconds)
{
    if (seconds < 60)
        return arena_printf(a, "約 %lld 秒", (long long)seconds);
    return arena_printf(a, "約 %lld 分 %lld 秒", (long long)(seconds / 60),
                        (long long)(seconds % 60));
}

static void progress_render(web_ctx *ctx, const store_import_batch *b)
{
    arena *a = ctx->req->arena;
    import_job_view v;
    bool here = ctx->app->import_jobs != NULL &&
                import_jobs_view_get(ctx->app->import_jobs, b->id, &v);
    if (!here) { /* another server's import, or one not begun: what the batch says */
        memset(&v, 0, sizeof v);
        v.row_count = (size_t)b->row_count;
        v.rows_written = (size_t)b->rows_written;
        v.rows_checked = b->state == IMPORT_STATE_WRITING ? v.row_count : v.rows_written;
    }
    size_t total = v.row_count ? v.row_count : 1;
    size_t done = v.rows_checked + v.rows_written;
    int percent = (int)(done * 100 / (2 * total));
    json_t *data = page_data(ctx, "一括登録の進み具合");
    json_object_set_new(data, "batch", json_integer(b->id));
    json_object_set_new(data, "running", json_true());
    /* WCAG 2.2.1: the automatic update can be turned off (?auto=0), and on again */
    const char *auto_update = http_query(ctx->req, "auto");
    if (auto_update != NULL && strcmp(auto_update, "0") == 0)
        json_object_set_new(data, "stopped", json_true());
    else
        json_object_set_new(data, "refresh_seconds", json_integer(IMPORT_REFRESH_SECONDS));
    json_object_set_new(data, "state_label",
                        json_string(v.queued ? "順番待ち" : import_state_label(b->state)));
    json_object_set_new(data, "queued", json_boolean(v.queued));
    json_object_set_new(data, "filenames", json_string(b->filenames ? b->filenames : ""));
    json_object_set_new(data, "row_count", json_integer((json_int_t)v.row_count));
    json_object_set_new(data, "rows_checked", json_integer((json_int_t)v.rows_checked));
    json_object_set_new(data, "rows_written", json_integer((json_int_t)v.rows_written));
    json_object_set_new(data, "percent", json_integer(percent));
    /* the time left from the rate so far (both halves: checking and writing) */
    int64_t started = v.started_at ? v.started_at : b->created_at;
    int64_t elapsed = (int64_t)time(NULL) - started;
    if (done > 0 && elapsed > 0 && !v.queued)
        json_object_set_new(data, "time_left",
                            json_string(duration_text(a, elapsed * (int64_t)(2 * total - done) /
                                                             (int64_t)done)));
    page_render(ctx, "inst_import_state", data);
}

static void failed_render(web_ctx *ctx, const store_import_batch *b)
{
    json_t *data = page_data(ctx, "一括登録の結果");
    json_object_set_new(data, "batch", json_integer(b->id));
    json_object_set_new(data, "failed", json_true());
    json_object_set_new(data, "filenames", json_string(b->filenames ? b->filenames : ""));
    json_object_set_new(data, "failure", json_string(b->failure ? b->failure : IMPORT_MSG_FAILED));
    page_render(ctx, "inst_import_state", data);
}

static void refused_render(web_ctx *ctx, const store_import_batch *b)
{
    json_t *data = page_data(ctx, "医療機関ユーザ新規登録");
    size_t n = 0;
    json_object_set_new(data, "tab", json_string("bulk"));
    json_object_set_new(data, "row_errors",
                        inst_import_refusal_rows(ctx->req->arena, b->refusal, &n));
    json_object_set_new(data, "row_error_count", json_integer((json_int_t)n));
    page_add_error(data, "file", "一括登録ファイル", IMPORT_MSG_REFUSED);
    inst_user_new_render(ctx, data, 200);
}

bool inst_import_state_page(web_ctx *ctx, bool for_csv)
{
    store_import_batch b;
    if (!path_batch(ctx, &b))
        return true;
    switch (b.state) {
    case IMPORT_STATE_VISIBLE:
        return false;
    case IMPORT_STATE_CHECKING:
    case IMPORT_STATE_WRITING:
        if (for_csv)
            page_error(
                ctx, 409,
                "この一括登録はまだ終わっていません。終わってからダウンロードしてください。");
        else
            progress_render(ctx, &b);
        return true;
    case IMPORT_STATE_REFUSED:
    case IMPORT_STATE_FAILED:
        if (for_csv)
            page_error(
                ctx, 404,
                "この一括登録では何も登録していないため、ダウンロードするものはありません。");
        else if (b.state == IMPORT_STATE_REFUSED)
            refused_render(ctx, &b);
        else
            failed_render(ctx, &b);
        return true;
    }
    return false;
}
