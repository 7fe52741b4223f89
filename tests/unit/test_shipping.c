/*
 * test_shipping.c — the rules of domain/shipping.c that split a municipality's media between its
 * 難病 and 小慢 departments (issue 12, item 3): when two addresses are one place, how many
 * destinations a municipality has and which, the department of an institution from its users'
 * categories (小慢 only → 小慢; 両方, mixed or none → 難病), and the layout of media in packages of
 * at most 15, as numbered data-driven cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/shipping.h"

static const shipping_destination KUDAN = {0, "100-8511", "東京都千代田区九段南1-2-1",
                                           "保健福祉部 難病係", "03-3264-2111"};
static const shipping_destination KUDAN_WIDE = {0, "〒1008511", "東京都千代田区九段南１－２－１ ",
                                                "子ども家庭課", "03-3264-0000"};
static const shipping_destination KUDAN_HYPHEN_ONLY = {0, "100-8511",
                                                       "東京都千代田区九段南1-2-1",
                                                       "保健福祉部 難病係", ""};
static const shipping_destination KUDAN_CHOME = {0, "100-8511", "千代田区九段南一丁目2番1号",
                                                 "子ども家庭課", ""};
static const shipping_destination KOJIMACHI = {0, "102-0083", "東京都千代田区麹町2-1",
                                               "子ども家庭支援センター", "03-5211-0000"};

static void same_place_folds_width_spaces_and_the_postal_mark(void **state)
{
    (void)state;
    static const struct {
        int no;
        const shipping_destination *x, *y;
        bool same;
    } cases[] = {
        {1, &KUDAN, &KUDAN, true},
        {2, &KUDAN, &KUDAN_WIDE, true}, /* full-width digits and hyphen, 〒, a trailing space */
        {3, &KUDAN, &KUDAN_HYPHEN_ONLY, true}, /* department and phone do not make a place */
        {4, &KUDAN, &KOJIMACHI, false},
        /* 丁目/番/号 for hyphens, kanji numerals, no prefecture: the master's comparison */
        {5, &KUDAN, &KUDAN_CHOME, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena *a = arena_new();
        if (shipping_same_place(a, cases[i].x, cases[i].y) != cases[i].same)
            fail_msg("case %d", cases[i].no);
        arena_free(a);
    }
    shipping_destination other_postal = KUDAN;
    other_postal.postal = "100-8512";
    arena *a = arena_new();
    assert_false(shipping_same_place(a, &KUDAN, &other_postal));
    shipping_destination empty = {0};
    assert_true(shipping_same_place(a, &empty, &empty));
    assert_false(shipping_same_place(a, &empty, &KUDAN));
    arena_free(a);
}

static void destinations_split_only_when_both_departments_differ_in_place(void **state)
{
    (void)state;
    arena *a = arena_new();
    shipping_destination out[2];
    shipping_addresses in = {.municipality = {0, "100-0001", "東京都千代田区千代田1-1", NULL, NULL}};

    /* 1: nothing on record but the municipality's own address */
    assert_int_equal(shipping_destinations(a, &in, out), 1);
    assert_int_equal(out[0].category, 0);
    assert_string_equal(out[0].address, "東京都千代田区千代田1-1");

    /* 2: 小慢 alone: its address, for everything */
    in.shoman = KOJIMACHI, in.has_shoman = true;
    assert_int_equal(shipping_destinations(a, &in, out), 1);
    assert_int_equal(out[0].category, 0);
    assert_string_equal(out[0].department, "子ども家庭支援センター");

    /* 3: 難病 and 小慢 at different places: two, 難病 first */
    in.nanbyo = KUDAN, in.has_nanbyo = true;
    assert_int_equal(shipping_destinations(a, &in, out), 2);
    assert_int_equal(out[0].category, CATEGORY_NANBYO);
    assert_string_equal(out[0].address, KUDAN.address);
    assert_string_equal(out[0].phone, "03-3264-2111");
    assert_int_equal(out[1].category, CATEGORY_SHOMAN);
    assert_string_equal(out[1].address, KOJIMACHI.address);
    assert_string_equal(out[1].department, "子ども家庭支援センター");

    /* 4: the same place written differently: one package naming both departments */
    in.shoman = KUDAN_WIDE;
    assert_int_equal(shipping_destinations(a, &in, out), 1);
    assert_int_equal(out[0].category, 0);
    assert_string_equal(out[0].address, KUDAN.address);
    assert_string_equal(out[0].department, "保健福祉部 難病係・子ども家庭課");
    assert_string_equal(out[0].phone, "03-3264-2111");

    /* 5: the same place and department: named once */
    in.shoman = KUDAN_HYPHEN_ONLY;
    assert_int_equal(shipping_destinations(a, &in, out), 1);
    assert_string_equal(out[0].department, "保健福祉部 難病係");

    /* 6: 難病 alone */
    in.has_shoman = false;
    assert_int_equal(shipping_destinations(a, &in, out), 1);
    assert_string_equal(out[0].department, "保健福祉部 難病係");
    arena_free(a);
}

