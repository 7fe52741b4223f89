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

#include "domain/ids.h"
#include "domain/pdf_util.h"

#define PAGE_WIDTH PDF_A4_WIDTH
#define PAGE_HEIGHT PDF_A4_HEIGHT
#define MARGIN_X 62.0
#define MARGIN_TOP 56.0
#define MARGIN_BOTTOM 56.0
#define CONTENT_WIDTH (PAGE_WIDTH - 2 * MARGIN_X)

#define FONT_JAPANESE PDF_FONT_JAPANESE
#define FONT_SECRET PDF_FONT_MONO

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
/* the seed's name of the help desk (参考③) */
#define HELPDESK_LABEL "・難病・小慢データベース利用者お問い合わせ窓口（ヘルプデスク）："
static const char LOGIN_URL_LABEL[] = "ログインURL";
static const char GUIDE_TEXT[] =
    "・初回ログイン時にパスワードを変更してください。\n"
    "・初期パスワードは、初回ログインでパスワードを変更するまで有効です。\n"
    "・本通知書はユーザIDと初期パスワードを記載した重要な書類です。"
    "他人の目に触れないよう、大切に保管してください。\n"
    "・ユーザIDと初期パスワードには、数字の0（ゼロ）・1（いち）と英字のI・L・Oは使われていません。\n"
    "・お問い合わせ：所属の自治体担当窓口";

typedef struct renderer {
    pdf_doc doc;
    PangoLayout *issue_date, *title, *lead, *guide_heading, *url_label, *url, *guide, *helpdesk;
    PangoLayout *labels[ROW_COUNT];
    PangoLayout *values[ROW_COUNT];
    /* The text every page shares, recorded once: cairo writes a recording surface painted on many
     * pages as one PDF form XObject, so a page carries only what differs (about 1.5 KB). */
    cairo_surface_t *header; /* title, rule and lead sentence; page top to table_top */
    cairo_surface_t *guide_template; /* the instruction bullets */
    double table_top;
    strbuf scratch;
} renderer;

static bool secret_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 && strspn(s, IDS_ALPHABET) == n;
}

static NSDB_MUST_CHECK nsdb_err notice_validate(const notice *n)
{
    const char *fields[] = {n->municipality_name, n->category_label, n->department_label,
                            n->department,        n->name,           n->user_id,
                            n->initial_password,  n->issue_date,     n->login_url};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        nsdb_err err = pdf_text_check(fields[i], NOTICE_PDF_MAX_FIELD);
        if (err != NSDB_OK)
            return err;
    }
    if (!secret_ok(n->user_id) || !secret_ok(n->initial_password))
        return NSDB_ERR_INVALID;
    if (n->helpdesk != NULL)
        return pdf_text_check(n->helpdesk, NOTICE_PDF_MAX_FIELD);
    return NSDB_OK;
}

/* Spaces the symbols of an ID or password evenly. */
static void layout_set_secret(PangoLayout *layout, const char *secret)
{
    if (!pdf_layout_set_text_if_changed(layout, secret))
        return;
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(
                                      (int)(SECRET_LETTER_SPACING * SECRET_SIZE * PANGO_SCALE)));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
}

static void renderer_free(renderer *r)
{
    PangoLayout **all[] = {&r->issue_date, &r->title, &r->lead,  &r->guide_heading,
                           &r->url_label,  &r->url,   &r->guide, &r->helpdesk};
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
    strbuf_free(&r->scratch);
}

static void renderer_record_templates(renderer *r)
{
    cairo_t *cr;
    double title_y = MARGIN_TOP + 2 * TEXT_SIZE + 16;
    double rule_y = title_y + pdf_layout_height(r->title) + 6;
    double lead_y = rule_y + 26;
    r->table_top = lead_y + pdf_layout_height(r->lead) + 14;
    r->header = pdf_record_begin(PAGE_WIDTH, r->table_top, &cr);
    pdf_show_layout(cr, r->title, MARGIN_X, title_y);
    cairo_set_line_width(cr, RULE_OUTER);
    cairo_move_to(cr, MARGIN_X + CONTENT_WIDTH * 0.1, rule_y);
    cairo_line_to(cr, MARGIN_X + CONTENT_WIDTH * 0.9, rule_y);
    cairo_stroke(cr);
    pdf_show_layout(cr, r->lead, MARGIN_X, lead_y);
    cairo_destroy(cr);

    r->guide_template = pdf_record_begin(PAGE_WIDTH, pdf_layout_height(r->guide) + 2, &cr);
    pdf_show_layout(cr, r->guide, MARGIN_X + TEXT_SIZE, 0);
    cairo_destroy(cr);
}

