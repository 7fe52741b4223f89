/*
 * template.c — parser and renderer for the syntax described in template.h. Each template owns
 * an arena holding a copy of its source and its node tree; text nodes point into that copy, so
 * rendering allocates nothing but output. Rendering keeps its state (scopes, include depth) on
 * the caller's stack and only reads the set, which is what makes concurrent renders safe.
 * The parser is recursive descent over tags; the nesting limit bounds its recursion, and the
 * include limit bounds the renderer's; the step and output limits bound a render's work, which
 * nested loops would otherwise multiply.
 */
#include "util/template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/embedded.h"

#define TEMPLATE_DIR "templates/"
#define TEMPLATE_SUFFIX ".html"

enum tpl_node_kind { TPL_NODE_TEXT, TPL_NODE_VALUE, TPL_NODE_RAW, TPL_NODE_IF, TPL_NODE_EACH,
                     TPL_NODE_INCLUDE };

enum tpl_path_kind { TPL_PATH_NAME, TPL_PATH_CURRENT, TPL_PATH_INDEX, TPL_PATH_NUMBER };

enum tpl_compare { TPL_COMPARE_NONE, TPL_COMPARE_EQUAL, TPL_COMPARE_NOT_EQUAL };

struct tpl_path {
    enum tpl_path_kind kind;
    size_t segment_count; /* TPL_PATH_NAME: "a.b.c" -> {"a", "b", "c"} */
    const char **segments;
};

struct tpl_node {
    enum tpl_node_kind kind;
    struct tpl_node *next;
    const char *text; /* TEXT: literal bytes; INCLUDE: template name */
    size_t text_len;
    struct tpl_path path;       /* VALUE, RAW, IF, EACH */
    enum tpl_compare compare;   /* IF */
    const char *literal;        /* IF with a comparison */
    size_t literal_len;
    bool negate;                /* IF written as #unless */
    struct tpl_node *body;      /* IF, EACH */
    struct tpl_node *otherwise; /* IF, EACH: the {{else}} branch, NULL when absent */
};

struct template_entry {
    char *name;
    arena *arena; /* owns the source copy and every node */
    struct tpl_node *root;
};

struct template_set {
    struct template_entry *entries; /* sorted by name for bsearch */
    size_t count;
    size_t cap;
};

/* ---- lexer ---- */

enum tpl_token_kind { TPL_TOKEN_END, TPL_TOKEN_TEXT, TPL_TOKEN_VALUE, TPL_TOKEN_RAW,
                      TPL_TOKEN_COMMENT, TPL_TOKEN_OPEN, TPL_TOKEN_ELSE, TPL_TOKEN_CLOSE,
                      TPL_TOKEN_INCLUDE };

enum tpl_block { TPL_BLOCK_IF, TPL_BLOCK_UNLESS, TPL_BLOCK_EACH };

static const char *const tpl_block_names[] = {"if", "unless", "each"};

struct tpl_token {
    enum tpl_token_kind kind;
    enum tpl_block block; /* OPEN, CLOSE */
    const char *start;    /* TEXT: the text; tags: the argument, trimmed */
    size_t len;
    int line;
};

struct tpl_parser {
    arena *arena;
    const char *name;
    const char *src; /* the arena copy; NUL-terminated */
    size_t pos;
    int line;
    char *error; /* malloc'd message once parsing failed */
};

__attribute__((format(printf, 3, 4))) static NSDB_MUST_CHECK nsdb_err tpl_fail(struct tpl_parser *p,
                                                                               int line,
                                                                               const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "template \"%s\" line %d: %s", p->name, line, detail);
    free(p->error);
    p->error = strbuf_detach(&sb, NULL);
    return NSDB_ERR_PARSE;
}

