/*
 * xlsx_int.h — what the two halves of the xlsx reader share and nobody else sees (as SQLite's
 * btreeInt.h): the table's layout, the state of one xlsx_read call, and the package helpers
 * (xlsx.c: the zip, its XML parts, the relationships, the workbook and the shared strings) that
 * the worksheet parser (xlsx_sheet.c: rows, cells and the finished table) reads its part with.
 */
#ifndef NSDB_XLSX_INT_H
#define NSDB_XLSX_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#include "domain/xlsx.h"
#include "util/arena.h"

/* Japanese messages for failures both halves report. */
extern const char XLSX_MSG_BROKEN[];
extern const char XLSX_MSG_NO_SHEET[];
extern const char XLSX_MSG_TOO_MANY_ROWS[];

typedef struct xlsx_cell {
    unsigned col;
    bool is_number;
    const char *text; /* non-empty, in the table's arena */
} xlsx_cell;

typedef struct xlsx_row {
    unsigned number;
    size_t first; /* index into cells */
    size_t count;
} xlsx_row;

struct xlsx_table {
    arena *a;
    xlsx_row *rows;
    size_t row_count, row_cap;
    xlsx_cell *cells;
    size_t cell_count, cell_cap;
};

/* State of one xlsx_read call. */
typedef struct xlsx_reader {
    zip_t *zip;
    arena *scratch; /* freed at the end of xlsx_read */
    upload_budget *budget; /* the request's; every part, shared string, row and cell takes from it */
    xlsx_table *table;
    const char **strings; /* shared strings (text in the table's arena) */
    size_t string_count, string_cap;
    const char *message; /* static Japanese message for the failure */
} xlsx_reader;

/* One XML part of the package, read into memory with a streaming reader over it. */
typedef struct xlsx_part {
    char *buf;
    size_t len;
    xmlTextReaderPtr xml;
} xlsx_part;

/* Grows an array of count items of size item to hold one more; aborts when out of memory. */
void *xlsx_grow(void *p, size_t *cap, size_t count, size_t item);
/* Returns err, keeping message as the user's explanation unless one is already set. */
nsdb_err xlsx_fail(xlsx_reader *rd, nsdb_err err, const char *message);
/* Reads the part called name (case-insensitive) and opens an XML reader over it. On NSDB_OK the
 * caller ends with xlsx_part_close; NSDB_ERR_NOT_FOUND (no message set) when the part is missing;
 * any other error leaves nothing to close and its message set. */
NSDB_MUST_CHECK nsdb_err xlsx_part_open(xlsx_reader *rd, const char *name, xlsx_part *part);
void xlsx_part_close(xlsx_part *part);
/* Next node type; 0 at the end; -1 (message set) on malformed XML or a DTD / entity node. */
int xlsx_xml_next(xlsx_reader *rd, xmlTextReaderPtr r);
bool xlsx_xml_is(xmlTextReaderPtr r, const char *local);
bool xlsx_xml_is_text(int type);
/* Copies the value of the current element's attribute with this local name into buf (truncated
 * to size); namespaced selects r:id-style attributes, otherwise only unprefixed ones match. */
bool xlsx_xml_attr(xmlTextReaderPtr r, const char *local, bool namespaced, char *buf, size_t size);
/* OOXML escapes characters XML cannot carry as _xHHHH_ (and a literal "_x" as _x005F_).
 * Decodes in place; the result is never longer than the input. */
void xlsx_unescape(char *s);

/* An empty table with its arena. */
xlsx_table *xlsx_table_new(void);
/* Reads the worksheet part called name into rd->table, resolving shared strings from rd. */
NSDB_MUST_CHECK nsdb_err xlsx_sheet_load(xlsx_reader *rd, const char *name);

#endif
