/*
 * states.c — the one table of each state kind ({value, key, label}: the Japanese wording is
 * reviewed here and nowhere else) and the one transition table of each state machine. Keys must
 * match the CHECK constraints of migrations/001_init.sql, 002_flow1.sql and 004_media.sql.
 */
#include <string.h>

#include "domain/states.h"

typedef struct state_entry {
    int value;
    const char *key;
    const char *label;
} state_entry;

#define COUNT_OF(t) (sizeof(t) / sizeof((t)[0]))

static const state_entry USER_ROLES[] = {
    {USER_ROLE_MHLW, "mhlw", "厚労省 難病対策課"},
    {USER_ROLE_OPERATOR, "operator", "運用事業者"},
    {USER_ROLE_MUNI_ADMIN, "muni_admin", "自治体管理者"},
    {USER_ROLE_MUNI_STAFF, "muni_staff", "自治体職員"},
    {USER_ROLE_INST_MANAGER, "inst_manager", "医療機関の責任者"},
    {USER_ROLE_DOCTOR, "doctor", "指定医"},
};

static const state_entry ACCOUNT_STATUSES[] = {
    {ACCOUNT_STATUS_ACTIVE, "active", "利用中"},
    {ACCOUNT_STATUS_SUSPENDED, "suspended", "利用停止中"},
};

static const state_entry NOTICE_STATUSES[] = {
    {NOTICE_STATUS_UNISSUED, "unissued", "未発行"},
    {NOTICE_STATUS_ISSUED, "issued", "発行済（初期パスワード）"},
    {NOTICE_STATUS_ACTIVE, "active", "利用中"},
};

static const state_entry CATEGORIES[] = {
    {CATEGORY_NANBYO, "nanbyo", "難病"},
    {CATEGORY_SHOMAN, "shoman", "小慢"},
    {CATEGORY_BOTH, "both", "難病・小慢"},
};

static const state_entry ADMIN_LIST_STATUSES[] = {
    {ADMIN_LIST_STATUS_SUBMITTED, "submitted", "申請中"},
    {ADMIN_LIST_STATUS_APPROVED, "approved", "承認済（払出し待ち）"},
    {ADMIN_LIST_STATUS_ISSUED, "issued", "払出し済"},
    {ADMIN_LIST_STATUS_REJECTED, "rejected", "差戻し"},
};

static const state_entry MEDIA_STATUSES[] = {
    {MEDIA_STATUS_CREATED, "created", "作成済"},
    {MEDIA_STATUS_PACKED, "packed", "梱包済"},
    {MEDIA_STATUS_SHIPPED, "shipped", "発送済"},
    {MEDIA_STATUS_RECEIVED, "received", "受領済"},
    {MEDIA_STATUS_FORWARDED, "forwarded", "医療機関へ送付済"},
    {MEDIA_STATUS_DAMAGED, "damaged", "破損（再発行待ち）"},
    {MEDIA_STATUS_REISSUED, "reissued", "破損（再発行済）"},
};

static const state_entry PACKAGE_STATUSES[] = {
    {PACKAGE_STATUS_PACKED, "packed", "梱包済"},
    {PACKAGE_STATUS_SHIPPED, "shipped", "発送済"},
    {PACKAGE_STATUS_RECEIVED, "received", "受領済"},
};

_Static_assert(COUNT_OF(USER_ROLES) == USER_ROLE_COUNT, "one row per role");
_Static_assert(COUNT_OF(ACCOUNT_STATUSES) == ACCOUNT_STATUS_COUNT, "one row per status");
_Static_assert(COUNT_OF(NOTICE_STATUSES) == NOTICE_STATUS_COUNT, "one row per status");
_Static_assert(COUNT_OF(CATEGORIES) == CATEGORY_COUNT, "one row per category");
_Static_assert(COUNT_OF(ADMIN_LIST_STATUSES) == ADMIN_LIST_STATUS_COUNT, "one row per status");
_Static_assert(COUNT_OF(MEDIA_STATUSES) == MEDIA_STATUS_COUNT, "one row per status");
_Static_assert(COUNT_OF(PACKAGE_STATUSES) == PACKAGE_STATUS_COUNT, "one row per status");

