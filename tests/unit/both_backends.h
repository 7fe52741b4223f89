/*
 * both_backends.h — for cmocka tests of the storage that run on SQLite always and on PostgreSQL
 * when NSDB_DATABASE_URL names a server (scripts/pg-test.sh sets it; without it those cases are
 * skipped: their state is NULL). The test file defines setup_with(state, url), url NULL for
 * SQLite in a temporary folder, and lists its tests with BOTH(test) over its teardown.
 */
#ifndef NSDB_TEST_BOTH_BACKENDS_H
#define NSDB_TEST_BOTH_BACKENDS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int setup_with(void **state, const char *url);

static inline int setup_sqlite(void **state)
{
    return setup_with(state, NULL);
}

static inline int setup_pg(void **state)
{
    const char *url = getenv("NSDB_DATABASE_URL");
    if (url == NULL || *url == '\0') {
        *state = NULL;
        return 0;
    }
    return setup_with(state, url);
}

/* Removes a test's temporary data folder: the SQLite files and the key, then the folder. */
static inline void remove_data_dir(const char *dir)
{
    static const char *const FILES[] = {"nsdb.sqlite3", "nsdb.sqlite3-wal", "nsdb.sqlite3-shm",
                                        "secret.key"};
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
        unlink(path);
    }
    rmdir(dir);
}

#define BOTH(fn)                                                                                   \
    {"sqlite: " #fn, fn, setup_sqlite, teardown, NULL},                                          \
        {"postgresql: " #fn, fn, setup_pg, teardown, NULL}

#endif
