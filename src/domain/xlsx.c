/*
 * xlsx.c — reads the first worksheet of an .xlsx (Office Open XML) workbook from memory.
 *
 * The path through the package follows the relationships, as Excel does, instead of guessing
 * file names: _rels/.rels → the office document (xl/workbook.xml) → its first <sheet> in workbook
 * order whose relationship is a worksheet → that part, plus the workbook's shared-strings part.
 * Part names are matched case-insensitively (OPC names are).
 *
 * Safety: the caller's bytes are untrusted. Each part is inflated into a buffer that stops at
 * XLSX_MAX_PART_BYTES whatever the zip directory claims, so a zip bomb costs at most that much;
 * a document carrying a DTD is refused before it reaches the parser, and the parser runs without
 * network, DTD loading or entity substitution. Rows are capped at XLSX_MAX_ROWS and columns at
 * XFD. Allocation failure aborts, as everywhere in nsdb (arena, strbuf).
 *
 * The table owns an arena for all cell text; cells live in one array, rows point into it, and
 * each row's cells are sorted by column so that a lookup is a binary search.
 */
#include "domain/xlsx.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <zip.h>

#include "util/arena.h"
#include "util/str.h"

#define XLSX_MAX_ROW_NUMBER 1048576u /* Excel's last row */

static const char MSG_EMPTY[] = "ファイルが空です。Excel ファイル（.xlsx）を選んでください。";
static const char MSG_NOT_XLSX[] =
    "Excel ファイル（.xlsx）として読めません。ファイルが壊れているか、別の形式のファイルです。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
static const char MSG_OLE[] =
    "古い Excel 形式（.xls）か、パスワードで保護されたファイルです。パスワードを解除し、"
    "「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
static const char MSG_BROKEN[] =
    "Excel ファイル（.xlsx）の中身が壊れているため読めません。Excel で開けることを確かめ、"
    "「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
static const char MSG_NO_WORKBOOK[] =
    "Excel ファイル（.xlsx）として読めません。ブックの本体（workbook.xml）が見つかりません。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してください。";
static const char MSG_NO_SHEET[] =
    "ブックにワークシートがありません。申請リストを1枚目のシートに入力してください。";
static const char MSG_TOO_LARGE[] =
    "シートが大きすぎます（展開後 50 MB まで）。不要な行・列や書式を削除してから保存し直してください。";
static const char MSG_TOO_MANY_ROWS[] =
    "行が多すぎます（100,000 行まで）。ファイルを分けてアップロードしてください。";
static const char MSG_DTD[] =
    "Excel ファイル（.xlsx）として受け付けられない内容（DTD）が含まれています。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してください。";

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

/* One relationship of a .rels part. */
typedef struct xlsx_rel {
    const char *id, *type, *target;
} xlsx_rel;

typedef struct xlsx_rels {
    xlsx_rel *items;
    size_t count, cap;
} xlsx_rels;

/* State of one xlsx_read call. */
typedef struct xlsx_reader {
    zip_t *zip;
    arena *scratch; /* freed at the end of xlsx_read */
    xlsx_table *table;
    const char **strings; /* shared strings (text in the table's arena) */
    size_t string_count, string_cap;
    const char *message; /* static Japanese message for the failure */
} xlsx_reader;

