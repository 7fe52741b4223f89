/*
 * shipping.h — where a municipality's media go (issue 12, item 3; SPEC §6). A municipality keeps
 * one 発送先 (郵便番号, 所属先住所, 部署名, 電話番号) per department, 難病 and 小慢, from its admin
 * application lists, and a municipality-wide address from its creation. These rules decide how many
 * destinations its packages have (two only when both departments are on record at different
 * places), which department an institution's media go to (小慢 when its users are 小慢 only,
 * otherwise 難病), and how the media are laid out in packages. Pure: no SQL, no I/O.
 */
#ifndef NSDB_DOMAIN_SHIPPING_H
#define NSDB_DOMAIN_SHIPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "util/arena.h"

typedef struct shipping_destination {
    user_category category; /* CATEGORY_NANBYO or CATEGORY_SHOMAN for a department's; 0: the
                               municipality's one destination */
    const char *postal, *address, *department, *phone; /* NULL or "": not on record */
} shipping_destination;

/* What a municipality has on record. */
typedef struct shipping_addresses {
    shipping_destination municipality; /* given when it was created (払出し, municipality add) */
    shipping_destination nanbyo, shoman;
    bool has_nanbyo, has_shoman;
} shipping_addresses;

/* The same place: postal codes equal in their digits and addresses equal as the institution
   master compares them (inst_master_same_address: NFKC, spaces, dash look-alikes, 丁目/番地/番/号
   for hyphens, a leading prefecture), so a spelling of the same address never makes two places. */
bool shipping_same_place(arena *a, const shipping_destination *x, const shipping_destination *y);

/* The municipality's destinations into out: 2 when 難病 and 小慢 are both on record at different
   places (out[0] 難病, out[1] 小慢), else 1: the department on record (難病 first), or the
   municipality's own address; when both departments share a place and their names differ, the
   one package names both (joined with "・"). Returns the count. */
size_t shipping_destinations(arena *a, const shipping_addresses *in, shipping_destination out[2]);

/* The department an institution's media go to, from the number of its users of each category:
   小慢 when it has 小慢 users only; 難病 otherwise (難病, 両方, both kinds, or none). */
user_category shipping_category_of_users(int64_t nanbyo, int64_t shoman, int64_t both);

typedef struct shipping_package {
    size_t destination; /* index into the destinations (0 when there is one) */
    size_t first, count; /* a run of the order array */
} shipping_package;

/* Lays out one municipality's n media (categories[i]: the department of media i) in packages of
   at most per_package: with 2 destinations the 難病 media come first, then the 小慢 ones, each
   in its own packages; with 1, all in the given order. order_out (n entries) gets the media
   indexes in package order, packages_out (room for n) the packages. Returns the package count. */
size_t shipping_plan(const user_category *categories, size_t n, size_t destinations,
                     size_t per_package, size_t *order_out, shipping_package *packages_out);

#endif
