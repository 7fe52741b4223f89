/*
 * multipart.c — the multipart/form-data parser (RFC 7578 over RFC 2046). The body is untrusted
 * and may be 32 MB, so every scan is bounded by its length (the body is not NUL-terminated for
 * us), boundaries are found with memmem (linear), and each part is copied exactly once. Header
 * blocks are small and bounded; they are copied to NUL-terminated strings and parsed with plain
 * string functions. Anything that does not have the shape of a form is NSDB_ERR_PARSE: the
 * handler then sees missing fields rather than half a form.
 */
#include "http/multipart.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
    while (is_ows(*p))
        p++;
    return p;
}

/* Length of s[0..n) without trailing spaces and tabs. */
static size_t trim_end(const char *s, size_t n)
{
    while (n > 0 && is_ows(s[n - 1]))
        n--;
    return n;
}

/* True when the header value's leading token (before any ';') is type, ignoring case. */
static bool header_value_type_is(const char *value, const char *type)
{
    const char *start = skip_ows(value);
    const char *semicolon = strchr(start, ';');
    size_t n = semicolon != NULL ? (size_t)(semicolon - start) : strlen(start);
    n = trim_end(start, n);
    return n == strlen(type) && strncasecmp(start, type, n) == 0;
}

/* The closing quote of the quoted string opening at p[-1], or NULL when unterminated. A
 * backslash escapes only '"' and '\': browsers send Windows paths ("C:\Users\a.csv") with bare
 * backslashes, which must stay as they are. */
static const char *quoted_string_end(const char *p)
{
    for (; *p != '\0'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++;
        else if (*p == '"')
            return p;
    }
    return NULL;
}

static char *quoted_string_copy(arena *a, const char *start, const char *end)
{
    char *out = arena_alloc(a, (size_t)(end - start) + 1);
    char *w = out;
    for (const char *p = start; p < end; p++) {
        if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
            p++;
        *w++ = *p;
    }
    *w = '\0';
    return out;
}

/*
 * Finds parameter key (case-insensitive) in a header value of the form
 * `type; k1=v1; k2="v 2"` and stores a copy of its value in *out (NULL when absent; the first
 * occurrence wins). Every parameter is checked for syntax, so a malformed value is rejected
 * whichever key is asked for.
 */
static NSDB_MUST_CHECK nsdb_err header_param_find(arena *a, const char *value, const char *key,
                                                  char **out)
{
    *out = NULL;
    const char *p = strchr(value, ';');
    while (p != NULL && *p == ';') {
        p = skip_ows(p + 1);
        if (*p == '\0' || *p == ';')
            continue; /* empty parameter: "a;;b" or a trailing ';' */
        const char *name = p;
        while (*p != '\0' && *p != '=' && *p != ';')
            p++;
        if (*p != '=')
            return NSDB_ERR_PARSE;
        size_t name_len = trim_end(name, (size_t)(p - name));
        bool wanted = name_len == strlen(key) && strncasecmp(name, key, name_len) == 0;
        p = skip_ows(p + 1);
        const char *start = p, *end;
        if (*p == '"') {
            start = p + 1;
            end = quoted_string_end(start);
            if (end == NULL)
                return NSDB_ERR_PARSE;
            p = skip_ows(end + 1);
            if (*p != '\0' && *p != ';')
                return NSDB_ERR_PARSE;
            if (wanted && *out == NULL)
                *out = quoted_string_copy(a, start, end);
        } else {
            while (*p != '\0' && *p != ';')
                p++;
            end = start + trim_end(start, (size_t)(p - start));
            if (wanted && *out == NULL)
                *out = arena_strndup(a, start, (size_t)(end - start));
        }
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err boundary_from_content_type(arena *a, const char *content_type,
                                                           char **out)
{
    if (!header_value_type_is(content_type, "multipart/form-data"))
        return NSDB_ERR_PARSE;
    nsdb_err err = header_param_find(a, content_type, "boundary", out);
    if (err != NSDB_OK)
        return err;
    if (*out == NULL)
        return NSDB_ERR_PARSE;
    size_t n = strlen(*out);
    if (n == 0 || n > HTTP_MULTIPART_MAX_BOUNDARY)
        return NSDB_ERR_PARSE;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)(*out)[i] < 0x20 || (*out)[i] == 0x7f)
            return NSDB_ERR_PARSE;
    return NSDB_OK;
}

/*
 * Index i follows "--boundary". A close delimiter continues with "--" (anything after it is the
 * epilogue); a delimiter line with optional spaces and CRLF. Anything else means the bytes only
 * began like a delimiter and belong to the part's data.
 */
