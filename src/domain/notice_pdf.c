/*
 * notice_pdf.c — renders ID・PW発行通知書 pages (SPEC §5.3) with cairo's PDF surface and Pango.
 * Japanese text is set in IPAexGothic; the user ID and initial password in DejaVu Sans Mono Bold,
 * whose glyphs for the ID alphabet (2–9, A–Z without I, L, O) cannot be mistaken for one another.
 * Every value goes through pango_layout_set_text, never markup, so a name such as "<b>&amp;"
 * prints literally. A render owns its own PangoFontMap and layouts, created once per call and
 * reused for every page, which makes concurrent calls from HTTP threads independent and keeps a
 * 1,000-page bulk print fast (cairo embeds each font once, as a subset, for the whole file).
 */
#include "domain/notice_pdf.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "domain/ids.h"
#include "util/log.h"

/* A4 in PostScript points; cairo's user unit on a PDF surface is the point. */
#define PAGE_WIDTH 595.276
#define PAGE_HEIGHT 841.890
#define MARGIN_X 62.0
#define MARGIN_TOP 56.0
#define MARGIN_BOTTOM 56.0
#define CONTENT_WIDTH (PAGE_WIDTH - 2 * MARGIN_X)

#define FONT_JAPANESE "IPAexGothic"
#define FONT_SECRET "DejaVu Sans Mono"

#define TITLE_TEXT "難病・小慢DB IDPW発行通知書"
#define TITLE_SIZE 22.0
#define TEXT_SIZE 10.5
#define LABEL_SIZE 11.0

#define LABEL_WIDTH 120.0
#define CELL_PADDING 10.0
#define ROW_MIN_HEIGHT 40.0
/* Bounds a value's row so that six rows plus the instructions always fit the page: department
 * and name may wrap to a few lines, municipality and category keep to one. */
#define ROW_MAX_HEIGHT 80.0
#define SECRET_ROW_HEIGHT 56.0
#define SECRET_SIZE 24.0
/* Letter spacing of the ID and password, in em. pdftotext -raw splits a word from 0.2 em on, so
 * 0.15 keeps the 12 symbols one string when copied or searched. (Hence no 4-4-4 grouping: a gap
 * wide enough to see would split the string.) */
#define SECRET_LETTER_SPACING 0.15

#define LABEL_SHADE 0.88
#define RULE_OUTER 1.0
#define RULE_INNER 0.5

enum row_kind { ROW_MUNICIPALITY, ROW_CATEGORY, ROW_DEPARTMENT, ROW_NAME, ROW_ID, ROW_PASSWORD,
                ROW_COUNT };

/* Font sizes tried in turn until a value fits its cell; the last resort is an ellipsis. */
static const double VALUE_SIZES[] = {12.0, 11.0, 10.0, 9.0, 8.0};
static const double NAME_SIZES[] = {15.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0};

static const char *const FIXED_LABELS[ROW_COUNT] = {
    [ROW_MUNICIPALITY] = "自治体", [ROW_CATEGORY] = "難病/小慢", [ROW_DEPARTMENT] = "",
    [ROW_NAME] = "氏名",           [ROW_ID] = "ID",               [ROW_PASSWORD] = "初期パスワード",
};

static const char LEAD_TEXT[] =
    "下記のとおり、難病・小慢DBのユーザIDと初期パスワードを発行します。";
static const char GUIDE_HEADING[] = "ご利用にあたって";
static const char LOGIN_URL_LABEL[] = "ログインURL";
static const char GUIDE_TEXT[] =
    "・初回ログイン時にパスワードを変更してください。\n"
    "・初期パスワードは、初回ログインでパスワードを変更するまで有効です。\n"
    "・本通知書はユーザIDと初期パスワードを記載した重要な書類です。"
    "他人の目に触れないよう、大切に保管してください。\n"
    "・ユーザIDと初期パスワードには、数字の0（ゼロ）・1（いち）と英字のI・L・Oは使われていません。\n"
    "・お問い合わせ：所属の自治体担当窓口";

typedef struct renderer {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *font_map;
    PangoContext *context;
    PangoLayout *issue_date, *title, *lead, *guide_heading, *url_label, *url, *guide;
    PangoLayout *labels[ROW_COUNT];
    PangoLayout *values[ROW_COUNT];
    /* The text every page shares, recorded once: cairo writes a recording surface painted on many
     * pages as one PDF form XObject, so a page carries only what differs (about 1.5 KB). */
    cairo_surface_t *header; /* title, rule and lead sentence; page top to table_top */
    cairo_surface_t *guide_template; /* the instruction bullets */
    double table_top;
    strbuf scratch;
} renderer;

