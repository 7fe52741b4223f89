/*
 * inst_users.h — shared by the institution-user screens.
 */
#ifndef NSDB_WEB_INST_USERS_H
#define NSDB_WEB_INST_USERS_H

#include "web/web.h"

/* One row of an institution-user table (search, import result, institution screen). */
json_t *inst_user_row_json(const store_user *u);
/* The 医療機関ユーザ新規登録 page (tab from data["tab"] or ?tab=) with the given status. */
void inst_user_new_render(web_ctx *ctx, json_t *data, int status);

#endif
