/*
 * shipping_desk.c — see shipping_desk.h. The package is read again inside the transaction and
 * the store's update moves it only from 梱包済, so two operators shipping the same package (or a
 * double click) record one number once; the other is told it is already shipped.
 */
#include "core/shipping_desk.h"

#include <string.h>

#include "domain/cycle.h"
#include "domain/fields.h"

/* Today in Japan, YYYY-MM-DD: the 発送 day recorded and shown to the municipality. */
static const char *ship_day(core_ctx *c)
{
    char *day = arena_calloc(c->arena, 1, 11);
    cycle_day_of_time(c->who.now, day);
    return day;
}

const char *shipping_tracking_display(arena *a, const char *tracking)
{
    if (tracking == NULL || strlen(tracking) != 12)
        return tracking;
    return arena_printf(a, "%.4s-%.4s-%.4s", tracking, tracking + 4, tracking + 8);
}

/* The refusal when another package already has the number: which one, so it can be checked. */
static nsdb_err number_taken(core_ctx *c, const store_package *other, nsdb_problem *pb)
{
    return problem_set(pb, NSDB_ERR_INVALID, "tracking_number",
                       arena_printf(c->arena,
                                    "この追跡番号は既に別の梱包（サイクル %s・%s %s・梱包 %lld）"
                                    "に使われています。レターパックの番号を確かめてください。",
                                    other->cycle_id, other->municipality_code,
                                    other->municipality_name, (long long)other->seq));
}

nsdb_err core_package_ship(core_ctx *c, int64_t package_id, const char *tracking,
                           store_package **out, nsdb_problem *pb)
{
    /* a package no longer packed is said to be shipped whatever was typed: its board row has no
       field any more to show a reason at */
    const char *number = NULL;
    nsdb_problem field_pb = {0};
    bool number_ok = core_field(c->arena, FIELD_TRACKING_NUMBER, tracking, 0, &number, &field_pb);
    store_package *p = NULL, *other = NULL;
    store_media *media = NULL;
    size_t n = 0;
    bool changed = false;
    const char *day = ship_day(c);
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_package_get(c->conn, c->arena, package_id, 0, &p);
    if (e == NSDB_OK && p->status != PACKAGE_STATUS_PACKED)
        e = NSDB_ERR_CONFLICT; /* already shipped (or received): said below */
    if (e == NSDB_OK && !number_ok)
        e = NSDB_ERR_INVALID;
    if (e == NSDB_OK) {
        e = store_package_find_by_tracking(c->conn, c->arena, number, &other);
        e = e == NSDB_OK ? NSDB_ERR_EXISTS : e == NSDB_ERR_NOT_FOUND ? NSDB_OK : e;
    }
    if (e == NSDB_OK)
        e = store_media_list(c->conn, c->arena, NULL, 0, package_id, MEDIA_STATUS_PACKED, &media,
                             &n);
    if (e == NSDB_OK)
        e = store_package_ship(c->conn, package_id, number, day, c->who.user_pk, c->who.now,
                               &changed);
    if (e == NSDB_OK && !changed)
        e = NSDB_ERR_CONFLICT; /* shipped by someone else since it was read */
    if (e == NSDB_OK) {
        e = core_audit(c, "package_shipped", core_target_id(c, "package", package_id), "ok",
                       arena_printf(c->arena, "packed → shipped 追跡番号 %s 発送日 %s 媒体%zu枚",
                                    number, day, n));
        for (size_t i = 0; e == NSDB_OK && i < n; i++)
            e = core_audit(c, "media_shipped", core_target_id(c, "media", media[i].id), "ok",
                           arena_printf(c->arena, "packed → shipped (追跡番号 %s)", number));
    }
    e = core_end(c, e);
    if (e == NSDB_ERR_INVALID && !number_ok) {
        *pb = field_pb;
        return pb->code;
    }
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, NULL, "指定された梱包は見つかりません。");
    if (e == NSDB_ERR_CONFLICT)
        return problem_set(
            pb, e, NULL,
            p != NULL && p->tracking_number != NULL
                ? arena_printf(c->arena, "この梱包は既に発送済みです（追跡番号 %s）。",
                               shipping_tracking_display(c->arena, p->tracking_number))
                : "この梱包は既に発送済みです。");
    if (e == NSDB_ERR_EXISTS) /* found above, or taken meanwhile (the unique index) */
        return other != NULL ? number_taken(c, other, pb)
                             : problem_set(pb, NSDB_ERR_INVALID, "tracking_number",
                                           "この追跡番号は既に別の梱包に使われています。"
                                           "レターパックの番号を確かめてください。");
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    p->status = PACKAGE_STATUS_SHIPPED;
    p->tracking_number = number;
    p->shipped_on = day;
    if (out != NULL)
        *out = p;
    return NSDB_OK;
}
