/*
 * bulk_import.c — see bulk_import.h. Every statement here is one of a few shapes: a read with an
 * IN list of exactly STORE_BULK_ROWS values (a short list is padded with its last value, which
 * changes nothing), a multi-row INSERT of STORE_BULK_ROWS rows or of one row, or an UPDATE or
 * DELETE joined to a list of STORE_BULK_ROWS values (padded with values that match no row). So each shape is
 * prepared once per connection by the statement cache. The shared values of a statement are its
 * first parameters ($1 …) and every later parameter first appears in order, which lets the
 * SQLite driver bind by position.
 */
#define NSDB_STORE_INTERNAL
#include "store/bulk_import.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"
#include "store/sql.h"
#include "store/state_columns.h"
#include "util/log.h"
#include "util/str.h"

/* head, then rows tuples of tuple (each '?' of it a new parameter, numbered from first), then
   tail; malloc'd (NULL when out of memory). */
static char *multi_row_sql(const char *head, const char *tuple, int first, size_t rows,
                           const char *tail)
{
    strbuf b = STRBUF_INIT;
    strbuf_puts(&b, head);
    int next = first;
    for (size_t r = 0; r < rows; r++) {
        if (r > 0)
            strbuf_puts(&b, ", ");
        for (const char *p = tuple; *p != '\0'; p++) {
            if (*p == '?')
                strbuf_printf(&b, "$%d", next++);
            else
                strbuf_putc(&b, *p);
        }
    }
    strbuf_puts(&b, tail);
    return strbuf_detach(&b, NULL);
}

/* Rows of the next statement: a full one, or one row for the rest. */
static size_t statement_rows(size_t left)
{
    return left >= STORE_BULK_ROWS ? STORE_BULK_ROWS : 1;
}

/* The SQL of each shape, built once per process: building a statement of 1,100 parameters with
   printf for every 100 rows took a tenth of an import's users insert, only for the statement
   cache to find it prepared already. A shape is the call site's literals and its row count. */
#define MULTI_ROW_SHAPES 32

typedef struct multi_row_shape {
    const char *head, *tuple, *tail;
    int first;
    size_t rows;
    char *sql;
} multi_row_shape;

static pthread_mutex_t shapes_lock = PTHREAD_MUTEX_INITIALIZER;
static multi_row_shape shapes[MULTI_ROW_SHAPES];

/* The SQL of the shape (kept for the process), or NULL when out of memory or shapes. */
static const char *multi_row_shape_sql(const char *head, const char *tuple, int first, size_t rows,
                                       const char *tail)
{
    const char *sql = NULL;
    pthread_mutex_lock(&shapes_lock);
    for (size_t i = 0; i < MULTI_ROW_SHAPES && sql == NULL; i++) {
        multi_row_shape *s = &shapes[i];
        if (s->sql == NULL) {
            s->sql = multi_row_sql(head, tuple, first, rows, tail);
            *s = (multi_row_shape){head, tuple, tail, first, rows, s->sql};
            if (s->sql == NULL)
                break;
        }
        if (s->head == head && s->tuple == tuple && s->tail == tail && s->first == first &&
            s->rows == rows)
            sql = s->sql;
    }
    pthread_mutex_unlock(&shapes_lock);
    return sql;
}

static NSDB_MUST_CHECK nsdb_err prepare_multi_row(db *conn, const char *head, const char *tuple,
                                                  int first, size_t rows, const char *tail,
                                                  db_stmt **out)
{
    const char *sql = multi_row_shape_sql(head, tuple, first, rows, tail);
    if (sql != NULL)
        return db_prepare(conn, sql, out);
    char *built = multi_row_sql(head, tuple, first, rows, tail); /* more shapes than kept */
    if (built == NULL)
        return NSDB_ERR_NOMEM;
    nsdb_err e = db_prepare(conn, built, out);
    free(built);
    return e;
}

/* Steps a write to its end (reading RETURNING rows through each, which may be NULL). */
static NSDB_MUST_CHECK nsdb_err step_all(db *conn, db_stmt *st, void (*each)(void *, db_stmt *),
                                         void *ctx)
{
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        if (each != NULL)
            each(ctx, st);
    if (rc == DB_DONE)
        return NSDB_OK;
    nsdb_err e = db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
    log_event(LOG_ERROR, "bulk_write_failed", "error", db_error_message(conn), NULL);
    return e;
}

