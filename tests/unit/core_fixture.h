/*
 * core_fixture.h — what the unit tests of core/ operations start from, written once: an app
 * opened on a fresh data folder (SQLite there, or the PostgreSQL database of url), the dummy
 * password hash of a running server, an arena, and a core context whose actor is the command
 * line. Include after both_backends.h and test_support.h; close with core_fixture_close.
 */
#ifndef NSDB_TEST_CORE_FIXTURE_H
#define NSDB_TEST_CORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/app.h"
#include "store/db_fault.h"

struct fixture {
    app app;
    char dir[64];
    arena *arena;
    core_ctx cli; /* the command line as actor */
};

/* prefix names the temporary folder ("nsdb-test-core"). */
static inline struct fixture *core_fixture_open(const char *url, const char *prefix)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(test_mkdtemp(f->dir, sizeof f->dir, prefix), 0);
    app_config cfg;
    app_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.database_url = url;
    /* the command line's connection, a background job's, the keeper's, and the second one of an
       import's registrations (core/import_tail.h) */
    assert_int_equal(app_open(&f->app, &cfg, 4), NSDB_OK);
    assert_int_equal(password_hash("dummy-password-for-timing", cfg.cost, f->app.dummy_hash),
                     NSDB_OK);
    f->arena = arena_new();
    f->cli = (core_ctx){.app = &f->app,
                        .conn = db_pool_acquire(f->app.pool),
                        .arena = f->arena,
                        .who = core_actor_cli()};
    return f;
}

/* A cmocka teardown: disarms the fault hook and removes everything core_fixture_open made. */
static inline int core_fixture_close(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    db_fault_inject(0);
    db_pool_release(f->app.pool, f->cli.conn);
    arena_free(f->arena);
    app_close(&f->app);
    char path[128];
    snprintf(path, sizeof path, "%s/media", f->dir);
    rmdir(path);
    remove_data_dir(f->dir);
    free(f);
    return 0;
}

#endif
