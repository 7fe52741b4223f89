/*
 * csv.h — an RFC 4180 reader (csv_reader_*): records from a buffer, with quoted fields, doubled
 * quotes and line breaks inside fields, any of CRLF, LF or CR as record ends, and the record and
 * physical line of each record for messages. It knows nothing of what the columns mean.
 */
#ifndef NSDB_CSV_H
#define NSDB_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* Reads records from a buffer (not copied: keep it alive). Quoted fields may hold commas, doubled
 * quotes and CR, LF or CRLF; records end with CRLF, LF or CR, and the last one may have no line
 * end. A leading UTF-8 BOM is skipped. Field text lives in the reader until the next call. */
typedef struct csv_reader csv_reader;

csv_reader *csv_reader_new(const char *data, size_t len);
void csv_reader_free(csv_reader *r);
/* Advances to the next record: true when there is one; false at the end of the input or on
 * malformed input (then csv_reader_error is not NULL). An empty line is a record of one empty
 * field; a line end after the last record does not start another. */
bool csv_reader_next_row(csv_reader *r);
size_t csv_reader_field_count(const csv_reader *r);
/* NUL-terminated text of field i (0-based) of the current record; a field never holds NUL. */
const char *csv_reader_field(const csv_reader *r, size_t i);
size_t csv_reader_field_length(const csv_reader *r, size_t i);
/* 1-based number of the current record (what a spreadsheet calls its row), and the physical line
 * it starts on (larger when earlier fields hold line breaks). */
unsigned csv_reader_record(const csv_reader *r);
unsigned csv_reader_line(const csv_reader *r);
/* After a false next_row: a Japanese sentence on the bad quoting (a quote inside an unquoted
 * field, text after a closing quote, a quote never closed) or a NUL byte, without its location;
 * NULL at a clean end of input. */
const char *csv_reader_error(const csv_reader *r);
/* After a failure: the 1-based column of the bad field; csv_reader_record gives its record. */
unsigned csv_reader_error_column(const csv_reader *r);

#endif