/* ---- statements sent one behind the other ------------------------------------------------------

   The statements of a bulk write that is not a COPY (the name index; users when a COPY met a
   taken user ID) go to the server one behind the other (db_send): on PostgreSQL the server runs
   one while the next one is bound and sent, instead of waiting for nsdb between every two;
   SQLite runs each at its step, as before. */
typedef struct bulk_pipe {
    db *conn;
    db_stmt *sent;                   /* sent; its rows not read yet */
    void (*each)(void *, db_stmt *); /* what its rows go to */
    void *ctx;
} bulk_pipe;

/* Reads the rows of the statement sent last, if any, and finalizes it. */
static NSDB_MUST_CHECK nsdb_err pipe_read(bulk_pipe *p)
{
    if (p->sent == NULL)
        return NSDB_OK;
    db_stmt *st = p->sent;
    p->sent = NULL;
    nsdb_err e = step_all(p->conn, st, p->each, p->ctx);
    db_finalize(st);
    return e;
}

/* Finalizes the statement sent last, unread (after a failure). */
static void pipe_drop(bulk_pipe *p)
{
    if (p->sent != NULL)
        db_finalize(p->sent);
    p->sent = NULL;
}

/* Sends st (bound; the pipe takes it), then reads the statement sent before it. each(ctx) gets
   st's rows when st is read in turn, so ctx must live until the next pipe_push or pipe_read. */
static NSDB_MUST_CHECK nsdb_err pipe_push(bulk_pipe *p, db_stmt *st,
                                          void (*each)(void *, db_stmt *), void *ctx)
{
    nsdb_err e = db_send(st); /* a send that fails makes st's step fail: read in turn */
    if (e == NSDB_ERR_BUSY) { /* prepared first, which waits for the one before */
        e = pipe_read(p);
        if (e == NSDB_OK && db_send(st) == NSDB_ERR_BUSY)
            e = NSDB_ERR_DB; /* nothing is unread now: cannot happen */
    } else {
        e = pipe_read(p);
    }
    if (e != NSDB_OK) {
        db_finalize(st);
        return e;
    }
    p->sent = st;
    p->each = each;
    p->ctx = ctx;
    return NSDB_OK;
}

/* The STORE_BULK_ROWS ids of an IN list from ids[from..n-1] as parameters first, first + 1, …;
   a short list is padded with its last id, which changes nothing. */
static void bind_ids_padded(db_stmt *st, int first, const int64_t *ids, size_t from, size_t n)
{
    for (size_t k = 0; k < STORE_BULK_ROWS; k++)
        db_bind_int(st, first + (int)k, ids[from + k < n ? from + k : n - 1]);
}

static void bind_int_or_null(db_stmt *st, int index, int64_t v)
{
    if (v == 0)
        db_bind_null(st, index);
    else
        db_bind_int(st, index, v);
}

/* ---- rows as COPY's text (db_copy_in, PostgreSQL) ----------------------------------------------

   One line a row, columns apart by tabs; \N is NULL; a backslash, tab, newline or carriage
   return in a value is escaped, so no value can end its column or row early. Each copy_…
   appends its column and a tab; copy_row_end ends the row. */

static void copy_text(strbuf *b, const char *s)
{
    if (s == NULL) {
        strbuf_append(b, "\\N\t", 3);
        return;
    }
    const char *run = s;
    for (; *s != '\0'; s++) {
        const char *esc = *s == '\\'   ? "\\\\"
                          : *s == '\t' ? "\\t"
                          : *s == '\n' ? "\\n"
                          : *s == '\r' ? "\\r"
                                       : NULL;
        if (esc == NULL)
            continue;
        strbuf_append(b, run, (size_t)(s - run));
        strbuf_append(b, esc, 2);
        run = s + 1;
    }
    strbuf_append(b, run, (size_t)(s - run));
    strbuf_putc(b, '\t');
}

