/*
 * fuzz_template.c — libFuzzer harness for the template engine (util/template.c): the input is cut
 * at FUZZ_SEPARATOR into a template "main", a template "part" (which main may include, and which
 * may include main) and the values as JSON; both templates are parsed and main is rendered with
 * the values, with the engine's own nesting and include limits. Checked besides memory and UB:
 * a failed parse says why and leaves the set as it was; a failed render leaves the output as it
 * was; and escaping by default holds: when neither template has a raw {{{ }}} tag nor any of
 * < > " ' & in its text, the output has none of < > " ' and its every & starts one of the five
 * entities the escaper writes, whatever the values hold.
 */
#include "fuzz_support.h"

#include <jansson.h>

#include "util/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char HTML_SPECIAL[] = "<>\"'&";

/* True when the template text can put no HTML-special character into the output itself. */
static bool template_is_plain(const char *s)
{
    return strstr(s, "{{{") == NULL && strpbrk(s, HTML_SPECIAL) == NULL;
}

/* True when s (NUL-terminated) is text an HTML parser reads back as the characters escaped. */
static bool output_is_escaped(const char *s)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    if (strpbrk(s, "<>\"'") != NULL)
        return false;
    for (const char *amp = strchr(s, '&'); amp != NULL; amp = strchr(amp + 1, '&')) {
        bool known = false;
        for (size_t i = 0; i < sizeof entities / sizeof entities[0] && !known; i++)
            known = strncmp(amp, entities[i], strlen(entities[i])) == 0;
        if (!known)
            return false;
    }
    return true;
}

static void add_template(template_set *set, const char *name, const char *source)
{
    char *error = NULL;
    nsdb_err err = template_set_add(set, name, source, &error);
    FUZZ_CHECK((err == NSDB_OK) == (error == NULL));
    FUZZ_CHECK(err == NSDB_OK || err == NSDB_ERR_PARSE);
    free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_piece pieces[3];
    size_t count = fuzz_split(data, size, pieces, 3);
    char *main_source = fuzz_strndup(pieces[0].data, pieces[0].len);
    char *part_source = count > 1 ? fuzz_strndup(pieces[1].data, pieces[1].len) : NULL;
    json_t *values = NULL;
    if (count > 2) {
        values = json_loadb((const char *)pieces[2].data, pieces[2].len, 0, NULL);
        if (values != NULL && !json_is_object(values)) {
            json_decref(values);
            values = NULL;
        }
    }

    template_set *set = template_set_new();
    FUZZ_CHECK(set != NULL);
    add_template(set, "main", main_source);
    if (part_source != NULL)
        add_template(set, "part", part_source);
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "before");
    nsdb_err err = template_render(set, "main", values, &out);
    if (err != NSDB_OK) {
        FUZZ_CHECK(err == NSDB_ERR_NOT_FOUND || err == NSDB_ERR_TOO_LARGE);
        FUZZ_CHECK(out.len == 6 && strcmp(out.data, "before") == 0);
    } else if (template_is_plain(main_source) &&
               (part_source == NULL || template_is_plain(part_source))) {
        FUZZ_CHECK(output_is_escaped(out.data));
    }
    strbuf_free(&out);
    template_set_free(set);
    json_decref(values);
    free(part_source);
    free(main_source);
    return 0;
}
