/*
 * inst_import_state.h — the pages of an 一括登録 batch that is not visible (issue 11): its
 * progress while it is checked and written, the clashing rows of a refused batch, the reason of
 * a failed one, and the refusal of a second upload while one runs.
 */
#ifndef NSDB_WEB_INST_IMPORT_STATE_H
#define NSDB_WEB_INST_IMPORT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "web/web.h"

/* core_register_import's summary of a refused import and of a failed one. */
#define IMPORT_MSG_REFUSED "登録済みの内容と食い違う行があります。何も登録していません。"
#define IMPORT_MSG_FAILED                                                                          \
    "一括登録に失敗しました。何も登録していません。時間をおいて再度お試しください。"

/* Answers /inst-users/import/{batch} (for_csv: its users.csv) when the batch is not visible or
   not the caller's municipality's (404, audited scope_denied, as a missing one); false when it
   is visible and the caller renders the result. */
bool inst_import_state_page(web_ctx *ctx, bool for_csv);
/* The rows of the refusal table (file, row, column, message) from a refused batch's JSON. */
json_t *inst_import_refusal_rows(arena *a, const char *refusal_json, size_t *count_out);
/* 409: the municipality's import running (batch running, 0 when unknown) refuses another. Takes
   data (the 新規登録 page's). */
void inst_import_running_page(web_ctx *ctx, json_t *data, int64_t running, const char *message);

#endif