static void copy_int(strbuf *b, int64_t v)
{
    char digits[24];
    size_t n = 0; /* digits before the tab at the end */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    digits[sizeof digits - 1] = '\t';
    do {
        digits[sizeof digits - 2 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        digits[sizeof digits - 2 - n++] = '-';
    strbuf_append(b, digits + sizeof digits - 1 - n, n + 1);
}

/* 0 is NULL, as bind_int_or_null binds it. */
static void copy_int_or_null(strbuf *b, int64_t v)
{
    if (v == 0)
        strbuf_append(b, "\\N\t", 3);
    else
        copy_int(b, v);
}

/* bytea in hex (\x…), its backslash escaped for COPY. */
static void copy_bytea(strbuf *b, const unsigned char *p, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    if (p == NULL) {
        strbuf_append(b, "\\N\t", 3);
        return;
    }
    strbuf_append(b, "\\\\x", 3);
    char hex[256];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; i < n && k < sizeof hex; i++, k += 2) {
            hex[k] = HEX[p[i] >> 4];
            hex[k + 1] = HEX[p[i] & 15];
        }
        strbuf_append(b, hex, k);
    }
    strbuf_putc(b, '\t');
}

/* Ends a row: its last column's tab becomes the line's end. */
static void copy_row_end(strbuf *b)
{
    b->data[b->len - 1] = '\n';
}

/* Sends the rows of b (db_copy_in) and frees b; a failure is logged as step_all logs one when
   expected is not it (NSDB_OK: none is). */
static NSDB_MUST_CHECK nsdb_err copy_send(db *conn, const char *copy_sql, strbuf *b,
                                          nsdb_err expected)
{
    nsdb_err e = db_copy_in(conn, copy_sql, b->data, b->len);
    strbuf_free(b);
    if (e != NSDB_OK && e != expected)
        log_event(LOG_ERROR, "bulk_write_failed", "error", db_error_message(conn), NULL);
    return e;
}

/* ---- reads ------------------------------------------------------------------------------- */

static void institution_read(arena *a, db_stmt *st, void *row)
{
    store_institution *i = row;
    i->pk = db_column_int(st, 0);
    i->code = store_column_strdup(a, st, 1);
    i->name = store_column_strdup(a, st, 2);
    i->postal = store_column_strdup(a, st, 3);
    i->address = store_column_strdup(a, st, 4);
    i->phone = store_column_strdup(a, st, 5);
}

nsdb_err store_bulk_institutions_find(db *conn, arena *a, const char *const *codes, size_t n,
                                      store_institution **rows_out, size_t *count_out)
{
    *rows_out = NULL;
    *count_out = 0;
    size_t cap = 0;
    store_institution *rows = NULL;
    for (size_t from = 0; from < n; from += STORE_BULK_ROWS) {
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(conn,
                                       "SELECT id, code, name, postal, address, phone "
                                       "FROM institutions WHERE code IN (",
                                       "?", 1, STORE_BULK_ROWS, ")", &st);
        if (e != NSDB_OK)
            return e;
        /* a short list is padded with its last code */
        for (size_t k = 0; k < STORE_BULK_ROWS; k++)
            db_bind_text(st, (int)k + 1, codes[from + k < n ? from + k : n - 1]);
        int rc;
        while ((rc = db_step(st)) == DB_ROW) {
            rows = arena_grow(a, rows, *count_out, &cap, sizeof *rows);
            institution_read(a, st, &rows[(*count_out)++]);
        }
        db_finalize(st);
        if (rc != DB_DONE)
            return NSDB_ERR_DB;
    }
    *rows_out = rows;
    return NSDB_OK;
}

nsdb_err store_bulk_users_at(db *conn, int64_t own_batch, const int64_t *institution_pks, size_t n,
                             void (*each)(void *ctx, const store_bulk_user *u), void *ctx)
{
    for (size_t from = 0; from < n; from += STORE_BULK_ROWS) {
        /* the users a registration's duplicate check sees (USER_NOT_DISCARDED): another
           import's batch being written included, a failed one's rows not; nor the own batch.
           The ids are joined as a list of values, so that every plan walks the institution
           index: PostgreSQL's generic plan of an IN list scanned all users in id order (150 ms
           a statement once an import had written 100,000 of them). No condition on the role
           (only institution users have an institution): with one, PostgreSQL's stale statistics
           during an import chose the partial search index of institution users and read them
           all. A short list is padded with 0, which is no institution. */
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(
            conn, "WITH v(id) AS (VALUES ", "(CAST(? AS BIGINT))", 2, STORE_BULK_ROWS,
            ") SELECT u.id, u.institution_id, COALESCE(u.municipality_id, 0), u.role, u.user_id, "
            "u.category, COALESCE(u.name_search, ''), u.doctor_number FROM v "
            "JOIN users u ON u.institution_id = v.id "
            "WHERE (u.batch_id IS NULL OR "
            "(u.batch_id <> $1 AND NOT EXISTS (SELECT 1 FROM import_batches fb "
            "WHERE fb.id = u.batch_id AND fb.state IN ('failed', 'refused')))) ORDER BY u.id",
            &st);
        if (e != NSDB_OK)
            return e;
        db_bind_int(st, 1, own_batch);
        for (size_t k = 0; k < STORE_BULK_ROWS; k++)
            db_bind_int(st, (int)k + 2, from + k < n ? institution_pks[from + k] : 0);
        int rc;
        while ((rc = db_step(st)) == DB_ROW) {
            store_bulk_user u = {.pk = db_column_int(st, 0),
                                 .institution_pk = db_column_int(st, 1),
                                 .municipality_pk = db_column_int(st, 2),
                                 .role = store_column_user_role(st, 3),
                                 .user_id = db_column_text(st, 4),
                                 .category = db_column_text(st, 5),
                                 .name_search = db_column_text(st, 6),
                                 .doctor_number = db_column_text(st, 7)};
            each(ctx, &u);
        }
        db_finalize(st);
        if (rc != DB_DONE)
            return NSDB_ERR_DB;
    }
    return NSDB_OK;
}

