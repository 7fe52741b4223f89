/*
 * xlsx_sheet.c — the worksheet half of the xlsx reader: streams the first worksheet's XML (opened
 * by the package half, xlsx.c) into the table, one row and one cell at a time, and answers the
 * table's lookups. Cells of every type become text (shared strings by index, numbers as Excel
 * stored them but integral values written plainly, booleans, inline strings, formula results);
 * rows are capped at XLSX_MAX_ROWS and columns at XFD, and every row and cell element, empty or
 * not, takes from the request's budget (upload_limits.h). The table owns an arena for all cell text;
 * cells live in one array, rows point into it, and each row's cells are sorted by column so that
 * a lookup is a binary search.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/xlsx_int.h"
#include "util/str.h"

#define XLSX_MAX_ROW_NUMBER 1048576u /* Excel's last row */

/* "AB12" → column 27 (0-based); UINT32_MAX when ref does not start with 1–3 letters in A..XFD. */
static unsigned xlsx_ref_column(const char *ref)
{
    unsigned col = 0;
    size_t n = 0;
    for (; (ref[n] >= 'A' && ref[n] <= 'Z') || (ref[n] >= 'a' && ref[n] <= 'z'); n++) {
        if (n == 3)
            return UINT32_MAX;
        unsigned letter = (unsigned)((ref[n] | 0x20) - 'a') + 1;
        col = col * 26 + letter;
    }
    if (n == 0 || col > XLSX_MAX_COLUMNS)
        return UINT32_MAX;
    return col - 1;
}

/* Text of a number as Excel stores it: integral values without exponent or decimals. */
static const char *xlsx_number_text(arena *a, const char *v)
{
    char *s = str_trim(arena_strdup(a, v));
    /* Only the XML Schema double lexical form; strtod alone would also take "inf" or hex. */
    const char *p = s + (*s == '-' || *s == '+');
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits > 0 && (*p == 'E' || *p == 'e')) {
        p += 1 + (p[1] == '-' || p[1] == '+');
        if (!(*p >= '0' && *p <= '9'))
            return s;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (digits == 0 || *p != '\0')
        return s;
    double d = strtod(s, NULL);
    if (isfinite(d) && d == floor(d) && fabs(d) < 1e15)
        return arena_printf(a, "%.0f", d == 0 ? 0.0 : d);
    return s;
}

typedef struct xlsx_sheet_state {
    bool in_row, in_cell, in_v, in_is, in_t, in_phonetic, has_value;
    unsigned row_number; /* of the current (or last) row */
    size_t row_first;    /* first cell of the current row */
    long last_col;       /* column of the previous cell in the row, -1 before the first */
    unsigned col;        /* column of the current cell */
    char type[16];       /* t attribute of the current cell */
    strbuf value;
} xlsx_sheet_state;

static int xlsx_cell_compare(const void *a, const void *b)
{
    const xlsx_cell *x = a, *y = b;
    return x->col < y->col ? -1 : x->col > y->col;
}

static NSDB_MUST_CHECK nsdb_err xlsx_row_begin(xlsx_reader *rd, xmlTextReaderPtr r,
                                               xlsx_sheet_state *st)
{
    char ref[32];
    unsigned number = st->row_number + 1;
    if (xlsx_xml_attr(r, "r", false, ref, sizeof ref)) {
        char *end;
        unsigned long n = strtoul(ref, &end, 10);
        if (end == ref || *end != '\0' || n == 0 || n > XLSX_MAX_ROW_NUMBER)
            return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
        number = (unsigned)n;
    }
    if (number > XLSX_MAX_ROW_NUMBER)
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    if (!upload_budget_take_rows(rd->budget, 1)) /* an empty <row/> costs work too */
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, rd->budget->exceeded);
    st->in_row = true;
    st->row_number = number;
    st->row_first = rd->table->cell_count;
    st->last_col = -1;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err xlsx_row_end(xlsx_reader *rd, xlsx_sheet_state *st)
{
    xlsx_table *t = rd->table;
    st->in_row = false;
    size_t count = t->cell_count - st->row_first;
    if (count == 0)
        return NSDB_OK;
    xlsx_cell *cells = t->cells + st->row_first;
    qsort(cells, count, sizeof *cells, xlsx_cell_compare);
    for (size_t i = 1; i < count; i++)
        if (cells[i].col == cells[i - 1].col) /* Excel itself refuses such a sheet */
            return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    if (t->row_count == XLSX_MAX_ROWS)
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, XLSX_MSG_TOO_MANY_ROWS);
    t->rows = xlsx_grow(t->rows, &t->row_cap, t->row_count, sizeof *t->rows);
    t->rows[t->row_count++] = (xlsx_row){st->row_number, st->row_first, count};
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err xlsx_cell_begin(xlsx_reader *rd, xmlTextReaderPtr r,
                                                xlsx_sheet_state *st)
{
    char ref[32];
    unsigned col = (unsigned)(st->last_col + 1);
    if (xlsx_xml_attr(r, "r", false, ref, sizeof ref)) {
        col = xlsx_ref_column(ref);
        if (col == UINT32_MAX)
            return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    }
    if (col >= XLSX_MAX_COLUMNS)
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    if (!upload_budget_take_cells(rd->budget, 1)) /* an empty <c/> costs work too */
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, rd->budget->exceeded);
    if (!xlsx_xml_attr(r, "t", false, st->type, sizeof st->type))
        strcpy(st->type, "n");
    st->in_cell = true;
    st->col = col;
    st->last_col = (long)col;
    st->has_value = false;
    strbuf_reset(&st->value);
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err xlsx_cell_end(xlsx_reader *rd, xlsx_sheet_state *st)
{
    xlsx_table *t = rd->table;
    st->in_cell = st->in_v = st->in_is = st->in_t = st->in_phonetic = false;
    if (!st->has_value)
        return NSDB_OK;
    const char *raw = st->value.data ? st->value.data : "";
    const char *text;
    bool is_number = false;
    if (strcmp(st->type, "s") == 0) {
        char *end;
        unsigned long long i = strtoull(raw, &end, 10);
        if (end == raw || *end != '\0' || i >= rd->string_count)
            return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
        text = rd->strings[i];
    } else if (strcmp(st->type, "b") == 0) {
        text = strcmp(raw, "0") == 0 ? "FALSE" : "TRUE";
    } else if (strcmp(st->type, "n") == 0) {
        text = xlsx_number_text(t->a, raw);
        is_number = true;
    } else { /* inlineStr, str (formula result), e (error such as #N/A), d (ISO date) */
        char *s = arena_strdup(t->a, raw);
        xlsx_unescape(s);
        text = s;
    }
    if (text[0] == '\0')
        return NSDB_OK;
    t->cells = xlsx_grow(t->cells, &t->cell_cap, t->cell_count, sizeof *t->cells);
    t->cells[t->cell_count++] = (xlsx_cell){st->col, is_number, text};
    return NSDB_OK;
}