static int tpl_count_lines(const char *s, size_t n)
{
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

static bool tpl_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void tpl_trim(const char **s, size_t *n)
{
    while (*n > 0 && tpl_is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && tpl_is_space((*s)[*n - 1]))
        (*n)--;
}

static bool tpl_is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool tpl_is_word(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* Splits "keyword rest" for #block and /block tags into the block kind and the rest. */
static NSDB_MUST_CHECK nsdb_err tpl_lex_block(struct tpl_parser *p, struct tpl_token *tok,
                                              char sigil)
{
    size_t word = 0;
    while (word < tok->len && isalpha((unsigned char)tok->start[word]))
        word++;
    for (size_t b = 0; b < sizeof tpl_block_names / sizeof tpl_block_names[0]; b++) {
        if (tpl_is_word(tok->start, word, tpl_block_names[b])) {
            tok->block = (enum tpl_block)b;
            tok->start += word;
            tok->len -= word;
            tpl_trim(&tok->start, &tok->len);
            return NSDB_OK;
        }
    }
    return tpl_fail(p, tok->line, "unknown block {{%c%.*s}}", sigil, (int)word, tok->start);
}

/* Classifies the trimmed content of a {{ }} tag by its first character. */
static NSDB_MUST_CHECK nsdb_err tpl_classify_tag(struct tpl_parser *p, struct tpl_token *tok)
{
    char sigil = tok->len > 0 ? tok->start[0] : '\0';
    if (sigil == '!') {
        tok->kind = TPL_TOKEN_COMMENT;
        return NSDB_OK;
    }
    if (sigil == '#' || sigil == '/' || sigil == '>') {
        tok->start++;
        tok->len--;
        tpl_trim(&tok->start, &tok->len);
    }
    if (sigil == '#') {
        tok->kind = TPL_TOKEN_OPEN;
        return tpl_lex_block(p, tok, sigil);
    }
    if (sigil == '/') {
        tok->kind = TPL_TOKEN_CLOSE;
        nsdb_err err = tpl_lex_block(p, tok, sigil);
        if (err == NSDB_OK && tok->len > 0)
            return tpl_fail(p, tok->line, "unexpected text in {{/%s}}",
                            tpl_block_names[tok->block]);
        return err;
    }
    if (sigil == '>')
        tok->kind = TPL_TOKEN_INCLUDE;
    else if (tpl_is_word(tok->start, tok->len, "else"))
        tok->kind = TPL_TOKEN_ELSE;
    else
        tok->kind = TPL_TOKEN_VALUE;
    return NSDB_OK;
}

/* Reads the tag starting at "{{" at p->pos. */
static NSDB_MUST_CHECK nsdb_err tpl_lex_tag(struct tpl_parser *p, struct tpl_token *tok)
{
    const char *open = p->src + p->pos;
    bool raw = open[2] == '{';
    const char *content = open + (raw ? 3 : 2);
    const char *closer = raw ? "}}}" : "}}";
    const char *close = strstr(content, closer);
    if (close == NULL)
        return tpl_fail(p, p->line, "%s without a closing %s", raw ? "{{{" : "{{", closer);
    tok->line = p->line;
    tok->start = content;
    tok->len = (size_t)(close - content);
    size_t span = (size_t)(close - open) + strlen(closer);
    p->line += tpl_count_lines(open, span);
    p->pos += span;
    tpl_trim(&tok->start, &tok->len);
    if (raw) {
        tok->kind = TPL_TOKEN_RAW;
        return NSDB_OK;
    }
    return tpl_classify_tag(p, tok);
}

static NSDB_MUST_CHECK nsdb_err tpl_lex_next(struct tpl_parser *p, struct tpl_token *tok)
{
    const char *here = p->src + p->pos;
    memset(tok, 0, sizeof *tok);
    tok->line = p->line;
    if (*here == '\0') {
        tok->kind = TPL_TOKEN_END;
        return NSDB_OK;
    }
    if (here[0] == '{' && here[1] == '{')
        return tpl_lex_tag(p, tok);
    const char *next_tag = strstr(here, "{{");
    size_t len = next_tag != NULL ? (size_t)(next_tag - here) : strlen(here);
    tok->kind = TPL_TOKEN_TEXT;
    tok->start = here;
    tok->len = len;
    p->pos += len;
    p->line += tpl_count_lines(here, len);
    return NSDB_OK;
}

/* ---- parser ---- */

static NSDB_MUST_CHECK nsdb_err tpl_parse_segments(struct tpl_parser *p, int line, const char *s,
                                                   size_t n, struct tpl_path *path)
{
    size_t count = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            count++;
        else if (!tpl_is_name_char(s[i]))
            return tpl_fail(p, line, "invalid tag {{%.*s}}", (int)n, s);
    }
    path->kind = TPL_PATH_NAME;
    path->segment_count = count;
    path->segments = arena_calloc(p->arena, count, sizeof *path->segments);
    size_t start = 0;
    for (size_t k = 0; k < count; k++) {
        size_t end = start;
        while (end < n && s[end] != '.')
            end++;
        if (end == start)
            return tpl_fail(p, line, "empty name in {{%.*s}}", (int)n, s);
        path->segments[k] = arena_strndup(p->arena, s + start, end - start);
        start = end + 1;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err tpl_parse_path(struct tpl_parser *p, int line, const char *s,
                                               size_t n, struct tpl_path *path)
{
    memset(path, 0, sizeof *path);
    if (n == 0)
        return tpl_fail(p, line, "empty tag {{}}");
    if (tpl_is_word(s, n, "."))
        path->kind = TPL_PATH_CURRENT;
    else if (tpl_is_word(s, n, "@index"))
        path->kind = TPL_PATH_INDEX;
    else if (tpl_is_word(s, n, "@number"))
        path->kind = TPL_PATH_NUMBER;
    else
        return tpl_parse_segments(p, line, s, n, path);
    return NSDB_OK;
}

/* Parses the argument of #if/#unless/#each: a path, optionally `== "text"` or `!= "text"`. */
static NSDB_MUST_CHECK nsdb_err tpl_parse_condition(struct tpl_parser *p,
                                                    const struct tpl_token *tok,
                                                    struct tpl_node *node)
{
    const char *s = tok->start;
    size_t n = tok->len, path_len = 0;
    while (path_len < n && !tpl_is_space(s[path_len]) && s[path_len] != '=' && s[path_len] != '!')
        path_len++;
    if (path_len == 0)
        return tpl_fail(p, tok->line, "{{#%s}} needs a path", tpl_block_names[tok->block]);
    nsdb_err err = tpl_parse_path(p, tok->line, s, path_len, &node->path);
    if (err != NSDB_OK)
        return err;
    const char *rest = s + path_len;
    size_t rest_len = n - path_len;
    tpl_trim(&rest, &rest_len);
    if (rest_len == 0)
        return NSDB_OK;
    const char *block = tpl_block_names[tok->block];
    if (tok->block == TPL_BLOCK_EACH)
        return tpl_fail(p, tok->line, "{{#each}} takes only a path");
    if (rest_len < 2 || (memcmp(rest, "==", 2) != 0 && memcmp(rest, "!=", 2) != 0))
        return tpl_fail(p, tok->line, "expected == or != after the path in {{#%s}}", block);
    node->compare = rest[0] == '=' ? TPL_COMPARE_EQUAL : TPL_COMPARE_NOT_EQUAL;
    rest += 2;
    rest_len -= 2;
    tpl_trim(&rest, &rest_len);
    if (rest_len < 2 || rest[0] != '"' || rest[rest_len - 1] != '"' ||
        memchr(rest + 1, '"', rest_len - 2) != NULL)
        return tpl_fail(p, tok->line, "expected a \"quoted\" text to compare with in {{#%s}}",
                        block);
    node->literal = rest + 1;
    node->literal_len = rest_len - 2;
    return NSDB_OK;
}

static struct tpl_node *tpl_node_new(struct tpl_parser *p, enum tpl_node_kind kind)
{
    struct tpl_node *node = arena_calloc(p->arena, 1, sizeof *node);
    node->kind = kind;
    return node;
}

static NSDB_MUST_CHECK nsdb_err tpl_parse_include(struct tpl_parser *p, const struct tpl_token *tok,
                                                  struct tpl_node *node)
{
    if (tok->len == 0)
        return tpl_fail(p, tok->line, "{{>}} needs a template name");
    for (size_t i = 0; i < tok->len; i++)
        if (!tpl_is_name_char(tok->start[i]) && tok->start[i] != '.')
            return tpl_fail(p, tok->line, "invalid template name in {{> %.*s}}", (int)tok->len,
                            tok->start);
    node->text = arena_strndup(p->arena, tok->start, tok->len);
    node->text_len = tok->len;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err tpl_parse_sequence(struct tpl_parser *p, int depth,
                                                   struct tpl_node **head, struct tpl_token *stop);

/* Checks how a block's body ended: it must be the matching {{/block}}. */
static NSDB_MUST_CHECK nsdb_err tpl_check_block_end(struct tpl_parser *p,
                                                    const struct tpl_token *open,
                                                    const struct tpl_token *stop)
{
    const char *name = tpl_block_names[open->block];
    switch (stop->kind) {
    case TPL_TOKEN_END:
        return tpl_fail(p, open->line, "{{#%s}} is never closed (no {{/%s}})", name, name);
    case TPL_TOKEN_ELSE:
        return tpl_fail(p, stop->line, "second {{else}} in {{#%s}} opened on line %d", name,
                        open->line);
    case TPL_TOKEN_CLOSE:
        if (stop->block != open->block)
            return tpl_fail(p, stop->line, "{{/%s}} closes {{#%s}} opened on line %d",
                            tpl_block_names[stop->block], name, open->line);
        return NSDB_OK;
    case TPL_TOKEN_TEXT:
    case TPL_TOKEN_VALUE:
    case TPL_TOKEN_RAW:
    case TPL_TOKEN_COMMENT:
    case TPL_TOKEN_OPEN:
    case TPL_TOKEN_INCLUDE:
    default:
        abort(); /* tpl_parse_sequence stops only at END, ELSE and CLOSE */
    }
}

static NSDB_MUST_CHECK nsdb_err tpl_parse_block(struct tpl_parser *p, int depth,
                                                const struct tpl_token *open,
                                                struct tpl_node **node_out)
{
    if (depth >= TEMPLATE_MAX_NESTING)
        return tpl_fail(p, open->line, "blocks nested deeper than %d", TEMPLATE_MAX_NESTING);
    struct tpl_node *node =
        tpl_node_new(p, open->block == TPL_BLOCK_EACH ? TPL_NODE_EACH : TPL_NODE_IF);
    node->negate = open->block == TPL_BLOCK_UNLESS;
    nsdb_err err = tpl_parse_condition(p, open, node);
    struct tpl_token stop;
    if (err == NSDB_OK)
        err = tpl_parse_sequence(p, depth + 1, &node->body, &stop);
    if (err == NSDB_OK && stop.kind == TPL_TOKEN_ELSE)
        err = tpl_parse_sequence(p, depth + 1, &node->otherwise, &stop);
    if (err == NSDB_OK)
        err = tpl_check_block_end(p, open, &stop);
    *node_out = node;
    return err;
}

/* Parses one token into *node_out (left NULL for comments). */
static NSDB_MUST_CHECK nsdb_err tpl_parse_token(struct tpl_parser *p, int depth,
                                                const struct tpl_token *tok,
                                                struct tpl_node **node_out)
{
    struct tpl_node *node = NULL;
    nsdb_err err = NSDB_OK;
    switch (tok->kind) {
    case TPL_TOKEN_TEXT:
        node = tpl_node_new(p, TPL_NODE_TEXT);
        node->text = tok->start;
        node->text_len = tok->len;
        break;
    case TPL_TOKEN_VALUE:
    case TPL_TOKEN_RAW:
        node = tpl_node_new(p, tok->kind == TPL_TOKEN_RAW ? TPL_NODE_RAW : TPL_NODE_VALUE);
        err = tpl_parse_path(p, tok->line, tok->start, tok->len, &node->path);
        break;
    case TPL_TOKEN_INCLUDE:
        node = tpl_node_new(p, TPL_NODE_INCLUDE);
        err = tpl_parse_include(p, tok, node);
        break;
    case TPL_TOKEN_OPEN:
        err = tpl_parse_block(p, depth, tok, &node);
        break;
    case TPL_TOKEN_COMMENT: /* comments produce nothing */
    case TPL_TOKEN_END:     /* END, ELSE and CLOSE end a sequence: tpl_parse_sequence keeps them */
    case TPL_TOKEN_ELSE:
    case TPL_TOKEN_CLOSE:
    default:
        break;
    }
    *node_out = node;
    return err;
}

/* Parses nodes into *head until END, {{else}} or a {{/block}}, which is left in *stop for
   the caller to judge. */
static NSDB_MUST_CHECK nsdb_err tpl_parse_sequence(struct tpl_parser *p, int depth,
                                                   struct tpl_node **head, struct tpl_token *stop)
{
    struct tpl_node **tail = head;
    *head = NULL;
    for (;;) {
        nsdb_err err = tpl_lex_next(p, stop);
        if (err != NSDB_OK)
            return err;
        if (stop->kind == TPL_TOKEN_END || stop->kind == TPL_TOKEN_ELSE ||
            stop->kind == TPL_TOKEN_CLOSE)
            return NSDB_OK;
        struct tpl_node *node;
        err = tpl_parse_token(p, depth, stop, &node);
        if (err != NSDB_OK)
            return err;
        if (node != NULL) {
            *tail = node;
            tail = &node->next;
        }
    }
}

static NSDB_MUST_CHECK nsdb_err tpl_parse_template(struct tpl_parser *p, struct tpl_node **root)
{
    struct tpl_token stop;
    nsdb_err err = tpl_parse_sequence(p, 0, root, &stop);
    if (err != NSDB_OK)
        return err;
    if (stop.kind == TPL_TOKEN_ELSE)
        return tpl_fail(p, stop.line, "{{else}} outside {{#if}}, {{#unless}} or {{#each}}");
    if (stop.kind == TPL_TOKEN_CLOSE)
        return tpl_fail(p, stop.line, "{{/%s}} without a matching {{#%s}}",
                        tpl_block_names[stop.block], tpl_block_names[stop.block]);
    return NSDB_OK;
}

/* ---- the set ---- */

template_set *template_set_new(void)
{
    return calloc(1, sizeof(template_set));
}

void template_set_free(template_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++) {
        free(set->entries[i].name);
        arena_free(set->entries[i].arena);
    }
    free(set->entries);
    free(set);
}

/* Index of `name`, or of where it would be inserted; *found says which. */
static size_t template_set_search(const template_set *set, const char *name, bool *found)
{
    size_t low = 0, high = set->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(name, set->entries[mid].name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            high = mid;
        else
            low = mid + 1;
    }
    *found = false;
    return low;
}

/* NULL when absent; an empty template is an entry whose root is NULL. */
static const struct template_entry *template_set_find(const template_set *set, const char *name)
{
    bool found;
    size_t i = template_set_search(set, name, &found);
    return found ? &set->entries[i] : NULL;
}

static NSDB_MUST_CHECK nsdb_err template_set_store(template_set *set, const char *name, arena *a,
                                                   struct tpl_node *root)
{
    bool found;
    size_t i = template_set_search(set, name, &found);
    if (found) {
        arena_free(set->entries[i].arena);
        set->entries[i].arena = a;
        set->entries[i].root = root;
        return NSDB_OK;
    }
    char *name_copy = strdup(name);
    if (name_copy == NULL)
        return NSDB_ERR_NOMEM;
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        struct template_entry *entries = realloc(set->entries, cap * sizeof *entries);
        if (entries == NULL) {
            free(name_copy);
            return NSDB_ERR_NOMEM;
        }
        set->entries = entries;
        set->cap = cap;
    }
    memmove(&set->entries[i + 1], &set->entries[i], (set->count - i) * sizeof *set->entries);
    struct template_entry *entry = &set->entries[i];
    entry->name = name_copy;
    entry->arena = a;
    entry->root = root;
    set->count++;
    return NSDB_OK;
}

nsdb_err template_set_add(template_set *set, const char *name, const char *source,
                          char **error_out)
{
    if (error_out != NULL)
        *error_out = NULL;
    if (set == NULL || name == NULL || name[0] == '\0' || source == NULL)
        return NSDB_ERR_INVALID;
    arena *a = arena_new();
    struct tpl_parser p = {a, name, arena_strdup(a, source), 0, 1, NULL};
    struct tpl_node *root = NULL;
    nsdb_err err = tpl_parse_template(&p, &root);
    if (err == NSDB_OK)
        err = template_set_store(set, name, a, root);
    if (err != NSDB_OK)
        arena_free(a);
    if (error_out != NULL)
        *error_out = p.error;
    else
        free(p.error);
    return err;
}

nsdb_err template_set_add_embedded(template_set *set, char **error_out)
{
    const size_t dir_len = strlen(TEMPLATE_DIR), suffix_len = strlen(TEMPLATE_SUFFIX);
    for (const struct embedded_file *f = embedded_files; f->path != NULL; f++) {
        size_t len = strlen(f->path);
        if (!str_starts_with(f->path, TEMPLATE_DIR) || len <= dir_len + suffix_len ||
            strcmp(f->path + len - suffix_len, TEMPLATE_SUFFIX) != 0)
            continue;
        const char *base = strrchr(f->path, '/') + 1;
        size_t base_len = (size_t)(f->path + len - suffix_len - base);
        char name[256];
        if (base_len == 0 || base_len >= sizeof name)
            continue;
        memcpy(name, base, base_len);
        name[base_len] = '\0';
        nsdb_err err = template_set_add(set, name, f->data, error_out);
        if (err != NSDB_OK)
            return err;
    }
    return NSDB_OK;
}

/* ---- renderer ---- */

/* One level of lookup: the root context, or an #each item with its position. */
struct tpl_scope {
    const struct tpl_scope *parent;
    json_t *item;
    size_t index;
    bool in_loop;
};

struct tpl_render {
    const template_set *set;
    strbuf *out;
    int include_depth;
    size_t start; /* out->len before the render */
    size_t steps; /* nodes and loop items rendered so far */
};

/* Counts one node or loop item against the render's limits (template.h). */
static NSDB_MUST_CHECK nsdb_err tpl_render_step(struct tpl_render *r)
{
    if (++r->steps > TEMPLATE_MAX_RENDER_STEPS ||
        r->out->len - r->start > TEMPLATE_MAX_OUTPUT_BYTES)
        return NSDB_ERR_TOO_LARGE;
    return NSDB_OK;
}

/* A resolved path: a JSON value, or a loop counter, which has no json_t. */
struct tpl_value {
    json_t *json;
    bool is_counter;
    long long counter;
};

static json_t *tpl_lookup_name(const struct tpl_scope *scope, const struct tpl_path *path)
{
    json_t *value = NULL;
    for (; scope != NULL && value == NULL; scope = scope->parent)
        if (json_is_object(scope->item))
            value = json_object_get(scope->item, path->segments[0]);
    for (size_t i = 1; i < path->segment_count && value != NULL; i++)
        value = json_is_object(value) ? json_object_get(value, path->segments[i]) : NULL;
    return value;
}

static struct tpl_value tpl_resolve(const struct tpl_scope *scope, const struct tpl_path *path)
{
    struct tpl_value value = {NULL, false, 0};
    if (path->kind == TPL_PATH_NAME) {
        value.json = tpl_lookup_name(scope, path);
    } else if (path->kind == TPL_PATH_CURRENT) {
        value.json = scope->item;
    } else {
        while (scope != NULL && !scope->in_loop)
            scope = scope->parent;
        if (scope != NULL) {
            value.is_counter = true;
            value.counter = (long long)scope->index + (path->kind == TPL_PATH_NUMBER);
        }
    }
    return value;
}

static void tpl_format_real(double d, char *buf, size_t size)
{
    snprintf(buf, size, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, size, "%.17g", d);
}

/* Text of a scalar as {{ }} prints it; false for values that print nothing. */
static bool tpl_value_text(struct tpl_value v, char *buf, size_t size, const char **text,
                           size_t *len)
{
    if (json_is_string(v.json)) {
        *text = json_string_value(v.json);
        *len = json_string_length(v.json);
        return true;
    }
    if (v.is_counter)
        snprintf(buf, size, "%lld", v.counter);
    else if (json_is_integer(v.json))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v.json));
    else if (json_is_real(v.json))
        tpl_format_real(json_real_value(v.json), buf, size);
    else if (json_is_true(v.json))
        snprintf(buf, size, "true");
    else
        return false;
    *text = buf;
    *len = strlen(buf);
    return true;
}