nsdb_err store_bulk_institutions_lock(db *conn, const int64_t *sorted_pks, size_t n)
{
    STORE_ASSERT_WRITE(conn);
    if (db_get_dialect(conn) != DB_POSTGRESQL)
        return NSDB_OK;
    for (size_t from = 0; from < n; from += STORE_BULK_ROWS) {
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(conn, "SELECT id FROM institutions WHERE id IN (", "?", 1,
                                       STORE_BULK_ROWS, ") ORDER BY id FOR NO KEY UPDATE", &st);
        if (e != NSDB_OK)
            return e;
        bind_ids_padded(st, 1, sorted_pks, from, n);
        e = step_all(conn, st, NULL, NULL);
        db_finalize(st);
        if (e != NSDB_OK)
            return e;
    }
    return NSDB_OK;
}

/* ---- writes ------------------------------------------------------------------------------ */

typedef struct code_pks {
    const store_bulk_institution_new *rows;
    size_t n;
    int64_t *pks;
} code_pks;

static void code_pk_read(void *ctx, db_stmt *st)
{
    code_pks *m = ctx;
    const char *code = db_column_text(st, 1);
    for (size_t i = 0; code != NULL && i < m->n; i++)
        if (strcmp(m->rows[i].code, code) == 0)
            m->pks[i] = db_column_int(st, 0);
}

nsdb_err store_bulk_institutions_insert(db *conn, const store_bulk_institution_new *rows, size_t n,
                                        int64_t now, int64_t *pks_out, bool *made_out)
{
    STORE_ASSERT_WRITE(conn);
    for (size_t from = 0; from < n;) {
        size_t k = statement_rows(n - from);
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(conn,
                                       "INSERT INTO institutions (created_at, updated_at, code, "
                                       "name, postal, address, phone) VALUES ",
                                       "($1, $1, ?, ?, ?, ?, ?)", 2, k,
                                       " ON CONFLICT (code) DO NOTHING RETURNING id, code", &st);
        if (e != NSDB_OK)
            return e;
        db_bind_int(st, 1, now);
        for (size_t i = 0; i < k; i++) {
            const store_bulk_institution_new *r = &rows[from + i];
            int p = 2 + (int)i * 5;
            db_bind_text(st, p, r->code);
            db_bind_text(st, p + 1, r->name);
            db_bind_text(st, p + 2, r->postal);
            db_bind_text(st, p + 3, r->address);
            db_bind_text(st, p + 4, r->phone);
            pks_out[from + i] = 0;
        }
        code_pks made = {rows + from, k, pks_out + from}; /* the codes this statement inserted */
        e = step_all(conn, st, code_pk_read, &made);
        for (size_t i = 0; i < k; i++)
            made_out[from + i] = pks_out[from + i] != 0;
        db_finalize(st);
        if (e != NSDB_OK)
            return e;
        /* the ids, also of a code another writer made meanwhile */
        e = prepare_multi_row(conn, "SELECT id, code FROM institutions WHERE code IN (", "?", 1, k,
                              ")", &st);
        if (e != NSDB_OK)
            return e;
        for (size_t i = 0; i < k; i++) {
            db_bind_text(st, (int)i + 1, rows[from + i].code);
            pks_out[from + i] = 0;
        }
        code_pks m = {rows + from, k, pks_out + from};
        e = step_all(conn, st, code_pk_read, &m);
        db_finalize(st);
        for (size_t i = 0; e == NSDB_OK && i < k; i++)
            if (pks_out[from + i] == 0)
                e = NSDB_ERR_DB;
        if (e != NSDB_OK)
            return e;
        from += k;
    }
    return NSDB_OK;
}