static cairo_status_t write_to_strbuf(void *closure, const unsigned char *data, unsigned int length)
{
    strbuf_append(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
}

static bool secret_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 && strspn(s, IDS_ALPHABET) == n;
}

static nsdb_err notice_validate(const notice *n)
{
    const char *fields[] = {n->municipality_name, n->category_label, n->department_label,
                            n->department,        n->name,           n->user_id,
                            n->initial_password,  n->issue_date,     n->login_url};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i] == NULL)
            return NSDB_ERR_INVALID;
        if (strlen(fields[i]) > NOTICE_PDF_MAX_FIELD)
            return NSDB_ERR_TOO_LARGE;
        if (!str_is_clean_utf8(fields[i], strlen(fields[i])))
            return NSDB_ERR_INVALID;
    }
    if (!secret_ok(n->user_id) || !secret_ok(n->initial_password))
        return NSDB_ERR_INVALID;
    return NSDB_OK;
}

/* Pango lays out again only when the text really changes, so text shared by all the notices of
 * a bulk print (municipality, labels, date, URL) is shaped once per file, not once per page. */
static bool layout_set_text_if_changed(PangoLayout *layout, const char *text)
{
    if (strcmp(pango_layout_get_text(layout), text) == 0)
        return false;
    pango_layout_set_text(layout, text, -1);
    return true;
}

static PangoLayout *layout_new(renderer *r, const char *family, double size, double width)
{
    PangoLayout *layout = pango_layout_new(r->context);
    PangoFontDescription *font = pango_font_description_from_string(family);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    if (width > 0) {
        pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
        /* A wrapped URL or name must not gain a hyphen that is not in the value. */
        PangoAttrList *attrs = pango_attr_list_new();
        pango_attr_list_insert(attrs, pango_attr_insert_hyphens_new(FALSE));
        pango_layout_set_attributes(layout, attrs);
        pango_attr_list_unref(attrs);
    }
    return layout;
}

static double layout_height(PangoLayout *layout)
{
    int width, height;
    pango_layout_get_size(layout, &width, &height);
    return (double)height / PANGO_SCALE;
}

static void layout_set_size(PangoLayout *layout, double size)
{
    PangoFontDescription *font =
        pango_font_description_copy(pango_layout_get_font_description(layout));
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
}

/* Shrinks a wrapped value through sizes until it fits max_height; failing that, cuts it with an
 * ellipsis at the smallest size. The page never overflows, whatever the value. */
static void layout_fit(PangoLayout *layout, const double *sizes, size_t n_sizes, double max_height)
{
    pango_layout_set_height(layout, -1);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_NONE);
    for (size_t i = 0; i < n_sizes; i++) {
        layout_set_size(layout, sizes[i]);
        if (layout_height(layout) <= max_height)
            return;
    }
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(layout, (int)(max_height * PANGO_SCALE));
}

/* Spaces the symbols of an ID or password evenly. */
static void layout_set_secret(PangoLayout *layout, const char *secret)
{
    if (!layout_set_text_if_changed(layout, secret))
        return;
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(
                                      (int)(SECRET_LETTER_SPACING * SECRET_SIZE * PANGO_SCALE)));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
}

static void show_layout(cairo_t *cr, PangoLayout *layout, double x, double y)
{
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, layout);
}

static void renderer_free(renderer *r)
{
    PangoLayout **all[] = {&r->issue_date, &r->title, &r->lead, &r->guide_heading,
                           &r->url_label,  &r->url,   &r->guide};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i])
            g_object_unref(*all[i]);
    for (size_t i = 0; i < ROW_COUNT; i++) {
        if (r->labels[i])
            g_object_unref(r->labels[i]);
        if (r->values[i])
            g_object_unref(r->values[i]);
    }
    if (r->header)
        cairo_surface_destroy(r->header);
    if (r->guide_template)
        cairo_surface_destroy(r->guide_template);
    if (r->context)
        g_object_unref(r->context);
    if (r->font_map)
        g_object_unref(r->font_map);
    if (r->cr)
        cairo_destroy(r->cr);
    if (r->surface)
        cairo_surface_destroy(r->surface);
    strbuf_free(&r->scratch);
}

