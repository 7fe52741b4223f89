/*
 * xlsx.h — a reader for the first worksheet of an .xlsx workbook held in memory, as text cells.
 * It is the trust boundary for uploaded spreadsheets: the zip is opened from the buffer (libzip),
 * the XML parts are streamed (libxml2 xmlReader, no network, no DTD, no entity expansion), and
 * every part is capped (XLSX_MAX_PART_BYTES uncompressed, XLSX_MAX_ROWS rows) so that a zip bomb
 * or a billion-laughs document is refused rather than expanded. Beyond one file, the reader takes
 * from the budget of its upload request (upload_limits.h: unpacked bytes, cells including shared
 * strings, rows), so that many files of one request cannot together do more. Shared strings (with rich-text
 * runs, without phonetic guides), inline strings, numbers, booleans, formula results and errors
 * are all returned as text; files written by Excel, LibreOffice and libxlsxwriter read alike.
 */
#ifndef NSDB_XLSX_H
#define NSDB_XLSX_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/upload_limits.h"
#include "util/err.h"

#define XLSX_MAX_PART_BYTES (50u * 1024u * 1024u) /* one XML part, uncompressed */
#define XLSX_MAX_ROWS 100000u                     /* non-empty rows of the sheet */
#define XLSX_MAX_COLUMNS 16384u                   /* A..XFD, as Excel */

/* The first worksheet (workbook order) as text cells; only rows holding a value are kept. */
typedef struct xlsx_table xlsx_table;

/* Reads data (an .xlsx file) into *out, taking what it unpacks and reads from *budget (the
 * request's, shared by its files): the size the zip directory claims for a part is checked before
 * inflating it, the bytes really inflated, every shared string (an empty one too), row and cell
 * while reading. On failure *out is NULL and, when error_out is not NULL, *error_out is a malloc'd
 * Japanese message for the user (free it). NSDB_ERR_PARSE when the bytes are not a readable
 * workbook, NSDB_ERR_TOO_LARGE when a limit above or the budget is passed (then
 * budget->exceeded is set for a budget limit). Thread-safe. */
NSDB_MUST_CHECK nsdb_err xlsx_read_limited(const void *data, size_t len, upload_budget *budget,
                                           xlsx_table **out, char **error_out);
/* xlsx_read_limited with the whole budget of a request of one file. */
NSDB_MUST_CHECK nsdb_err xlsx_read(const void *data, size_t len, xlsx_table **out,
                                   char **error_out);
void xlsx_table_free(xlsx_table *t);

/* Rows that hold at least one value, in sheet order; index 0..rows-1. */
size_t xlsx_table_rows(const xlsx_table *t);
/* The sheet's 1-based row number of the row at index. */
unsigned xlsx_table_row_number(const xlsx_table *t, size_t index);
/* Text of a cell (col 0 = A); NULL when the cell is missing or empty. Numbers keep the text Excel
 * stored, except that integral values are written plainly ("131016", never "1.31016E5");
 * booleans are "TRUE"/"FALSE"; formulas give their cached result. */
const char *xlsx_table_cell(const xlsx_table *t, size_t index, unsigned col);
/* True when the cell holds a number (so leading zeros may have been lost). */
bool xlsx_table_cell_is_number(const xlsx_table *t, size_t index, unsigned col);

#endif