typedef struct user_pks {
    store_bulk_user_new *rows;
    size_t n, next; /* next: where the next RETURNING row most likely belongs */
} user_pks;

static void user_pk_read(void *ctx, db_stmt *st)
{
    user_pks *m = ctx;
    const char *user_id = db_column_text(st, 1);
    if (user_id == NULL)
        return;
    /* RETURNING comes in insertion order in practice, which is not promised: else search */
    size_t i = m->next < m->n && strcmp(m->rows[m->next].user_id, user_id) == 0 ? m->next : m->n;
    for (size_t j = 0; i == m->n && j < m->n; j++)
        if (strcmp(m->rows[j].user_id, user_id) == 0)
            i = j;
    if (i == m->n)
        return;
    m->rows[i].pk = db_column_int(st, 0);
    m->next = i + 1;
}

static int id_order(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* PostgreSQL: the users' ids taken from the table's sequence first, then the rows by COPY.
   NSDB_ERR_EXISTS when a user ID was taken (nothing inserted: the caller inserts by statements,
   which tell which one). */
static NSDB_MUST_CHECK nsdb_err users_copy(db *conn, store_bulk_user_new *rows, size_t n,
                                           const store_bulk_user_common *common)
{
    int64_t *ids = malloc(n * sizeof *ids);
    if (ids == NULL)
        return NSDB_ERR_NOMEM;
    db_stmt *st = NULL;
    nsdb_err e =
        db_query(conn, &st,
                 "SELECT nextval((SELECT pg_get_serial_sequence('users', 'id'))::regclass) "
                 "FROM generate_series(1, $1)",
                 "i", (int64_t)n);
    size_t got = 0;
    int rc = DB_ERROR;
    while (e == NSDB_OK && (rc = db_step(st)) == DB_ROW && got < n)
        ids[got++] = db_column_int(st, 0);
    if (e == NSDB_OK && (rc != DB_DONE || got != n))
        e = NSDB_ERR_DB;
    db_finalize(st);
    /* one call takes them in order; sorted anyway, so that ids follow the rows' order as an
       INSERT gives them (the users of an institution are read oldest first) */
    if (e == NSDB_OK)
        qsort(ids, n, sizeof *ids, id_order);
    strbuf b = STRBUF_INIT;
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        const store_bulk_user_new *u = &rows[i];
        copy_int(&b, ids[i]);
        copy_int_or_null(&b, common->municipality_pk);
        copy_int_or_null(&b, common->created_by);
        copy_int(&b, common->now);
        copy_int(&b, common->now);
        copy_int_or_null(&b, common->created_by);
        copy_int_or_null(&b, common->batch_pk);
        copy_text(&b, u->user_id);
        copy_text(&b, user_role_key(u->role));
        copy_text(&b, u->name);
        copy_text(&b, u->name_kana);
        copy_text(&b, u->email);
        copy_text(&b, u->category ? u->category : "nanbyo");
        copy_int_or_null(&b, u->institution_pk);
        copy_text(&b, u->doctor_number);
        copy_text(&b, u->specialty);
        copy_bytea(&b, u->initial_sealed, u->initial_sealed_len);
        copy_text(&b, u->search_key);
        copy_row_end(&b);
    }
    if (e == NSDB_OK)
        e = copy_send(conn,
                      "COPY users (id, municipality_id, created_by, created_at, updated_at, "
                      "initial_password_by, batch_id, user_id, role, name, name_kana, email, "
                      "category, institution_id, doctor_number, specialty, "
                      "initial_password_sealed, name_search) FROM STDIN",
                      &b, NSDB_ERR_EXISTS);
    else
        strbuf_free(&b);
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        rows[i].pk = ids[i];
    free(ids);
    return e;
}

