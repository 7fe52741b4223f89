/*
 * fuzz_xlsx.c — libFuzzer harness for the xlsx reader (domain/xlsx.c, xlsx_sheet.c): the input is
 * a whole .xlsx file (zip container, relationships, workbook, shared strings, worksheet), read
 * with the budget of a request of one file, as the uploads do. Checked besides memory and UB:
 * success and failure are exclusive (a table or a message, never both or neither), every row
 * has a number and every cell read back is non-empty text.
 */
#include "fuzz_support.h"

#include "domain/xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size);
    upload_budget budget = upload_budget_for_request();
    xlsx_table *t = NULL;
    char *error = NULL;
    nsdb_err err = xlsx_read_limited(copy, size, &budget, &t, &error);
    free(copy); /* the table must not point into the file */
    if (err != NSDB_OK) {
        FUZZ_CHECK(t == NULL && error != NULL && error[0] != '\0');
        FUZZ_CHECK(err == NSDB_ERR_PARSE || err == NSDB_ERR_TOO_LARGE);
        free(error);
        return 0;
    }
    FUZZ_CHECK(t != NULL && error == NULL);
    for (size_t i = 0; i < xlsx_table_rows(t); i++) {
        FUZZ_CHECK(xlsx_table_row_number(t, i) >= 1);
        for (unsigned col = 0; col < 40; col++) {
            const char *text = xlsx_table_cell(t, i, col);
            FUZZ_CHECK(text == NULL || text[0] != '\0');
            FUZZ_CHECK(text != NULL || !xlsx_table_cell_is_number(t, i, col));
        }
    }
    xlsx_table_free(t);
    return 0;
}
