/*
 * arena.h — region allocator. Everything a request allocates comes from its arena and is
 * released at once by arena_free. Also owns cleanup callbacks for foreign objects (jansson
 * values, statements) so that one call frees the whole request.
 */
#ifndef NSDB_ARENA_H
#define NSDB_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
/* Never returns NULL: allocation failure aborts (we cannot serve without memory). */
void *arena_alloc(arena *a, size_t size);
void *arena_calloc(arena *a, size_t count, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For arrays that grow one item at a time: returns items when count < *cap, otherwise a copy with
   twice the capacity (the new part zeroed) and *cap updated. */
void *arena_grow(arena *a, void *items, size_t count, size_t *cap, size_t size);
/* Run fn(ptr) when the arena is freed (in reverse order of registration). */
void arena_defer(arena *a, void (*fn)(void *), void *ptr);

#endif
