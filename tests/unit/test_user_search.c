/*
 * test_user_search.c — store_user_search (src/store/user_search.c) finds exactly the users a
 * plain scan finds, in the same order, page by page, on SQLite always and on PostgreSQL when
 * NSDB_DATABASE_URL names a server (a fresh database is made for each test there). Names are
 * drawn from a few characters so that keys collide, contain one another and repeat characters;
 * some are changed afterwards, so the name-pair index (user_grams) must follow. The index itself
 * is compared with one rebuilt from the users table, also after names stored with variant
 * characters (髙橋) are folded again (store_search_keys_refold).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the test checks the index against plain SQL scans and makes its PostgreSQL database with
   db_exec_script: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "domain/text.h"
#include "store/bulk_import.h"
#include "store/db.h"
#include "store/import_batches.h"
#include "store/migrate.h"
#include "store/search_keys.h"
#include "store/sql.h"
#include "store/store.h"
#include "util/arena.h"

#include "both_backends.h"

#define USERS 400
#define PAGE 7

struct fixture {
    db_pool *pool;
    db *conn;
    char dir[64];
    char pg_name[64]; /* the database made for this test on PostgreSQL */
    char *admin_url;
    int64_t muni[2];
};

static const char *const CHARS[] = {"ア", "イ", "ウ", "ン", "佐", "藤", "林", "x", "タ", "ダ"};
#define NCHARS (sizeof CHARS / sizeof CHARS[0])

static unsigned rand_state = 12345;
static unsigned next_rand(void)
{
    rand_state = rand_state * 1103515245u + 12345u;
    return (rand_state >> 16) & 0x7fff;
}

/* A name key of 1–6 characters from CHARS, skewed towards the first few. */
static void random_key(char *out, size_t size)
{
    size_t n = 1 + next_rand() % 6;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned r = next_rand() % (NCHARS * 2);
        strncat(out, CHARS[r < NCHARS ? r : r % 4], size - strlen(out) - 1);
    }
}

static char *pg_url_for(const char *url, const char *dbname)
{
    const char *slash = strrchr(url, '/');
    size_t base = slash ? (size_t)(slash - url) : strlen(url);
    char *out = malloc(base + strlen(dbname) + 2);
    memcpy(out, url, base);
    sprintf(out + base, "/%s", dbname);
    return out;
}

/* One user of an import batch, written as import_write.c writes a chunk: the user and its
   registration by the bulk inserts, its name index by store_bulk_user_grams_add. */
static int64_t import_user(db *conn, int64_t muni, int64_t staff_pk, int64_t batch, int64_t inst,
                           const char *user_id, user_role role, const char *key,
                           const char *category, int64_t now)
{
    store_bulk_user_new u = {.user_id = user_id,
                             .role = role,
                             .name = key,
                             .category = category,
                             .search_key = key,
                             .institution_pk = inst};
    store_bulk_user_common common = {muni, staff_pk, batch, now};
    assert_int_equal(store_bulk_users_insert(conn, &u, 1, &common), NSDB_OK);
    assert_true(u.pk != 0);
    store_bulk_registration reg = {u.pk, inst};
    assert_int_equal(store_bulk_registrations_insert(conn, &reg, 1, muni, "2026-01", batch, now),
                     NSDB_OK);
    const char *starts[128];
    size_t lens[128];
    size_t n = text_grams(key, starts, lens, 128);
    assert_true(n <= 128);
    store_bulk_gram grams[128];
    char text[128][16];
    for (size_t g = 0; g < n; g++) {
        assert_true(lens[g] < sizeof text[g]);
        memcpy(text[g], starts[g], lens[g]);
        text[g][lens[g]] = '\0';
        grams[g] = (store_bulk_gram){text[g], key, 1};
    }
    assert_int_equal(store_bulk_user_grams_add(conn, muni, grams, n, 1), NSDB_OK);
    return u.pk;
}