/* Logs a warning (once per render) when fontconfig substitutes another family: the notice still
 * prints, but an operator must install fonts-ipaexfont / fonts-dejavu-core. */
static void renderer_check_font(renderer *r, const char *family)
{
    PangoFontDescription *want = pango_font_description_from_string(family);
    PangoFont *font = pango_font_map_load_font(r->font_map, r->context, want);
    PangoFontDescription *got = font ? pango_font_describe(font) : NULL;
    const char *got_family = got ? pango_font_description_get_family(got) : NULL;
    if (got_family == NULL || strcmp(got_family, family) != 0)
        log_event(LOG_WARN, "notice_font_missing", "want", family, "got",
                  got_family ? got_family : "(none)", NULL);
    if (got)
        pango_font_description_free(got);
    if (font)
        g_object_unref(font);
    pango_font_description_free(want);
}

static cairo_surface_t *template_begin(double height, cairo_t **cr)
{
    cairo_rectangle_t extents = {0, 0, PAGE_WIDTH, height};
    cairo_surface_t *surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
    *cr = cairo_create(surface);
    cairo_set_source_rgb(*cr, 0, 0, 0);
    return surface;
}

static void renderer_record_templates(renderer *r)
{
    cairo_t *cr;
    double title_y = MARGIN_TOP + 2 * TEXT_SIZE + 16;
    double rule_y = title_y + layout_height(r->title) + 6;
    double lead_y = rule_y + 26;
    r->table_top = lead_y + layout_height(r->lead) + 14;
    r->header = template_begin(r->table_top, &cr);
    show_layout(cr, r->title, MARGIN_X, title_y);
    cairo_set_line_width(cr, RULE_OUTER);
    cairo_move_to(cr, MARGIN_X + CONTENT_WIDTH * 0.1, rule_y);
    cairo_line_to(cr, MARGIN_X + CONTENT_WIDTH * 0.9, rule_y);
    cairo_stroke(cr);
    show_layout(cr, r->lead, MARGIN_X, lead_y);
    cairo_destroy(cr);

    r->guide_template = template_begin(layout_height(r->guide) + 2, &cr);
    show_layout(cr, r->guide, MARGIN_X + TEXT_SIZE, 0);
    cairo_destroy(cr);
}

