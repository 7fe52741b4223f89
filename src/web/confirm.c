/*
 * confirm.c — see confirm.h. The page is rendered from the description alone, so every action
 * asks in the same words and layout, and the form always posts to the path it was asked on.
 */
#include <assert.h>
#include <stdlib.h>

#include "web/confirm.h"

static const char *confirm_input_key(web_confirm_input input)
{
    switch (input) {
    case WEB_CONFIRM_HIDDEN:
        return "hidden";
    case WEB_CONFIRM_TEXT:
        return "text";
    case WEB_CONFIRM_DATE:
        return "date";
    case WEB_CONFIRM_TEXTAREA:
        return "textarea";
    case WEB_CONFIRM_CHECKBOX:
        return "checkbox";
    }
    abort(); /* every input kind is listed above */
}

void web_confirm_render(web_ctx *ctx, const web_confirm *c)
{
    assert(c->title != NULL && c->back != NULL);
    json_t *data = page_data(ctx, c->title);
    json_t *items = json_array();
    for (size_t i = 0; i < WEB_CONFIRM_MAX_ITEMS && c->items[i].label != NULL; i++)
        json_array_append_new(items, json_pack("{s:s, s:s}", "label", c->items[i].label, "value",
                                               c->items[i].value ? c->items[i].value : ""));
    json_t *fields = json_array();
    for (size_t i = 0; i < WEB_CONFIRM_MAX_FIELDS && c->fields[i].name != NULL; i++)
        json_array_append_new(fields,
                              json_pack("{s:s, s:s, s:s, s:s}", "name", c->fields[i].name, "label",
                                        c->fields[i].label ? c->fields[i].label : "", "value",
                                        c->fields[i].value ? c->fields[i].value : "", "input",
                                        confirm_input_key(c->fields[i].input)));
    json_object_set_new(data, "title", json_string(c->title));
    json_object_set_new(data, "lead", json_string(c->lead ? c->lead : ""));
    json_object_set_new(data, "items", items);
    json_object_set_new(data, "consequence", json_string(c->consequence ? c->consequence : ""));
    json_object_set_new(data, "fields", fields);
    json_object_set_new(data, "button", json_string(c->button ? c->button : "実行する"));
    json_object_set_new(data, "back", json_string(c->back));
    json_object_set_new(data, "action", json_string(ctx->req->path));
    if (c->refusal != NULL) {
        json_object_set_new(data, "refusal", json_string(c->refusal));
        ctx->req->status = 409;
    }
    page_render(ctx, "confirm", data);
}
