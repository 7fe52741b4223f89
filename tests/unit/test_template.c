/*
 * test_template.c — unit tests for util/template.c: output and escaping, lookup and scopes,
 * blocks, includes, parse errors with their line numbers, the nesting and include limits, and
 * concurrent rendering from one set. Each test builds its templates from strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/embedded.h"
#include "util/template.h"

/* Renders `source` as template "t" with the JSON context text; the result is malloc'd. */
static char *render_source(const char *source, const char *context_json)
{
    template_set *set = template_set_new();
    assert_non_null(set);
    char *error = NULL;
    assert_int_equal(template_set_add(set, "t", source, &error), NSDB_OK);
    assert_null(error);
    json_error_t json_error;
    json_t *context = json_loads(context_json, 0, &json_error);
    assert_non_null(context);
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "t", context, &out), NSDB_OK);
    json_decref(context);
    template_set_free(set);
    return strbuf_detach(&out, NULL);
}

static void assert_renders(const char *source, const char *context_json, const char *expected)
{
    char *got = render_source(source, context_json);
    assert_string_equal(got, expected);
    free(got);
}

/* Adds `source` as "t", expecting a parse error whose message mentions `line_text`. */
static void assert_parse_error(const char *source, const char *line_text)
{
    template_set *set = template_set_new();
    char *error = NULL;
    assert_int_equal(template_set_add(set, "t", source, &error), NSDB_ERR_PARSE);
    assert_non_null(error);
    if (strstr(error, line_text) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\" (source: %s)", error, line_text, source);
    free(error);
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "t", NULL, &out), NSDB_ERR_NOT_FOUND);
    template_set_free(set);
}

static void test_text_outside_tags_is_copied_literally(void **state)
{
    (void)state;
    assert_renders("", "{}", "");
    assert_renders("<p class=\"a\">{ x } }} & </p>\n", "{}", "<p class=\"a\">{ x } }} & </p>\n");
}

static void test_value_escapes_html_special_characters(void **state)
{
    (void)state;
    assert_renders("<b>{{s}}</b>", "{\"s\": \"&<>\\\"'x\"}", "<b>&amp;&lt;&gt;&quot;&#39;x</b>");
    assert_renders("{{ s }}", "{\"s\": \"日本語\"}", "日本語");
}

static void test_triple_braces_output_raw_html(void **state)
{
    (void)state;
    assert_renders("<main>{{{ content }}}</main>", "{\"content\": \"<p>a & b</p>\"}",
                   "<main><p>a & b</p></main>");
}

static void test_value_formats_numbers_booleans_and_nothing_for_empty(void **state)
{
    (void)state;
    assert_renders("{{i}}|{{n}}|{{r}}|{{h}}|{{t}}|{{f}}|{{z}}|{{missing}}|{{o}}|{{a}}",
                   "{\"i\": 42, \"n\": -9007199254740993, \"r\": 1.5, \"h\": 0.1, \"t\": true,"
                   " \"f\": false, \"z\": null, \"o\": {\"k\": 1}, \"a\": [1]}",
                   "42|-9007199254740993|1.5|0.1|true|||||");
}

static void test_dotted_path_looks_up_nested_objects(void **state)
{
    (void)state;
    const char *ctx = "{\"user\": {\"name\": \"Sato\", \"org\": {\"code\": \"131016\"}},"
                      " \"s\": \"text\"}";
    assert_renders("{{user.name}} {{ user.org.code }}", ctx, "Sato 131016");
    assert_renders("[{{user.none.code}}][{{s.length}}][{{nothing.at.all}}]", ctx, "[][][]");
}

static void test_loop_item_falls_back_to_root_scope(void **state)
{
    (void)state;
    const char *ctx = "{\"title\": \"T\", \"name\": \"root\", \"rows\": [{\"name\": \"a\"},"
                      " {\"other\": 1}, \"plain\"]}";
    assert_renders("{{#each rows}}{{name}}/{{title}};{{/each}}", ctx, "a/T;root/T;root/T;");
}

static void test_nested_each_sees_outer_items_and_innermost_index(void **state)
{
    (void)state;
    const char *ctx = "{\"groups\": [{\"g\": \"x\", \"items\": [\"1\", \"2\"]},"
                      " {\"g\": \"y\", \"items\": [\"3\"]}]}";
    assert_renders("{{#each groups}}{{#each items}}{{g}}{{.}}@{{@index}} {{/each}}{{/each}}",
                   ctx, "x1@0 x2@1 y3@0 ");
}