static const state_entry MAIL_STATUSES[] = {
    {MAIL_STATUS_PENDING, "pending", "送信待ち"},
    {MAIL_STATUS_SENT, "sent", "送信済"},
    {MAIL_STATUS_FAILED, "failed", "送信不能"},
};
_Static_assert(COUNT_OF(MAIL_STATUSES) == MAIL_STATUS_COUNT, "one row per status");

static const state_entry IMPORT_STATES[] = {
    {IMPORT_STATE_CHECKING, "checking", "確認中"},
    {IMPORT_STATE_WRITING, "writing", "登録中"},
    {IMPORT_STATE_VISIBLE, "visible", "登録済"},
    {IMPORT_STATE_REFUSED, "refused", "登録できませんでした"},
    {IMPORT_STATE_FAILED, "failed", "中断"},
};
_Static_assert(COUNT_OF(IMPORT_STATES) == IMPORT_STATE_COUNT, "one row per state");
/* role_bit is 1 << (role - 1): the bits follow the enum's order */
_Static_assert(ROLE_MHLW == 1 << (USER_ROLE_MHLW - 1) &&
                   ROLE_OPERATOR == 1 << (USER_ROLE_OPERATOR - 1) &&
                   ROLE_MUNI_ADMIN == 1 << (USER_ROLE_MUNI_ADMIN - 1) &&
                   ROLE_MUNI_STAFF == 1 << (USER_ROLE_MUNI_STAFF - 1) &&
                   ROLE_INST_MANAGER == 1 << (USER_ROLE_INST_MANAGER - 1) &&
                   ROLE_DOCTOR == 1 << (USER_ROLE_DOCTOR - 1),
               "role bits in enum order");

static bool entry_from_key(const state_entry *t, size_t n, const char *key, int *out)
{
    for (size_t i = 0; key != NULL && i < n; i++)
        if (strcmp(t[i].key, key) == 0) {
            *out = t[i].value;
            return true;
        }
    return false;
}

static const state_entry *entry_of(const state_entry *t, size_t n, int value)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == value)
            return &t[i];
    return NULL;
}

/* The three accessors of one table; the enum is converted through int so that one search
   serves every kind. */
#define STATE_ACCESSORS(type, prefix, table)                                                       \
    bool prefix##_from_key(const char *key, type *out)                                             \
    {                                                                                              \
        int v = 0;                                                                                 \
        if (!entry_from_key(table, COUNT_OF(table), key, &v))                                      \
            return false;                                                                          \
        *out = (type)v;                                                                            \
        return true;                                                                               \
    }                                                                                              \
    const char *prefix##_key(type value)                                                           \
    {                                                                                              \
        const state_entry *e = entry_of(table, COUNT_OF(table), (int)value);                       \
        return e ? e->key : NULL;                                                                  \
    }                                                                                              \
    const char *prefix##_label(type value)                                                         \
    {                                                                                              \
        const state_entry *e = entry_of(table, COUNT_OF(table), (int)value);                       \
        return e ? e->label : NULL;                                                                \
    }

STATE_ACCESSORS(user_role, user_role, USER_ROLES)
STATE_ACCESSORS(account_status, account_status, ACCOUNT_STATUSES)
STATE_ACCESSORS(notice_status, notice_status, NOTICE_STATUSES)
STATE_ACCESSORS(user_category, category, CATEGORIES)
STATE_ACCESSORS(admin_list_status, admin_list_status, ADMIN_LIST_STATUSES)
STATE_ACCESSORS(media_status, media_status, MEDIA_STATUSES)
STATE_ACCESSORS(package_status, package_status, PACKAGE_STATUSES)
STATE_ACCESSORS(mail_status, mail_status, MAIL_STATUSES)
STATE_ACCESSORS(import_state, import_state, IMPORT_STATES)

