/*
 * states.h — every kind of state nsdb keeps (user role, account status, notice status, category,
 * admin-list status, media status, package status, mail status) as an enum with one {value, key, label} table
 * in states.c: the key is what the database stores and URLs, JSON and templates carry, the label
 * is the Japanese shown on screens. Storage converts key <-> enum at its edge; everything above
 * it compares enums. The state machines (admin list, media, package) are one transition table
 * each, read by the screens (which buttons to show) and by storage (which move to make). The
 * role bits name who may use a route (web/routes.c).
 *
 * Every enum starts at 1: 0 is "no value" (a zeroed struct, or a search filter meaning any).
 */
#ifndef NSDB_STATES_H
#define NSDB_STATES_H

#include <stdbool.h>

/* ---- user roles (SPEC §1) and the route table's role bits ---- */
typedef enum user_role {
    USER_ROLE_MHLW = 1,
    USER_ROLE_OPERATOR,
    USER_ROLE_MUNI_ADMIN,
    USER_ROLE_MUNI_STAFF,
    USER_ROLE_INST_MANAGER,
    USER_ROLE_DOCTOR,
} user_role;
#define USER_ROLE_COUNT 6

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

bool user_role_from_key(const char *key, user_role *out); /* false when unknown (or NULL) */
const char *user_role_key(user_role role);                 /* NULL when not a role */
const char *user_role_label(user_role role);               /* NULL when not a role */
unsigned role_bit(user_role role);                         /* 0 when not a role */

/* ---- account status (利用中 / 利用停止中) ---- */
typedef enum account_status {
    ACCOUNT_STATUS_ACTIVE = 1,
    ACCOUNT_STATUS_SUSPENDED,
} account_status;
#define ACCOUNT_STATUS_COUNT 2

bool account_status_from_key(const char *key, account_status *out);
const char *account_status_key(account_status status);
const char *account_status_label(account_status status);

/* ---- notice status (通知書の状態) ---- */
typedef enum notice_status {
    NOTICE_STATUS_UNISSUED = 1,
    NOTICE_STATUS_ISSUED,
    NOTICE_STATUS_ACTIVE,
} notice_status;
#define NOTICE_STATUS_COUNT 3

bool notice_status_from_key(const char *key, notice_status *out);
const char *notice_status_key(notice_status status);
const char *notice_status_label(notice_status status);

/* ---- category (難病 / 小慢 / 難病・小慢) ---- */
typedef enum user_category {
    CATEGORY_NANBYO = 1,
    CATEGORY_SHOMAN,
    CATEGORY_BOTH,
} user_category;
#define CATEGORY_COUNT 3

bool category_from_key(const char *key, user_category *out);
const char *category_key(user_category c);
const char *category_label(user_category c);
/* The label of a stored category key ("" when unknown): categories still travel as keys in the
   validated input structs and the store rows. */
const char *category_label_of_key(const char *key);
/* Both categories a person is registered for: a doctor of 難病 registered again for 小慢 (or
   the reverse) is 両方; the same category, or anything with 両方, adds nothing. */
user_category category_union(user_category a, user_category b);

/* ---- admin application list (申請リスト): submitted → approved → issued, or rejected ---- */
typedef enum admin_list_status {
    ADMIN_LIST_STATUS_SUBMITTED = 1,
    ADMIN_LIST_STATUS_APPROVED,
    ADMIN_LIST_STATUS_ISSUED,
    ADMIN_LIST_STATUS_REJECTED,
} admin_list_status;
#define ADMIN_LIST_STATUS_COUNT 4

typedef enum admin_list_action {
    ADMIN_LIST_ACTION_APPROVE = 1, /* 承認 (the Ministry) */
    ADMIN_LIST_ACTION_REJECT,      /* 差戻し (the Ministry) */
    ADMIN_LIST_ACTION_ISSUE,       /* 払出し (the operator) */
} admin_list_action;