static void fill(struct fixture *f)
{
    db *conn = f->conn;
    int applied = 0;
    assert_int_equal(migrate_apply_all(conn, &applied), NSDB_OK);
    assert_int_equal(db_begin(conn), NSDB_OK);
    assert_int_equal(store_municipality_insert(conn, "131016", "千代田区", NULL, NULL, 1,
                                               &f->muni[0]),
                     NSDB_OK);
    assert_int_equal(store_municipality_insert(conn, "131024", "中央区", NULL, NULL, 1,
                                               &f->muni[1]),
                     NSDB_OK);
    int64_t inst = 0;
    assert_int_equal(store_institution_insert(conn, "1310000008", "テスト病院", NULL, NULL, NULL, 1,
                                              &inst),
                     NSDB_OK);
    static const user_role ROLES[] = {USER_ROLE_DOCTOR, USER_ROLE_DOCTOR, USER_ROLE_INST_MANAGER,
                                      USER_ROLE_MUNI_STAFF};
    static const char *const CATEGORIES[] = {"nanbyo", "shoman", "both"};
    /* the second half of the first municipality's institution users come as one import batch,
       written as an import writes it: users, registrations and name index in bulk, the batch
       made visible at the end */
    store_user_new staff = {.user_id = "STAFF0000001",
                            .role = USER_ROLE_MUNI_STAFF,
                            .name = "職員",
                            .municipality_pk = f->muni[0],
                            .search_key = "職員"};
    int64_t staff_pk = 0, batch = 0;
    assert_int_equal(store_user_insert(conn, &staff, 1, &staff_pk), NSDB_OK);
    assert_int_equal(store_import_batch_open(conn, f->muni[0], staff_pk, "t.csv", USERS / 2, NULL,
                                             NULL, 1, &batch),
                     NSDB_OK);
    assert_int_equal(store_import_batch_set_state(conn, batch, IMPORT_STATE_WRITING, NULL, NULL, 1),
                     NSDB_OK);
    for (int i = 0; i < USERS; i++) {
        char key[64], user_id[16];
        random_key(key, sizeof key);
        snprintf(user_id, sizeof user_id, "T%011d", i);
        user_role role = ROLES[next_rand() % 4];
        bool inst_user = role != USER_ROLE_MUNI_STAFF;
        int64_t muni = f->muni[next_rand() % 5 == 0];
        bool imported = inst_user && muni == f->muni[0] && i >= USERS / 2;
        const char *category = CATEGORIES[next_rand() % 3];
        int64_t pk = 0;
        if (imported)
            pk = import_user(conn, muni, staff_pk, batch, inst, user_id, role, key, category,
                             1000 + i);
        else {
            store_user_new u = {.user_id = user_id,
                                .role = role,
                                .name = key,
                                .category = category,
                                .municipality_pk = muni,
                                .institution_pk = inst_user ? inst : 0,
                                .search_key = key};
            assert_int_equal(store_user_insert(conn, &u, 1000 + i, &pk), NSDB_OK);
        }
        if (next_rand() % 3 == 0)
            assert_int_equal(store_user_mark_notice_issued(conn, pk, 2000), NSDB_OK);
        if (next_rand() % 8 == 0 && !imported) { /* renamed: the old key's rows must go */
            char renamed[64];
            random_key(renamed, sizeof renamed);
            store_user_profile p = {.name = renamed};
            assert_int_equal(store_user_update_profile(conn, pk, &p, renamed, 3000), NSDB_OK);
        }
    }
    /* a name key that contains every pair of "アイウ" without containing "アイウ" */
    store_user_new trap = {.user_id = "TRAP00000001",
                           .role = USER_ROLE_DOCTOR,
                           .name = "アイxイウ",
                           .municipality_pk = f->muni[0],
                           .institution_pk = inst,
                           .search_key = "アイxイウ"};
    assert_int_equal(store_user_insert(conn, &trap, 5000, NULL), NSDB_OK);
    assert_int_equal(store_import_batch_set_state(conn, batch, IMPORT_STATE_VISIBLE, NULL, NULL, 1),
                     NSDB_OK);
    assert_int_equal(db_commit(conn), NSDB_OK);
}