static void tpl_render_value(struct tpl_render *r, struct tpl_value v, bool escape)
{
    char buf[64];
    const char *text;
    size_t len;
    if (!tpl_value_text(v, buf, sizeof buf, &text, &len))
        return;
    if (escape)
        strbuf_append_html(r->out, text, len);
    else
        strbuf_append(r->out, text, len);
}

static bool tpl_is_truthy(struct tpl_value v)
{
    if (v.is_counter)
        return v.counter != 0;
    if (v.json == NULL)
        return false;
    switch (json_typeof(v.json)) {
    case JSON_STRING: return json_string_length(v.json) > 0;
    case JSON_INTEGER: return json_integer_value(v.json) != 0;
    case JSON_REAL: return json_real_value(v.json) != 0.0;
    case JSON_TRUE: return true;
    case JSON_ARRAY: return json_array_size(v.json) > 0;
    case JSON_OBJECT: return json_object_size(v.json) > 0;
    case JSON_FALSE:
    case JSON_NULL:
    default: return false;
    }
}

/* Only strings and integers compare, by their text; see template.h. */
static bool tpl_equals_literal(struct tpl_value v, const struct tpl_node *node)
{
    if (v.json == NULL && !v.is_counter)
        return false;
    if (!v.is_counter && !json_is_string(v.json) && !json_is_integer(v.json))
        return false;
    char buf[64];
    const char *text;
    size_t len;
    tpl_value_text(v, buf, sizeof buf, &text, &len);
    return len == node->literal_len && memcmp(text, node->literal, len) == 0;
}

