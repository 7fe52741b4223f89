/*
 * xlsx.c — reads the first worksheet of an .xlsx (Office Open XML) workbook from memory: the
 * package half (the zip, its XML parts, the relationships, the workbook and the shared strings)
 * and the entry point; the worksheet itself is parsed by xlsx_sheet.c (shared: xlsx_int.h).
 *
 * The path through the package follows the relationships, as Excel does, instead of guessing
 * file names: _rels/.rels → the office document (xl/workbook.xml) → its first <sheet> in workbook
 * order whose relationship is a worksheet → that part, plus the workbook's shared-strings part.
 * Part names are matched case-insensitively (OPC names are).
 *
 * Safety: the caller's bytes are untrusted. Each part is inflated into a buffer that stops at
 * XLSX_MAX_PART_BYTES or at what is left of the request's budget (upload_limits.h), whatever the
 * zip directory claims, so a zip bomb costs at most that much; every shared string, row and cell
 * takes from the same budget, so a part full of empty ones stops early;
 * a document carrying a DTD is refused before it reaches the parser, and the parser runs without
 * network, DTD loading or entity substitution. Allocation failure aborts, as everywhere in nsdb
 * (arena, strbuf).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "domain/xlsx_int.h"
#include "util/str.h"

static const char MSG_EMPTY[] = "ファイルが空です。Excel ファイル（.xlsx）を選んでください。";
static const char MSG_NOT_XLSX[] =
    "Excel ファイル（.xlsx）として読めません。ファイルが壊れているか、別の形式のファイルです。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
static const char MSG_OLE[] =
    "古い Excel 形式（.xls）か、パスワードで保護されたファイルです。パスワードを解除し、"
    "「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
const char XLSX_MSG_BROKEN[] =
    "Excel ファイル（.xlsx）の中身が壊れているため読めません。Excel で開けることを確かめ、"
    "「Excel ブック（*.xlsx）」として保存し直してから、もう一度アップロードしてください。";
static const char MSG_NO_WORKBOOK[] =
    "Excel ファイル（.xlsx）として読めません。ブックの本体（workbook.xml）が見つかりません。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してください。";
const char XLSX_MSG_NO_SHEET[] =
    "ブックにワークシートがありません。申請リストを1枚目のシートに入力してください。";
static const char MSG_TOO_LARGE[] =
    "シートが大きすぎます（展開後 50 MB まで）。不要な行・列や書式を削除してから保存し直してください。";
const char XLSX_MSG_TOO_MANY_ROWS[] =
    "行が多すぎます（100,000 行まで）。ファイルを分けてアップロードしてください。";
static const char MSG_DTD[] =
    "Excel ファイル（.xlsx）として受け付けられない内容（DTD）が含まれています。"
    "Excel で「Excel ブック（*.xlsx）」として保存し直してください。";

/* One relationship of a .rels part. */
typedef struct xlsx_rel {
    const char *id, *type, *target;
} xlsx_rel;

typedef struct xlsx_rels {
    xlsx_rel *items;
    size_t count, cap;
} xlsx_rels;

void *xlsx_grow(void *p, size_t *cap, size_t count, size_t item)
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

nsdb_err xlsx_fail(xlsx_reader *rd, nsdb_err err, const char *message)
{
    if (rd->message == NULL)
        rd->message = message;
    return err;
}

/* ---- zip parts ---------------------------------------------------------------------------- */

/* A part larger than it may be: the request's budget message when that is what it passes,
 * otherwise the per-part limit's. */
static nsdb_err xlsx_part_too_large(xlsx_reader *rd, zip_uint64_t size)
{
    /* the failed take records which limit was passed */
    if (size > rd->budget->bytes_left && !upload_budget_take_bytes(rd->budget, (size_t)size))
        return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, rd->budget->exceeded);
    return xlsx_fail(rd, NSDB_ERR_TOO_LARGE, MSG_TOO_LARGE);
}

