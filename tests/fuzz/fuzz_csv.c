/*
 * fuzz_csv.c — libFuzzer harness for the RFC 4180 reader (domain/csv.c): the input is the file,
 * read record by record as the 一括登録 import reads it. Besides memory errors and undefined
 * behaviour it checks what csv.h promises: a field never holds NUL (its length is its strlen),
 * records count up by one and start on a line no earlier than the previous record's, a failure
 * leaves a message and a column, and the reader stays at the end once it has stopped.
 */
#include "fuzz_support.h"

#include "domain/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size); /* exactly size bytes: the reader must not read past */
    csv_reader *r = csv_reader_new(copy, size);
    unsigned record = 0, line = 0;
    while (csv_reader_next_row(r)) {
        FUZZ_CHECK(csv_reader_record(r) == record + 1);
        FUZZ_CHECK(csv_reader_line(r) > line);
        record = csv_reader_record(r);
        line = csv_reader_line(r);
        size_t count = csv_reader_field_count(r);
        FUZZ_CHECK(count >= 1);
        for (size_t i = 0; i < count; i++) {
            const char *field = csv_reader_field(r, i);
            FUZZ_CHECK(field != NULL);
            FUZZ_CHECK(strlen(field) == csv_reader_field_length(r, i));
        }
        FUZZ_CHECK(csv_reader_field(r, count) == NULL);
        FUZZ_CHECK(csv_reader_field_length(r, count) == 0);
    }
    if (csv_reader_error(r) != NULL) {
        FUZZ_CHECK(csv_reader_error_column(r) >= 1);
        FUZZ_CHECK(memchr(copy, '"', size) != NULL || memchr(copy, '\0', size) != NULL);
    }
    FUZZ_CHECK(!csv_reader_next_row(r));
    csv_reader_free(r);
    free(copy);
    return 0;
}
