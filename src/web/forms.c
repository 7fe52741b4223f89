/*
 * forms.c — 医療機関ユーザデータファイル等ダウンロード (Flow II ①②): the files a municipality
 * publishes on its web site — the bulk-registration CSV template and the per-institution
 * application form (xlsx) — with a printable how-to.
 */
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
    page_send_generated(ctx, inst_import_form_xlsx,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "医療機関ユーザデータファイル.xlsx");
}
