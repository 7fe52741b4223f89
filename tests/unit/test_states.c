/*
 * test_states.c — the state tables and state machines of domain/states.c: every key of every
 * kind round-trips key → enum → key and has a label, unknown keys (and 0, the "no value") are
 * refused, role bits follow the route table's names, and every allowed transition and a set of
 * forbidden ones give the expected answer (numbered data-driven cases).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/states.h"

/* One kind seen through int, so that one loop checks every table. */
typedef struct kind_case {
    const char *name;
    int count;
    const char *const *keys; /* in enum order, value 1 first */
    bool (*from_key)(const char *key, int *out);
    const char *(*key_of)(int value);
    const char *(*label_of)(int value);
} kind_case;

#define ADAPT(type, prefix)                                                                        \
    static bool prefix##_from_key_int(const char *key, int *out)                                   \
    {                                                                                              \
        type v;                                                                                    \
        if (!prefix##_from_key(key, &v))                                                           \
            return false;                                                                          \
        *out = (int)v;                                                                             \
        return true;                                                                               \
    }                                                                                              \
    static const char *prefix##_key_int(int v)                                                     \
    {                                                                                              \
        return prefix##_key((type)v);                                                              \
    }                                                                                              \
    static const char *prefix##_label_int(int v)                                                   \
    {                                                                                              \
        return prefix##_label((type)v);                                                            \
    }

ADAPT(user_role, user_role)
ADAPT(account_status, account_status)
ADAPT(notice_status, notice_status)
ADAPT(user_category, category)
ADAPT(admin_list_status, admin_list_status)
ADAPT(media_status, media_status)
ADAPT(package_status, package_status)

/* The keys of the CHECK constraints in migrations/, in enum order. */
static const char *const ROLE_KEYS[] = {"mhlw",       "operator",     "muni_admin",
                                        "muni_staff", "inst_manager", "doctor"};
static const char *const ACCOUNT_KEYS[] = {"active", "suspended"};
static const char *const NOTICE_KEYS[] = {"unissued", "issued", "active"};
static const char *const CATEGORY_KEYS[] = {"nanbyo", "shoman", "both"};
static const char *const LIST_KEYS[] = {"submitted", "approved", "issued", "rejected"};
static const char *const MEDIA_KEYS[] = {"created",   "packed",  "shipped", "received",
                                         "forwarded", "damaged", "reissued"};
static const char *const PACKAGE_KEYS[] = {"shipped", "received"};

#define KIND(label, prefix, keys, n)                                                               \
    {label, n, keys, prefix##_from_key_int, prefix##_key_int, prefix##_label_int}

static const kind_case KINDS[] = {
    KIND("user_role", user_role, ROLE_KEYS, USER_ROLE_COUNT),
    KIND("account_status", account_status, ACCOUNT_KEYS, ACCOUNT_STATUS_COUNT),
    KIND("notice_status", notice_status, NOTICE_KEYS, NOTICE_STATUS_COUNT),
    KIND("category", category, CATEGORY_KEYS, CATEGORY_COUNT),
    KIND("admin_list_status", admin_list_status, LIST_KEYS, ADMIN_LIST_STATUS_COUNT),
    KIND("media_status", media_status, MEDIA_KEYS, MEDIA_STATUS_COUNT),
    KIND("package_status", package_status, PACKAGE_KEYS, PACKAGE_STATUS_COUNT),
};

static void every_key_round_trips_and_has_a_label(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        const kind_case *c = &KINDS[k];
        for (int i = 0; i < c->count; i++) {
            int v = 0;
            if (!c->from_key(c->keys[i], &v))
                fail_msg("%s: key %s refused", c->name, c->keys[i]);
            assert_int_equal(v, i + 1); /* enum order, 0 is "no value" */
            assert_string_equal(c->key_of(v), c->keys[i]);
            const char *label = c->label_of(v);
            assert_non_null(label);
            assert_true(strlen(label) > 0);
        }
        /* the value after the last one and 0 are no state */
        assert_null(c->key_of(0));
        assert_null(c->label_of(0));
        assert_null(c->key_of(c->count + 1));
        assert_null(c->label_of(c->count + 1));
    }
}

static void unknown_keys_are_refused(void **state)
{
    (void)state;
    static const char *const UNKNOWN[] = {"", "Active", "ACTIVE", "admin", "active ", " doctor",
                                          "難病", "承認済", "shipped\n", "mhlw\x01"};
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        int v = 12345;
        assert_false(KINDS[k].from_key(NULL, &v));
        for (size_t i = 0; i < sizeof UNKNOWN / sizeof UNKNOWN[0]; i++)
            if (KINDS[k].from_key(UNKNOWN[i], &v))
                fail_msg("%s accepted \"%s\"", KINDS[k].name, UNKNOWN[i]);
        assert_int_equal(v, 12345); /* untouched when refused */
    }
    /* one kind's key is not another's */
    media_status m;
    assert_false(media_status_from_key("submitted", &m));
    user_role r;
    assert_false(user_role_from_key("active", &r));
}

