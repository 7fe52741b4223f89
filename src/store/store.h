/*
 * store.h — every entity header of the storage layer at once, for unit tests that set up data
 * across tables. Production code includes the entity headers it uses (store/users.h,
 * store/sessions.h …), so that a file's includes say which tables it touches.
 */
#ifndef NSDB_STORE_H
#define NSDB_STORE_H

#include "store/admin_lists.h"
#include "store/api_tokens.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/municipalities.h"
#include "store/outbox.h"
#include "store/registrations.h"
#include "store/sessions.h"
#include "store/users.h"

#endif
