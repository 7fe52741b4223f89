/*
 * fuzz_xlsx_xml.c — libFuzzer harness for the XML half of the xlsx reader (domain/xlsx.c's
 * relationships, workbook and shared strings, xlsx_sheet.c's worksheet). Those parsers read their
 * part only through the zip, so the harness packs the input into a valid stored (uncompressed)
 * zip and lets the fuzzer work on raw XML instead of compressed bytes. The input is cut at
 * FUZZ_SEPARATOR into: the worksheet, the shared strings, the workbook and the workbook's
 * relationships; a piece that is missing gets the part a plain workbook has. The workbook is
 * read with the budget of a request of one file; checks as fuzz_xlsx.c.
 */
#include "fuzz_support.h"

#include "domain/xlsx.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ROOT_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char WORKBOOK[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
    "<sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char WORKBOOK_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>";
static const char SHARED_STRINGS[] =
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"></sst>";

/* ---- a stored zip (APPNOTE 4.3), enough for libzip to read ---------------------------------- */

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    if (table[1] == 0)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static void put16(strbuf *sb, uint32_t v)
{
    strbuf_putc(sb, (char)(v & 0xFF));
    strbuf_putc(sb, (char)((v >> 8) & 0xFF));
}

static void put32(strbuf *sb, uint32_t v)
{
    put16(sb, v & 0xFFFF);
    put16(sb, v >> 16);
}

typedef struct zip_entry {
    const char *name;
    fuzz_piece body;
} zip_entry;

/* The header fields that the local header and the central directory share. */
static void put_common(strbuf *sb, const zip_entry *e)
{
    put16(sb, 20);   /* version needed */
    put16(sb, 0);    /* flags */
    put16(sb, 0);    /* stored */
    put16(sb, 0);    /* time */
    put16(sb, 0x21); /* date: 1980-01-01 */
    put32(sb, crc32_of(e->body.data, e->body.len));
    put32(sb, (uint32_t)e->body.len);
    put32(sb, (uint32_t)e->body.len);
    put16(sb, (uint32_t)strlen(e->name));
    put16(sb, 0); /* extra field */
}

static void zip_build(strbuf *sb, const zip_entry *entries, size_t count)
{
    uint32_t offsets[8];
    for (size_t i = 0; i < count; i++) {
        offsets[i] = (uint32_t)sb->len;
        put32(sb, 0x04034b50);
        put_common(sb, &entries[i]);
        strbuf_puts(sb, entries[i].name);
        strbuf_append(sb, (const char *)entries[i].body.data, entries[i].body.len);
    }
    uint32_t directory = (uint32_t)sb->len;
    for (size_t i = 0; i < count; i++) {
        put32(sb, 0x02014b50);
        put16(sb, 20); /* version made by */
        put_common(sb, &entries[i]);
        put16(sb, 0); /* comment */
        put16(sb, 0); /* disk */
        put16(sb, 0); /* internal attributes */
        put32(sb, 0); /* external attributes */
        put32(sb, offsets[i]);
        strbuf_puts(sb, entries[i].name);
    }
    uint32_t directory_len = (uint32_t)sb->len - directory;
    put32(sb, 0x06054b50);
    put16(sb, 0);
    put16(sb, 0);
    put16(sb, (uint32_t)count);
    put16(sb, (uint32_t)count);
    put32(sb, directory_len);
    put32(sb, directory);
    put16(sb, 0);
}

static fuzz_piece text_piece(const char *s)
{
    return (fuzz_piece){(const uint8_t *)s, strlen(s)};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_piece pieces[4];
    size_t count = fuzz_split(data, size, pieces, 4);
    zip_entry entries[] = {
        {"_rels/.rels", text_piece(ROOT_RELS)},
        {"xl/workbook.xml", count > 2 ? pieces[2] : text_piece(WORKBOOK)},
        {"xl/_rels/workbook.xml.rels", count > 3 ? pieces[3] : text_piece(WORKBOOK_RELS)},
        {"xl/sharedStrings.xml", count > 1 ? pieces[1] : text_piece(SHARED_STRINGS)},
        {"xl/worksheets/sheet1.xml", pieces[0]},
    };
    strbuf zip = STRBUF_INIT;
    zip_build(&zip, entries, sizeof entries / sizeof entries[0]);
    char *copy = fuzz_copy((const uint8_t *)zip.data, zip.len);
    size_t len = zip.len;
    strbuf_free(&zip);

    upload_budget budget = upload_budget_for_request();
    xlsx_table *t = NULL;
    char *error = NULL;
    nsdb_err err = xlsx_read_limited(copy, len, &budget, &t, &error);
    free(copy);
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
        }
    }
    xlsx_table_free(t);
    return 0;
}
