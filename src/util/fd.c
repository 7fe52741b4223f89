/*
 * fd.c — whole-buffer reads and writes on a file descriptor (fd.h): a signal or a short transfer
 * is retried, so that callers see a buffer moved in full or NSDB_ERR_IO, never a partial count.
 */
#include "util/fd.h"

#include <errno.h>
#include <unistd.h>

nsdb_err fd_read_exact(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NSDB_ERR_IO;
        done += (size_t)r;
    }
    return NSDB_OK;
}

nsdb_err fd_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return NSDB_ERR_IO;
        done += (size_t)w;
    }
    return NSDB_OK;
}