static bool tpl_condition_holds(const struct tpl_node *node, const struct tpl_scope *scope)
{
    struct tpl_value v = tpl_resolve(scope, &node->path);
    bool holds;
    if (node->compare == TPL_COMPARE_NONE)
        holds = tpl_is_truthy(v);
    else
        holds = tpl_equals_literal(v, node) == (node->compare == TPL_COMPARE_EQUAL);
    return holds != node->negate;
}

static NSDB_MUST_CHECK nsdb_err tpl_render_nodes(struct tpl_render *r, const struct tpl_node *node,
                                                 const struct tpl_scope *scope);

static NSDB_MUST_CHECK nsdb_err tpl_render_each(struct tpl_render *r, const struct tpl_node *node,
                                                const struct tpl_scope *scope)
{
    json_t *list = tpl_resolve(scope, &node->path).json;
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    if (count == 0)
        return tpl_render_nodes(r, node->otherwise, scope);
    for (size_t i = 0; i < count; i++) {
        struct tpl_scope item = {scope, json_array_get(list, i), i, true};
        nsdb_err err = tpl_render_step(r);
        if (err == NSDB_OK)
            err = tpl_render_nodes(r, node->body, &item);
        if (err != NSDB_OK)
            return err;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err tpl_render_include(struct tpl_render *r,
                                                   const struct tpl_node *node,
                                                   const struct tpl_scope *scope)
{
    if (r->include_depth >= TEMPLATE_MAX_INCLUDE_DEPTH)
        return NSDB_ERR_TOO_LARGE;
    const struct template_entry *entry = template_set_find(r->set, node->text);
    if (entry == NULL)
        return NSDB_ERR_NOT_FOUND;
    r->include_depth++;
    nsdb_err err = tpl_render_nodes(r, entry->root, scope);
    r->include_depth--;
    return err;
}

static NSDB_MUST_CHECK nsdb_err tpl_render_node(struct tpl_render *r, const struct tpl_node *node,
                                                const struct tpl_scope *scope)
{
    nsdb_err err = tpl_render_step(r);
    if (err != NSDB_OK)
        return err;
    switch (node->kind) {
    case TPL_NODE_TEXT:
        strbuf_append(r->out, node->text, node->text_len);
        return NSDB_OK;
    case TPL_NODE_VALUE:
    case TPL_NODE_RAW:
        tpl_render_value(r, tpl_resolve(scope, &node->path), node->kind == TPL_NODE_VALUE);
        return NSDB_OK;
    case TPL_NODE_IF:
        return tpl_render_nodes(r, tpl_condition_holds(node, scope) ? node->body : node->otherwise,
                                scope);
    case TPL_NODE_EACH:
        return tpl_render_each(r, node, scope);
    case TPL_NODE_INCLUDE:
        return tpl_render_include(r, node, scope);
    }
    abort(); /* every node kind is handled above */
}

static NSDB_MUST_CHECK nsdb_err tpl_render_nodes(struct tpl_render *r, const struct tpl_node *node,
                                                 const struct tpl_scope *scope)
{
    for (; node != NULL; node = node->next) {
        nsdb_err err = tpl_render_node(r, node, scope);
        if (err != NSDB_OK)
            return err;
    }
    return NSDB_OK;
}

nsdb_err template_render(const template_set *set, const char *name, json_t *context,
                         strbuf *out)
{
    const struct template_entry *entry = template_set_find(set, name);
    if (entry == NULL)
        return NSDB_ERR_NOT_FOUND;
    size_t start = out->len;
    struct tpl_render r = {set, out, 0, start, 0};
    struct tpl_scope scope = {NULL, context, 0, false};
    nsdb_err err = tpl_render_nodes(&r, entry->root, &scope);
    if (err != NSDB_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return err;
}