static void test_each_exposes_index_number_and_current_item(void **state)
{
    (void)state;
    assert_renders("{{#each xs}}{{@index}}/{{@number}}:{{ . }} {{/each}}",
                   "{\"xs\": [\"a<\", 7, true]}", "0/1:a&lt; 1/2:7 2/3:true ");
    assert_renders("[{{@index}}{{@number}}]", "{}", "[]");
}

static void test_each_renders_else_when_empty_or_missing(void **state)
{
    (void)state;
    const char *source = "{{#each xs}}<li>{{.}}</li>{{else}}none{{/each}}";
    assert_renders(source, "{\"xs\": []}", "none");
    assert_renders(source, "{}", "none");
    assert_renders(source, "{\"xs\": \"not a list\"}", "none");
    assert_renders(source, "{\"xs\": [1]}", "<li>1</li>");
    assert_renders("{{#each xs}}x{{/each}}", "{\"xs\": []}", "");
}

static void test_if_else_follows_truthiness(void **state)
{
    (void)state;
    const char *source = "{{#if v}}yes{{else}}no{{/if}}";
    const char *truthy[] = {"\"x\"", "1", "-1", "0.5", "true", "[0]", "{\"a\": 0}"};
    const char *falsy[] = {"\"\"", "0", "0.0", "false", "null", "[]", "{}"};
    char ctx[64];
    for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++) {
        snprintf(ctx, sizeof ctx, "{\"v\": %s}", truthy[i]);
        assert_renders(source, ctx, "yes");
    }
    for (size_t i = 0; i < sizeof falsy / sizeof falsy[0]; i++) {
        snprintf(ctx, sizeof ctx, "{\"v\": %s}", falsy[i]);
        assert_renders(source, ctx, "no");
    }
    assert_renders(source, "{}", "no");
    assert_renders("{{#if v}}yes{{/if}}", "{}", "");
    assert_renders("{{#each xs}}{{#if @index}},{{/if}}{{.}}{{/each}}", "{\"xs\": [1, 2, 3]}",
                   "1,2,3");
}

static void test_unless_renders_when_falsy(void **state)
{
    (void)state;
    const char *source = "{{#unless v}}empty{{else}}full{{/unless}}";
    assert_renders(source, "{}", "empty");
    assert_renders(source, "{\"v\": \"\"}", "empty");
    assert_renders(source, "{\"v\": \"x\"}", "full");
    assert_renders("{{#unless v}}shown{{/unless}}", "{\"v\": false}", "shown");
}

static void test_if_compares_strings_and_integers_with_literal(void **state)
{
    (void)state;
    const char *eq = "{{#if role == \"admin\"}}A{{else}}-{{/if}}";
    const char *ne = "{{#if role != \"admin\"}}N{{else}}-{{/if}}";
    assert_renders(eq, "{\"role\": \"admin\"}", "A");
    assert_renders(eq, "{\"role\": \"administrator\"}", "-");
    assert_renders(eq, "{}", "-");
    assert_renders(ne, "{\"role\": \"admin\"}", "-");
    assert_renders(ne, "{\"role\": \"user\"}", "N");
    assert_renders(ne, "{}", "N");
    const char *num = "{{#if n==\"3\"}}three{{/if}}{{#if n != \"3\"}}other{{/if}}";
    assert_renders(num, "{\"n\": 3}", "three");
    assert_renders(num, "{\"n\": 4}", "other");
    assert_renders(num, "{\"n\": \"3\"}", "three");
    assert_renders(num, "{\"n\": true}", "other");
    assert_renders("{{#if s == \"\"}}empty{{/if}}", "{\"s\": \"\"}", "empty");
    assert_renders("{{#each xs}}{{#if @number == \"2\"}}second{{/if}}{{/each}}",
                   "{\"xs\": [0, 0, 0]}", "second");
    assert_renders("{{#unless role == \"admin\"}}not admin{{/unless}}", "{\"role\": \"x\"}",
                   "not admin");
}

