/*
 * csv_out.h — writing CSV (RFC 4180, CRLF) that is safe to open in a spreadsheet: a cell that a
 * spreadsheet would run as a formula (starting with = + - @, TAB or CR) is prefixed with an
 * apostrophe, so user-supplied text is never executed.
 */
#ifndef NSDB_CSV_OUT_H
#define NSDB_CSV_OUT_H

#include <stddef.h>

#include "util/str.h"

void csv_out_cell(strbuf *out, const char *value);
/* Cells separated by commas, ended by CRLF; NULL cells are empty. */
void csv_out_row(strbuf *out, const char *const *cells, size_t count);

#endif