static void an_institution_goes_to_shoman_only_when_all_its_users_are_shoman(void **state)
{
    (void)state;
    static const struct {
        int no;
        int64_t nanbyo, shoman, both;
        user_category want;
    } cases[] = {
        {1, 1, 0, 0, CATEGORY_NANBYO}, {2, 0, 1, 0, CATEGORY_SHOMAN},
        {3, 0, 3, 0, CATEGORY_SHOMAN}, {4, 0, 0, 1, CATEGORY_NANBYO}, /* 両方 → 難病 */
        {5, 1, 1, 0, CATEGORY_NANBYO}, /* both kinds → 難病 */
        {6, 0, 2, 1, CATEGORY_NANBYO}, {7, 0, 0, 0, CATEGORY_NANBYO}, /* none on record */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (shipping_category_of_users(cases[i].nanbyo, cases[i].shoman, cases[i].both) !=
            cases[i].want)
            fail_msg("case %d", cases[i].no);
}

static void plan_keeps_departments_apart_in_packages_of_at_most_the_limit(void **state)
{
    (void)state;
    enum { N = 20 };
    user_category cats[N];
    size_t order[N];
    shipping_package plan[N];
    /* 17 難病 and 3 小慢, interleaved: media 2, 9, 15 are 小慢 */
    for (size_t i = 0; i < N; i++)
        cats[i] = (i == 2 || i == 9 || i == 15) ? CATEGORY_SHOMAN : CATEGORY_NANBYO;

    /* one destination: the order as given, 15 + 5 */
    assert_int_equal(shipping_plan(cats, N, 1, 15, order, plan), 2);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(order[i], i);
    assert_int_equal(plan[0].destination, 0);
    assert_int_equal(plan[0].first, 0);
    assert_int_equal(plan[0].count, 15);
    assert_int_equal(plan[1].destination, 0);
    assert_int_equal(plan[1].first, 15);
    assert_int_equal(plan[1].count, 5);

    /* two destinations: 17 難病 (15 + 2) to the first, 3 小慢 to the second */
    assert_int_equal(shipping_plan(cats, N, 2, 15, order, plan), 3);
    assert_int_equal(plan[0].destination, 0);
    assert_int_equal(plan[0].count, 15);
    assert_int_equal(plan[1].destination, 0);
    assert_int_equal(plan[1].first, 15);
    assert_int_equal(plan[1].count, 2);
    assert_int_equal(plan[2].destination, 1);
    assert_int_equal(plan[2].first, 17);
    assert_int_equal(plan[2].count, 3);
    for (size_t k = 0; k < 17; k++)
        assert_int_equal(cats[order[k]], CATEGORY_NANBYO);
    assert_int_equal(order[17], 2);
    assert_int_equal(order[18], 9);
    assert_int_equal(order[19], 15);
    /* every media once */
    int seen[N] = {0};
    for (size_t k = 0; k < N; k++)
        seen[order[k]]++;
    for (size_t i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);

    /* two destinations, all 難病: no empty 小慢 package */
    for (size_t i = 0; i < N; i++)
        cats[i] = CATEGORY_NANBYO;
    assert_int_equal(shipping_plan(cats, 3, 2, 15, order, plan), 1);
    assert_int_equal(plan[0].count, 3);
    /* all 小慢: one package to the second */
    for (size_t i = 0; i < 3; i++)
        cats[i] = CATEGORY_SHOMAN;
    assert_int_equal(shipping_plan(cats, 3, 2, 15, order, plan), 1);
    assert_int_equal(plan[0].destination, 1);
    assert_int_equal(plan[0].first, 0);
    assert_int_equal(plan[0].count, 3);
    /* nothing to pack */
    assert_int_equal(shipping_plan(cats, 0, 2, 15, order, plan), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_place_folds_width_spaces_and_the_postal_mark),
        cmocka_unit_test(destinations_split_only_when_both_departments_differ_in_place),
        cmocka_unit_test(an_institution_goes_to_shoman_only_when_all_its_users_are_shoman),
        cmocka_unit_test(plan_keeps_departments_apart_in_packages_of_at_most_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