/* Dispatches one node of the sheet XML. */
static NSDB_MUST_CHECK nsdb_err xlsx_sheet_node(xlsx_reader *rd, xmlTextReaderPtr r, int type,
                                                xlsx_sheet_state *st)
{
    if (xlsx_xml_is_text(type)) {
        if (st->in_cell && (st->in_v || (st->in_is && st->in_t && !st->in_phonetic))) {
            const xmlChar *v = xmlTextReaderConstValue(r);
            if (v != NULL)
                strbuf_puts(&st->value, (const char *)v);
        }
        return NSDB_OK;
    }
    bool start = type == XML_READER_TYPE_ELEMENT;
    if (!start && type != XML_READER_TYPE_END_ELEMENT)
        return NSDB_OK;
    bool empty = start && xmlTextReaderIsEmptyElement(r);
    nsdb_err err = NSDB_OK;
    if (xlsx_xml_is(r, "row")) {
        if (start)
            err = xlsx_row_begin(rd, r, st);
        if (err == NSDB_OK && (!start || empty) && st->in_row)
            err = xlsx_row_end(rd, st);
    } else if (!st->in_row) {
        return NSDB_OK;
    } else if (xlsx_xml_is(r, "c")) {
        if (start)
            err = xlsx_cell_begin(rd, r, st);
        if (err == NSDB_OK && (!start || empty) && st->in_cell)
            err = xlsx_cell_end(rd, st);
    } else if (!st->in_cell) {
        return NSDB_OK;
    } else if (xlsx_xml_is(r, "v")) {
        st->in_v = start && !empty;
        if (start)
            st->has_value = true;
    } else if (xlsx_xml_is(r, "is")) {
        st->in_is = start && !empty;
        if (start)
            st->has_value = true;
    } else if (xlsx_xml_is(r, "t")) {
        st->in_t = start && !empty;
    } else if (xlsx_xml_is(r, "rPh")) {
        st->in_phonetic = start && !empty;
    }
    return err;
}

nsdb_err xlsx_sheet_load(xlsx_reader *rd, const char *name)
{
    xlsx_part part;
    nsdb_err err = xlsx_part_open(rd, name, &part);
    if (err == NSDB_ERR_NOT_FOUND)
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_NO_SHEET);
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = part.xml;
    xlsx_sheet_state st = {.value = STRBUF_INIT};
    int type;
    while (err == NSDB_OK && (type = xlsx_xml_next(rd, r)) != 0) {
        if (type < 0)
            err = NSDB_ERR_PARSE;
        else
            err = xlsx_sheet_node(rd, r, type, &st);
    }
    strbuf_free(&st.value);
    xlsx_part_close(&part);
    return err;
}

xlsx_table *xlsx_table_new(void)
{
    xlsx_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        abort();
    t->a = arena_new();
    return t;
}

void xlsx_table_free(xlsx_table *t)
{
    if (t == NULL)
        return;
    free(t->rows);
    free(t->cells);
    arena_free(t->a);
    free(t);
}

size_t xlsx_table_rows(const xlsx_table *t)
{
    return t->row_count;
}

unsigned xlsx_table_row_number(const xlsx_table *t, size_t index)
{
    if (index >= t->row_count)
        return 0;
    return t->rows[index].number;
}

static const xlsx_cell *xlsx_table_find(const xlsx_table *t, size_t index, unsigned col)
{
    if (index >= t->row_count)
        return NULL;
    const xlsx_row *row = &t->rows[index];
    size_t lo = row->first, hi = row->first + row->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->cells[mid].col == col)
            return &t->cells[mid];
        if (t->cells[mid].col < col)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *xlsx_table_cell(const xlsx_table *t, size_t index, unsigned col)
{
    const xlsx_cell *c = xlsx_table_find(t, index, col);
    return c ? c->text : NULL;
}

bool xlsx_table_cell_is_number(const xlsx_table *t, size_t index, unsigned col)
{
    const xlsx_cell *c = xlsx_table_find(t, index, col);
    return c != NULL && c->is_number;
}
