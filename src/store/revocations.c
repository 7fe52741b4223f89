/*
 * revocations.c — see revocations.h. The reason is stored by its RFC 5280 name and converted
 * to the enum here, at the edge.
 */
#define NSDB_STORE_INTERNAL
#include "store/revocations.h"

#include <string.h>

#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"

static const struct {
    pki_revocation_reason reason;
    const char *key;
} REASONS[] = {
    {PKI_REVOKED_KEY_COMPROMISE, "keyCompromise"},
    {PKI_REVOKED_SUPERSEDED, "superseded"},
    {PKI_REVOKED_CESSATION_OF_OPERATION, "cessationOfOperation"},
};

static const char *reason_key(pki_revocation_reason r)
{
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++)
        if (REASONS[i].reason == r)
            return REASONS[i].key;
    return NULL;
}

static pki_revocation_reason reason_from_key(const char *key)
{
    for (size_t i = 0; key != NULL && i < sizeof REASONS / sizeof REASONS[0]; i++)
        if (strcmp(REASONS[i].key, key) == 0)
            return REASONS[i].reason;
    return PKI_REVOKED_SUPERSEDED; /* the CHECK constraint admits no other */
}

nsdb_err store_revocation_add(db *conn, int64_t media_id, pki_revocation_reason reason, int64_t by,
                              int64_t now, bool *added_out)
{
    STORE_ASSERT_WRITE(conn);
    *added_out = false;
    const char *key = reason_key(reason);
    if (key == NULL)
        return NSDB_ERR_INVALID;
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "INSERT INTO cert_revocations (serial, media_id, reason, revoked_at, "
                         "revoked_by) SELECT cert_serial, id, $2, $3, NULLIF($4, 0) FROM media "
                         "WHERE id = $1 ON CONFLICT (serial) DO NOTHING",
                         "itii", media_id, key, now, by);
    *added_out = e == NSDB_OK && changes == 1;
    return e;
}

static void revocation_from_row(arena *a, db_stmt *st, void *row)
{
    store_revocation *r = row;
    r->serial = store_column_strdup(a, st, 0);
    r->media_id = db_column_int(st, 1);
    r->reason = reason_from_key(db_column_text(st, 2));
    r->revoked_at = db_column_int(st, 3);
}

nsdb_err store_revocation_list(db *conn, arena *a, store_revocation **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT serial, media_id, reason, revoked_at FROM cert_revocations "
                          "ORDER BY id",
                          "");
    void *rows = NULL;
    if (e == NSDB_OK)
        e = store_rows_read(st, a, sizeof **rows_out, revocation_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_crl_issue(db *conn, int64_t by, int64_t now, int64_t *number_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e =
        db_query(conn, &st,
                 "INSERT INTO crl_issues (issued_at, issued_by) VALUES ($1, NULLIF($2, 0)) "
                 "RETURNING id",
                 "ii", now, by);
    return e != NSDB_OK ? e : store_row_int(st, number_out);
}

#define CERTIFICATE_COLUMNS                                                                        \
    "d.id, d.cert_serial, d.cycle_id, d.municipality_id, m.code, m.name, d.institution_id, "       \
    "i.code, i.name, d.created_at FROM media d "                                                   \
    "JOIN municipalities m ON m.id = d.municipality_id "                                           \
    "JOIN institutions i ON i.id = d.institution_id "                                              \
    "WHERE d.status NOT IN ('damaged', 'reissued') "                                               \
    "AND NOT EXISTS (SELECT 1 FROM cert_revocations r WHERE r.serial = d.cert_serial) "

static void certificate_from_row(arena *a, db_stmt *st, void *row)
{
    store_certificate *c = row;
    c->media_id = db_column_int(st, 0);
    c->serial = store_column_strdup(a, st, 1);
    c->cycle_id = store_column_strdup(a, st, 2);
    c->municipality_pk = db_column_int(st, 3);
    c->municipality_code = store_column_strdup(a, st, 4);
    c->municipality_name = store_column_strdup(a, st, 5);
    c->institution_pk = db_column_int(st, 6);
    c->institution_code = store_column_strdup(a, st, 7);
    c->institution_name = store_column_strdup(a, st, 8);
    c->issued_at = db_column_int(st, 9);
}

static NSDB_MUST_CHECK nsdb_err certificates_read(db_stmt *st, arena *a,
                                                  store_certificate **rows_out, size_t *count_out)
{
    void *rows = NULL;
    nsdb_err e = store_rows_read(st, a, sizeof **rows_out, certificate_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_certificates_of_institution(db *conn, arena *a, int64_t institution_pk,
                                           store_certificate **rows_out, size_t *count_out)
{
    *rows_out = NULL;
    *count_out = 0;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CERTIFICATE_COLUMNS "AND d.institution_id = $1 ORDER BY d.id",
                          "i", institution_pk);
    return e != NSDB_OK ? e : certificates_read(st, a, rows_out, count_out);
}

nsdb_err store_certificates_issued_before(db *conn, arena *a, int64_t issued_before,
                                          store_certificate **rows_out, size_t *count_out)
{
    *rows_out = NULL;
    *count_out = 0;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CERTIFICATE_COLUMNS "AND d.created_at <= $1 "
                          "AND NOT EXISTS (SELECT 1 FROM media n WHERE n.renewal_of = d.id) "
                          "ORDER BY d.created_at, d.id",
                          "i", issued_before);
    return e != NSDB_OK ? e : certificates_read(st, a, rows_out, count_out);
}

nsdb_err store_media_set_renewal_of(db *conn, int64_t id, int64_t renewal_of)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes, "UPDATE media SET renewal_of = $2 WHERE id = $1", "ii", id,
                         renewal_of);
    return e == NSDB_OK && changes != 1 ? NSDB_ERR_NOT_FOUND : e;
}

nsdb_err store_institution_active_users(db *conn, int64_t institution_pk, int64_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COUNT(*) FROM users u WHERE u.institution_id = $1 "
                          "AND u.status = 'active' AND " USER_SHOWN,
                          "i", institution_pk);
    return e != NSDB_OK ? e : store_row_int(st, count_out);
}
