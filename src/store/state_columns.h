/*
 * state_columns.h — the storage edge of domain/states.h: reads a state column of the current
 * row as its enum. SQL binds the key (X_key) and these read it back; nothing above store/ sees a
 * state as a string. A key the tables do not know is a broken invariant (the schema's CHECK
 * constraints admit only the keys of states.c): it is logged and the process aborts rather than
 * carry on with a state no code expects (STYLE §5).
 */
#ifndef NSDB_STORE_STATE_COLUMNS_H
#define NSDB_STORE_STATE_COLUMNS_H

#include "domain/states.h"
#include "store/sql.h"

user_role store_column_user_role(db_stmt *st, int col);
account_status store_column_account_status(db_stmt *st, int col);
notice_status store_column_notice_status(db_stmt *st, int col);
admin_list_status store_column_admin_list_status(db_stmt *st, int col);
media_status store_column_media_status(db_stmt *st, int col);
package_status store_column_package_status(db_stmt *st, int col);
mail_status store_column_mail_status(db_stmt *st, int col);
import_state store_column_import_state(db_stmt *st, int col);

#endif