bool import_state_ended(import_state state)
{
    return state == IMPORT_STATE_VISIBLE || state == IMPORT_STATE_REFUSED ||
           state == IMPORT_STATE_FAILED;
}

unsigned role_bit(user_role role)
{
    return user_role_key(role) ? 1u << (role - 1) : 0;
}

user_category category_union(user_category a, user_category b)
{
    return a == b ? a : CATEGORY_BOTH;
}

const char *category_label_of_key(const char *key)
{
    user_category c;
    return category_from_key(key, &c) ? category_label(c) : "";
}

/* ---- transitions: {from, action, to}; a move not listed is refused ---- */
typedef struct transition {
    int from, action, to;
} transition;

static bool transition_find(const transition *t, size_t n, int from, int action, int *to)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].from == from && t[i].action == action) {
            *to = t[i].to;
            return true;
        }
    return false;
}

static const transition ADMIN_LIST_MOVES[] = {
    {ADMIN_LIST_STATUS_SUBMITTED, ADMIN_LIST_ACTION_APPROVE, ADMIN_LIST_STATUS_APPROVED},
    {ADMIN_LIST_STATUS_SUBMITTED, ADMIN_LIST_ACTION_REJECT, ADMIN_LIST_STATUS_REJECTED},
    {ADMIN_LIST_STATUS_APPROVED, ADMIN_LIST_ACTION_ISSUE, ADMIN_LIST_STATUS_ISSUED},
    {ADMIN_LIST_STATUS_APPROVED, ADMIN_LIST_ACTION_REJECT, ADMIN_LIST_STATUS_REJECTED},
};

static const transition MEDIA_MOVES[] = {
    {MEDIA_STATUS_CREATED, MEDIA_ACTION_PACK, MEDIA_STATUS_PACKED},
    {MEDIA_STATUS_PACKED, MEDIA_ACTION_SHIP, MEDIA_STATUS_SHIPPED},
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_RECEIVE, MEDIA_STATUS_RECEIVED},
    {MEDIA_STATUS_RECEIVED, MEDIA_ACTION_FORWARD, MEDIA_STATUS_FORWARDED},
    /* a media found broken at any point after it left the operator */
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_DAMAGE, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_RECEIVED, MEDIA_ACTION_DAMAGE, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_FORWARDED, MEDIA_ACTION_DAMAGE, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_DAMAGED, MEDIA_ACTION_REISSUE, MEDIA_STATUS_REISSUED},
};

static const transition PACKAGE_MOVES[] = {
    {PACKAGE_STATUS_PACKED, PACKAGE_ACTION_SHIP, PACKAGE_STATUS_SHIPPED},
    {PACKAGE_STATUS_SHIPPED, PACKAGE_ACTION_RECEIVE, PACKAGE_STATUS_RECEIVED},
};

bool admin_list_status_can(admin_list_status from, admin_list_action action,
                           admin_list_status *to)
{
    int next = 0;
    if (!transition_find(ADMIN_LIST_MOVES, COUNT_OF(ADMIN_LIST_MOVES), (int)from, (int)action,
                         &next))
        return false;
    if (to != NULL)
        *to = (admin_list_status)next;
    return true;
}

bool media_status_can(media_status from, media_action action, media_status *to)
{
    int next = 0;
    if (!transition_find(MEDIA_MOVES, COUNT_OF(MEDIA_MOVES), (int)from, (int)action, &next))
        return false;
    if (to != NULL)
        *to = (media_status)next;
    return true;
}

bool package_status_can(package_status from, package_action action, package_status *to)
{
    int next = 0;
    if (!transition_find(PACKAGE_MOVES, COUNT_OF(PACKAGE_MOVES), (int)from, (int)action, &next))
        return false;
    if (to != NULL)
        *to = (package_status)next;
    return true;
}