static int setup_with(void **state, const char *url)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    rand_state = 12345;
    snprintf(f->dir, sizeof f->dir, "/tmp/nsdb-test-search.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char *test_url = NULL;
    if (url != NULL) {
        /* a database of its own, made through the server's default one */
        db_pool *admin = NULL;
        snprintf(f->pg_name, sizeof f->pg_name, "nsdb_search_%ld", (long)getpid());
        if (db_pool_open(url, f->dir, 1, &admin) != NSDB_OK)
            return -1;
        db *c = db_pool_acquire(admin);
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        nsdb_err e = db_exec_script(c, sql); /* one statement each: not in a transaction */
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_name);
        if (e == NSDB_OK)
            e = db_exec_script(c, sql);
        db_pool_release(admin, c);
        db_pool_close(admin);
        if (e != NSDB_OK)
            return -1;
        f->admin_url = strdup(url);
        test_url = pg_url_for(url, f->pg_name);
    }
    nsdb_err e = db_pool_open(test_url, f->dir, 1, &f->pool);
    free(test_url);
    if (e != NSDB_OK)
        return -1;
    f->conn = db_pool_acquire(f->pool);
    *state = f;
    fill(f);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    db_pool_release(f->pool, f->conn);
    db_pool_close(f->pool);
    if (f->admin_url != NULL) {
        db_pool *admin = NULL;
        if (db_pool_open(f->admin_url, f->dir, 1, &admin) == NSDB_OK) {
            db *c = db_pool_acquire(admin);
            char sql[128];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
            if (db_exec_script(c, sql) != NSDB_OK) /* a teardown: report, do not fail */
                fprintf(stderr, "test_user_search: %s not dropped\n", f->pg_name);
            db_pool_release(admin, c);
            db_pool_close(admin);
        }
        free(f->admin_url);
    }
    remove_data_dir(f->dir);
    free(f);
    return 0;
}

static struct fixture *fixture_of(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        skip(); /* PostgreSQL: NSDB_DATABASE_URL is not set */
    return f;
}

/* The users a plain scan finds, in name-key order: IDs into out, the number returned. */
static size_t reference(db *conn, const store_user_query *q, int64_t *out, size_t max)
{
    bool sqlite = db_get_dialect(conn) == DB_SQLITE;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id FROM users WHERE municipality_id = $1 AND role IN %s "
             "AND (%s(name_search, $2) > 0 OR user_id = $3) "
             "AND (notice_status = $4 OR $4 = '') AND (category = $5 OR $5 = '' OR "
             "($5 <> 'both' AND category = 'both')) "
             "ORDER BY name_search, id",
             q->municipal_roles ? "('muni_admin','muni_staff')" : "('doctor','inst_manager')",
             sqlite ? "instr" : "strpos");
    db_stmt *st = NULL;
    assert_int_equal(db_query(conn, &st, sql, "itttt", q->municipality_pk,
                              q->search_key ? q->search_key : "",
                              q->user_id_upper ? q->user_id_upper : "",
                              q->notice_status ? notice_status_key(q->notice_status) : "",
                              q->category ? q->category : ""),
                     NSDB_OK);
    size_t n = 0;
    while (db_step(st) == DB_ROW && n < max)
        out[n++] = db_column_int(st, 0);
    db_finalize(st);
    return n;
}

