/*
 * roles.h — the roles of SPEC §1 as keys and bits (a route lists the bits that may use it),
 * and the Japanese labels of roles, categories (難病/小慢) and notice statuses.
 */
#ifndef NSDB_ROLES_H
#define NSDB_ROLES_H

#include <stdbool.h>

enum {
    ROLE_MHLW = 1 << 0,
    ROLE_OPERATOR = 1 << 1,
    ROLE_MUNI_ADMIN = 1 << 2,
    ROLE_MUNI_STAFF = 1 << 3,
    ROLE_INST_MANAGER = 1 << 4,
    ROLE_DOCTOR = 1 << 5,
    ROLES_ALL = (1 << 6) - 1,
    ROLES_MUNI = ROLE_MUNI_ADMIN | ROLE_MUNI_STAFF,
    ROLES_INSTITUTION = ROLE_INST_MANAGER | ROLE_DOCTOR,
};

unsigned role_bit(const char *role_key); /* 0 when unknown */
const char *role_label(const char *role_key); /* NULL when unknown */
bool role_key_valid(const char *role_key);
const char *category_label(const char *category_key);    /* "" when unknown */
const char *notice_status_label(const char *status_key); /* "" when unknown */

#endif