static void paint_template(cairo_t *cr, cairo_surface_t *template, double y)
{
    cairo_set_source_surface(cr, template, 0, y);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

static nsdb_err renderer_open(renderer *r, strbuf *out)
{
    r->surface = cairo_pdf_surface_create_for_stream(write_to_strbuf, out, PAGE_WIDTH, PAGE_HEIGHT);
    if (cairo_surface_status(r->surface) != CAIRO_STATUS_SUCCESS)
        return NSDB_ERR_NOMEM;
    cairo_pdf_surface_set_metadata(r->surface, CAIRO_PDF_METADATA_TITLE, TITLE_TEXT);
    cairo_pdf_surface_set_metadata(r->surface, CAIRO_PDF_METADATA_CREATOR, "nsdb");
    r->cr = cairo_create(r->surface);
    if (cairo_status(r->cr) != CAIRO_STATUS_SUCCESS)
        return NSDB_ERR_NOMEM;

    /* A font map of our own: nothing Pango caches is shared with another thread's render. */
    r->font_map = pango_cairo_font_map_new();
    r->context = pango_font_map_create_context(r->font_map);
    pango_cairo_context_set_resolution(r->context, 72.0); /* 1 Pango point = 1 PDF point */
    pango_context_set_language(r->context, pango_language_from_string("ja-jp"));
    cairo_font_options_t *options = cairo_font_options_create();
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(r->context, options);
    cairo_font_options_destroy(options);
    pango_cairo_update_context(r->cr, r->context);
    renderer_check_font(r, FONT_JAPANESE);
    renderer_check_font(r, FONT_SECRET);

    double value_width = CONTENT_WIDTH - LABEL_WIDTH - 2 * CELL_PADDING;
    r->issue_date = layout_new(r, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH);
    pango_layout_set_alignment(r->issue_date, PANGO_ALIGN_RIGHT);
    pango_layout_set_height(r->issue_date, -1); /* one line, cut with an ellipsis */
    pango_layout_set_ellipsize(r->issue_date, PANGO_ELLIPSIZE_END);
    r->title = layout_new(r, FONT_JAPANESE, TITLE_SIZE, CONTENT_WIDTH);
    pango_layout_set_alignment(r->title, PANGO_ALIGN_CENTER);
    pango_layout_set_text(r->title, TITLE_TEXT, -1);
    r->lead = layout_new(r, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH);
    pango_layout_set_text(r->lead, LEAD_TEXT, -1);
    r->guide_heading = layout_new(r, FONT_JAPANESE, LABEL_SIZE + 1, CONTENT_WIDTH);
    pango_layout_set_text(r->guide_heading, GUIDE_HEADING, -1);
    r->url_label = layout_new(r, FONT_JAPANESE, TEXT_SIZE, 0);
    pango_layout_set_text(r->url_label, LOGIN_URL_LABEL, -1);
    r->url = layout_new(r, FONT_SECRET, TEXT_SIZE, CONTENT_WIDTH - 90);
    pango_layout_set_wrap(r->url, PANGO_WRAP_CHAR);
    pango_layout_set_height(r->url, -3); /* at most three lines */
    pango_layout_set_ellipsize(r->url, PANGO_ELLIPSIZE_END);
    r->guide = layout_new(r, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH - TEXT_SIZE);
    pango_layout_set_indent(r->guide, (int)(-TEXT_SIZE * PANGO_SCALE)); /* hanging bullets */
    pango_layout_set_spacing(r->guide, (int)(4 * PANGO_SCALE));
    pango_layout_set_text(r->guide, GUIDE_TEXT, -1);
    renderer_record_templates(r);

    for (size_t i = 0; i < ROW_COUNT; i++) {
        r->labels[i] = layout_new(r, FONT_JAPANESE, LABEL_SIZE, LABEL_WIDTH - 2 * CELL_PADDING);
        pango_layout_set_height(r->labels[i], -1); /* one line, cut with an ellipsis */
        pango_layout_set_ellipsize(r->labels[i], PANGO_ELLIPSIZE_END);
        pango_layout_set_text(r->labels[i], FIXED_LABELS[i], -1);
        if (i == ROW_ID || i == ROW_PASSWORD) {
            r->values[i] = layout_new(r, FONT_SECRET " Bold", SECRET_SIZE, 0);
        } else {
            r->values[i] = layout_new(r, FONT_JAPANESE, VALUE_SIZES[0], value_width);
        }
    }
    return NSDB_OK;
}

static double row_max_height(enum row_kind kind)
{
    switch (kind) {
    case ROW_DEPARTMENT:
    case ROW_NAME:
        return ROW_MAX_HEIGHT;
    case ROW_ID:
    case ROW_PASSWORD:
        return SECRET_ROW_HEIGHT;
    default:
        return ROW_MIN_HEIGHT;
    }
}

static double row_height(renderer *r, enum row_kind kind)
{
    if (kind == ROW_ID || kind == ROW_PASSWORD)
        return SECRET_ROW_HEIGHT;
    double height = fmax(ROW_MIN_HEIGHT, layout_height(r->values[kind]) + 2 * CELL_PADDING);
    assert(height <= row_max_height(kind) + 0.5);
    return height;
}

/* Draws the table from top (shaded label column, ruled rows) and returns its bottom. */
static double draw_table(renderer *r, double top)
{
    cairo_t *cr = r->cr;
    double heights[ROW_COUNT], bottom = top;
    for (int kind = 0; kind < ROW_COUNT; kind++) {
        heights[kind] = row_height(r, (enum row_kind)kind);
        bottom += heights[kind];
    }
    cairo_set_source_rgb(cr, LABEL_SHADE, LABEL_SHADE, LABEL_SHADE);
    cairo_rectangle(cr, MARGIN_X, top, LABEL_WIDTH, bottom - top);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);

    double y = top;
    cairo_set_line_width(cr, RULE_INNER);
    for (int kind = 0; kind < ROW_COUNT; kind++) {
        PangoLayout *label = r->labels[kind], *value = r->values[kind];
        show_layout(cr, label, MARGIN_X + CELL_PADDING,
                    y + (heights[kind] - layout_height(label)) / 2);
        show_layout(cr, value, MARGIN_X + LABEL_WIDTH + CELL_PADDING,
                    y + (heights[kind] - layout_height(value)) / 2);
        y += heights[kind];
        if (kind + 1 < ROW_COUNT) {
            cairo_move_to(cr, MARGIN_X, y);
            cairo_line_to(cr, MARGIN_X + CONTENT_WIDTH, y);
        }
    }
    cairo_move_to(cr, MARGIN_X + LABEL_WIDTH, top);
    cairo_line_to(cr, MARGIN_X + LABEL_WIDTH, bottom);
    cairo_stroke(cr);
    cairo_set_line_width(cr, RULE_OUTER);
    cairo_rectangle(cr, MARGIN_X, top, CONTENT_WIDTH, bottom - top);
    cairo_stroke(cr);
    return bottom;
}