/* Pages through store_user_search and checks it against the reference. */
static void check_query(db *conn, store_user_query q)
{
    int64_t want[USERS + 8];
    size_t n_want = reference(conn, &q, want, USERS + 8);
    size_t got = 0;
    for (int64_t offset = 0;; offset += PAGE) {
        arena *a = arena_new();
        q.limit = PAGE;
        q.offset = offset;
        store_user *rows = NULL;
        size_t n = 0;
        int64_t total = -1;
        assert_int_equal(store_user_search(conn, a, &q, &rows, &n, &total), NSDB_OK);
        if (total != (int64_t)n_want)
            fail_msg(
                "key \"%s\" (municipal %d, status %s, category %s): total %lld, scan finds %zu",
                q.search_key ? q.search_key : "", q.municipal_roles,
                q.notice_status ? notice_status_key(q.notice_status) : "-",
                q.category ? q.category : "-", (long long)total, n_want);
        for (size_t i = 0; i < n; i++, got++) {
            if (got >= n_want || rows[i].pk != want[got])
                fail_msg("key \"%s\": row %zu is user %lld, the scan has %lld", q.search_key, got,
                         (long long)rows[i].pk, got < n_want ? (long long)want[got] : -1LL);
            assert_int_equal(rows[i].municipality_pk, q.municipality_pk);
        }
        arena_free(a);
        if (n < PAGE)
            break;
    }
    assert_int_equal(got, n_want);
}

static void test_every_key_finds_what_a_scan_finds(void **state)
{
    struct fixture *f = fixture_of(state);
    /* every character alone, and every substring of every name key in the first municipality */
    for (size_t c = 0; c < NCHARS; c++)
        check_query(f->conn,
                    (store_user_query){.municipality_pk = f->muni[0], .search_key = CHARS[c]});
    db_stmt *st = NULL;
    assert_int_equal(db_query(f->conn, &st,
                              "SELECT DISTINCT name_search FROM users WHERE municipality_id = $1 "
                              "ORDER BY name_search",
                              "i", f->muni[0]),
                     NSDB_OK);
    arena *keys = arena_new();
    const char *names[USERS + 8];
    size_t n_names = 0;
    while (db_step(st) == DB_ROW && n_names < USERS + 8)
        names[n_names++] = arena_strdup(keys, db_column_text(st, 0));
    db_finalize(st);
    assert_true(n_names > 50);
    int checked = 0;
    /* PostgreSQL answers each statement over the network: a quarter of the names there */
    size_t step = db_get_dialect(f->conn) == DB_SQLITE ? 1 : 4;
    for (size_t i = 0; i < n_names; i += step) {
        const char *s = names[i];
        size_t len = strlen(s);
        for (size_t from = 0; from < len; from++) {
            if (((unsigned char)s[from] & 0xC0) == 0x80)
                continue;
            for (size_t to = from + 1; to <= len; to++) {
                if (to < len && ((unsigned char)s[to] & 0xC0) == 0x80)
                    continue;
                char *key = arena_strndup(keys, s + from, to - from);
                check_query(f->conn,
                            (store_user_query){.municipality_pk = f->muni[0], .search_key = key});
                checked++;
            }
        }
    }
    assert_true(checked > 500 / (int)step);
    /* keys no one has, and the key whose pairs are all in one name that lacks the key */
    static const char *const ABSENT[] = {"アイウ", "ンンンンンンン", "山田", "佐藤林x", "z"};
    for (size_t i = 0; i < sizeof ABSENT / sizeof ABSENT[0]; i++)
        check_query(f->conn,
                    (store_user_query){.municipality_pk = f->muni[0], .search_key = ABSENT[i]});
    /* no key: everyone (counted as registered), and by notice status */
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0]});
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[1]});
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0],
                                            .notice_status = NOTICE_STATUS_ISSUED});
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0], .category = "shoman"});
    /* the other municipality, and the municipal users (searched by LIKE) */
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[1], .search_key = "ア"});
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[1], .search_key = "佐藤"});
    check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0],
                                            .municipal_roles = true,
                                            .search_key = "アイ"});
    arena_free(keys);
}

