/*
 * confirm.h — the confirmation page every one-click state change goes through (issue 12, item
 * 11; SPEC §8): a GET on the path of the action's POST describes what will happen — to whom or
 * what, by name and ID, and the consequence — and holds a form that posts to that same path
 * with csrf, beside a キャンセル link. One template (templates/confirm.html) and one renderer;
 * each screen group's GET handler finds the object in the caller's scope (404 as the POST does)
 * and fills in a web_confirm.
 */
#ifndef NSDB_WEB_CONFIRM_H
#define NSDB_WEB_CONFIRM_H

#include "web/web.h"

#define WEB_CONFIRM_MAX_ITEMS 8
#define WEB_CONFIRM_MAX_FIELDS 3

/* How a field of the confirmation's form is shown. */
typedef enum web_confirm_input {
    WEB_CONFIRM_HIDDEN = 1, /* carried from the screen (the cycle of the board) */
    WEB_CONFIRM_TEXT,       /* required text, editable here (破損の内容) */
    WEB_CONFIRM_DATE,       /* required date (送付日) */
    WEB_CONFIRM_TEXTAREA,   /* required text of several lines (差戻しの理由) */
    WEB_CONFIRM_CHECKBOX,   /* a required tick, posted as value (登録期間中の媒体作成) */
} web_confirm_input;

typedef struct web_confirm_field {
    const char *name; /* the POST's form field */
    const char *label;
    const char *value; /* NULL: empty */
    web_confirm_input input;
} web_confirm_field;

typedef struct web_confirm_item {
    const char *label;
    const char *value;
} web_confirm_item;

typedef struct web_confirm {
    const char *title; /* the action's name: 「パスワード初期化」 */
    const char *lead;  /* what will be done, to what */
    web_confirm_item
        items[WEB_CONFIRM_MAX_ITEMS]; /* whom or what, by name and ID; ends at a NULL label */
    const char *consequence;          /* what follows from it */
    web_confirm_field fields[WEB_CONFIRM_MAX_FIELDS]; /* ends at a NULL name */
    const char *button;                               /* the submit button's text */
    const char *back;                                 /* where キャンセル leads */
    const char
        *refusal; /* set when the action cannot be done now: said instead of the form (409) */
} web_confirm;

/* Renders the confirmation of the action whose POST path is the request's path. */
void web_confirm_render(web_ctx *ctx, const web_confirm *c);

/* The GET handlers (routes.c), one per screen group. */
void web_user_button_confirm(
    web_ctx *ctx); /* arg: user_button (パスワード初期化, 利用停止, 再開) */
void web_admin_list_confirm(web_ctx *ctx); /* arg: admin_list_action (承認, 差戻し, 払出し) */
void web_media_receive_confirm(web_ctx *ctx); /* 受領 of a package */
void web_media_item_confirm(web_ctx *ctx); /* arg: media_action (医療機関へ送付, 破損連絡) */
/* The operator's board: 作成 (build) and 梱包・発送 (pack) of a cycle's media. */
typedef enum web_board_action {
    WEB_BOARD_BUILD = 1,
    WEB_BOARD_PACK,
} web_board_action;
void web_media_board_confirm(web_ctx *ctx); /* arg: web_board_action */

#endif