nsdb_err store_bulk_users_insert(db *conn, store_bulk_user_new *rows, size_t n,
                                 const store_bulk_user_common *common)
{
    STORE_ASSERT_WRITE(conn);
    if (n == 0)
        return NSDB_OK;
    if (db_get_dialect(conn) == DB_POSTGRESQL) {
        nsdb_err e = users_copy(conn, rows, n, common);
        if (e != NSDB_ERR_EXISTS) /* a taken user ID (rare): the statements below tell which */
            return e;
    }
    bulk_pipe pipe = {.conn = conn};
    user_pks read[2]; /* the statement being sent and the one before it */
    for (size_t from = 0, turn = 0; from < n; turn ^= 1) {
        size_t k = statement_rows(n - from);
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(
            conn,
            "INSERT INTO users (municipality_id, created_by, created_at, updated_at, "
            "initial_password_by, batch_id, user_id, role, name, name_kana, email, category, "
            "institution_id, doctor_number, specialty, initial_password_sealed, name_search) "
            "VALUES ",
            "($1, $2, $3, $3, $2, $4, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 5, k,
            " ON CONFLICT (user_id) DO NOTHING RETURNING id, user_id", &st);
        if (e != NSDB_OK) {
            pipe_drop(&pipe);
            return e;
        }
        bind_int_or_null(st, 1, common->municipality_pk);
        bind_int_or_null(st, 2, common->created_by);
        db_bind_int(st, 3, common->now);
        bind_int_or_null(st, 4, common->batch_pk);
        for (size_t i = 0; i < k; i++) {
            store_bulk_user_new *u = &rows[from + i];
            int p = 5 + (int)i * 11;
            u->pk = 0;
            db_bind_text(st, p, u->user_id);
            db_bind_text(st, p + 1, user_role_key(u->role));
            db_bind_text(st, p + 2, u->name);
            db_bind_text(st, p + 3, u->name_kana);
            db_bind_text(st, p + 4, u->email);
            db_bind_text(st, p + 5, u->category ? u->category : "nanbyo");
            bind_int_or_null(st, p + 6, u->institution_pk);
            db_bind_text(st, p + 7, u->doctor_number);
            db_bind_text(st, p + 8, u->specialty);
            db_bind_blob(st, p + 9, u->initial_sealed, u->initial_sealed_len);
            db_bind_text(st, p + 10, u->search_key);
        }
        read[turn] = (user_pks){rows + from, k, 0};
        e = pipe_push(&pipe, st, user_pk_read, &read[turn]);
        if (e != NSDB_OK)
            return e;
        from += k;
    }
    return pipe_read(&pipe);
}

nsdb_err store_bulk_registrations_insert(db *conn, const store_bulk_registration *rows, size_t n,
                                         int64_t municipality_pk, const char *cycle_id,
                                         int64_t batch_pk, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    if (n > 0 && db_get_dialect(conn) == DB_POSTGRESQL) {
        strbuf b = STRBUF_INIT;
        for (size_t i = 0; i < n; i++) {
            copy_int(&b, municipality_pk);
            copy_text(&b, cycle_id);
            copy_int_or_null(&b, batch_pk);
            copy_int(&b, now);
            copy_int(&b, rows[i].user_pk);
            copy_int(&b, rows[i].institution_pk);
            copy_row_end(&b);
        }
        return copy_send(conn,
                         "COPY registrations (municipality_id, cycle_id, batch_id, "
                         "registered_at, user_pk, institution_id) FROM STDIN",
                         &b, NSDB_OK);
    }
    for (size_t from = 0; from < n;) { /* SQLite */
        size_t k = statement_rows(n - from);
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(conn,
                                       "INSERT INTO registrations (municipality_id, cycle_id, "
                                       "batch_id, registered_at, user_pk, institution_id) VALUES ",
                                       "($1, $2, $3, $4, ?, ?)", 5, k, "", &st);
        if (e != NSDB_OK)
            return e;
        db_bind_int(st, 1, municipality_pk);
        db_bind_text(st, 2, cycle_id);
        bind_int_or_null(st, 3, batch_pk);
        db_bind_int(st, 4, now);
        for (size_t i = 0; i < k; i++) {
            db_bind_int(st, 5 + (int)i * 2, rows[from + i].user_pk);
            db_bind_int(st, 6 + (int)i * 2, rows[from + i].institution_pk);
        }
        e = step_all(conn, st, NULL, NULL);
        db_finalize(st);
        if (e != NSDB_OK)
            return e;
        from += k;
    }
    return NSDB_OK;
}

