/*
 * fuzz_support.h — what the libFuzzer harnesses in tests/fuzz share: cutting one input into the
 * several pieces a harness needs (a template and its values, a sheet and its shared strings,
 * files of one upload) at a separator line, and copying a piece into a buffer of exactly its size,
 * so that AddressSanitizer sees a read one byte past the end. Harnesses allocate nothing that
 * outlives one input and write no files. Everything is static inline.
 */
#ifndef NSDB_FUZZ_SUPPORT_H
#define NSDB_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Between two pieces of one input; also in each harness's dictionary. */
#define FUZZ_SEPARATOR "\n=====\n"
#define FUZZ_SEPARATOR_LEN (sizeof FUZZ_SEPARATOR - 1)

typedef struct fuzz_piece {
    const uint8_t *data;
    size_t len;
} fuzz_piece;

/* Cuts data at FUZZ_SEPARATOR into at most max pieces (the last one keeps any further
 * separators); returns how many. An input without a separator is one piece. */
static inline size_t fuzz_split(const uint8_t *data, size_t len, fuzz_piece *pieces, size_t max)
{
    size_t count = 0;
    while (count + 1 < max) {
        const uint8_t *sep = memmem(data, len, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN);
        if (sep == NULL)
            break;
        pieces[count++] = (fuzz_piece){data, (size_t)(sep - data)};
        len -= (size_t)(sep - data) + FUZZ_SEPARATOR_LEN;
        data = sep + FUZZ_SEPARATOR_LEN;
    }
    pieces[count++] = (fuzz_piece){data, len};
    return count;
}

/* A malloc'd copy of exactly len bytes (one byte for an empty piece, so that it is not NULL). */
static inline char *fuzz_copy(const uint8_t *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        abort();
    if (len > 0)
        memcpy(copy, data, len);
    return copy;
}

/* The same, NUL-terminated (for APIs that take a C string). */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    return copy;
}

/* A broken promise of the code under test: libFuzzer reports the abort with its input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
