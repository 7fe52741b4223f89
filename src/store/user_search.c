/*
 * user_search.c — 医療機関ユーザ検索 and 自治体ユーザ検索: one municipality's users by name or kana
 * key, user ID and the screens' filters, counted (up to STORE_SEARCH_COUNT_CAP) and paged in
 * name-key order.
 *
 * An institution user's name or kana is found through user_grams (migration 007): for each
 * distinct name key of the municipality's institution users, each of its distinct characters and
 * pairs of adjacent characters (the grams), with the key and its number of users, in
 * (municipality, gram, key) order. A search key of one or two characters is a gram: its rows are
 * exactly the matching name keys. A longer key is contained only in name keys that contain each
 * of its pairs, so the search takes the pair with the fewest rows (each pair's rows are counted
 * up to GRAM_PROBE_CAP) and walks that one contiguous range checking the whole key against each
 * name key. The users of the matching keys are added up for the count, and the page's users are
 * read from the index users_inst_name in the order the range already has: no sort, and no user
 * is read who is not shown (filters are checked on that index's columns). Municipal users (a few
 * hundred per municipality) and an institution's own users are searched by LIKE over their
 * index range instead.
 */
#define NSDB_STORE_INTERNAL
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "store/visible.h"
#include "store/users.h"
#include "store/users_internal.h"
#include "util/str.h"

/* A pair's rows are counted up to this many when choosing the range to walk. */
#define GRAM_PROBE_CAP 256
/* At most this many of a long key's pairs are counted (spread over the key). */
#define GRAM_PROBES_MAX 8
/* Longest key searched by pairs, in bytes (a name key is at most a few hundred). */
#define GRAM_KEY_MAX 1024

/* ---- the index's upkeep ------------------------------------------------------------------- */

bool user_grams_role(user_role role)
{
    return (role_bit(role) & ROLES_INSTITUTION) != 0;
}

/* grams(gram): each distinct character of $2 and each distinct pair of adjacent characters
   (SQL shared by both dialects). */
#define GRAMS_OF_KEY                                                                              \
    "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < length($2)), "     \
    "grams(gram) AS (SELECT substr($2, i, 1) FROM g "                                            \
    "UNION SELECT substr($2, i, 2) FROM g WHERE i < length($2)) "

nsdb_err user_grams_add(db *conn, int64_t municipality_pk, const char *key)
{
    STORE_ASSERT_WRITE(conn);
    if (key == NULL || *key == '\0')
        return NSDB_OK;
    return db_exec(conn, NULL,
                   GRAMS_OF_KEY "INSERT INTO user_grams (municipality_id, gram, name_search, users) "
                                "SELECT $1, gram, $2, 1 FROM grams WHERE length($2) > 0 "
                                "ON CONFLICT (municipality_id, gram, name_search) "
                                "DO UPDATE SET users = user_grams.users + 1",
                   "it", municipality_pk, key);
}

nsdb_err user_grams_remove(db *conn, int64_t municipality_pk, const char *key)
{
    STORE_ASSERT_WRITE(conn);
    if (key == NULL || *key == '\0')
        return NSDB_OK;
    nsdb_err e = db_exec(conn, NULL,
                         GRAMS_OF_KEY "UPDATE user_grams SET users = users - 1 "
                                      "WHERE municipality_id = $1 AND name_search = $2 "
                                      "AND gram IN (SELECT gram FROM grams)",
                         "it", municipality_pk, key);
    if (e != NSDB_OK)
        return e;
    return db_exec(conn, NULL,
                   GRAMS_OF_KEY "DELETE FROM user_grams WHERE municipality_id = $1 "
                                "AND name_search = $2 AND gram IN (SELECT gram FROM grams) "
                                "AND users <= 0",
                   "it", municipality_pk, key);
}

nsdb_err user_grams_move(db *conn, int64_t municipality_pk, const char *old_key,
                         const char *new_key, int64_t users)
{
    STORE_ASSERT_WRITE(conn);
    assert(users > 0);
    nsdb_err e = db_exec(conn, NULL,
                         "DELETE FROM user_grams WHERE municipality_id = $1 AND name_search = $2",
                         "it", municipality_pk, old_key ? old_key : "");
    if (e != NSDB_OK || new_key == NULL || *new_key == '\0')
        return e;
    return db_exec(conn, NULL,
                   GRAMS_OF_KEY "INSERT INTO user_grams (municipality_id, gram, name_search, users) "
                                "SELECT $1, gram, $2, $3 FROM grams WHERE length($2) > 0 "
                                "ON CONFLICT (municipality_id, gram, name_search) "
                                "DO UPDATE SET users = user_grams.users + excluded.users",
                   "iti", municipality_pk, new_key, users);
}

