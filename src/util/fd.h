/*
 * fd.h — whole-buffer reads and writes on a file descriptor: the loops that retry after EINTR
 * and short transfers, written once for the key files (secret, pki) and the ISO images (iso).
 */
#ifndef NSDB_FD_H
#define NSDB_FD_H

#include <stddef.h>

#include "util/err.h"

/* Reads exactly n bytes into buf; NSDB_ERR_IO on a read error or an early end of file. */
NSDB_MUST_CHECK nsdb_err fd_read_exact(int fd, void *buf, size_t n);
/* Writes all n bytes of buf; NSDB_ERR_IO on a write error or a write that makes no progress. */
NSDB_MUST_CHECK nsdb_err fd_write_all(int fd, const void *buf, size_t n);

#endif
