/*
 * shipping.c — see shipping.h. The rules that split a municipality's media between its 難病 and
 * 小慢 departments, kept apart from the packing (core/media.c) so that they are tested alone.
 */
#include "domain/shipping.h"

#include <assert.h>
#include <string.h>

#include "domain/inst_master.h"
#include "domain/text.h"

static bool given(const char *s)
{
    return s != NULL && *s != '\0';
}

/* s with its width folded (NFKC) and every space removed; "" for NULL. */
static const char *place_key(arena *a, const char *s)
{
    char *n = given(s) ? text_nfkc(a, s) : NULL;
    if (n == NULL)
        return "";
    char *w = n;
    for (const char *r = n; *r != '\0'; r++)
        if (*r != ' ' && *r != '\t')
            *w++ = *r;
    *w = '\0';
    return n;
}

/* The digits of a postal code ("100-8511", "〒1008511" → "1008511"). */
static const char *postal_digits(arena *a, const char *s)
{
    const char *n = place_key(a, s);
    char *out = arena_strdup(a, n);
    char *w = out;
    for (const char *r = n; *r != '\0'; r++)
        if (*r >= '0' && *r <= '9')
            *w++ = *r;
    *w = '\0';
    return out;
}

bool shipping_same_place(arena *a, const shipping_destination *x, const shipping_destination *y)
{
    /* the address as the institution master compares it: 「九段南1丁目2番1号」 is 「九段南1-2-1」,
       and a leading prefecture is dropped (the postal code already fixes it) */
    return strcmp(postal_digits(a, x->postal), postal_digits(a, y->postal)) == 0 &&
           inst_master_same_address(x->address, y->address);
}

size_t shipping_destinations(arena *a, const shipping_addresses *in, shipping_destination out[2])
{
    if (in->has_nanbyo && in->has_shoman && !shipping_same_place(a, &in->nanbyo, &in->shoman)) {
        out[0] = in->nanbyo;
        out[0].category = CATEGORY_NANBYO;
        out[1] = in->shoman;
        out[1].category = CATEGORY_SHOMAN;
        return 2;
    }
    out[0] = in->has_nanbyo ? in->nanbyo : in->has_shoman ? in->shoman : in->municipality;
    out[0].category = 0;
    if (in->has_nanbyo && in->has_shoman && given(in->shoman.department)) {
        if (!given(out[0].department))
            out[0].department = in->shoman.department;
        else if (strcmp(place_key(a, out[0].department), place_key(a, in->shoman.department)) != 0)
            out[0].department = arena_printf(a, "%s・%s", out[0].department, in->shoman.department);
    }
    return 1;
}

user_category shipping_category_of_users(int64_t nanbyo, int64_t shoman, int64_t both)
{
    return shoman > 0 && nanbyo == 0 && both == 0 ? CATEGORY_SHOMAN : CATEGORY_NANBYO;
}

size_t shipping_plan(const user_category *categories, size_t n, size_t destinations,
                     size_t per_package, size_t *order_out, shipping_package *packages_out)
{
    assert(per_package > 0 && (destinations == 1 || destinations == 2));
    size_t placed = 0, count = 0;
    for (size_t d = 0; d < destinations; d++) {
        user_category wanted = d == 0 ? CATEGORY_NANBYO : CATEGORY_SHOMAN;
        size_t first = placed;
        for (size_t i = 0; i < n; i++)
            if (destinations == 1 || categories[i] == wanted ||
                (wanted == CATEGORY_NANBYO && categories[i] != CATEGORY_SHOMAN))
                order_out[placed++] = i;
        for (size_t at = first; at < placed; at += per_package)
            packages_out[count++] = (shipping_package){
                d, at, placed - at < per_package ? placed - at : per_package};
    }
    return count;
}
