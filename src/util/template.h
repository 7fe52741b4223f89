/*
 * template.h — nsdb's HTML template engine. A template_set holds named templates parsed once
 * into node trees; rendering walks a tree against a jansson context and appends to a strbuf.
 * Values are HTML-escaped unless written with triple braces. After loading, a set is
 * read-only, so any number of threads may render from it at once.
 *
 * Syntax:
 *   {{ path }}            value, HTML-escaped; path is name, a.b.c, ".", @index or @number
 *   {{{ path }}}          raw value, not escaped (only for HTML we produced ourselves)
 *   {{#if path}}…{{else}}…{{/if}}     also {{#if path == "text"}} and {{#if path != "text"}}
 *   {{#unless path}}…{{/unless}}
 *   {{#each path}}…{{else}}…{{/each}}
 *   {{> name}}            include another template of the set with the current scopes
 *   {{! comment }}
 * A name is looked up in the innermost loop item first, then outwards up to the root context.
 * Comparisons are true for strings equal to the text and integers (and @index/@number) whose
 * decimal form equals it; any other value never equals, so `!=` holds for it.
 */
#ifndef NSDB_TEMPLATE_H
#define NSDB_TEMPLATE_H

#include <jansson.h>

#include "util/err.h"
#include "util/str.h"

/* Blocks nested deeper than this are a parse error. */
#define TEMPLATE_MAX_NESTING 64
/* Includes nested deeper than this (a template including itself) fail the render. */
#define TEMPLATE_MAX_INCLUDE_DEPTH 16
/* The work of one render: nested loops multiply (eight {{#each}} over ten items are 10^8
   iterations), so a render stops after this many nodes and loop items, or this many bytes of
   output. The largest page, the result of a 200,000-row 一括登録, is about 5 million steps and
   60 MB. */
#define TEMPLATE_MAX_RENDER_STEPS 20000000u
#define TEMPLATE_MAX_OUTPUT_BYTES (128u * 1024u * 1024u)

typedef struct template_set template_set;

/* NULL only when out of memory. */
template_set *template_set_new(void);
void template_set_free(template_set *set);

/* Parses and stores template `name` (e.g. "login"), replacing any template of that name.
   On a syntax error returns NSDB_ERR_PARSE and, if error_out != NULL, sets *error_out to a
   malloc'd English message with the line number (caller frees); the set is then unchanged. */
NSDB_MUST_CHECK nsdb_err template_set_add(template_set *set, const char *name, const char *source,
                                          char **error_out);

/* Adds every embedded file under "templates/" ending in ".html", named by its base name
   without extension ("templates/login.html" -> "login"). Stops at the first syntax error. */
NSDB_MUST_CHECK nsdb_err template_set_add_embedded(template_set *set, char **error_out);

/* Renders template `name` with `context` (a JSON object; NULL acts as empty), appending to out.
   NSDB_ERR_NOT_FOUND if there is no such template or it includes an unknown one;
   NSDB_ERR_TOO_LARGE if includes nest deeper than TEMPLATE_MAX_INCLUDE_DEPTH or the render
   passes TEMPLATE_MAX_RENDER_STEPS or TEMPLATE_MAX_OUTPUT_BYTES.
   On error out is left as it was before the call. */
NSDB_MUST_CHECK nsdb_err template_render(const template_set *set, const char *name, json_t *context,
                                         strbuf *out);

#endif