nsdb_err store_bulk_audit_insert(db *conn, const store_audit *actor, const store_audit *rows,
                                 size_t n)
{
    STORE_ASSERT_WRITE(conn);
    if (n > 0 && db_get_dialect(conn) == DB_POSTGRESQL) {
        strbuf b = STRBUF_INIT;
        for (size_t i = 0; i < n; i++) {
            const store_audit *r = &rows[i];
            copy_int(&b, actor->at);
            copy_int_or_null(&b, actor->actor_user_pk);
            copy_text(&b, actor->actor_user_id);
            copy_text(&b, actor->client_ip);
            copy_text(&b, r->action);
            copy_text(&b, r->target);
            copy_text(&b, r->result);
            copy_text(&b, r->detail);
            copy_row_end(&b);
        }
        return copy_send(conn,
                         "COPY audit_log (at, actor_user_pk, actor_user_id, client_ip, "
                         "action, target, result, detail) FROM STDIN",
                         &b, NSDB_OK);
    }
    for (size_t from = 0; from < n;) { /* SQLite */
        size_t k = statement_rows(n - from);
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(conn,
                                       "INSERT INTO audit_log (at, actor_user_pk, actor_user_id, "
                                       "client_ip, action, target, result, detail) VALUES ",
                                       "($1, $2, $3, $4, ?, ?, ?, ?)", 5, k, "", &st);
        if (e != NSDB_OK)
            return e;
        db_bind_int(st, 1, actor->at);
        bind_int_or_null(st, 2, actor->actor_user_pk);
        db_bind_text(st, 3, actor->actor_user_id);
        db_bind_text(st, 4, actor->client_ip);
        for (size_t i = 0; i < k; i++) {
            const store_audit *r = &rows[from + i];
            int p = 5 + (int)i * 4;
            db_bind_text(st, p, r->action);
            db_bind_text(st, p + 1, r->target);
            db_bind_text(st, p + 2, r->result);
            db_bind_text(st, p + 3, r->detail);
        }
        e = step_all(conn, st, NULL, NULL);
        db_finalize(st);
        if (e != NSDB_OK)
            return e;
        from += k;
    }
    return NSDB_OK;
}

nsdb_err store_bulk_user_grams_add(db *conn, int64_t municipality_pk, const store_bulk_gram *rows,
                                   size_t n, int64_t new_users)
{
    STORE_ASSERT_WRITE(conn);
    nsdb_err e = new_users == 0 ? NSDB_OK
                                : db_exec(conn, NULL,
                                          "UPDATE municipalities SET inst_users = inst_users + $2 "
                                          "WHERE id = $1",
                                          "ii", municipality_pk, new_users);
    bulk_pipe pipe = {.conn = conn};
    for (size_t from = 0; e == NSDB_OK && from < n;) {
        size_t k = statement_rows(n - from);
        db_stmt *st = NULL;
        e = prepare_multi_row(conn,
                              "INSERT INTO user_grams (municipality_id, gram, name_search, users) "
                              "VALUES ",
                              "($1, ?, ?, ?)", 2, k,
                              " ON CONFLICT (municipality_id, gram, name_search) "
                              "DO UPDATE SET users = user_grams.users + excluded.users",
                              &st);
        if (e != NSDB_OK) {
            pipe_drop(&pipe);
            return e;
        }
        db_bind_int(st, 1, municipality_pk);
        for (size_t i = 0; i < k; i++) {
            db_bind_text(st, 2 + (int)i * 3, rows[from + i].gram);
            db_bind_text(st, 3 + (int)i * 3, rows[from + i].key);
            db_bind_int(st, 4 + (int)i * 3, rows[from + i].users);
        }
        e = pipe_push(&pipe, st, NULL, NULL);
        from += k;
    }
    return e != NSDB_OK ? e : pipe_read(&pipe);
}

/* The two statements of store_bulk_user_grams_remove, each joining its STORE_BULK_ROWS pairs as
   a list of values ($2 …) in which each pair finds its row by the primary key: first the rows
   that reach 0 are deleted, then the others decremented (what user_grams_remove leaves, with
   one write a row). */
static const char GRAMS_GONE_SQL[] =
    ") DELETE FROM user_grams WHERE municipality_id = $1 AND (gram, name_search) IN "
    "(SELECT g.gram, g.name_search FROM v JOIN user_grams g "
    "ON g.municipality_id = $1 AND g.gram = v.gram AND g.name_search = v.name_search "
    "WHERE g.users <= v.users)";
