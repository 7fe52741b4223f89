/*
 * body.c — request bodies in memory or in an unlinked temporary file, and the server-wide budget
 * of bytes in flight (see body.h).
 */
#include "http/body.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

bool http_body_reserve(http_body_budget *b, http_request *req, size_t n)
{
    if (n == 0)
        return true;
    size_t cur = atomic_load(&b->in_flight);
    do {
        if (b->cap != 0 && (n > b->cap || cur > b->cap - n))
            return false;
    } while (!atomic_compare_exchange_weak(&b->in_flight, &cur, cur + n));
    req->body_reserved += n;
    return true;
}

static void body_unreserve(http_body_budget *b, http_request *req)
{
    if (req->body_reserved != 0)
        atomic_fetch_sub(&b->in_flight, req->body_reserved);
    req->body_reserved = 0;
}

/* An unlinked file in dir: O_TMPFILE where the file system has it, else mkstemp + unlink. */
static int body_tmpfile(const char *dir)
{
    if (dir == NULL || *dir == '\0')
        dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/nsdb-upload-XXXXXX", dir) >= (int)sizeof path)
        return -1;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static nsdb_err write_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return NSDB_ERR_IO;
        }
        data += w;
        n -= (size_t)w;
    }
    return NSDB_OK;
}

nsdb_err http_body_append(http_body_budget *b, http_request *req, const char *data, size_t n)
{
    size_t total = req->body_received + n;
    if (total > req->body_reserved && !http_body_reserve(b, req, total - req->body_reserved))
        return NSDB_ERR_BUSY;
    req->body_received = total;
    if (req->body_fd < 0 && req->body.len + n <= HTTP_BODY_MEMORY) {
        strbuf_append(&req->body, data, n);
        return NSDB_OK;
    }
    if (req->body_fd < 0) {
        req->body_fd = body_tmpfile(b->tmp_dir);
        if (req->body_fd < 0)
            return NSDB_ERR_IO;
        nsdb_err e = req->body.len ? write_all(req->body_fd, req->body.data, req->body.len) : NSDB_OK;
        strbuf_free(&req->body);
        if (e != NSDB_OK)
            return e;
    }
    return write_all(req->body_fd, data, n);
}

nsdb_err http_body_finish(http_request *req)
{
    if (req->body_fd < 0) {
        req->body_data = req->body.data;
        req->body_len = req->body.len;
        return NSDB_OK;
    }
    struct stat st;
    if (fstat(req->body_fd, &st) != 0 || st.st_size <= 0)
        return NSDB_ERR_IO;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, req->body_fd, 0);
    if (map == MAP_FAILED)
        return NSDB_ERR_IO;
    req->body_map = map;
    req->body_map_len = (size_t)st.st_size;
    req->body_data = map;
    req->body_len = (size_t)st.st_size;
    return NSDB_OK;
}

void http_body_discard(http_body_budget *b, http_request *req)
{
    (void)b;
    strbuf_free(&req->body);
    if (req->body_fd >= 0) {
        close(req->body_fd);
        req->body_fd = -1;
    }
}

void http_body_release(http_body_budget *b, http_request *req)
{
    if (req->body_map != NULL)
        munmap(req->body_map, req->body_map_len);
    req->body_map = NULL;
    req->body_data = NULL;
    req->body_len = 0;
    http_body_discard(b, req);
    body_unreserve(b, req);
}