/* ---- WHERE clauses ------------------------------------------------------------------------ */

/*
 * A search's WHERE clause holds only the conditions asked for, numbered $1, $2 … in order, so
 * that the planner can use an index for each (an "x = $n OR $n IS NULL" form would hide them)
 * and PostgreSQL sees every parameter it is given. The few shapes that occur are each prepared
 * once per connection by the statement cache.
 */
typedef struct search_sql {
    strbuf sql;
    int count;
    char types[16];
    const char *texts[16];
    int64_t ints[16];
} search_sql;

/* Appends "AND " and the condition; every %d of condition_fmt is the new parameter's number. */
static void search_text(search_sql *q, const char *condition_fmt, const char *value)
{
    q->count++;
    strbuf_puts(&q->sql, "AND ");
    strbuf_printf(&q->sql, condition_fmt, q->count, q->count, q->count);
    strbuf_putc(&q->sql, ' ');
    q->types[q->count - 1] = 't';
    q->texts[q->count - 1] = value;
}

static void search_int(search_sql *q, const char *condition_fmt, int64_t value)
{
    q->count++;
    strbuf_puts(&q->sql, "AND ");
    strbuf_printf(&q->sql, condition_fmt, q->count);
    strbuf_putc(&q->sql, ' ');
    q->types[q->count - 1] = 'i';
    q->ints[q->count - 1] = value;
}

static void search_bind(db_stmt *st, const search_sql *q)
{
    for (int i = 0; i < q->count; i++) {
        if (q->types[i] == 't')
            db_bind_text(st, i + 1, q->texts[i]);
        else
            db_bind_int(st, i + 1, q->ints[i]);
    }
}

static const char *like_pattern(arena *a, const char *text)
{
    strbuf like = STRBUF_INIT;
    strbuf_putc(&like, '%');
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            strbuf_putc(&like, '\\');
        strbuf_putc(&like, *p);
    }
    strbuf_putc(&like, '%');
    const char *out = arena_strdup(a, like.data);
    strbuf_free(&like);
    return out;
}

/* The conditions other than scope and key, over users u and institutions i. */
static void search_filters(arena *a, const store_user_query *q, search_sql *w)
{
    /* no parameter: the counts from the index (hidden users are not in it) stay as they are */
    strbuf_puts(&w->sql, "AND " USER_SHOWN " ");
    if (q->notice_status)
        search_text(w, "u.notice_status = $%d", notice_status_key(q->notice_status));
    if (q->account_status)
        search_text(w, "u.status = $%d", account_status_key(q->account_status));
    if (q->inst_code && *q->inst_code)
        search_text(w, "u.institution_id IN (SELECT id FROM institutions WHERE code = $%d)",
                    q->inst_code);
    if (q->inst_name_like && *q->inst_name_like)
        search_text(w, "LOWER(i.name) LIKE LOWER($%d) ESCAPE '\\'", like_pattern(a, q->inst_name_like));
    if (q->category) /* 難病 or 小慢 also finds 両方 */
        search_text(w, strcmp(q->category, "both") == 0 ? "u.category = $%d"
                                                        : "u.category IN ($%d, 'both')",
                    q->category);
    if (q->role)
        search_text(w, "u.role = $%d", user_role_key(q->role));
    if (q->institution_pk)
        search_int(w, "u.institution_id = $%d", q->institution_pk);
    if (q->created_from)
        search_int(w, "u.created_at >= $%d", q->created_from);
    if (q->created_to)
        search_int(w, "u.created_at < $%d", q->created_to);
}

/* ---- running a search --------------------------------------------------------------------- */

/* Runs the count (with capped, its last parameter is the cap) and the page (limit and offset
   after w's parameters). */