static void test_include_renders_with_current_scope(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    /* the including template is added first: includes are resolved at render time */
    assert_int_equal(template_set_add(set, "list", "<ul>{{#each rows}}{{> row}}{{/each}}</ul>",
                                      NULL),
                     NSDB_OK);
    assert_int_equal(template_set_add(set, "row", "<li>{{@number}} {{name}} {{site}}</li>", NULL),
                     NSDB_OK);
    json_t *ctx = json_pack("{s:s, s:[{s:s}, {s:s}]}", "site", "S", "rows", "name", "a", "name",
                            "b<");
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "list", ctx, &out), NSDB_OK);
    assert_string_equal(out.data, "<ul><li>1 a S</li><li>2 b&lt; S</li></ul>");
    strbuf_free(&out);
    json_decref(ctx);
    template_set_free(set);
}

static void test_comment_renders_nothing(void **state)
{
    (void)state;
    assert_renders("a{{! a comment with {{ braces and \"quotes\" }}b{{!}}c", "{}", "abc");
    assert_renders("a{{!\n multi\n line\n}}b{{x}}", "{\"x\": 1}", "ab1");
}

static void test_whitespace_inside_braces_is_allowed(void **state)
{
    (void)state;
    assert_renders("{{  #if   v  }}{{\tv\t}}{{ else }}n{{ /if }}{{{  raw  }}}{{\n! c \n}}",
                   "{\"v\": \"x\", \"raw\": \"<i>\"}", "x<i>");
}

static void test_adding_a_name_again_replaces_the_template(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "t", "old", NULL), NSDB_OK);
    assert_int_equal(template_set_add(set, "t", "new", NULL), NSDB_OK);
    assert_int_equal(template_set_add(set, "t", "{{#if}}", NULL), NSDB_ERR_PARSE);
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "t", NULL, &out), NSDB_OK);
    assert_string_equal(out.data, "new");
    strbuf_free(&out);
    template_set_free(set);
}

static void test_unclosed_block_is_parse_error_with_line(void **state)
{
    (void)state;
    assert_parse_error("a\nb\n{{#if x}}\nc\n", "line 3");
    assert_parse_error("\n{{#each xs}}{{#if x}}{{/if}}", "line 2");
    assert_parse_error("a\n\n\nb {{ x ", "line 4");
    assert_parse_error("{{{ x }}", "line 1");
}

static void test_mismatched_close_is_parse_error_with_line(void **state)
{
    (void)state;
    assert_parse_error("{{#each xs}}\n\n{{/if}}", "line 3");
    assert_parse_error("x\n{{/each}}", "line 2");
    assert_parse_error("{{#if a}}{{else}}\n{{else}}{{/if}}", "line 2");
    assert_parse_error("\n\n{{else}}", "line 3");
    assert_parse_error("{{#unless a}}\n{{/unless x}}", "line 2");
}

static void test_unknown_tag_is_parse_error_with_line(void **state)
{
    (void)state;
    const char *bad_tags[] = {"{{}}", "{{ a b }}", "{{#with x}}{{/with}}", "{{a..b}}", "{{.a}}",
                              "{{@key}}", "{{#if}}{{/if}}", "{{#if a = \"x\"}}{{/if}}",
                              "{{#if a == x}}{{/if}}", "{{#each a == \"x\"}}{{/each}}",
                              "{{>}}", "{{> a b}}", "{{ a<b }}"};
    char source[128];
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        snprintf(source, sizeof source, "ok\n{{ok}}\n%s", bad_tags[i]);
        assert_parse_error(source, "line 3");
    }
}

static void test_parse_error_without_error_out_is_reported(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "t", "{{#if a}}", NULL), NSDB_ERR_PARSE);
    char *error = (char *)"unchanged";
    assert_int_equal(template_set_add(set, "t", "fine", &error), NSDB_OK);
    assert_null(error);
    template_set_free(set);
}

static void test_missing_template_is_not_found_at_render(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "page", "before {{> missing}} after", NULL), NSDB_OK);
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "kept");
    assert_int_equal(template_render(set, "nope", NULL, &out), NSDB_ERR_NOT_FOUND);
    assert_int_equal(template_render(set, "page", NULL, &out), NSDB_ERR_NOT_FOUND);
    assert_string_equal(out.data, "kept");
    strbuf_free(&out);
    template_set_free(set);
}

