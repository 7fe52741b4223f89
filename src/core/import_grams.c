/*
 * import_grams.c — see import_grams.h.
 */
#include "core/import_grams.h"

#include <stdlib.h>
#include <string.h>

#include "domain/text.h"

/* Counts one more user for the pair gram (len bytes at start) and key. */
static NSDB_MUST_CHECK nsdb_err count_pair(import_grams *g, arena *a, const char *start, size_t len,
                                           const char *key)
{
    strbuf_reset(&g->pair);
    strbuf_append(&g->pair, start, len);
    strbuf_putc(&g->pair, '\x1f');
    strbuf_append(&g->pair, key, strlen(key));
    uint32_t at = key_map_get(&g->seen, g->pair.data, g->pair.len);
    if (at != UINT32_MAX) {
        g->rows[at].users++;
        return NSDB_OK;
    }
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        store_bulk_gram *more = realloc(g->rows, cap * sizeof *more);
        if (more == NULL)
            return NSDB_ERR_NOMEM;
        g->rows = more;
        g->cap = cap;
    }
    bool added = false;
    nsdb_err e = key_map_get_or_add(&g->seen, arena_strndup(a, g->pair.data, g->pair.len),
                                    g->pair.len, (uint32_t)g->count, &at, &added);
    if (e == NSDB_OK)
        g->rows[g->count++] = (store_bulk_gram){arena_strndup(a, start, len), key, 1};
    return e;
}

nsdb_err import_grams_add(import_grams *g, arena *a, const char *key)
{
    size_t most = key ? 2 * strlen(key) + 1 : 0;
    if (most <= 1)
        return NSDB_OK;
    const char **starts = arena_calloc(a, most, sizeof *starts);
    size_t *lens = arena_calloc(a, most, sizeof *lens);
    size_t grams = text_grams(key, starts, lens, most);
    nsdb_err e = NSDB_OK;
    for (size_t i = 0; e == NSDB_OK && i < grams; i++)
        e = count_pair(g, a, starts[i], lens[i], key);
    return e;
}

void import_grams_free(import_grams *g)
{
    free(g->rows);
    key_map_free(&g->seen);
    strbuf_free(&g->pair);
    *g = (import_grams){0};
}