static void test_filters_and_user_id(void **state)
{
    struct fixture *f = fixture_of(state);
    static const char *const KEYS[] = {"ア", "アイ", "佐藤", "ウン", "アアア", "藤x"};
    static const notice_status STATUSES[] = {0, NOTICE_STATUS_UNISSUED, NOTICE_STATUS_ISSUED};
    static const char *const CATEGORIES[] = {NULL, "nanbyo", "both"};
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++)
        for (size_t s = 0; s < 3; s++)
            for (size_t c = 0; c < 3; c++)
                check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0],
                                                        .search_key = KEYS[k],
                                                        .notice_status = STATUSES[s],
                                                        .category = CATEGORIES[c]});
    /* a user ID typed into the name field finds that user, in its own municipality only */
    store_user_query q = {.municipality_pk = f->muni[0],
                          .search_key = "t00000000007",
                          .user_id_upper = "T00000000007",
                          .limit = 10};
    arena *a = arena_new();
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    store_user *u = NULL;
    assert_int_equal(store_user_find_by_user_id(f->conn, a, "T00000000007", &u), NSDB_OK);
    q.municipality_pk = u->municipality_pk;
    q.municipal_roles = u->role == USER_ROLE_MUNI_STAFF;
    assert_int_equal(store_user_search(f->conn, a, &q, &rows, &n, &total), NSDB_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, u->pk);
    q.municipality_pk = u->municipality_pk == f->muni[0] ? f->muni[1] : f->muni[0];
    assert_int_equal(store_user_search(f->conn, a, &q, &rows, &n, &total), NSDB_OK);
    assert_int_equal(total, 0);
    arena_free(a);
}