/* Inflates the part called name (case-insensitive) into a malloc'd NUL-terminated buffer, taking
 * its size from the request's budget. The size the central directory claims is checked first, so
 * that an honest bomb is refused before any inflating; the bytes really inflated are the guard,
 * since the directory may lie. NSDB_ERR_NOT_FOUND when the part is missing (no message set: the
 * caller decides). */
static NSDB_MUST_CHECK nsdb_err xlsx_part_read(xlsx_reader *rd, const char *name, char **out,
                                               size_t *len_out)
{
    *out = NULL;
    zip_int64_t index = zip_name_locate(rd->zip, name, ZIP_FL_NOCASE);
    if (index < 0)
        return NSDB_ERR_NOT_FOUND;
    size_t limit = rd->budget->bytes_left < XLSX_MAX_PART_BYTES ? rd->budget->bytes_left
                                                                 : XLSX_MAX_PART_BYTES;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(rd->zip, (zip_uint64_t)index, 0, &st) == 0 &&
        (st.valid & ZIP_STAT_SIZE) && st.size > limit)
        return xlsx_part_too_large(rd, st.size);
    zip_file_t *f = zip_fopen_index(rd->zip, (zip_uint64_t)index, 0);
    if (f == NULL)
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        abort();
    for (;;) {
        if (len == cap) {
            if (cap > limit)
                break;
            cap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            char *p = realloc(buf, cap + 1);
            if (p == NULL)
                abort();
            buf = p;
        }
        zip_int64_t n = zip_fread(f, buf + len, cap - len);
        if (n < 0) {
            free(buf);
            zip_fclose(f);
            return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    zip_fclose(f);
    if (len > limit || !upload_budget_take_bytes(rd->budget, len)) {
        free(buf);
        return xlsx_part_too_large(rd, len);
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
        xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
        return NULL;
    }
    xmlTextReaderSetStructuredErrorHandler(r, xlsx_xml_silent, NULL);
    return r;
}

nsdb_err xlsx_part_open(xlsx_reader *rd, const char *name, xlsx_part *part)
{
    *part = (xlsx_part){0};
    nsdb_err err = xlsx_part_read(rd, name, &part->buf, &part->len);
    if (err != NSDB_OK)
        return err;
    part->xml = xlsx_xml_open(rd, part->buf, part->len);
    if (part->xml == NULL) {
        free(part->buf);
        part->buf = NULL;
        return NSDB_ERR_PARSE;
    }
    return NSDB_OK;
}

void xlsx_part_close(xlsx_part *part)
{
    if (part->xml != NULL)
        xmlFreeTextReader(part->xml);
    free(part->buf);
    *part = (xlsx_part){0};
}

int xlsx_xml_next(xlsx_reader *rd, xmlTextReaderPtr r)
{
    int rc = xmlTextReaderRead(r);
    if (rc == 0)
        return 0;
    int type = rc < 0 ? -1 : xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
        type == XML_READER_TYPE_ENTITY)
        type = -1;
    if (type < 0)
        xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    return type;
}

bool xlsx_xml_is(xmlTextReaderPtr r, const char *local)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    return name != NULL && strcmp((const char *)name, local) == 0;
}

