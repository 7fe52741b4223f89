/*
 * both_backends.h — for cmocka tests of the storage that run on SQLite always and on PostgreSQL
 * when NSDB_DATABASE_URL names a server (scripts/pg-test.sh sets it; without it those cases are
 * skipped: their state is NULL). The test file defines setup_with(state, url), url NULL for
 * SQLite in a temporary folder, and lists its tests with BOTH(test) over its teardown.
 */
#ifndef NSDB_TEST_BOTH_BACKENDS_H
#define NSDB_TEST_BOTH_BACKENDS_H

#include <stdlib.h>

static int setup_with(void **state, const char *url);

static int setup_sqlite(void **state)
{
    return setup_with(state, NULL);
}

static int setup_pg(void **state)
{
    const char *url = getenv("NSDB_DATABASE_URL");
    if (url == NULL || *url == '\0') {
        *state = NULL;
        return 0;
    }
    return setup_with(state, url);
}

#define BOTH(fn)                                                                                   \
    {"sqlite: " #fn, fn, setup_sqlite, teardown, NULL},                                          \
        {"postgresql: " #fn, fn, setup_pg, teardown, NULL}

#endif