static void labels_are_the_screens_wording(void **state)
{
    (void)state;
    assert_string_equal(user_role_label(USER_ROLE_MHLW), "厚労省 難病対策課");
    assert_string_equal(user_role_label(USER_ROLE_DOCTOR), "指定医");
    assert_string_equal(notice_status_label(NOTICE_STATUS_ISSUED), "発行済（初期パスワード）");
    assert_string_equal(category_label(CATEGORY_BOTH), "難病・小慢");
    assert_string_equal(category_label_of_key("shoman"), "小慢");
    assert_string_equal(category_label_of_key("other"), "");
    assert_string_equal(category_label_of_key(NULL), "");
    assert_string_equal(admin_list_status_label(ADMIN_LIST_STATUS_APPROVED), "承認済（払出し待ち）");
    assert_string_equal(media_status_label(MEDIA_STATUS_FORWARDED), "医療機関へ送付済");
    assert_string_equal(package_status_label(PACKAGE_STATUS_RECEIVED), "受領済");
}

/* A doctor registered again for the other category is 両方 (issue 12, item 6). */
static void a_second_category_makes_both(void **state)
{
    (void)state;
    assert_int_equal(category_union(CATEGORY_NANBYO, CATEGORY_SHOMAN), CATEGORY_BOTH);
    assert_int_equal(category_union(CATEGORY_SHOMAN, CATEGORY_NANBYO), CATEGORY_BOTH);
    assert_int_equal(category_union(CATEGORY_NANBYO, CATEGORY_NANBYO), CATEGORY_NANBYO);
    assert_int_equal(category_union(CATEGORY_SHOMAN, CATEGORY_SHOMAN), CATEGORY_SHOMAN);
    assert_int_equal(category_union(CATEGORY_BOTH, CATEGORY_SHOMAN), CATEGORY_BOTH);
    assert_int_equal(category_union(CATEGORY_NANBYO, CATEGORY_BOTH), CATEGORY_BOTH);
}

static void role_bits_match_the_route_names(void **state)
{
    (void)state;
    static const struct {
        user_role role;
        unsigned bit;
    } CASES[] = {{USER_ROLE_MHLW, ROLE_MHLW},
                 {USER_ROLE_OPERATOR, ROLE_OPERATOR},
                 {USER_ROLE_MUNI_ADMIN, ROLE_MUNI_ADMIN},
                 {USER_ROLE_MUNI_STAFF, ROLE_MUNI_STAFF},
                 {USER_ROLE_INST_MANAGER, ROLE_INST_MANAGER},
                 {USER_ROLE_DOCTOR, ROLE_DOCTOR}};
    unsigned all = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        assert_int_equal(role_bit(CASES[i].role), CASES[i].bit);
        all |= role_bit(CASES[i].role);
    }
    assert_int_equal(all, ROLES_ALL);
    assert_int_equal(role_bit((user_role)0), 0);
    assert_int_equal(role_bit((user_role)(USER_ROLE_COUNT + 1)), 0);
    assert_true((role_bit(USER_ROLE_DOCTOR) & ROLES_INSTITUTION) != 0);
    assert_true((role_bit(USER_ROLE_MUNI_STAFF) & ROLES_INSTITUTION) == 0);
    assert_true((role_bit(USER_ROLE_MUNI_STAFF) & ROLES_MUNI) != 0);
}