bool admin_list_status_from_key(const char *key, admin_list_status *out);
const char *admin_list_status_key(admin_list_status status);
const char *admin_list_status_label(admin_list_status status);
/* Whether action may be taken on a list in `from`; *to (when to != NULL) gets the new status. */
bool admin_list_status_can(admin_list_status from, admin_list_action action,
                           admin_list_status *to);

/* ---- media (媒体): created → packed → shipped → received → forwarded; damaged → reissued ---- */
typedef enum media_status {
    MEDIA_STATUS_CREATED = 1,
    MEDIA_STATUS_PACKED,
    MEDIA_STATUS_SHIPPED,
    MEDIA_STATUS_RECEIVED,
    MEDIA_STATUS_FORWARDED,
    MEDIA_STATUS_DAMAGED,
    MEDIA_STATUS_REISSUED,
} media_status;
#define MEDIA_STATUS_COUNT 7

typedef enum media_action {
    MEDIA_ACTION_PACK = 1, /* put in a package (operator) */
    MEDIA_ACTION_SHIP,     /* the package is sent (operator) */
    MEDIA_ACTION_RECEIVE,  /* its package is received (municipality) */
    MEDIA_ACTION_FORWARD,  /* 医療機関へ送付 (municipality) */
    MEDIA_ACTION_DAMAGE,   /* 破損連絡 (municipality) */
    MEDIA_ACTION_REISSUE,  /* the replacement is built in the next cycle */
} media_action;

bool media_status_from_key(const char *key, media_status *out);
const char *media_status_key(media_status status);
const char *media_status_label(media_status status);
bool media_status_can(media_status from, media_action action, media_status *to);

/* ---- packages (梱包): packed → shipped → received ---- */
typedef enum package_status {
    PACKAGE_STATUS_PACKED = 1, /* 梱包済: no tracking number yet */
    PACKAGE_STATUS_SHIPPED,    /* 発送済: the Letter Pack's number is recorded */
    PACKAGE_STATUS_RECEIVED,
} package_status;
#define PACKAGE_STATUS_COUNT 3

typedef enum package_action {
    PACKAGE_ACTION_RECEIVE = 1, /* 受領 (municipality) */
    PACKAGE_ACTION_SHIP,        /* 発送 with the tracking number (operator) */
} package_action;

bool package_status_from_key(const char *key, package_status *out);
const char *package_status_key(package_status status);
const char *package_status_label(package_status status);
bool package_status_can(package_status from, package_action action, package_status *to);

/* ---- outgoing mail (the outbox): pending → sent, or failed (given up; the operator may resend) */
typedef enum mail_status {
    MAIL_STATUS_PENDING = 1,
    MAIL_STATUS_SENT,
    MAIL_STATUS_FAILED,
} mail_status;
#define MAIL_STATUS_COUNT 3

bool mail_status_from_key(const char *key, mail_status *out);
const char *mail_status_key(mail_status status);
const char *mail_status_label(mail_status status);

/* ---- an import batch (一括登録, issue 11): checking → writing → visible, or refused / failed.
   Only a visible batch's users exist for screens, lists, searches, logins and media. */
typedef enum import_state {
    IMPORT_STATE_CHECKING = 1, /* rows checked against the database; nothing written */
    IMPORT_STATE_WRITING,      /* written in chunks, still invisible */
    IMPORT_STATE_VISIBLE,      /* done */
    IMPORT_STATE_REFUSED,      /* rows clash with what is registered: nothing registered */
    IMPORT_STATE_FAILED,       /* an error, a stop or a restart interrupted it */
} import_state;
#define IMPORT_STATE_COUNT 5

bool import_state_from_key(const char *key, import_state *out);
const char *import_state_key(import_state state);
const char *import_state_label(import_state state);
/* Whether the batch has ended (visible, refused or failed). */
bool import_state_ended(import_state state);

#endif
