/*
 * csv.c — the RFC 4180 reader; see csv.h. One reused buffer holds the current record's fields,
 * so memory is bounded by the longest record, not by the file.
 */
#include "domain/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
    const char *data;
    size_t len, pos;
    unsigned record;    /* of the current record */
    unsigned line;      /* physical line the current record starts on */
    unsigned next_line; /* physical line at pos */
    char *text;         /* the current record's fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *starts; /* offset of each field in text */
    size_t field_count, field_cap;
    const char *error; /* reason of the failure, or NULL */
    char error_buf[256];
    unsigned error_column;
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void reader_append(csv_reader *r, const char *s, size_t n)
{
    if (r->text_cap - r->text_len < n + 1) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        while (cap - r->text_len < n + 1)
            cap *= 2;
        r->text = xrealloc(r->text, cap);
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, n);
    r->text_len += n;
}

static void reader_field_begin(csv_reader *r)
{
    if (r->field_count == r->field_cap) {
        r->field_cap = r->field_cap ? r->field_cap * 2 : 16;
        r->starts = xrealloc(r->starts, r->field_cap * sizeof *r->starts);
    }
    r->starts[r->field_count++] = r->text_len;
}

static bool reader_fail(csv_reader *r, const char *reason)
{
    r->error = reason;
    r->error_column = (unsigned)r->field_count;
    r->pos = r->len;
    return false;
}

csv_reader *csv_reader_new(const char *data, size_t len)
{
    csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    r->data = data;
    r->len = len;
    r->next_line = 1;
    return r;
}

void csv_reader_free(csv_reader *r)
{
    if (r == NULL)
        return;
    free(r->text);
    free(r->starts);
    free(r);
}

static bool is_record_end(char c)
{
    return c == '\r' || c == '\n';
}

static bool read_unquoted(csv_reader *r)
{
    size_t start = r->pos;
    while (r->pos < r->len) {
        char c = r->data[r->pos];
        if (c == ',' || is_record_end(c))
            break;
        if (c == '"')
            return reader_fail(r, "引用符（\"）で囲まれていない項目の中に「\"」があります。"
                                  "「\"」を含む項目は全体を「\"」で囲み、中の「\"」は「\"\"」と"
                                  "2つ重ねてください。");
        if (c == '\0')
            return reader_fail(r, "使用できない文字（NUL）が含まれています。");
        r->pos++;
    }
    reader_append(r, r->data + start, r->pos - start);
    return true;
}

static bool read_quoted(csv_reader *r)
{
    unsigned start_line = r->next_line;
    r->pos++; /* the opening quote */
    for (;;) {
        size_t start = r->pos;
        while (r->pos < r->len && r->data[r->pos] != '"' && r->data[r->pos] != '\0' &&
               !is_record_end(r->data[r->pos]))
            r->pos++;
        reader_append(r, r->data + start, r->pos - start);
        if (r->pos >= r->len) {
            snprintf(r->error_buf, sizeof r->error_buf,
                     "「\"」で始まる項目（ファイルの%u行目から）が閉じられないまま、ファイルが"
                     "終わっています。閉じる「\"」を補ってください。",
                     start_line);
            return reader_fail(r, r->error_buf);
        }
        char c = r->data[r->pos];
        if (c == '\0')
            return reader_fail(r, "使用できない文字（NUL）が含まれています。");
        if (c == '"') {
            if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                reader_append(r, "\"", 1);
                r->pos += 2;
                continue;
            }
            r->pos++;
            break;
        }
        /* a line break inside the field is kept as written (CR, LF or CRLF) */
        r->pos++;
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n') {
            reader_append(r, "\r\n", 2);
            r->pos++;
        } else {
            reader_append(r, &c, 1);
        }
        r->next_line++;
    }
    if (r->pos < r->len && r->data[r->pos] != ',' && !is_record_end(r->data[r->pos]))
        return reader_fail(r, "「\"」で囲まれた項目の、閉じる「\"」の後に文字があります。"
                              "項目の中で「\"」を使うときは「\"\"」と2つ重ねてください。");
    return true;
}

bool csv_reader_next_row(csv_reader *r)
{
    if (r->error != NULL || r->pos >= r->len)
        return false;
    r->record++;
    r->line = r->next_line;
    r->text_len = 0;
    r->field_count = 0;
    for (;;) {
        reader_field_begin(r);
        bool ok = r->pos < r->len && r->data[r->pos] == '"' ? read_quoted(r) : read_unquoted(r);
        if (!ok)
            return false;
        reader_append(r, "", 1); /* the field's NUL */
        if (r->pos >= r->len)
            return true;
        char c = r->data[r->pos++];
        if (c == ',')
            continue;
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n')
            r->pos++;
        r->next_line++;
        return true;
    }
}

size_t csv_reader_field_count(const csv_reader *r)
{
    return r->field_count;
}

const char *csv_reader_field(const csv_reader *r, size_t i)
{
    return i < r->field_count ? r->text + r->starts[i] : NULL;
}

size_t csv_reader_field_length(const csv_reader *r, size_t i)
{
    if (i >= r->field_count)
        return 0;
    size_t end = i + 1 < r->field_count ? r->starts[i + 1] : r->text_len;
    return end - r->starts[i] - 1;
}

unsigned csv_reader_record(const csv_reader *r)
{
    return r->record;
}

unsigned csv_reader_line(const csv_reader *r)
{
    return r->line;
}

const char *csv_reader_error(const csv_reader *r)
{
    return r->error;
}

unsigned csv_reader_error_column(const csv_reader *r)
{
    return r->error_column;
}
