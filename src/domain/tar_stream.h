/*
 * tar_stream.h — a POSIX ustar archive of files on disk, produced on demand at any offset, so that
 * a cycle's media (gigabytes of ISO images) can be sent as one download without copying them: the
 * archive's size is known before the first byte (Content-Length), headers are generated and file
 * contents are read with pread when asked for. A file that changed size since the archive was
 * laid out fails the read rather than sending a corrupt archive.
 */
#ifndef NSDB_TAR_STREAM_H
#define NSDB_TAR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TAR_NAME_MAX 99 /* bytes of a member name (ustar's name field, no prefix split) */

typedef struct tar_entry {
    const char *name; /* in the archive, at most TAR_NAME_MAX bytes */
    const char *path; /* on disk */
    uint64_t size;
    int64_t mtime;
} tar_entry;

typedef struct tar_stream tar_stream;

/* Lays out the archive of n entries (strings are copied). NSDB_ERR_INVALID for a name too long
   or a size past ustar's 8 GiB. */
NSDB_MUST_CHECK nsdb_err tar_stream_open(const tar_entry *entries, size_t n, tar_stream **out);
uint64_t tar_stream_size(const tar_stream *t);
/* Up to max bytes of the archive at pos into buf: the count (0 at the end), -1 when a file
   cannot be read or no longer has the size it was laid out with. */
long tar_stream_read(tar_stream *t, uint64_t pos, char *buf, size_t max);
void tar_stream_free(tar_stream *t);

#endif