static void *xlsx_grow(void *p, size_t *cap, size_t count, size_t item)
{
    if (count < *cap)
        return p;
    size_t n = *cap ? *cap * 2 : 64;
    if (n > SIZE_MAX / item)
        abort();
    void *q = realloc(p, n * item);
    if (q == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    *cap = n;
    return q;
}

static nsdb_err xlsx_fail(xlsx_reader *rd, nsdb_err err, const char *message)
{
    if (rd->message == NULL)
        rd->message = message;
    return err;
}

/* ---- zip parts ---------------------------------------------------------------------------- */

/* Inflates the part called name (case-insensitive) into a malloc'd NUL-terminated buffer.
 * NSDB_ERR_NOT_FOUND when the part is missing (no message set: the caller decides). */
static NSDB_MUST_CHECK nsdb_err xlsx_part_read(xlsx_reader *rd, const char *name, char **out,
                                               size_t *len_out)
{
    *out = NULL;
    zip_int64_t index = zip_name_locate(rd->zip, name, ZIP_FL_NOCASE);
    if (index < 0)
        return NSDB_ERR_NOT_FOUND;
    zip_file_t *f = zip_fopen_index(rd->zip, (zip_uint64_t)index, 0);
    if (f == NULL)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        abort();
    for (;;) {
        if (len == cap) {
            if (cap > XLSX_MAX_PART_BYTES) {
                free(buf);
                zip_fclose(f);
                return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, MSG_TOO_LARGE);
            }
            cap = cap * 2 > (size_t)XLSX_MAX_PART_BYTES + 1 ? (size_t)XLSX_MAX_PART_BYTES + 1
                                                             : cap * 2;
            char *p = realloc(buf, cap + 1);
            if (p == NULL)
                abort();
            buf = p;
        }
        zip_int64_t n = zip_fread(f, buf + len, cap - len);
        if (n < 0) {
            free(buf);
            zip_fclose(f);
            return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    zip_fclose(f);
    if (len > XLSX_MAX_PART_BYTES) {
        free(buf);
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, MSG_TOO_LARGE);
    }
    buf[len] = '\0';
    *out = buf;
    *len_out = len;
    return NSDB_OK;
}

/* "xl/worksheets/../sharedStrings.xml" → "xl/sharedStrings.xml"; target relative to base_dir
 * ("xl" or ""), or absolute from the package root when it starts with '/'. */
static char *xlsx_path_resolve(arena *a, const char *base_dir, const char *target)
{
    char *joined = target[0] == '/' || base_dir[0] == '\0'
                       ? arena_strdup(a, target + (target[0] == '/'))
                       : arena_printf(a, "%s/%s", base_dir, target);
    char *out = arena_alloc(a, strlen(joined) + 1);
    size_t len = 0;
    for (char *seg = joined; *seg;) {
        char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* skip */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash */
        } else {
            if (len > 0)
                out[len++] = '/';
            memcpy(out + len, seg, n);
            len += n;
        }
        seg += n + (slash != NULL);
    }
    out[len] = '\0';
    return out;
}

/* "xl/workbook.xml" → "xl/_rels/workbook.xml.rels"; *dir_out = "xl". */
static char *xlsx_rels_name(arena *a, const char *part, char **dir_out)
{
    const char *slash = strrchr(part, '/');
    if (slash == NULL) {
        *dir_out = arena_strdup(a, "");
        return arena_printf(a, "_rels/%s.rels", part);
    }
    *dir_out = arena_strndup(a, part, (size_t)(slash - part));
    return arena_printf(a, "%s/_rels/%s.rels", *dir_out, slash + 1);
}

/* ---- XML ---------------------------------------------------------------------------------- */

static pthread_once_t xlsx_xml_once = PTHREAD_ONCE_INIT;

static void xlsx_xml_init(void)
{
    xmlInitParser();
}

static void xlsx_xml_silent(void *ctx, xmlErrorPtr error)
{
    (void)ctx;
    (void)error;
}

/* A streaming reader over buf, or NULL (message set) when buf carries a DTD. */
static xmlTextReaderPtr xlsx_xml_open(xlsx_reader *rd, const char *buf, size_t len)
{
    /* No spreadsheet writer emits a DTD; refusing it keeps entity tricks out of the parser. */
    if (memmem(buf, len, "<!DOCTYPE", 9) != NULL || memmem(buf, len, "<!ENTITY", 8) != NULL) {
        xlsx_fail(rd, NSDB_ERR_PARSE, MSG_DTD);
        return NULL;
    }
    xmlTextReaderPtr r = xmlReaderForMemory(buf, (int)len, NULL, NULL,
                                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (r == NULL) {
        xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
        return NULL;
    }
    xmlTextReaderSetStructuredErrorHandler(r, xlsx_xml_silent, NULL);
    return r;
}

/* Next node type; 0 at the end; -1 (message set) on malformed XML or a DTD / entity node. */
static int xlsx_xml_next(xlsx_reader *rd, xmlTextReaderPtr r)
{
    int rc = xmlTextReaderRead(r);
    if (rc == 0)
        return 0;
    int type = rc < 0 ? -1 : xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
        type == XML_READER_TYPE_ENTITY)
        type = -1;
    if (type < 0)
        xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    return type;
}

static bool xlsx_xml_is(xmlTextReaderPtr r, const char *local)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    return name != NULL && strcmp((const char *)name, local) == 0;
}