static char *nested_ifs(int depth)
{
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < depth; i++)
        strbuf_puts(&sb, "{{#if v}}");
    strbuf_puts(&sb, "deep");
    for (int i = 0; i < depth; i++)
        strbuf_puts(&sb, "{{/if}}");
    return strbuf_detach(&sb, NULL);
}

static void test_deep_nesting_is_refused(void **state)
{
    (void)state;
    char *at_limit = nested_ifs(TEMPLATE_MAX_NESTING);
    assert_renders(at_limit, "{\"v\": 1}", "deep");
    free(at_limit);
    char *too_deep = nested_ifs(TEMPLATE_MAX_NESTING + 1);
    assert_parse_error(too_deep, "nested deeper");
    free(too_deep);
    char *absurd = nested_ifs(100000);
    assert_parse_error(absurd, "line 1");
    free(absurd);
}

static void test_include_recursion_is_stopped(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "self", "x{{> self}}", NULL), NSDB_OK);
    assert_int_equal(template_set_add(set, "ping", "{{#if go}}{{> pong}}{{/if}}", NULL), NSDB_OK);
    assert_int_equal(template_set_add(set, "pong", "{{> ping}}", NULL), NSDB_OK);
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "self", NULL, &out), NSDB_ERR_TOO_LARGE);
    json_t *ctx = json_pack("{s:b}", "go", 1);
    assert_int_equal(template_render(set, "ping", ctx, &out), NSDB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    json_object_set_new(ctx, "go", json_false());
    assert_int_equal(template_render(set, "ping", ctx, &out), NSDB_OK);
    json_decref(ctx);
    strbuf_free(&out);
    template_set_free(set);
}

/* Nested loops multiply: eight {{#each}} over ten items are 10^8 iterations, a template whose
 * output stays small can still hang a worker. The render stops at TEMPLATE_MAX_RENDER_STEPS. */
static void test_nested_loops_stop_at_the_step_limit(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "nest",
                                      "{{#each a}}{{#each a}}{{#each a}}{{#each a}}{{#each a}}"
                                      "{{#each a}}{{#each a}}{{#each a}}{{/each}}{{/each}}{{/each}}"
                                      "{{/each}}{{/each}}{{/each}}{{/each}}{{/each}}",
                                      NULL),
                     NSDB_OK);
    json_t *ctx = json_pack("{s:[iiiiiiiiii]}", "a", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "kept");
    assert_int_equal(template_render(set, "nest", ctx, &out), NSDB_ERR_TOO_LARGE);
    assert_string_equal(out.data, "kept");
    /* the same loops over three items (6,560 steps) render */
    json_array_clear(json_object_get(ctx, "a"));
    for (int i = 0; i < 3; i++)
        json_array_append_new(json_object_get(ctx, "a"), json_integer(i));
    assert_int_equal(template_render(set, "nest", ctx, &out), NSDB_OK);
    json_decref(ctx);
    strbuf_free(&out);
    template_set_free(set);
}

/* A loop that writes a large value many times stops at TEMPLATE_MAX_OUTPUT_BYTES instead of
 * growing the buffer until memory runs out. */
static void test_output_stops_at_the_byte_limit(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "big", "{{#each a}}{{#each a}}{{{s}}}{{/each}}{{/each}}",
                                      NULL),
                     NSDB_OK);
    size_t one = 1024 * 1024;
    char *s = malloc(one + 1);
    assert_non_null(s);
    memset(s, 'x', one);
    s[one] = '\0';
    json_t *a = json_array();
    for (int i = 0; i < 12; i++)
        json_array_append_new(a, json_integer(i));
    json_t *ctx = json_pack("{s:o, s:s}", "a", a, "s", s);
    free(s);
    strbuf out = STRBUF_INIT;
    assert_int_equal(template_render(set, "big", ctx, &out), NSDB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    /* 12 × 12 MB = 144 MB passes the limit; 11 × 11 MB = 121 MB is within it */
    json_array_remove(a, 0);
    assert_int_equal(template_render(set, "big", ctx, &out), NSDB_OK);
    assert_int_equal(out.len, 121 * one);
    json_decref(ctx);
    strbuf_free(&out);
    template_set_free(set);
}

