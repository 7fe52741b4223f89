/*
 * key_map.c — see key_map.h.
 */
#include "util/key_map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static key_map_entry *map_slot(const key_map *m, const void *key, size_t len)
{
    size_t i = (size_t)key_hash(key, len) & (m->cap - 1);
    while (m->slots[i].key != NULL &&
           (m->slots[i].len != len || memcmp(m->slots[i].key, key, len) != 0))
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

/* Room for one more key. */
static NSDB_MUST_CHECK nsdb_err map_reserve(key_map *m)
{
    if (m->cap != 0 && (m->count + 1) * 2 <= m->cap)
        return NSDB_OK;
    key_map bigger = {calloc(m->cap ? m->cap * 2 : 1024, sizeof(key_map_entry)),
                      m->cap ? m->cap * 2 : 1024, m->count};
    if (bigger.slots == NULL)
        return NSDB_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL)
            *map_slot(&bigger, m->slots[i].key, m->slots[i].len) = m->slots[i];
    free(m->slots);
    *m = bigger;
    return NSDB_OK;
}

uint32_t key_map_get(const key_map *m, const void *key, size_t len)
{
    if (m->cap == 0)
        return UINT32_MAX;
    const key_map_entry *s = map_slot(m, key, len);
    return s->key != NULL ? s->value : UINT32_MAX;
}

nsdb_err key_map_get_or_add(key_map *m, const void *key, size_t len, uint32_t value, uint32_t *out,
                            bool *added)
{
    nsdb_err e = map_reserve(m);
    if (e != NSDB_OK)
        return e;
    key_map_entry *s = map_slot(m, key, len);
    *added = s->key == NULL;
    if (*added) {
        *s = (key_map_entry){key, (uint32_t)len, value};
        m->count++;
    }
    *out = s->value;
    return NSDB_OK;
}

void key_map_free(key_map *m)
{
    free(m->slots);
    *m = (key_map){0};
}