static bool xlsx_xml_is_text(int type)
{
    return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
           type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

/* Copies the value of the current element's attribute with this local name into buf (truncated
 * to size); namespaced selects r:id-style attributes, otherwise only unprefixed ones match. */
static bool xlsx_xml_attr(xmlTextReaderPtr r, const char *local, bool namespaced, char *buf,
                          size_t size)
{
    bool found = false;
    if (xmlTextReaderMoveToFirstAttribute(r) != 1)
        return false;
    do {
        const xmlChar *name = xmlTextReaderConstLocalName(r);
        const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
        if (name == NULL || strcmp((const char *)name, local) != 0)
            continue;
        if (namespaced ? ns == NULL || strstr((const char *)ns, "xmlns") != NULL : ns != NULL)
            continue;
        const xmlChar *value = xmlTextReaderConstValue(r);
        snprintf(buf, size, "%s", value ? (const char *)value : "");
        found = true;
        break;
    } while (xmlTextReaderMoveToNextAttribute(r) == 1);
    xmlTextReaderMoveToElement(r);
    return found;
}

static const char *xlsx_xml_attr_dup(arena *a, xmlTextReaderPtr r, const char *local,
                                     bool namespaced)
{
    char buf[2048];
    return xlsx_xml_attr(r, local, namespaced, buf, sizeof buf) ? arena_strdup(a, buf) : NULL;
}

/* OOXML escapes characters XML cannot carry as _xHHHH_ (and a literal "_x" as _x005F_).
 * Decodes in place; the result is never longer than the input. */
static void xlsx_unescape(char *s)
{
    char *w = s;
    for (const char *p = s; *p;) {
        unsigned cp = 0;
        bool esc = p[0] == '_' && p[1] == 'x';
        for (int i = 2; esc && i < 6; i++) { /* stops at the NUL, which is no hex digit */
            char c = p[i];
            int v = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            esc = v >= 0;
            cp = cp * 16 + (unsigned)(esc ? v : 0);
        }
        if (!esc || p[6] != '_') {
            *w++ = *p++;
            continue;
        }
        p += 7;
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
            continue;
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xC0 | (cp >> 6));
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *w++ = (char)(0xE0 | (cp >> 12));
            *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    *w = '\0';
}

/* ---- relationships and workbook ------------------------------------------------------------ */

/* Parses a .rels part; NSDB_ERR_NOT_FOUND when it does not exist. */
static NSDB_MUST_CHECK nsdb_err xlsx_rels_load(xlsx_reader *rd, const char *name, xlsx_rels *rels)
{
    memset(rels, 0, sizeof *rels);
    char *buf;
    size_t len;
    nsdb_err err = xlsx_part_read(rd, name, &buf, &len);
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = xlsx_xml_open(rd, buf, len);
    if (r == NULL) {
        free(buf);
        return NSDB_ERR_PARSE;
    }
    int type;
    while ((type = xlsx_xml_next(rd, r)) > 0) {
        if (type != XML_READER_TYPE_ELEMENT || !xlsx_xml_is(r, "Relationship"))
            continue;
        char mode[32] = "";
        xlsx_xml_attr(r, "TargetMode", false, mode, sizeof mode);
        if (strcasecmp(mode, "External") == 0)
            continue;
        xlsx_rel rel = {xlsx_xml_attr_dup(rd->scratch, r, "Id", false),
                        xlsx_xml_attr_dup(rd->scratch, r, "Type", false),
                        xlsx_xml_attr_dup(rd->scratch, r, "Target", false)};
        if (rel.id == NULL || rel.type == NULL || rel.target == NULL)
            continue;
        if (rels->count == rels->cap) {
            size_t cap = rels->cap ? rels->cap * 2 : 16;
            xlsx_rel *items = arena_calloc(rd->scratch, cap, sizeof *items);
            if (rels->count)
                memcpy(items, rels->items, rels->count * sizeof *items);
            rels->items = items;
            rels->cap = cap;
        }
        rels->items[rels->count++] = rel;
    }
    xmlFreeTextReader(r);
    free(buf);
    return type < 0 ? NSDB_ERR_PARSE : NSDB_OK;
}

static bool xlsx_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const xlsx_rel *xlsx_rels_by_type(const xlsx_rels *rels, const char *suffix)
{
    for (size_t i = 0; i < rels->count; i++)
        if (xlsx_ends_with(rels->items[i].type, suffix))
            return &rels->items[i];
    return NULL;
}

static const xlsx_rel *xlsx_rels_by_id(const xlsx_rels *rels, const char *id)
{
    for (size_t i = 0; i < rels->count; i++)
        if (strcmp(rels->items[i].id, id) == 0)
            return &rels->items[i];
    return NULL;
}

/* Finds the workbook part, the first worksheet's part and the shared-strings part (or NULL). */
static NSDB_MUST_CHECK nsdb_err xlsx_locate_parts(xlsx_reader *rd, const char **sheet_out,
                                                  const char **strings_out)
{
    const char *workbook = "xl/workbook.xml";
    xlsx_rels root;
    nsdb_err err = xlsx_rels_load(rd, "_rels/.rels", &root);
    if (err != NSDB_OK && err != NSDB_ERR_NOT_FOUND)
        return err;
    const xlsx_rel *doc = err == NSDB_OK ? xlsx_rels_by_type(&root, "/officeDocument") : NULL;
    if (doc != NULL)
        workbook = xlsx_path_resolve(rd->scratch, "", doc->target);

    char *buf;
    size_t len;
    err = xlsx_part_read(rd, workbook, &buf, &len);
    if (err == NSDB_ERR_NOT_FOUND)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NO_WORKBOOK);
    if (err != NSDB_OK)
        return err;
    /* r:id of every <sheet>, in workbook order. */
    const char **ids = NULL;
    size_t id_count = 0, id_cap = 0;
    xmlTextReaderPtr r = xlsx_xml_open(rd, buf, len);
    int type = r == NULL ? -1 : 0;
    while (r != NULL && (type = xlsx_xml_next(rd, r)) > 0) {
        if (type != XML_READER_TYPE_ELEMENT || !xlsx_xml_is(r, "sheet"))
            continue;
        const char *id = xlsx_xml_attr_dup(rd->scratch, r, "id", true);
        if (id == NULL)
            continue;
        ids = xlsx_grow(ids, &id_cap, id_count, sizeof *ids);
        ids[id_count++] = id;
    }
    if (r != NULL)
        xmlFreeTextReader(r);
    free(buf);
    if (type < 0) {
        free(ids);
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    }

    char *dir;
    const char *rels_name = xlsx_rels_name(rd->scratch, workbook, &dir);
    xlsx_rels rels;
    err = xlsx_rels_load(rd, rels_name, &rels);
    if (err != NSDB_OK) {
        free(ids);
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    }
    *sheet_out = NULL;
    for (size_t i = 0; i < id_count && *sheet_out == NULL; i++) {
        const xlsx_rel *rel = xlsx_rels_by_id(&rels, ids[i]);
        if (rel != NULL && xlsx_ends_with(rel->type, "/worksheet"))
            *sheet_out = xlsx_path_resolve(rd->scratch, dir, rel->target);
    }
    free(ids);
    if (*sheet_out == NULL)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NO_SHEET);
    const xlsx_rel *sst = xlsx_rels_by_type(&rels, "/sharedStrings");
    *strings_out = sst ? xlsx_path_resolve(rd->scratch, dir, sst->target) : NULL;
    return NSDB_OK;
}