static NSDB_MUST_CHECK nsdb_err renderer_open(renderer *r, strbuf *out)
{
    nsdb_err err = pdf_doc_open(&r->doc, out, PAGE_WIDTH, PAGE_HEIGHT, TITLE_TEXT);
    if (err != NSDB_OK)
        return err;

    double value_width = CONTENT_WIDTH - LABEL_WIDTH - 2 * CELL_PADDING;
    r->issue_date = pdf_layout_new(&r->doc, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH);
    pango_layout_set_alignment(r->issue_date, PANGO_ALIGN_RIGHT);
    pango_layout_set_height(r->issue_date, -1); /* one line, cut with an ellipsis */
    pango_layout_set_ellipsize(r->issue_date, PANGO_ELLIPSIZE_END);
    r->title = pdf_layout_new(&r->doc, FONT_JAPANESE, TITLE_SIZE, CONTENT_WIDTH);
    pango_layout_set_alignment(r->title, PANGO_ALIGN_CENTER);
    pango_layout_set_text(r->title, TITLE_TEXT, -1);
    r->lead = pdf_layout_new(&r->doc, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH);
    pango_layout_set_text(r->lead, LEAD_TEXT, -1);
    r->guide_heading = pdf_layout_new(&r->doc, FONT_JAPANESE, LABEL_SIZE + 1, CONTENT_WIDTH);
    pango_layout_set_text(r->guide_heading, GUIDE_HEADING, -1);
    r->url_label = pdf_layout_new(&r->doc, FONT_JAPANESE, TEXT_SIZE, 0);
    pango_layout_set_text(r->url_label, LOGIN_URL_LABEL, -1);
    r->url = pdf_layout_new(&r->doc, FONT_SECRET, TEXT_SIZE, CONTENT_WIDTH - 90);
    pango_layout_set_wrap(r->url, PANGO_WRAP_CHAR);
    pango_layout_set_height(r->url, -3); /* at most three lines */
    pango_layout_set_ellipsize(r->url, PANGO_ELLIPSIZE_END);
    r->guide = pdf_layout_new(&r->doc, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH - TEXT_SIZE);
    pango_layout_set_indent(r->guide, (int)(-TEXT_SIZE * PANGO_SCALE)); /* hanging bullets */
    pango_layout_set_spacing(r->guide, (int)(4 * PANGO_SCALE));
    pango_layout_set_text(r->guide, GUIDE_TEXT, -1);
    r->helpdesk = pdf_layout_new(&r->doc, FONT_JAPANESE, TEXT_SIZE, CONTENT_WIDTH - TEXT_SIZE);
    pango_layout_set_indent(r->helpdesk, (int)(-TEXT_SIZE * PANGO_SCALE));
    pango_layout_set_wrap(r->helpdesk, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_height(r->helpdesk, -2); /* at most two lines: the page has room for them */
    pango_layout_set_ellipsize(r->helpdesk, PANGO_ELLIPSIZE_END);
    renderer_record_templates(r);

    for (size_t i = 0; i < ROW_COUNT; i++) {
        r->labels[i] =
            pdf_layout_new(&r->doc, FONT_JAPANESE, LABEL_SIZE, LABEL_WIDTH - 2 * CELL_PADDING);
        pango_layout_set_height(r->labels[i], -1); /* one line, cut with an ellipsis */
        pango_layout_set_ellipsize(r->labels[i], PANGO_ELLIPSIZE_END);
        pango_layout_set_text(r->labels[i], FIXED_LABELS[i], -1);
        if (i == ROW_ID || i == ROW_PASSWORD) {
            r->values[i] = pdf_layout_new(&r->doc, FONT_SECRET " Bold", SECRET_SIZE, 0);
        } else {
            r->values[i] = pdf_layout_new(&r->doc, FONT_JAPANESE, VALUE_SIZES[0], value_width);
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
    case ROW_MUNICIPALITY:
    case ROW_CATEGORY:
    case ROW_COUNT:
    default:
        return ROW_MIN_HEIGHT;
    }
}

static double row_height(renderer *r, enum row_kind kind)
{
    if (kind == ROW_ID || kind == ROW_PASSWORD)
        return SECRET_ROW_HEIGHT;
    double height = fmax(ROW_MIN_HEIGHT, pdf_layout_height(r->values[kind]) + 2 * CELL_PADDING);
    assert(height <= row_max_height(kind) + 0.5);
    return height;
}

/* Draws the table from top (shaded label column, ruled rows) and returns its bottom. */
static double draw_table(renderer *r, double top)
{
    cairo_t *cr = r->doc.cr;
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
        pdf_show_layout(cr, label, MARGIN_X + CELL_PADDING,
                        y + (heights[kind] - pdf_layout_height(label)) / 2);
        pdf_show_layout(cr, value, MARGIN_X + LABEL_WIDTH + CELL_PADDING,
                        y + (heights[kind] - pdf_layout_height(value)) / 2);
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
    pdf_layout_set_text_if_changed(r->labels[ROW_DEPARTMENT], n->department_label);
    for (int kind = 0; kind <= ROW_DEPARTMENT; kind++)
        if (pdf_layout_set_text_if_changed(r->values[kind], texts[kind]))
            pdf_layout_fit(r->values[kind], VALUE_SIZES, sizeof VALUE_SIZES / sizeof VALUE_SIZES[0],
                           row_max_height((enum row_kind)kind) - 2 * CELL_PADDING);
    strbuf_reset(&r->scratch);
    strbuf_puts(&r->scratch, n->name);
    strbuf_puts(&r->scratch, " 様");
    if (pdf_layout_set_text_if_changed(r->values[ROW_NAME], r->scratch.data))
        pdf_layout_fit(r->values[ROW_NAME], NAME_SIZES, sizeof NAME_SIZES / sizeof NAME_SIZES[0],
                       ROW_MAX_HEIGHT - 2 * CELL_PADDING);
    layout_set_secret(r->values[ROW_ID], n->user_id);
    layout_set_secret(r->values[ROW_PASSWORD], n->initial_password);

    strbuf_reset(&r->scratch);
    strbuf_puts(&r->scratch, "発行日　");
    strbuf_puts(&r->scratch, n->issue_date);
    pdf_layout_set_text_if_changed(r->issue_date, r->scratch.data);
    pdf_layout_set_text_if_changed(r->url, n->login_url);
    if (n->helpdesk != NULL && n->helpdesk[0] != '\0') {
        strbuf_reset(&r->scratch);
        strbuf_puts(&r->scratch, HELPDESK_LABEL);
        strbuf_puts(&r->scratch, n->helpdesk);
        pdf_layout_set_text_if_changed(r->helpdesk, r->scratch.data);
    }
}

static void renderer_draw_page(renderer *r, const notice *n)
{
    cairo_t *cr = r->doc.cr;
    renderer_set_values(r, n);
    cairo_set_source_rgb(cr, 0, 0, 0);
    pdf_show_layout(cr, r->issue_date, MARGIN_X, MARGIN_TOP);
    pdf_paint_recording(cr, r->header, 0);

    double y = draw_table(r, r->table_top);
    y += 30;
    pdf_show_layout(cr, r->guide_heading, MARGIN_X, y);
    y += pdf_layout_height(r->guide_heading) + 8;
    pdf_show_layout(cr, r->url_label, MARGIN_X, y);
    pdf_show_layout(cr, r->url, MARGIN_X + 90, y);
    y += fmax(pdf_layout_height(r->url_label), pdf_layout_height(r->url)) + 6;
    pdf_paint_recording(cr, r->guide_template, y);
    y += pdf_layout_height(r->guide);
    if (n->helpdesk != NULL && n->helpdesk[0] != '\0') {
        y += 4;
        pdf_show_layout(cr, r->helpdesk, MARGIN_X + TEXT_SIZE, y);
        y += pdf_layout_height(r->helpdesk);
    }
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

    renderer r = {0};
    nsdb_err err = renderer_open(&r, out);
    for (size_t i = 0; i < count && err == NSDB_OK; i++) {
        renderer_draw_page(&r, &notices[i]);
        err = pdf_doc_status(&r.doc);
    }
    err = pdf_doc_close(&r.doc, err); /* finishes the file, or cuts out back on error */
    renderer_free(&r);
    return err;
}