static const char GRAMS_LEFT_SQL[] =
    ") UPDATE user_grams SET users = user_grams.users - v.users FROM v "
    "WHERE user_grams.municipality_id = $1 "
    "AND user_grams.gram = v.gram AND user_grams.name_search = v.name_search";

/* Runs tail (GRAMS_GONE_SQL or GRAMS_LEFT_SQL) over pairs rows[0..n-1], n at most
   STORE_BULK_ROWS; a short list is padded with an empty gram, which no row has (a gram is one or
   two characters). */
static NSDB_MUST_CHECK nsdb_err grams_remove_pairs(db *conn, const char *tail,
                                                   int64_t municipality_pk,
                                                   const store_bulk_gram *rows, size_t n)
{
    db_stmt *st = NULL;
    nsdb_err e = prepare_multi_row(conn, "WITH v(gram, name_search, users) AS (VALUES ",
                                   "(?, ?, CAST(? AS BIGINT))", 2, STORE_BULK_ROWS, tail, &st);
    if (e != NSDB_OK)
        return e;
    db_bind_int(st, 1, municipality_pk);
    for (size_t k = 0; k < STORE_BULK_ROWS; k++) {
        int p = 2 + (int)k * 3;
        db_bind_text(st, p, k < n ? rows[k].gram : "");
        db_bind_text(st, p + 1, k < n ? rows[k].key : "");
        db_bind_int(st, p + 2, k < n ? rows[k].users : 0);
    }
    e = step_all(conn, st, NULL, NULL);
    db_finalize(st);
    return e;
}

nsdb_err store_bulk_user_grams_remove(db *conn, int64_t municipality_pk,
                                      const store_bulk_gram *rows, size_t n, int64_t users)
{
    STORE_ASSERT_WRITE(conn);
    nsdb_err e = users == 0 ? NSDB_OK
                            : db_exec(conn, NULL,
                                      "UPDATE municipalities SET inst_users = inst_users - $2 "
                                      "WHERE id = $1",
                                      "ii", municipality_pk, users);
    for (size_t from = 0; e == NSDB_OK && from < n; from += STORE_BULK_ROWS) {
        size_t k = n - from < STORE_BULK_ROWS ? n - from : STORE_BULK_ROWS;
        e = grams_remove_pairs(conn, GRAMS_GONE_SQL, municipality_pk, rows + from, k);
        if (e == NSDB_OK)
            e = grams_remove_pairs(conn, GRAMS_LEFT_SQL, municipality_pk, rows + from, k);
    }
    return e;
}

nsdb_err store_bulk_institutions_discard(db *conn, int64_t batch_id, const int64_t *pks, size_t n)
{
    STORE_ASSERT_WRITE(conn);
    for (size_t from = 0; from < n; from += STORE_BULK_ROWS) {
        db_stmt *st = NULL;
        nsdb_err e = prepare_multi_row(
            conn, "DELETE FROM institutions WHERE id IN (", "?", 2, STORE_BULK_ROWS,
            ") AND created_at >= (SELECT created_at FROM import_batches WHERE id = $1) "
            "AND NOT EXISTS (SELECT 1 FROM users u WHERE u.institution_id = institutions.id) "
            "AND NOT EXISTS (SELECT 1 FROM registrations r "
            "WHERE r.institution_id = institutions.id) "
            "AND NOT EXISTS (SELECT 1 FROM media d WHERE d.institution_id = institutions.id) "
            "AND NOT EXISTS (SELECT 1 FROM import_batches rb "
            "WHERE rb.state IN ('checking', 'writing'))",
            &st);
        if (e != NSDB_OK)
            return e;
        db_bind_int(st, 1, batch_id);
        bind_ids_padded(st, 2, pks, from, n);
        e = step_all(conn, st, NULL, NULL);
        db_finalize(st);
        if (e != NSDB_OK)
            return e;
    }
    return NSDB_OK;
}

nsdb_err store_bulk_wal_hold(db *conn, bool hold)
{
    if (db_get_dialect(conn) != DB_SQLITE)
        return NSDB_OK;
    return db_exec_script(conn,
                          hold ? "PRAGMA wal_autocheckpoint=0" : "PRAGMA wal_autocheckpoint=1000");
}

nsdb_err store_bulk_wal_checkpoint(db *conn)
{
    if (db_get_dialect(conn) != DB_SQLITE)
        return NSDB_OK;
    return db_exec_script(conn, "PRAGMA wal_checkpoint(PASSIVE)");
}