static void test_embedded_templates_are_added_by_base_name(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    char *error = NULL;
    nsdb_err err = template_set_add_embedded(set, &error);
    if (err != NSDB_OK)
        fail_msg("embedded templates: %s", error ? error : nsdb_err_name(err));
    for (const struct embedded_file *f = embedded_files; f->path != NULL; f++) {
        size_t len = strlen(f->path);
        if (strncmp(f->path, "templates/", 10) != 0 || len < 16 ||
            strcmp(f->path + len - 5, ".html") != 0 || strchr(f->path + 10, '/') != NULL)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 15), f->path + 10);
        strbuf out = STRBUF_INIT;
        /* an include of a missing template also says NOT_FOUND: only judge those without */
        if (template_render(set, name, NULL, &out) == NSDB_ERR_NOT_FOUND &&
            strstr(f->data, "{{>") == NULL)
            fail_msg("%s was not added as \"%s\"", f->path, name);
        strbuf_free(&out);
    }
    template_set_free(set);
}

struct render_job {
    const template_set *set;
    json_t *context;
    int failures;
};

static void *render_many(void *arg)
{
    struct render_job *job = arg;
    for (int i = 0; i < 2000; i++) {
        strbuf out = STRBUF_INIT;
        if (template_render(job->set, "page", job->context, &out) != NSDB_OK ||
            strcmp(out.data, "<h1>T</h1><i>0:a</i><i>1:b</i>") != 0)
            job->failures++;
        strbuf_free(&out);
    }
    return NULL;
}

static void test_concurrent_renders_share_one_set(void **state)
{
    (void)state;
    template_set *set = template_set_new();
    assert_int_equal(template_set_add(set, "page", "<h1>{{t}}</h1>{{#each xs}}{{> item}}{{/each}}",
                                      NULL),
                     NSDB_OK);
    assert_int_equal(template_set_add(set, "item", "<i>{{@index}}:{{.}}</i>", NULL), NSDB_OK);
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    struct render_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        /* each request has its own context; only the set is shared */
        jobs[i] = (struct render_job){set, json_pack("{s:s, s:[s,s]}", "t", "T", "xs", "a", "b"),
                                      0};
        assert_int_equal(pthread_create(&threads[i], NULL, render_many, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
        json_decref(jobs[i].context);
    }
    template_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_outside_tags_is_copied_literally),
        cmocka_unit_test(test_value_escapes_html_special_characters),
        cmocka_unit_test(test_triple_braces_output_raw_html),
        cmocka_unit_test(test_value_formats_numbers_booleans_and_nothing_for_empty),
        cmocka_unit_test(test_dotted_path_looks_up_nested_objects),
        cmocka_unit_test(test_loop_item_falls_back_to_root_scope),
        cmocka_unit_test(test_nested_each_sees_outer_items_and_innermost_index),
        cmocka_unit_test(test_each_exposes_index_number_and_current_item),
        cmocka_unit_test(test_each_renders_else_when_empty_or_missing),
        cmocka_unit_test(test_if_else_follows_truthiness),
        cmocka_unit_test(test_unless_renders_when_falsy),
        cmocka_unit_test(test_if_compares_strings_and_integers_with_literal),
        cmocka_unit_test(test_include_renders_with_current_scope),
        cmocka_unit_test(test_comment_renders_nothing),
        cmocka_unit_test(test_whitespace_inside_braces_is_allowed),
        cmocka_unit_test(test_adding_a_name_again_replaces_the_template),
        cmocka_unit_test(test_unclosed_block_is_parse_error_with_line),
        cmocka_unit_test(test_mismatched_close_is_parse_error_with_line),
        cmocka_unit_test(test_unknown_tag_is_parse_error_with_line),
        cmocka_unit_test(test_parse_error_without_error_out_is_reported),
        cmocka_unit_test(test_missing_template_is_not_found_at_render),
        cmocka_unit_test(test_deep_nesting_is_refused),
        cmocka_unit_test(test_include_recursion_is_stopped),
        cmocka_unit_test(test_nested_loops_stop_at_the_step_limit),
        cmocka_unit_test(test_output_stops_at_the_byte_limit),
        cmocka_unit_test(test_embedded_templates_are_added_by_base_name),
        cmocka_unit_test(test_concurrent_renders_share_one_set),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
