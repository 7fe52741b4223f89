/*
 * forms.c — 医療機関ユーザデータファイル等ダウンロード (Flow II ①②): the files a municipality
 * publishes on its web site — the bulk-registration CSV template and the per-institution
 * application form (xlsx) — with a printable how-to.
 */
#include <stdio.h>
#include <unistd.h>

#include "domain/inst_import.h"
#include "web/web.h"

void web_forms(web_ctx *ctx)
{
    page_render(ctx, "forms", page_data(ctx, "医療機関ユーザデータファイル等ダウンロード"));
}

void web_forms_csv(web_ctx *ctx)
{
    strbuf csv = STRBUF_INIT;
    if (inst_import_csv_template(&csv) != NSDB_OK) {
        strbuf_free(&csv);
        page_error(ctx, 500, "様式を作成できませんでした。");
        return;
    }
    http_send_file(ctx->req, "text/csv; charset=utf-8", "指定医一括登録ファイル.csv", csv.data,
                   csv.len);
    strbuf_free(&csv);
}

void web_forms_xlsx(web_ctx *ctx)
{
    char path[] = "/tmp/nsdb-form-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        page_error(ctx, 500, "様式を作成できませんでした。");
        return;
    }
    close(fd);
    strbuf content = STRBUF_INIT;
    if (inst_import_form_xlsx(path) == NSDB_OK) {
        FILE *f = fopen(path, "rb");
        char buf[8192];
        size_t got;
        while (f != NULL && (got = fread(buf, 1, sizeof buf, f)) > 0)
            strbuf_append(&content, buf, got);
        if (f != NULL)
            fclose(f);
    }
    unlink(path);
    if (content.len == 0) {
        strbuf_free(&content);
        page_error(ctx, 500, "様式を作成できませんでした。");
        return;
    }
    http_send_file(ctx->req, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "医療機関ユーザデータファイル.xlsx", content.data, content.len);
    strbuf_free(&content);
}