static bool delimiter_line_end(const char *body, size_t len, size_t i, size_t *next, bool *closing)
{
    if (len - i >= 2 && body[i] == '-' && body[i + 1] == '-') {
        *closing = true;
        *next = len;
        return true;
    }
    while (i < len && is_ows(body[i]))
        i++;
    if (i + 1 < len && body[i] == '\r' && body[i + 1] == '\n') {
        *closing = false;
        *next = i + 2;
        return true;
    }
    return false;
}

/* Finds the next delimiter ("\r\n--boundary" ending its line) at or after from: *at is where
 * the CRLF starts (the end of the previous part's data), *next where the next part starts. */
static bool delimiter_find(const char *body, size_t len, size_t from, const char *delim,
                           size_t delim_len, size_t *at, size_t *next, bool *closing)
{
    while (from <= len && len - from >= delim_len) {
        const char *match = memmem(body + from, len - from, delim, delim_len);
        if (match == NULL)
            return false;
        size_t found = (size_t)(match - body);
        if (delimiter_line_end(body, len, found + delim_len, next, closing)) {
            *at = found;
            return true;
        }
        from = found + 1;
    }
    return false;
}

/* The first delimiter has no CRLF before it when the body starts with it (no preamble). */
static bool delimiter_find_first(const char *body, size_t len, const char *delim,
                                 size_t delim_len, size_t *next, bool *closing)
{
    size_t dash_len = delim_len - 2;
    if (len >= dash_len && memcmp(body, delim + 2, dash_len) == 0 &&
        delimiter_line_end(body, len, dash_len, next, closing))
        return true;
    size_t at;
    return delimiter_find(body, len, 0, delim, delim_len, &at, next, closing);
}

typedef struct part_headers {
    char *disposition;
    char *content_type;
} part_headers;

/* Parses one part's header block (lines separated by CRLF, without the blank line). */
static NSDB_MUST_CHECK nsdb_err part_headers_parse(arena *a, const char *block, size_t len,
                                                   part_headers *out)
{
    out->disposition = NULL;
    out->content_type = NULL;
    if (memchr(block, '\0', len) != NULL)
        return NSDB_ERR_PARSE;
    char *copy = arena_strndup(a, block, len);
    /* Unfold obsolete continuation lines (RFC 5322 folding) into spaces. */
    for (char *p = copy; *p != '\0'; p++)
        if (p[0] == '\r' && p[1] == '\n' && is_ows(p[2]))
            p[0] = p[1] = ' ';
    char *line = copy;
    for (;;) {
        char *eol = strstr(line, "\r\n");
        if (eol != NULL)
            *eol = '\0';
        if (strpbrk(line, "\r\n") != NULL)
            return NSDB_ERR_PARSE; /* a bare CR or LF */
        char *colon = strchr(line, ':');
        if (colon == NULL)
            return NSDB_ERR_PARSE;
        *colon = '\0';
        char *value = (char *)skip_ows(colon + 1);
        value[trim_end(value, strlen(value))] = '\0';
        char *name = (char *)skip_ows(line);
        name[trim_end(name, strlen(name))] = '\0';
        if (strcasecmp(name, "Content-Disposition") == 0 && out->disposition == NULL)
            out->disposition = value;
        else if (strcasecmp(name, "Content-Type") == 0 && out->content_type == NULL)
            out->content_type = value;
        if (eol == NULL)
            break;
        line = eol + 2;
    }
    return NSDB_OK;
}

/* Index of the "\r\n\r\n" that ends the header block starting at pos. */
static NSDB_MUST_CHECK nsdb_err header_block_end(const char *body, size_t len, size_t pos,
                                                 size_t *end)
{
    if (len - pos >= 2 && body[pos] == '\r' && body[pos + 1] == '\n')
        return NSDB_ERR_PARSE; /* no headers, so no Content-Disposition */
    size_t window = len - pos;
    if (window > HTTP_MULTIPART_MAX_HEADER_BLOCK + 4)
        window = HTTP_MULTIPART_MAX_HEADER_BLOCK + 4;
    const char *match = memmem(body + pos, window, "\r\n\r\n", 4);
    if (match == NULL)
        return NSDB_ERR_PARSE; /* too long, or cut off */
    *end = (size_t)(match - body);
    return NSDB_OK;
}

static bool hex_value(char c, unsigned *v)
{
    if (c >= '0' && c <= '9')
        *v = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
        *v = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
        *v = (unsigned)(c - 'A' + 10);
    else
        return false;
    return true;
}

/* Decodes an RFC 5987 ext-value "UTF-8'lang'%E6%97%A5.csv"; NULL when it is another charset,
 * badly encoded, or not clean UTF-8 (controls have no place in a file name). */
