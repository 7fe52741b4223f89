/*
 * user_actions.h — what the user screens of municipalities and institutions share: finding the
 * user named in the path within the caller's scope (404 and an audit record otherwise), and the
 * operations of the 操作 column — パスワード初期化 and 利用停止/再開.
 */
#ifndef NSDB_USER_ACTIONS_H
#define NSDB_USER_ACTIONS_H

#include "web/web.h"

/* The user of path_params[0] in the caller's municipality (an inst_manager: its institution)
   whose role is in roles; NULL after a 404 page. */
store_user *user_in_scope(web_ctx *ctx, unsigned roles);
/* New sealed initial password, status 未発行, sessions ended; redirects to back?done=reset. */
void user_action_reset(web_ctx *ctx, const store_user *u, const char *back);
void user_action_set_status(web_ctx *ctx, const store_user *u, bool suspend, const char *back);
/* The Japanese notice for ?done=…&user=… after a redirect; NULL when none. */
const char *user_action_done_message(web_ctx *ctx);

#endif