/* Sets the per-notice texts, fitting each value to its cell only when it changed. */
static void renderer_set_values(renderer *r, const notice *n)
{
    const char *texts[] = {[ROW_MUNICIPALITY] = n->municipality_name,
                           [ROW_CATEGORY] = n->category_label,
                           [ROW_DEPARTMENT] = n->department};
    layout_set_text_if_changed(r->labels[ROW_DEPARTMENT], n->department_label);
    for (int kind = 0; kind <= ROW_DEPARTMENT; kind++)
        if (layout_set_text_if_changed(r->values[kind], texts[kind]))
            layout_fit(r->values[kind], VALUE_SIZES, sizeof VALUE_SIZES / sizeof VALUE_SIZES[0],
                       row_max_height((enum row_kind)kind) - 2 * CELL_PADDING);
    strbuf_reset(&r->scratch);
    strbuf_puts(&r->scratch, n->name);
    strbuf_puts(&r->scratch, " 様");
    if (layout_set_text_if_changed(r->values[ROW_NAME], r->scratch.data))
        layout_fit(r->values[ROW_NAME], NAME_SIZES, sizeof NAME_SIZES / sizeof NAME_SIZES[0],
                   ROW_MAX_HEIGHT - 2 * CELL_PADDING);
    layout_set_secret(r->values[ROW_ID], n->user_id);
    layout_set_secret(r->values[ROW_PASSWORD], n->initial_password);

    strbuf_reset(&r->scratch);
    strbuf_puts(&r->scratch, "発行日　");
    strbuf_puts(&r->scratch, n->issue_date);
    layout_set_text_if_changed(r->issue_date, r->scratch.data);
    layout_set_text_if_changed(r->url, n->login_url);
}

static void renderer_draw_page(renderer *r, const notice *n)
{
    cairo_t *cr = r->cr;
    renderer_set_values(r, n);
    cairo_set_source_rgb(cr, 0, 0, 0);
    show_layout(cr, r->issue_date, MARGIN_X, MARGIN_TOP);
    paint_template(cr, r->header, 0);

    double y = draw_table(r, r->table_top);
    y += 30;
    show_layout(cr, r->guide_heading, MARGIN_X, y);
    y += layout_height(r->guide_heading) + 8;
    show_layout(cr, r->url_label, MARGIN_X, y);
    show_layout(cr, r->url, MARGIN_X + 90, y);
    y += fmax(layout_height(r->url_label), layout_height(r->url)) + 6;
    paint_template(cr, r->guide_template, y);
    y += layout_height(r->guide);
    assert(y <= PAGE_HEIGHT - MARGIN_BOTTOM);
    cairo_show_page(cr);
}

nsdb_err notice_pdf_render(const notice *notices, size_t count, strbuf *out)
{
    if (notices == NULL || out == NULL || count == 0)
        return NSDB_ERR_INVALID;
    if (count > NOTICE_PDF_MAX_NOTICES)
        return NSDB_ERR_TOO_LARGE;
    for (size_t i = 0; i < count; i++) {
        nsdb_err err = notice_validate(&notices[i]);
        if (err != NSDB_OK)
            return err;
    }

    size_t start = out->len;
    renderer r = {0};
    nsdb_err err = renderer_open(&r, out);
    for (size_t i = 0; i < count && err == NSDB_OK; i++) {
        renderer_draw_page(&r, &notices[i]);
        if (cairo_status(r.cr) != CAIRO_STATUS_SUCCESS)
            err = NSDB_ERR_NOMEM;
    }
    if (r.surface) {
        cairo_surface_finish(r.surface);
        if (err == NSDB_OK && cairo_surface_status(r.surface) != CAIRO_STATUS_SUCCESS)
            err = NSDB_ERR_IO;
    }
    renderer_free(&r);
    if (err != NSDB_OK && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return err;
}
