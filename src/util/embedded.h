/*
 * embedded.h — files compiled into the binary by tools/embed.c (templates/, static/,
 * migrations/, data/). Paths are as in the repository ("templates/login.html").
 */
#ifndef NSDB_EMBEDDED_H
#define NSDB_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path;
    const char *data; /* NUL-terminated */
    size_t size;
};

extern const struct embedded_file embedded_files[];

/* NULL when absent. */
const struct embedded_file *embedded_find(const char *path);

#endif
