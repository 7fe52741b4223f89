/*
 * form_fields.h — a posted form field read through the field table (domain/fields.h): the value
 * under the field's form name is checked by field_check, and a refusal goes into the page's
 * error summary under the field's name and label, so that no screen re-states a rule or a label.
 */
#ifndef NSDB_WEB_FORM_FIELDS_H
#define NSDB_WEB_FORM_FIELDS_H

#include "domain/fields.h"
#include "web/web.h"

/* Checks the posted field id (flags as for field_check) into *out; on refusal records the error
 * in data (page_add_error) and returns false. */
bool form_field_read(web_ctx *ctx, json_t *data, field_id id, unsigned flags, const char **out);

#endif
