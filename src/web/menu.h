/*
 * menu.h — the menu of each role with the seed's menu names; used by the menu page and the
 * navigation of the layout.
 */
#ifndef NSDB_MENU_H
#define NSDB_MENU_H

#include <jansson.h>

#include "domain/states.h"

/* A JSON array of {label, href (absent when not yet available), current, note}. */
json_t *menu_items_for(user_role role, const char *current_path);

#endif
