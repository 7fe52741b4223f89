/*
 * tar_stream.c — see tar_stream.h. Member i occupies [offset[i], offset[i] + 512 + size padded to
 * 512): its header block, then its data; two zero blocks end the archive. One file is open at a
 * time (a cycle has more ISO images than a process has descriptors).
 */
#include "domain/tar_stream.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 512u

typedef struct member {
    char *name, *path;
    uint64_t size, offset;
    int64_t mtime;
} member;

struct tar_stream {
    member *members;
    size_t count;
    uint64_t size;
    size_t open_index; /* the member whose file is open_fd */
    int open_fd;
};

static uint64_t padded(uint64_t n)
{
    return (n + BLOCK - 1) / BLOCK * BLOCK;
}

nsdb_err tar_stream_open(const tar_entry *entries, size_t n, tar_stream **out)
{
    *out = NULL;
    tar_stream *t = calloc(1, sizeof *t);
    if (t == NULL || (t->members = calloc(n ? n : 1, sizeof *t->members)) == NULL) {
        free(t);
        return NSDB_ERR_NOMEM;
    }
    t->open_fd = -1;
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (strlen(entries[i].name) > TAR_NAME_MAX || entries[i].size >= (1ULL << 33)) {
            tar_stream_free(t);
            return NSDB_ERR_INVALID;
        }
        member *m = &t->members[t->count++];
        m->name = strdup(entries[i].name);
        m->path = strdup(entries[i].path);
        if (m->name == NULL || m->path == NULL) {
            tar_stream_free(t);
            return NSDB_ERR_NOMEM;
        }
        m->size = entries[i].size;
        m->mtime = entries[i].mtime;
        m->offset = at;
        at += BLOCK + padded(m->size);
    }
    t->size = at + 2 * BLOCK;
    *out = t;
    return NSDB_OK;
}

uint64_t tar_stream_size(const tar_stream *t)
{
    return t->size;
}

void tar_stream_free(tar_stream *t)
{
    if (t == NULL)
        return;
    if (t->open_fd >= 0)
        close(t->open_fd);
    for (size_t i = 0; i < t->count; i++) {
        free(t->members[i].name);
        free(t->members[i].path);
    }
    free(t->members);
    free(t);
}

/* An 11-digit octal field and its NUL (values past 8^11 - 1 are clamped; sizes never are). */
static void octal11(unsigned char *field, uint64_t v)
{
    if (v > 077777777777ULL)
        v = 077777777777ULL;
    for (int i = 10; i >= 0; i--, v >>= 3)
        field[i] = (unsigned char)('0' + (v & 7));
    field[11] = '\0';
}

static void header_block(const member *m, unsigned char block[BLOCK])
{
    memset(block, 0, BLOCK);
    memcpy(block, m->name, strlen(m->name)); /* name */
    memcpy(block + 100, "0000644", 7);       /* mode */
    memcpy(block + 108, "0000000", 7);       /* uid */
    memcpy(block + 116, "0000000", 7);       /* gid */
    octal11(block + 124, m->size);
    octal11(block + 136, m->mtime > 0 ? (uint64_t)m->mtime : 0);
    memset(block + 148, ' ', 8); /* the checksum counts its own field as spaces */
    block[156] = '0';            /* a regular file */
    memcpy(block + 257, "ustar", 6);
    memcpy(block + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < BLOCK; i++)
        sum += block[i];
    for (int i = 5; i >= 0; i--, sum >>= 3)
        block[148 + i] = (unsigned char)('0' + (sum & 7));
    block[154] = '\0';
    block[155] = ' ';
}

/* The member holding archive offset pos (pos before the trailer). */
static size_t member_at(const tar_stream *t, uint64_t pos)
{
    size_t lo = 0, hi = t->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->members[mid].offset <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Data of member i at offset off (within its size). */
static long read_data(tar_stream *t, size_t i, uint64_t off, char *buf, size_t max)
{
    const member *m = &t->members[i];
    if (t->open_fd < 0 || t->open_index != i) {
        if (t->open_fd >= 0)
            close(t->open_fd);
        t->open_fd = open(m->path, O_RDONLY | O_CLOEXEC);
        t->open_index = i;
        if (t->open_fd < 0)
            return -1;
        off_t end = lseek(t->open_fd, 0, SEEK_END);
        if (end < 0 || (uint64_t)end != m->size)
            return -1; /* rewritten since the archive was laid out */
    }
    ssize_t n = pread(t->open_fd, buf, max, (off_t)off);
    return n <= 0 ? -1 : (long)n; /* a short file is an error, never a short member */
}

long tar_stream_read(tar_stream *t, uint64_t pos, char *buf, size_t max)
{
    if (pos >= t->size || max == 0)
        return 0;
    uint64_t trailer = t->size - 2 * BLOCK;
    if (t->count == 0 || pos >= trailer) {
        size_t n = (size_t)(t->size - pos) < max ? (size_t)(t->size - pos) : max;
        memset(buf, 0, n);
        return (long)n;
    }
    size_t i = member_at(t, pos);
    const member *m = &t->members[i];
    uint64_t off = pos - m->offset;
    if (off < BLOCK) {
        unsigned char block[BLOCK];
        header_block(m, block);
        size_t n = BLOCK - (size_t)off < max ? BLOCK - (size_t)off : max;
        memcpy(buf, block + off, n);
        return (long)n;
    }
    off -= BLOCK;
    if (off < m->size) {
        uint64_t left = m->size - off;
        return read_data(t, i, off, buf, left < max ? (size_t)left : max);
    }
    uint64_t pad = padded(m->size) - off; /* zeros up to the next block */
    size_t n = pad < max ? (size_t)pad : max;
    memset(buf, 0, n);
    return (long)n;
}