/* {from, action, allowed, to}: to is 0 when refused. */
typedef struct move_case {
    int from, action;
    bool allowed;
    int to;
} move_case;

static const move_case ADMIN_LIST_CASES[] = {
    /* 1 */ {ADMIN_LIST_STATUS_SUBMITTED, ADMIN_LIST_ACTION_APPROVE, true, ADMIN_LIST_STATUS_APPROVED},
    /* 2 */ {ADMIN_LIST_STATUS_SUBMITTED, ADMIN_LIST_ACTION_REJECT, true, ADMIN_LIST_STATUS_REJECTED},
    /* 3 */ {ADMIN_LIST_STATUS_APPROVED, ADMIN_LIST_ACTION_ISSUE, true, ADMIN_LIST_STATUS_ISSUED},
    /* 4: 払出し before approval */
    {ADMIN_LIST_STATUS_SUBMITTED, ADMIN_LIST_ACTION_ISSUE, false, 0},
    /* 5: approving twice; 6: an approved list not yet issued can be sent back (issue 12) */
    {ADMIN_LIST_STATUS_APPROVED, ADMIN_LIST_ACTION_APPROVE, false, 0},
    {ADMIN_LIST_STATUS_APPROVED, ADMIN_LIST_ACTION_REJECT, true, ADMIN_LIST_STATUS_REJECTED},
    /* 7-9: issued and rejected are final */
    {ADMIN_LIST_STATUS_ISSUED, ADMIN_LIST_ACTION_ISSUE, false, 0},
    {ADMIN_LIST_STATUS_REJECTED, ADMIN_LIST_ACTION_APPROVE, false, 0},
    {ADMIN_LIST_STATUS_REJECTED, ADMIN_LIST_ACTION_ISSUE, false, 0},
    /* 10: no state */
    {0, ADMIN_LIST_ACTION_APPROVE, false, 0},
};

static const move_case MEDIA_CASES[] = {
    /* 1-8: every allowed move */
    {MEDIA_STATUS_CREATED, MEDIA_ACTION_PACK, true, MEDIA_STATUS_PACKED},
    {MEDIA_STATUS_PACKED, MEDIA_ACTION_SHIP, true, MEDIA_STATUS_SHIPPED},
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_RECEIVE, true, MEDIA_STATUS_RECEIVED},
    {MEDIA_STATUS_RECEIVED, MEDIA_ACTION_FORWARD, true, MEDIA_STATUS_FORWARDED},
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_DAMAGE, true, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_RECEIVED, MEDIA_ACTION_DAMAGE, true, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_FORWARDED, MEDIA_ACTION_DAMAGE, true, MEDIA_STATUS_DAMAGED},
    {MEDIA_STATUS_DAMAGED, MEDIA_ACTION_REISSUE, true, MEDIA_STATUS_REISSUED},
    /* 9-11: forwarding what was not received */
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_FORWARD, false, 0},
    {MEDIA_STATUS_FORWARDED, MEDIA_ACTION_FORWARD, false, 0},
    {MEDIA_STATUS_DAMAGED, MEDIA_ACTION_FORWARD, false, 0},
    /* 12-15: damage before it left the operator, or twice */
    {MEDIA_STATUS_CREATED, MEDIA_ACTION_DAMAGE, false, 0},
    {MEDIA_STATUS_PACKED, MEDIA_ACTION_DAMAGE, false, 0},
    {MEDIA_STATUS_DAMAGED, MEDIA_ACTION_DAMAGE, false, 0},
    {MEDIA_STATUS_REISSUED, MEDIA_ACTION_DAMAGE, false, 0},
    /* 16-19: steps out of order */
    {MEDIA_STATUS_CREATED, MEDIA_ACTION_SHIP, false, 0},
    {MEDIA_STATUS_PACKED, MEDIA_ACTION_PACK, false, 0},
    {MEDIA_STATUS_PACKED, MEDIA_ACTION_RECEIVE, false, 0},
    {MEDIA_STATUS_RECEIVED, MEDIA_ACTION_RECEIVE, false, 0},
    /* 20-21: only a damaged media is reissued */
    {MEDIA_STATUS_SHIPPED, MEDIA_ACTION_REISSUE, false, 0},
    {MEDIA_STATUS_REISSUED, MEDIA_ACTION_REISSUE, false, 0},
    /* 22 */
    {0, MEDIA_ACTION_PACK, false, 0},
};

