/*
 * fuzz_inst_import.c — libFuzzer harness for the whole 医療機関ユーザ 一括登録 read
 * (domain/inst_import.c, inst_import_result.c, inst_form.c, csv.c, encoding.c, fields.c): the
 * input is one upload of up to four files cut at FUZZ_SEPARATOR, each a CSV (UTF-8 or CP932) or
 * an xlsx form, chosen by content as the server chooses. As web/inst_import.c does, the files
 * share one request budget and each result is merged into the total. Checked besides memory and
 * UB: the return code agrees with the errors, every error has a sentence, and rows of a result
 * without errors hold every required value.
 */
#include "fuzz_support.h"

#include "domain/inst_import.h"
#include "domain/upload_limits.h"
#include "util/arena.h"

#define FUZZ_MAX_FILES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(const inst_import *imp, nsdb_err err)
{
    FUZZ_CHECK(err == NSDB_OK || err == NSDB_ERR_INVALID);
    FUZZ_CHECK((err == NSDB_OK) == (imp->error_count == 0));
    for (size_t i = 0; i < imp->error_count; i++) {
        FUZZ_CHECK(imp->errors[i].message != NULL && imp->errors[i].message[0] != '\0');
        FUZZ_CHECK(imp->errors[i].file < imp->file_count || imp->file_count == 0);
    }
    if (imp->error_count > 0)
        return;
    for (size_t i = 0; i < imp->row_count; i++) {
        const inst_import_row *r = &imp->rows[i];
        FUZZ_CHECK(r->inst_code != NULL && r->inst_name != NULL && r->user_type != NULL);
        FUZZ_CHECK(r->name != NULL && r->name_kana != NULL && r->category != NULL);
        FUZZ_CHECK(r->search_key != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[FUZZ_MAX_FILES] = {"一括登録.csv", "b.xlsx", "c", "d.csv"};
    fuzz_piece files[FUZZ_MAX_FILES];
    size_t file_count = fuzz_split(data, size, files, FUZZ_MAX_FILES);
    arena *a = arena_new();
    inst_import total;
    memset(&total, 0, sizeof total);
    upload_budget budget = upload_budget_for_request();
    for (size_t i = 0; i < file_count; i++) {
        char *bytes = fuzz_copy(files[i].data, files[i].len);
        inst_import one;
        memset(&one, 0, sizeof one);
        nsdb_err err = inst_import_parse_file(bytes, files[i].len, names[i], &budget, a, &one);
        free(bytes); /* what the result keeps must be its own copy, in the arena */
        if (err == NSDB_ERR_TOO_LARGE) {
            FUZZ_CHECK(budget.exceeded != NULL);
            break;
        }
        check_result(&one, err);
        err = inst_import_merge(&total, &one, a);
        check_result(&total, err);
    }
    arena_free(a);
    return 0;
}
