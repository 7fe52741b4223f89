/*
 * fuzz_multipart.c — libFuzzer harness for the multipart/form-data parser (http/multipart.c):
 * the input's first line is what follows "boundary=" in the Content-Type header (so a quoted
 * boundary and further parameters are fuzzed too), the rest is the body, in a buffer of exactly
 * its size and not NUL-terminated, as the server holds it. Checked besides memory and UB: on
 * success every part has a name, a NUL-terminated value of value_len bytes copied from the body,
 * a file name without a directory (a name that is not UTF-8 may be CP932, whose second byte can
 * be a backslash: such a pair is one character), and there are no more parts than the limit.
 */
#include "fuzz_support.h"

#include <stdbool.h>

#include "http/multipart.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when name holds no '/' and no '\\' but a '\\' right after a CP932 lead byte ('/' is
 * never the second byte of a CP932 character). Whether the name was CP932 is decided on the whole
 * path the client sent, so the base name alone may happen to read as UTF-8. */
static bool filename_is_base(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        bool lead = (*p >= 0x81 && *p <= 0x9F) || (*p >= 0xE0 && *p <= 0xFC);
        if (*p == '/')
            return false;
        if (lead && p[1] == '\\')
            p++;
        else if (*p == '\\')
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *newline = memchr(data, '\n', size);
    size_t line_len = newline != NULL ? (size_t)(newline - data) : size;
    size_t body_start = newline != NULL ? line_len + 1 : size;
    if (line_len > 256)
        return 0; /* a header this long is refused by the server before parsing */
    char content_type[300];
    snprintf(content_type, sizeof content_type, "multipart/form-data; boundary=%.*s", (int)line_len,
             (const char *)data);
    size_t len = size - body_start;
    char *body = fuzz_copy(data + body_start, len);

    arena *a = arena_new();
    http_param *params = NULL;
    nsdb_err err = http_parse_multipart(a, content_type, body, len, &params);
    if (err != NSDB_OK) {
        FUZZ_CHECK(err == NSDB_ERR_PARSE && params == NULL);
    } else {
        size_t count = 0;
        for (const http_param *p = params; p != NULL; p = p->next) {
            count++;
            FUZZ_CHECK(p->name != NULL && p->value != NULL);
            FUZZ_CHECK(p->value[p->value_len] == '\0');
            FUZZ_CHECK(p->value_len <= len);
            FUZZ_CHECK(p->value_len == 0 || memmem(body, len, p->value, p->value_len) != NULL);
            if (p->filename != NULL) {
                FUZZ_CHECK(filename_is_base(p->filename));
                FUZZ_CHECK(strcmp(p->filename, ".") != 0 && strcmp(p->filename, "..") != 0);
                FUZZ_CHECK(p->content_type != NULL && p->content_type[0] != '\0');
            }
        }
        FUZZ_CHECK(count <= HTTP_MULTIPART_MAX_PARTS);
    }
    arena_free(a);
    free(body);
    return 0;
}