/* The index equals the one migration 007 builds from users. */
static void assert_index_matches_a_rebuild(struct fixture *f)
{
    bool sqlite = db_get_dialect(f->conn) == DB_SQLITE;
    const char *rebuilt =
        sqlite ? "WITH RECURSIVE g(id, m, s, i) AS (SELECT id, municipality_id, name_search, 1 "
                 "FROM users WHERE role IN ('doctor','inst_manager') AND name_search <> '' "
                 "UNION ALL SELECT id, m, s, i + 1 FROM g WHERE i < length(s)) "
                 "SELECT m, gram, s, COUNT(DISTINCT id) FROM (SELECT m, substr(s, i, 1) AS gram, "
                 "s, id FROM g UNION ALL SELECT m, substr(s, i, 2), s, id FROM g "
                 "WHERE i < length(s)) t GROUP BY 1, 2, 3"
               : "SELECT municipality_id, gram, name_search, COUNT(DISTINCT id) FROM users "
                 "CROSS JOIN LATERAL generate_series(1, length(name_search)) AS i "
                 "CROSS JOIN LATERAL (SELECT substr(name_search, i, 1) UNION ALL "
                 "SELECT substr(name_search, i, 2) WHERE i < length(name_search)) AS x(gram) "
                 "WHERE role IN ('doctor','inst_manager') AND name_search <> '' GROUP BY 1, 2, 3";
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT COUNT(*) FROM (SELECT * FROM (%s) r EXCEPT SELECT municipality_id, "
             "gram, name_search, users FROM user_grams) a), (SELECT COUNT(*) FROM (SELECT "
             "municipality_id, gram, name_search, users FROM user_grams EXCEPT SELECT * FROM (%s) "
             "r) b), (SELECT COUNT(*) FROM user_grams)",
             rebuilt, rebuilt);
    db_stmt *st = NULL;
    assert_int_equal(db_query(f->conn, &st, sql, NULL), NSDB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t missing = db_column_int(st, 0), extra = db_column_int(st, 1),
            rows = db_column_int(st, 2);
    db_finalize(st);
    assert_int_equal(missing, 0);
    assert_int_equal(extra, 0);
    assert_true(rows > 100);
}

/* The index kept up by inserts and renames equals a rebuild. */
static void test_index_matches_a_rebuild(void **state)
{
    assert_index_matches_a_rebuild(fixture_of(state));
}

/* Keys stored before the table of name variants (domain/itaiji.c) folded them are folded at
   start (store_search_keys_refold): 髙橋 stored then is found by 高橋 (and by 髙橋) now, the
   name-pair index moves with the keys, and a second run has nothing to do. */
static void test_refold_rekeys_names_stored_with_variants(void **state)
{
    struct fixture *f = fixture_of(state);
    static const struct {
        const char *user_id, *key;
        int muni;
        user_role role;
    } OLD[] = {
        {"ITAIJI000001", "髙橋タロウ", 0, USER_ROLE_DOCTOR},
        {"ITAIJI000002", "髙橋タロウ", 0, USER_ROLE_INST_MANAGER}, /* two users, one key */
        {"ITAIJI000003", "高橋ハナコ", 0, USER_ROLE_DOCTOR},       /* already the standard form */
        {"ITAIJI000004", "渡邊ワタナベ", 0, USER_ROLE_DOCTOR},
        {"ITAIJI000005", "山﨑ヤマサキ", 0, USER_ROLE_MUNI_STAFF}, /* not in the index */
        {"ITAIJI000006", "髙橋タロウ", 1, USER_ROLE_DOCTOR},       /* the other municipality */
        {"ITAIJI000007", "高橋タロウ", 0, USER_ROLE_DOCTOR},       /* the key the others get */
    };
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    for (size_t i = 0; i < sizeof OLD / sizeof OLD[0]; i++) {
        store_user_new u = {.user_id = OLD[i].user_id,
                            .role = OLD[i].role,
                            .name = OLD[i].key,
                            .municipality_pk = f->muni[OLD[i].muni],
                            .search_key = OLD[i].key};
        assert_int_equal(store_user_insert(f->conn, &u, 6000, NULL), NSDB_OK);
    }
    assert_int_equal(store_search_fold_set(f->conn, "0000000000000000"), NSDB_OK);
    int64_t users = -1;
    assert_int_equal(store_search_keys_refold(f->conn, &users), NSDB_OK);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
    assert_int_equal(users, 5);
    arena *a = arena_new();
    for (size_t i = 0; i < sizeof OLD / sizeof OLD[0]; i++) {
        store_user *u = NULL;
        assert_int_equal(store_user_find_by_user_id(f->conn, a, OLD[i].user_id, &u), NSDB_OK);
        db_stmt *st = NULL;
        assert_int_equal(db_query(f->conn, &st, "SELECT name_search FROM users WHERE id = $1", "i",
                                  u->pk),
                         NSDB_OK);
        assert_int_equal(db_step(st), DB_ROW);
        assert_string_equal(db_column_text(st, 0), text_search_key(a, OLD[i].key));
        db_finalize(st);
    }
    assert_index_matches_a_rebuild(f);
    /* found by either spelling, typed as the screens fold it */
    static const char *const TYPED[] = {"高橋", "髙橋", "高橋タロウ", "渡辺", "渡邉"};
    for (size_t i = 0; i < sizeof TYPED / sizeof TYPED[0]; i++)
        check_query(f->conn, (store_user_query){.municipality_pk = f->muni[0],
                                                .search_key = text_search_key(a, TYPED[i])});
    store_user *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    store_user_query q = {.municipality_pk = f->muni[0],
                          .search_key = text_search_key(a, "髙橋"),
                          .limit = 10};
    assert_int_equal(store_user_search(f->conn, a, &q, &rows, &n, &total), NSDB_OK);
    assert_int_equal(total, 4);
    q.municipal_roles = true;
    q.search_key = text_search_key(a, "山崎");
    assert_int_equal(store_user_search(f->conn, a, &q, &rows, &n, &total), NSDB_OK);
    assert_int_equal(total, 1);
    assert_string_equal(rows[0].user_id, "ITAIJI000005");
    /* nothing left to fold */
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    assert_int_equal(store_search_keys_refold(f->conn, &users), NSDB_OK);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
    assert_int_equal(users, 0);
    const char *fp = NULL;
    assert_int_equal(store_search_fold_get(f->conn, a, &fp), NSDB_OK);
    assert_string_equal(fp, "0000000000000000");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_every_key_finds_what_a_scan_finds),
        BOTH(test_filters_and_user_id),
        BOTH(test_index_matches_a_rebuild),
        BOTH(test_refold_rekeys_names_stored_with_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