static const char *ext_value_decode(arena *a, const char *ext)
{
    const char *quote1 = strchr(ext, '\'');
    if (quote1 == NULL || quote1 - ext != 5 || strncasecmp(ext, "UTF-8", 5) != 0)
        return NULL;
    const char *quote2 = strchr(quote1 + 1, '\'');
    if (quote2 == NULL)
        return NULL;
    const char *src = quote2 + 1;
    char *out = arena_alloc(a, strlen(src) + 1);
    size_t n = 0;
    for (const char *p = src; *p != '\0'; p++) {
        if (*p != '%') {
            out[n++] = *p;
            continue;
        }
        unsigned hi, lo;
        if (!hex_value(p[1], &hi) || !hex_value(p[2], &lo))
            return NULL;
        out[n++] = (char)(hi << 4 | lo);
        p += 2;
    }
    out[n] = '\0';
    if (!str_is_clean_utf8(out, n) || strpbrk(out, "\t\r\n") != NULL)
        return NULL;
    return out;
}

/* The last component of a client path; "." and ".." name no file. A name that is not UTF-8 may
   be CP932, whose second byte can be 0x5C, the backslash (申, 表, ソ): there a lead byte (0x81-0x9F,
   0xE0-0xFC) takes the next byte with it, so the name is not cut inside a character. */
static const char *filename_basename(const char *path)
{
    bool utf8 = str_is_clean_utf8(path, strlen(path));
    const char *base = path;
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        bool lead = (*p >= 0x81 && *p <= 0x9F) || (*p >= 0xE0 && *p <= 0xFC);
        if (!utf8 && lead && p[1] != '\0')
            p++;
        else if (*p == '/' || *p == '\\')
            base = (const char *)p + 1;
    }
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return "";
    return base;
}

static NSDB_MUST_CHECK nsdb_err part_param_make(arena *a, const part_headers *headers,
                                                const char *data, size_t len, http_param **out)
{
    const char *disposition = headers->disposition;
    if (disposition == NULL || !header_value_type_is(disposition, "form-data"))
        return NSDB_ERR_PARSE;
    char *name, *filename, *filename_ext;
    nsdb_err err = header_param_find(a, disposition, "name", &name);
    if (err == NSDB_OK)
        err = header_param_find(a, disposition, "filename", &filename);
    if (err == NSDB_OK)
        err = header_param_find(a, disposition, "filename*", &filename_ext);
    if (err != NSDB_OK)
        return err;
    if (name == NULL)
        return NSDB_ERR_PARSE;

    http_param *p = arena_calloc(a, 1, sizeof *p);
    p->name = name;
    if (filename != NULL || filename_ext != NULL) {
        const char *chosen = filename_ext != NULL ? ext_value_decode(a, filename_ext) : NULL;
        if (chosen == NULL)
            chosen = filename != NULL ? filename : "";
        p->filename = filename_basename(chosen);
        p->content_type = headers->content_type != NULL && headers->content_type[0] != '\0'
                              ? headers->content_type
                              : "application/octet-stream";
    }
    char *value = arena_alloc(a, len + 1);
    if (len > 0)
        memcpy(value, data, len);
    value[len] = '\0';
    p->value = value;
    p->value_len = len;
    *out = p;
    return NSDB_OK;
}

nsdb_err http_parse_multipart(arena *a, const char *content_type, const char *body, size_t len,
                              http_param **out)
{
    *out = NULL;
    if (content_type == NULL || (body == NULL && len > 0))
        return NSDB_ERR_PARSE;
    if (body == NULL)
        body = "";
    char *boundary;
    nsdb_err err = boundary_from_content_type(a, content_type, &boundary);
    if (err != NSDB_OK)
        return err;
    const char *delim = arena_printf(a, "\r\n--%s", boundary);
    size_t delim_len = strlen(delim);

    size_t pos;
    bool closing;
    if (!delimiter_find_first(body, len, delim, delim_len, &pos, &closing))
        return NSDB_ERR_PARSE;

    http_param *head = NULL, **tail = &head;
    unsigned parts = 0;
    while (!closing) {
        if (++parts > HTTP_MULTIPART_MAX_PARTS)
            return NSDB_ERR_PARSE;
        size_t headers_end;
        err = header_block_end(body, len, pos, &headers_end);
        if (err != NSDB_OK)
            return err;
        part_headers headers;
        err = part_headers_parse(a, body + pos, headers_end - pos, &headers);
        if (err != NSDB_OK)
            return err;
        size_t data = headers_end + 4, data_end;
        if (!delimiter_find(body, len, data, delim, delim_len, &data_end, &pos, &closing))
            return NSDB_ERR_PARSE; /* no final boundary */
        assert(data <= data_end && data_end < pos && pos <= len);
        http_param *p;
        err = part_param_make(a, &headers, body + data, data_end - data, &p);
        if (err != NSDB_OK)
            return err;
        *tail = p;
        tail = &p->next;
    }
    *out = head;
    return NSDB_OK;
}