bool xlsx_xml_is_text(int type)
{
    return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
           type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

bool xlsx_xml_attr(xmlTextReaderPtr r, const char *local, bool namespaced, char *buf, size_t size)
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

void xlsx_unescape(char *s)
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
    xlsx_part part;
    nsdb_err err = xlsx_part_open(rd, name, &part);
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = part.xml;
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
    xlsx_part_close(&part);
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

    xlsx_part part;
    err = xlsx_part_open(rd, workbook, &part);
    if (err == NSDB_ERR_NOT_FOUND)
        return xlsx_fail(rd, NSDB_ERR_PARSE, MSG_NO_WORKBOOK);
    if (err != NSDB_OK)
        return err;
    /* r:id of every <sheet>, in workbook order. */
    const char **ids = NULL;
    size_t id_count = 0, id_cap = 0;
    xmlTextReaderPtr r = part.xml;
    int type;
    while ((type = xlsx_xml_next(rd, r)) > 0) {
        if (type != XML_READER_TYPE_ELEMENT || !xlsx_xml_is(r, "sheet"))
            continue;
        const char *id = xlsx_xml_attr_dup(rd->scratch, r, "id", true);
        if (id == NULL)
            continue;
        ids = xlsx_grow(ids, &id_cap, id_count, sizeof *ids);
        ids[id_count++] = id;
    }
    xlsx_part_close(&part);
    if (type < 0) {
        free(ids);
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    }

    char *dir;
    const char *rels_name = xlsx_rels_name(rd->scratch, workbook, &dir);
    xlsx_rels rels;
    err = xlsx_rels_load(rd, rels_name, &rels);
    if (err != NSDB_OK) {
        free(ids);
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_BROKEN);
    }
    *sheet_out = NULL;
    for (size_t i = 0; i < id_count && *sheet_out == NULL; i++) {
        const xlsx_rel *rel = xlsx_rels_by_id(&rels, ids[i]);
        if (rel != NULL && xlsx_ends_with(rel->type, "/worksheet"))
            *sheet_out = xlsx_path_resolve(rd->scratch, dir, rel->target);
    }
    free(ids);
    if (*sheet_out == NULL)
        return xlsx_fail(rd, NSDB_ERR_PARSE, XLSX_MSG_NO_SHEET);
    const xlsx_rel *sst = xlsx_rels_by_type(&rels, "/sharedStrings");
    *strings_out = sst ? xlsx_path_resolve(rd->scratch, dir, sst->target) : NULL;
    return NSDB_OK;
}

/* ---- shared strings ------------------------------------------------------------------------ */

static NSDB_MUST_CHECK nsdb_err xlsx_strings_load(xlsx_reader *rd, const char *name)
{
    xlsx_part part;
    nsdb_err err = xlsx_part_open(rd, name, &part);
    if (err == NSDB_ERR_NOT_FOUND)
        return NSDB_OK; /* a relationship to a missing part: cells referring to it will fail */
    if (err != NSDB_OK)
        return err;
    xmlTextReaderPtr r = part.xml;
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
        /* End of an <si> (or an empty <si/>). Each costs a cell of the budget: a part of
           millions of empty ones is as much work as millions of cells. */
        in_si = false;
        if (!upload_budget_take_cells(rd->budget, 1)) {
            type = -1;
            xlsx_fail(rd, NSDB_ERR_TOO_LARGE, rd->budget->exceeded);
            break;
        }
        const char *s = "";
        if (text.len > 0) {
            char *copy = arena_strdup(rd->table->a, text.data);
            xlsx_unescape(copy);
            s = copy;
        }
        rd->strings = xlsx_grow(rd->strings, &rd->string_cap, rd->string_count,
                                sizeof *rd->strings);
        rd->strings[rd->string_count++] = s;
    }
    strbuf_free(&text);
    xlsx_part_close(&part);
    if (type < 0)
        return rd->budget->exceeded != NULL ? NSDB_ERR_TOO_LARGE : NSDB_ERR_PARSE;
    return NSDB_OK;
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

nsdb_err xlsx_read_limited(const void *data, size_t len, upload_budget *budget, xlsx_table **out,
                           char **error_out)
{
    *out = NULL;
    if (error_out != NULL)
        *error_out = NULL;
    pthread_once(&xlsx_xml_once, xlsx_xml_init);
    xlsx_reader rd = {.scratch = arena_new(), .budget = budget};
    rd.table = xlsx_table_new();
    const char *sheet = NULL, *strings = NULL;
    nsdb_err err = budget->exceeded != NULL
                       ? xlsx_fail(&rd, NSDB_ERR_TOO_LARGE, budget->exceeded)
                       : xlsx_open_zip(&rd, data, len);
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
            *error_out = strdup(rd.message ? rd.message : XLSX_MSG_BROKEN);
        return err;
    }
    *out = rd.table;
    return NSDB_OK;
}

nsdb_err xlsx_read(const void *data, size_t len, xlsx_table **out, char **error_out)
{
    upload_budget budget = upload_budget_for_request();
    return xlsx_read_limited(data, len, &budget, out, error_out);
}