/* ---- shared strings ------------------------------------------------------------------------ */

static NSDB_MUST_CHECK nsdb_err xlsx_strings_load(xlsx_reader *rd, const char *name)
{
    char *buf;
    size_t len;
    nsdb_err err = xlsx_part_read(rd, name, &buf, &len);
    if (err == NSDB_ERR_NOT_FOUND)
        return NSDB_OK; /* a relationship to a missing part: cells referring to it will fail */
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = xlsx_xml_open(rd, buf, len);
    if (r == NULL) {
        free(buf);
        return NSDB_ERR_PARSE;
    }
    strbuf text = STRBUF_INIT;
    bool in_si = false, in_t = false, in_phonetic = false;
    int type;
    while ((type = xlsx_xml_next(rd, r)) > 0) {
        bool empty = type == XML_READER_TYPE_ELEMENT && xmlTextReaderIsEmptyElement(r);
        if (type == XML_READER_TYPE_ELEMENT && xlsx_xml_is(r, "si")) {
            in_si = !empty;
            strbuf_reset(&text);
            if (!empty)
                continue;
        } else if (type == XML_READER_TYPE_ELEMENT && xlsx_xml_is(r, "t")) {
            in_t = !empty;
            continue;
        } else if (type == XML_READER_TYPE_ELEMENT && xlsx_xml_is(r, "rPh")) {
            in_phonetic = !empty; /* furigana guides are not the cell's text */
            continue;
        } else if (type == XML_READER_TYPE_END_ELEMENT && xlsx_xml_is(r, "t")) {
            in_t = false;
            continue;
        } else if (type == XML_READER_TYPE_END_ELEMENT && xlsx_xml_is(r, "rPh")) {
            in_phonetic = false;
            continue;
        } else if (xlsx_xml_is_text(type)) {
            if (in_si && in_t && !in_phonetic) {
                const xmlChar *v = xmlTextReaderConstValue(r);
                if (v != NULL)
                    strbuf_puts(&text, (const char *)v);
            }
            continue;
        } else if (!(type == XML_READER_TYPE_END_ELEMENT && xlsx_xml_is(r, "si"))) {
            continue;
        }
        /* End of an <si> (or an empty <si/>). */
        in_si = false;
        char *s = arena_strdup(rd->table->a, text.data ? text.data : "");
        xlsx_unescape(s);
        rd->strings = xlsx_grow(rd->strings, &rd->string_cap, rd->string_count,
                                sizeof *rd->strings);
        rd->strings[rd->string_count++] = s;
    }
    strbuf_free(&text);
    xmlFreeTextReader(r);
    free(buf);
    return type < 0 ? NSDB_ERR_PARSE : NSDB_OK;
}

