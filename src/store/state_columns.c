/*
 * state_columns.c — see state_columns.h: one reader per state kind, each aborting on a key the
 * state tables do not know.
 */
#define NSDB_STORE_INTERNAL
#include <stdlib.h>

#include "store/state_columns.h"
#include "util/log.h"

static _Noreturn void unknown_key(const char *kind, const char *key)
{
    log_event(LOG_ERROR, "unknown state in database", "kind", kind, "key", key ? key : "(null)",
              NULL);
    abort();
}

#define STATE_COLUMN(type)                                                                         \
    type store_column_##type(db_stmt *st, int col)                                                 \
    {                                                                                              \
        const char *key = db_column_text(st, col);                                                 \
        type value;                                                                                \
        if (!type##_from_key(key, &value))                                                         \
            unknown_key(#type, key);                                                               \
        return value;                                                                              \
    }

STATE_COLUMN(user_role)
STATE_COLUMN(account_status)
STATE_COLUMN(notice_status)
STATE_COLUMN(admin_list_status)
STATE_COLUMN(media_status)
STATE_COLUMN(package_status)
STATE_COLUMN(mail_status)
STATE_COLUMN(import_state)
