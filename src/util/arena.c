/*
 * arena.c — bump allocator over a chain of blocks plus a list of deferred cleanups.
 * Large requests get their own block so that a big upload does not waste a chunk.
 */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t size;
    max_align_t data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *ptr;
};

struct arena {
    struct arena_block *blocks;
    struct arena_cleanup *cleanups;
};

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    return p;
}

arena *arena_new(void)
{
    arena *a = xmalloc(sizeof *a);
    a->blocks = NULL;
    a->cleanups = NULL;
    return a;
}

void arena_free(arena *a)
{
    if (a == NULL)
        return;
    for (struct arena_cleanup *c = a->cleanups; c != NULL;) {
        struct arena_cleanup *next = c->next;
        c->fn(c->ptr);
        c = next; /* the cleanup record itself lives in a block */
    }
    for (struct arena_block *b = a->blocks; b != NULL;) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    struct arena_block *b = a->blocks;
    if (b == NULL || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK_SIZE / 2 ? size : ARENA_BLOCK_SIZE;
        if (cap > SIZE_MAX - sizeof *b)
            abort();
        struct arena_block *nb = xmalloc(sizeof *nb + cap);
        nb->used = 0;
        nb->size = cap;
        if (size > ARENA_BLOCK_SIZE / 2 && b != NULL) {
            /* keep the current block for small allocations: insert behind it */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->blocks = nb;
        }
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        abort();
    void *p = arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(arena *a, void (*fn)(void *), void *ptr)
{
    struct arena_cleanup *c = arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
}

void *arena_grow(arena *a, void *items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap)
        return items;
    size_t bigger = *cap ? *cap * 2 : 16;
    void *p = arena_calloc(a, bigger, size);
    if (count > 0)
        memcpy(p, items, count * size);
    *cap = bigger;
    return p;
}
