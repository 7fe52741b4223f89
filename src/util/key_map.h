/*
 * key_map.h — a small open-addressing hash table from byte keys (owned by the caller, outliving
 * the table) to 32-bit values, for the bulk import's decisions and its name index: FNV-1a,
 * linear probing, at most half full. Zero-initialise a key_map to start; key_map_free ends it.
 */
#ifndef NSDB_KEY_MAP_H
#define NSDB_KEY_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct key_map_entry {
    const void *key; /* NULL: empty */
    uint32_t len;
    uint32_t value;
} key_map_entry;

typedef struct key_map {
    key_map_entry *slots;
    size_t cap, count; /* cap a power of two, at most half full */
} key_map;

/* The value of key (UINT32_MAX when absent). */
uint32_t key_map_get(const key_map *m, const void *key, size_t len);
/* The value of key, or value after adding key (*added). */
NSDB_MUST_CHECK nsdb_err key_map_get_or_add(key_map *m, const void *key, size_t len, uint32_t value,
                                            uint32_t *out, bool *added);
void key_map_free(key_map *m);

#endif
