/*
 * user_actions.h — what the user screens of municipalities and institutions share: finding the
 * user named in the path within the caller's scope (404 and an audit record otherwise), and the
 * operations of the 操作 column — パスワード初期化 and 利用停止/再開 — and saving an edited profile.
 */
#ifndef NSDB_USER_ACTIONS_H
#define NSDB_USER_ACTIONS_H

#include "core/users.h"
#include "web/web.h"

/* The user of path_params[0] in the caller's municipality (an inst_manager: its institution)
   whose role is in roles; NULL after a 404 page. */
store_user *user_in_scope(web_ctx *ctx, unsigned roles);
/* New sealed initial password, status 未発行, sessions ended; redirects to back?done=reset. */
void user_action_reset(web_ctx *ctx, const store_user *u, const char *back);
void user_action_set_status(web_ctx *ctx, const store_user *u, bool suspend, const char *back);
/* A button of the 操作 column. */
typedef enum {
    USER_ACTION_RESET,
    USER_ACTION_SUSPEND,
    USER_ACTION_RESUME,
    USER_ACTION_TOTP_RESET, /* 二要素認証の初期化: the same administrators as パスワード初期化 */
} user_action;
/* One 操作 button of a user screen, declared with its route (routes.c): the user of the path
   must have one of roles (404 otherwise); after the action the browser goes back to back. */
typedef struct user_button {
    unsigned roles;
    user_action action;
    const char *back;
} user_button;

/* The handler of one button: the user of the path within roles (404 otherwise), then the action
   and the redirect to back. */
void user_action_run(web_ctx *ctx, unsigned roles, user_action action, const char *back);
/* Saves an edited profile and redirects to back?done=edit; a refusal renders template_name
   with data (which it owns) and the problem on the field it names. */
void user_action_save_profile(web_ctx *ctx, const store_user *u, const user_profile_input *p,
                              json_t *data, const char *template_name, const char *back);
/* The Japanese notice for ?done=…&user=… after a redirect; NULL when none. */
const char *user_action_done_message(web_ctx *ctx);

#endif
