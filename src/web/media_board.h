/*
 * media_board.h — the operator's board of a cycle (/operator/media, media_operator.c) as a
 * renderer other handlers can call: 発送 (ship.c) shows it again with its refusal at the
 * package's 追跡番号 field, the number as typed kept, so the operator corrects it in place.
 */
#ifndef NSDB_WEB_MEDIA_BOARD_H
#define NSDB_WEB_MEDIA_BOARD_H

#include "web/web.h"

/* A 発送 that was refused at its field: the package, what was typed and why. */
typedef struct web_ship_refusal {
    int64_t package_id;
    const char *typed;
    const nsdb_problem *pb;
} web_ship_refusal;

/* The board of cycle (NULL: today's registration cycle); refused may be NULL. */
void web_media_board_render(web_ctx *ctx, const char *cycle, const web_ship_refusal *refused,
                            int status);

/* 発送 of a package (ship.c): GET is the confirmation, POST records it (routes.c). */
void web_package_ship_confirm(web_ctx *ctx);
void web_package_ship(web_ctx *ctx);

/* Japan Post's tracking page for a 12-digit number, in the arena. */
const char *web_tracking_url(arena *a, const char *tracking);

#endif
