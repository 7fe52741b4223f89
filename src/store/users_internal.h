/*
 * users_internal.h — what users.c shares with user_search.c: the column list of a store_user
 * row and its reader, and the upkeep of the name-pair index (user_grams, migration 007).
 */
#ifndef NSDB_STORE_USERS_INTERNAL_H
#define NSDB_STORE_USERS_INTERNAL_H

#include "store/sql.h"
#include "store/users.h"

/* The columns user_from_row reads, then the joins they need (users u first). */
#define USER_SELECT                                                                               \
    "u.id, u.user_id, u.role, u.name, u.name_kana, u.email, u.department, u.category, "          \
    "COALESCE(u.municipality_id, 0), COALESCE(u.institution_id, 0), m.code, m.name, i.code, "    \
    "i.name, u.password_hash, u.initial_password_sealed, u.notice_status, u.status, "             \
    "u.must_change_password, u.failed_logins, u.locked_until, u.created_at, u.title, u.phone, "   \
    "u.totp_enrolled_at, COALESCE(u.initial_password_by, 0), u.doctor_number, u.specialty "
#define USER_JOINS                                                                                \
    "LEFT JOIN municipalities m ON m.id = u.municipality_id "                                     \
    "LEFT JOIN institutions i ON i.id = u.institution_id "
#define USER_COLUMNS USER_SELECT "FROM users u " USER_JOINS

store_user *user_from_row(arena *a, db_stmt *st);

/* Whether users of this role are in the name-pair index (the institution users). */
bool user_grams_role(user_role role);
/* Counts one more (or one less) user with this name key in the municipality's name-pair index;
   nothing for an empty key. */
NSDB_MUST_CHECK nsdb_err user_grams_add(db *conn, int64_t municipality_pk, const char *key);
NSDB_MUST_CHECK nsdb_err user_grams_remove(db *conn, int64_t municipality_pk, const char *key);
/* Every user of old_key in the municipality's index (users of them, all) now has new_key. */
NSDB_MUST_CHECK nsdb_err user_grams_move(db *conn, int64_t municipality_pk, const char *old_key,
                                         const char *new_key, int64_t users);

#endif