static NSDB_MUST_CHECK nsdb_err run_search(db *conn, arena *a, const search_sql *w,
                                           const char *count_sql, bool capped, const char *page_sql,
                                           const store_user_query *q, store_user **rows_out,
                                           size_t *count_out, int64_t *total_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(conn, count_sql, &st);
    if (e != NSDB_OK)
        return e;
    search_bind(st, w);
    if (capped)
        db_bind_int(st, w->count + 1, STORE_SEARCH_COUNT_CAP + 1);
    int rc = db_step(st);
    *total_out = rc == DB_ROW ? db_column_int(st, 0) : 0;
    if (*total_out > STORE_SEARCH_COUNT_CAP)
        *total_out = STORE_SEARCH_COUNT_CAP + 1;
    db_finalize(st);
    if (rc == DB_ERROR)
        return NSDB_ERR_DB;
    size_t cap = (size_t)(q->limit > 0 ? q->limit : 1), n = 0;
    store_user *rows = arena_alloc(a, cap * sizeof *rows);
    *rows_out = rows;
    *count_out = 0;
    if (*total_out <= q->offset && *total_out <= STORE_SEARCH_COUNT_CAP)
        return NSDB_OK; /* nothing on this page: no need to ask */
    e = db_prepare(conn, page_sql, &st);
    if (e != NSDB_OK)
        return e;
    search_bind(st, w);
    db_bind_int(st, w->count + 1, q->limit);
    db_bind_int(st, w->count + 2, q->offset);
    while ((rc = db_step(st)) == DB_ROW && n < cap)
        rows[n++] = *user_from_row(a, st);
    db_finalize(st);
    *count_out = n;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

/* ---- by name pairs ------------------------------------------------------------------------ */

/* Byte offsets of the characters of key (UTF-8), with the end as the last entry; the count. */
static size_t char_starts(const char *key, size_t *starts, size_t max)
{
    size_t n = 0, i = 0;
    for (; key[i] != '\0' && n < max - 1; i++)
        if (((unsigned char)key[i] & 0xC0) != 0x80)
            starts[n++] = i;
    starts[n] = strlen(key);
    return n;
}

/* Rows of one pair in the municipality, counted up to limit. */
static NSDB_MUST_CHECK nsdb_err probe_gram(db *conn, int64_t municipality_pk, const char *gram,
                                           int64_t limit, int64_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COUNT(*) FROM (SELECT 1 FROM user_grams WHERE municipality_id = $1 "
                          "AND gram = $2 LIMIT $3) t",
                          "iti", municipality_pk, gram, limit);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    *count_out = rc == DB_ROW ? db_column_int(st, 0) : 0;
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
}

/* The pair of key whose range is shortest (NULL with *empty when one has no rows at all). */
static NSDB_MUST_CHECK nsdb_err choose_gram(db *conn, arena *a, int64_t municipality_pk,
                                            const char *key, const size_t *starts, size_t chars,
                                            const char **gram_out, bool *empty)
{
    size_t pairs = chars - 1;
    size_t probes = pairs < GRAM_PROBES_MAX ? pairs : GRAM_PROBES_MAX;
    int64_t best = GRAM_PROBE_CAP + 1;
    *gram_out = NULL;
    *empty = false;
    for (size_t k = 0; k < probes; k++) {
        size_t i = probes == 1 ? 0 : k * (pairs - 1) / (probes - 1); /* spread over the key */
        const char *gram = arena_strndup(a, key + starts[i], starts[i + 2] - starts[i]);
        if (*gram_out != NULL && strcmp(gram, *gram_out) == 0)
            continue;
        int64_t n = 0;
        nsdb_err e = probe_gram(conn, municipality_pk, gram, best, &n);
        if (e != NSDB_OK)
            return e;
        if (n == 0) {
            *empty = true;
            return NSDB_OK;
        }
        if (*gram_out == NULL || n < best) {
            *gram_out = gram;
            best = n < best ? n : best;
        }
    }
    return NSDB_OK;
}

/* Whether the municipality has users in a batch that is not visible: an import being written
   (whose chunks add to the name index and to inst_users as they go) or a failed one not yet
   removed. Then the counts are taken from the users themselves, not from those sums. */
static NSDB_MUST_CHECK nsdb_err hidden_users_in(db *conn, int64_t municipality_pk, bool *yes)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT 1 FROM hidden_batches h JOIN import_batches b ON b.id = h.batch_id "
                          "WHERE b.municipality_id = $1 AND EXISTS "
                          "(SELECT 1 FROM users u WHERE u.batch_id = h.batch_id) LIMIT 1",
                          "i", municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    db_finalize(st);
    *yes = rc == DB_ROW;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err search_by_grams(db *conn, arena *a, const store_user_query *q,
                                                const char *key, store_user **rows_out,
                                                size_t *count_out, int64_t *total_out)
{
    size_t starts[GRAM_KEY_MAX + 1];
    size_t chars = char_starts(key, starts, sizeof starts / sizeof starts[0]);
    bool sqlite = db_get_dialect(conn) == DB_SQLITE;
    search_sql w;
    memset(&w, 0, sizeof w);
    strbuf_puts(&w.sql, "WHERE 1 = 1 ");
    search_int(&w, "g.municipality_id = $%d", q->municipality_pk); /* $1: used again below */
    if (chars <= 2) {
        search_text(&w, "g.gram = $%d", key); /* the key is one of the index's own grams */
    } else {
        const char *gram = NULL;
        bool empty = false;
        nsdb_err e = choose_gram(conn, a, q->municipality_pk, key, starts, chars, &gram, &empty);
        if (e != NSDB_OK || empty) {
            strbuf_free(&w.sql);
            *rows_out = NULL;
            *count_out = 0;
            *total_out = 0;
            return e;
        }
        search_text(&w, "g.gram = $%d", gram);
        search_text(&w, sqlite ? "instr(g.name_search, $%d) > 0" : "strpos(g.name_search, $%d) > 0",
                    key);
    }
    /* the matching name keys, in key order */
    char *names = arena_printf(a, "SELECT g.name_search, g.users FROM user_grams g %s", w.sql.data);
    strbuf_reset(&w.sql);
    strbuf_puts(&w.sql, "WHERE 1 = 1 ");
    int key_params = w.count;
    search_filters(a, q, &w);
    bool hidden = false;
    nsdb_err e = hidden_users_in(conn, q->municipality_pk, &hidden);
    if (e != NSDB_OK) {
        strbuf_free(&w.sql);
        return e;
    }
    bool filtered = w.count > key_params || hidden;
    /* their users, in (key, id) order from users_inst_name; SQLite: keys as the outer loop */
    char *users = arena_printf(a,
                               "FROM (%sORDER BY g.name_search) p %s users u "
                               "ON u.municipality_id = $1 AND u.name_search = p.name_search "
                               "AND u.role IN ('doctor','inst_manager') ",
                               names, sqlite ? "CROSS JOIN" : "JOIN");
    char *count_sql =
        filtered ? arena_printf(a,
                                "SELECT COUNT(*) FROM (SELECT 1 %s"
                                "LEFT JOIN institutions i ON i.id = u.institution_id %sLIMIT $%d) t",
                                users, w.sql.data, w.count + 1)
                 : arena_printf(a, "SELECT COALESCE(SUM(users), 0) FROM (%s) t", names);
    /* the page's IDs first, from the index alone; then only those users are read */
    char *page_sql = arena_printf(a,
                                  "SELECT " USER_SELECT
                                  "FROM (SELECT u.id AS id, p.name_search AS name_search %s"
                                  "LEFT JOIN institutions i ON i.id = u.institution_id %s"
                                  "ORDER BY p.name_search, u.id LIMIT $%d OFFSET $%d) x "
                                  "%s users u ON u.id = x.id " USER_JOINS
                                  "ORDER BY x.name_search, x.id",
                                  users, w.sql.data, w.count + 1, w.count + 2,
                                  sqlite ? "CROSS JOIN" : "JOIN");
    strbuf_free(&w.sql);
    return run_search(conn, a, &w, count_sql, filtered, page_sql, q, rows_out, count_out,
                      total_out);
}

/* ---- over the users table ----------------------------------------------------------------- */

/* Whether the key is the user ID of one of the institution users searched. */
static NSDB_MUST_CHECK nsdb_err is_user_id_in_scope(db *conn, const store_user_query *q, bool *yes)
{
    *yes = false;
    if (q->user_id_upper == NULL || *q->user_id_upper == '\0')
        return NSDB_OK;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT 1 FROM users u WHERE u.user_id = $1 AND u.municipality_id = $2 "
                          "AND u.role IN ('doctor','inst_manager') AND " USER_SHOWN,
                          "ti", q->user_id_upper, q->municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    db_finalize(st);
    *yes = rc == DB_ROW;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

enum key_match { KEY_NONE, KEY_LIKE, KEY_USER_ID };

static NSDB_MUST_CHECK nsdb_err search_users(db *conn, arena *a, const store_user_query *q,
                                             enum key_match match, store_user **rows_out,
                                             size_t *count_out, int64_t *total_out)
{
    search_sql w;
    memset(&w, 0, sizeof w);
    strbuf_puts(&w.sql, "WHERE 1 = 1 ");
    search_int(&w, "u.municipality_id = $%d", q->municipality_pk);
    strbuf_puts(&w.sql, q->municipal_roles ? "AND u.role IN ('muni_admin','muni_staff') "
                                           : "AND u.role IN ('doctor','inst_manager') ");
    if (match == KEY_USER_ID) {
        search_text(&w, "u.user_id = $%d", q->user_id_upper);
    } else if (match == KEY_LIKE) {
        search_text(&w, "(u.name_search LIKE $%d ESCAPE '\\' OR LOWER(u.department) LIKE $%d "
                        "ESCAPE '\\'",
                    like_pattern(a, q->search_key));
        w.sql.len -= 1;
        w.count++;
        strbuf_printf(&w.sql, " OR u.user_id = $%d) ", w.count);
        w.types[w.count - 1] = 't';
        w.texts[w.count - 1] = q->user_id_upper ? q->user_id_upper : "";
    }
    bool everyone = match == KEY_NONE && !q->municipal_roles && w.count == 1;
    search_filters(a, q, &w);
    bool hidden = false;
    if (everyone) {
        nsdb_err e = hidden_users_in(conn, q->municipality_pk, &hidden);
        if (e != NSDB_OK) {
            strbuf_free(&w.sql);
            return e;
        }
    }
    everyone = everyone && w.count == 1 && !hidden;
    /* one institution's users: from its own index range (SQLite would otherwise walk the
       municipality's institution users in name order, which the page asks for) */
    const char *users = db_get_dialect(conn) == DB_SQLITE && (q->institution_pk || q->inst_code)
                            ? "users u INDEXED BY users_muni_inst_name"
                            : "users u";
    /* all the municipality's institution users: counted as they are registered */
    char *count_sql = everyone ? arena_strdup(a, "SELECT inst_users FROM municipalities WHERE id = $1")
                               : arena_printf(a,
                                              "SELECT COUNT(*) FROM (SELECT 1 FROM %s "
                                              "LEFT JOIN institutions i ON i.id = u.institution_id "
                                              "%sLIMIT $%d) t",
                                              users, w.sql.data, w.count + 1);
    char *page_sql = arena_printf(a, "SELECT " USER_SELECT "FROM %s " USER_JOINS "%s"
                                     "ORDER BY u.name_search, u.id LIMIT $%d OFFSET $%d",
                                  users, w.sql.data, w.count + 1, w.count + 2);
    nsdb_err e =
        run_search(conn, a, &w, count_sql, !everyone, page_sql, q, rows_out, count_out, total_out);
    strbuf_free(&w.sql);
    return e;
}

static NSDB_MUST_CHECK nsdb_err search(db *conn, arena *a, const store_user_query *q,
                                       store_user **rows_out, size_t *count_out, int64_t *total_out)
{
    const char *key = q->search_key != NULL && *q->search_key != '\0' ? q->search_key : NULL;
    if (key == NULL)
        return search_users(conn, a, q, KEY_NONE, rows_out, count_out, total_out);
    /* municipal users and an institution's own users are few: LIKE over their range */
    /* (and so is a key that is not clean UTF-8) */
    if (q->municipal_roles || q->institution_pk != 0 || strlen(key) > GRAM_KEY_MAX ||
        !str_is_clean_utf8(key, strlen(key)))
        return search_users(conn, a, q, KEY_LIKE, rows_out, count_out, total_out);
    /* a user ID typed into the name field finds that user (names never look like one) */
    bool by_id = false;
    nsdb_err e = is_user_id_in_scope(conn, q, &by_id);
    if (e != NSDB_OK)
        return e;
    if (by_id)
        return search_users(conn, a, q, KEY_USER_ID, rows_out, count_out, total_out);
    return search_by_grams(conn, a, q, key, rows_out, count_out, total_out);
}

nsdb_err store_user_search(db *conn, arena *a, const store_user_query *q, store_user **rows_out,
                           size_t *count_out, int64_t *total_out)
{
    assert(q->municipality_pk != 0);
    /* the count and the page from one snapshot (inside a caller's transaction: from that) */
    bool own = !db_in_transaction(conn);
    nsdb_err e = own ? db_begin_read(conn) : NSDB_OK;
    if (e != NSDB_OK)
        return e;
    e = search(conn, a, q, rows_out, count_out, total_out);
    if (own) {
        if (e == NSDB_OK)
            e = db_commit(conn);
        else
            db_rollback(conn);
    }
    return e;
}