/* ---- the worksheet ------------------------------------------------------------------------- */

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
            return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
        number = (unsigned)n;
    }
    if (number > XLSX_MAX_ROW_NUMBER)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
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
            return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    if (t->row_count == XLSX_MAX_ROWS)
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, MSG_TOO_MANY_ROWS);
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
            return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
    }
    if (col >= XLSX_MAX_COLUMNS)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
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
            return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_BROKEN);
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

static NSDB_MUST_CHECK nsdb_err xlsx_sheet_load(xlsx_reader *rd, const char *name)
{
    char *buf;
    size_t len;
    nsdb_err err = xlsx_part_read(rd, name, &buf, &len);
    if (err == NSDB_ERR_NOT_FOUND)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NO_SHEET);
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = xlsx_xml_open(rd, buf, len);
    if (r == NULL) {
        free(buf);
        return NSDB_ERR_PARSE;
    }
    xlsx_sheet_state st = {.value = STRBUF_INIT};
    int type;
    while (err == NSDB_OK && (type = xlsx_xml_next(rd, r)) != 0) {
        if (type < 0)
            err = NSDB_ERR_PARSE;
        else
            err = xlsx_sheet_node(rd, r, type, &st);
    }
    strbuf_free(&st.value);
    xmlFreeTextReader(r);
    free(buf);
    return err;
}

/* ---- entry points -------------------------------------------------------------------------- */

static NSDB_MUST_CHECK nsdb_err xlsx_open_zip(xlsx_reader *rd, const void *data, size_t len)
{
    static const unsigned char ole[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (len == 0)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_EMPTY);
    if (len >= sizeof ole && memcmp(data, ole, sizeof ole) == 0)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_OLE);
    if (len < 4 || memcmp(data, "PK", 2) != 0)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NOT_XLSX);
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &zerr);
    if (src == NULL) {
        zip_error_fini(&zerr);
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NOT_XLSX);
    }
    rd->zip = zip_open_from_source(src, ZIP_RDONLY, &zerr);
    zip_error_fini(&zerr);
    if (rd->zip == NULL) {
        zip_source_free(src);
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NOT_XLSX);
    }
    return NSDB_OK;
}

static void xlsx_table_init(xlsx_reader *rd)
{
    rd->table = calloc(1, sizeof *rd->table);
    if (rd->table == NULL)
        abort();
    rd->table->a = arena_new();
}

nsdb_err xlsx_read(const void *data, size_t len, xlsx_table **out, char **error_out)
{
    *out = NULL;
    if (error_out != NULL)
        *error_out = NULL;
    pthread_once(&xlsx_xml_once, xlsx_xml_init);
    xlsx_reader rd = {.scratch = arena_new()};
    xlsx_table_init(&rd);
    const char *sheet = NULL, *strings = NULL;
    nsdb_err err = xlsx_open_zip(&rd, data, len);
    if (err == NSDB_OK)
        err = xlsx_locate_parts(&rd, &sheet, &strings);
    if (err == NSDB_OK && strings != NULL)
        err = xlsx_strings_load(&rd, strings);
    if (err == NSDB_OK)
        err = xlsx_sheet_load(&rd, sheet);
    if (rd.zip != NULL)
        zip_discard(rd.zip);
    free(rd.strings);
    arena_free(rd.scratch);
    if (err != NSDB_OK) {
        xlsx_table_free(rd.table);
        if (error_out != NULL)
            *error_out = strdup(rd.message ? rd.message : MSG_BROKEN);
        return err;
    }
    *out = rd.table;
    return NSDB_OK;
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