static const move_case PACKAGE_CASES[] = {
    {PACKAGE_STATUS_SHIPPED, PACKAGE_ACTION_RECEIVE, true, PACKAGE_STATUS_RECEIVED},
    {PACKAGE_STATUS_RECEIVED, PACKAGE_ACTION_RECEIVE, false, 0},
    {0, PACKAGE_ACTION_RECEIVE, false, 0},
};

static void admin_list_moves(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ADMIN_LIST_CASES / sizeof ADMIN_LIST_CASES[0]; i++) {
        const move_case *c = &ADMIN_LIST_CASES[i];
        admin_list_status to = 0;
        bool ok = admin_list_status_can((admin_list_status)c->from, (admin_list_action)c->action,
                                        &to);
        if (ok != c->allowed || (ok && (int)to != c->to))
            fail_msg("admin list case %zu", i + 1);
        assert_int_equal(admin_list_status_can((admin_list_status)c->from,
                                               (admin_list_action)c->action, NULL),
                         c->allowed);
    }
}

static void media_moves(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof MEDIA_CASES / sizeof MEDIA_CASES[0]; i++) {
        const move_case *c = &MEDIA_CASES[i];
        media_status to = 0;
        bool ok = media_status_can((media_status)c->from, (media_action)c->action, &to);
        if (ok != c->allowed || (ok && (int)to != c->to))
            fail_msg("media case %zu", i + 1);
        assert_int_equal(media_status_can((media_status)c->from, (media_action)c->action, NULL),
                         c->allowed);
    }
}

static void package_moves(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PACKAGE_CASES / sizeof PACKAGE_CASES[0]; i++) {
        const move_case *c = &PACKAGE_CASES[i];
        package_status to = 0;
        bool ok = package_status_can((package_status)c->from, (package_action)c->action, &to);
        if (ok != c->allowed || (ok && (int)to != c->to))
            fail_msg("package case %zu", i + 1);
    }
}

/* Every (state, action) pair not listed as allowed above is refused: the tables above list all
   the allowed moves, so the machine has no move the tests do not know. */
static void no_move_beyond_the_listed_ones(void **state)
{
    (void)state;
    int allowed = 0;
    for (int from = 0; from <= MEDIA_STATUS_COUNT + 1; from++)
        for (int action = 0; action <= MEDIA_ACTION_REISSUE + 1; action++)
            allowed += media_status_can((media_status)from, (media_action)action, NULL);
    assert_int_equal(allowed, 8);
    allowed = 0;
    for (int from = 0; from <= ADMIN_LIST_STATUS_COUNT + 1; from++)
        for (int action = 0; action <= ADMIN_LIST_ACTION_ISSUE + 1; action++)
            allowed += admin_list_status_can((admin_list_status)from,
                                             (admin_list_action)action, NULL);
    assert_int_equal(allowed, 4);
    allowed = 0;
    for (int from = 0; from <= PACKAGE_STATUS_COUNT + 1; from++)
        for (int action = 0; action <= PACKAGE_ACTION_RECEIVE + 1; action++)
            allowed += package_status_can((package_status)from, (package_action)action, NULL);
    assert_int_equal(allowed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_round_trips_and_has_a_label),
        cmocka_unit_test(unknown_keys_are_refused),
        cmocka_unit_test(labels_are_the_screens_wording),
        cmocka_unit_test(a_second_category_makes_both),
        cmocka_unit_test(role_bits_match_the_route_names),
        cmocka_unit_test(admin_list_moves),
        cmocka_unit_test(media_moves),
        cmocka_unit_test(package_moves),
        cmocka_unit_test(no_move_beyond_the_listed_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
