/*
 * media_pdf.c — renders the papers of the media cycle (SPEC §6) that name users and secrets, with
 * cairo and Pango through pdf_util: the per-institution user-ID list (and its CSV) and the
 * passphrase sheet, and the input checks all media papers share (media_pdf_int.h; the Letter
 * Pack Plus label is media_label_pdf.c). As in notice_pdf.c, every value goes through pango_layout_set_text, never
 * markup; each render owns its font map; each layout is created once per call and reused for
 * every row or page, so Pango shapes a repeated text once. Values are fitted to fixed boxes
 * (shrink, then ellipsis), so no input can push anything off its page or across a rule.
 */
#include "domain/media_pdf.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/csv_out.h"
#include "domain/media_pdf_int.h"
#include "domain/pdf_util.h"

/* Codes, user IDs and media IDs: the characters any of them may use, no spaces. */
static const char CODE_CHARS[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.";

static const char DEFAULT_LIST_TITLE[] = "医療機関毎の指定医のユーザID一覧";
static const char DEFAULT_PASSPHRASE_TITLE[] = "VPN接続用証明書のパスフレーズ";

/* ---- validation ------------------------------------------------------------------------- */

nsdb_err media_pdf_code_check(const char *s, bool may_be_empty)
{
    if (s == NULL)
        return NSDB_ERR_INVALID;
    size_t n = strlen(s);
    if ((n == 0 && !may_be_empty) || n > MEDIA_PDF_MAX_TOKEN || strspn(s, CODE_CHARS) != n)
        return NSDB_ERR_INVALID;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err passphrase_check(const char *s)
{
    if (s == NULL)
        return NSDB_ERR_INVALID;
    size_t n = strlen(s);
    if (n == 0 || n > MEDIA_PDF_MAX_TOKEN)
        return NSDB_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return NSDB_ERR_INVALID;
    return NSDB_OK;
}

nsdb_err media_pdf_first_error(const nsdb_err *errs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (errs[i] != NSDB_OK)
            return errs[i];
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err list_row_check(const media_list_row *row)
{
    nsdb_err errs[] = {media_pdf_code_check(row->municipality_code, false),
                       pdf_text_check(row->municipality_name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(row->institution_code, false),
                       pdf_text_check(row->institution_name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(row->user_id, false)};
    return media_pdf_first_error(errs, ARRAY_COUNT(errs));
}

static NSDB_MUST_CHECK nsdb_err passphrase_row_check(const media_passphrase_row *row)
{
    nsdb_err errs[] = {media_pdf_code_check(row->institution_code, false),
                       pdf_text_check(row->institution_name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(row->media_id, false),
                       passphrase_check(row->passphrase)};
    return media_pdf_first_error(errs, ARRAY_COUNT(errs));
}

nsdb_err media_pdf_count_check(const void *items, size_t n, const strbuf *out)
{
    if (items == NULL || out == NULL || n == 0)
        return NSDB_ERR_INVALID;
    return n > MEDIA_PDF_MAX_ROWS ? NSDB_ERR_TOO_LARGE : NSDB_OK;
}

/* ---- shared layout pieces --------------------------------------------------------------- */

/* "p / total", centred under the page body. */
static void draw_page_number(cairo_t *cr, PangoLayout *footer, size_t page, size_t pages)
{
    char text[48];
    snprintf(text, sizeof text, "%zu / %zu", page, pages);
    pdf_layout_set_text_if_changed(footer, text);
    cairo_set_source_rgb(cr, 0, 0, 0);
    pdf_show_layout(cr, footer, MARGIN_X, PAGE_HEIGHT - MARGIN_BOTTOM + 16);
}

/* ---- the user-ID list ------------------------------------------------------------------- */

enum list_column {
    COL_NUMBER,
    COL_MUNI_CODE,
    COL_MUNI_NAME,
    COL_INST_CODE,
    COL_INST_NAME,
    COL_USER_ID,
    COL_COUNT
};

/* Widths in points; the 医療機関名 column takes what the others leave. */
static const double LIST_WIDTHS[COL_COUNT] = {34, 58, 100, 72, 0, 92};
static const char *const LIST_HEADINGS[COL_COUNT] = {"#",          "公共団体ID", "公共団体名",
                                                     "医療機関ID", "医療機関名", "ユーザID"};
/* The 追加分 in the same columns: a media_list_row carries institution code and name in the
   municipality's fields, the registration date and the user's name in the institution's. */
static const char *const SUPPLEMENT_HEADINGS[COL_COUNT] = {"#",      "医療機関ID", "医療機関名",
                                                           "登録日", "氏名",       "ユーザID"};
static const char SUPPLEMENT_TITLE[] = "追加分：媒体の送付後に登録された指定医のユーザID一覧";
#define LIST_TEXT_SIZE 9.0
#define LIST_ID_SIZE 9.5
#define LIST_HEADING_SIZE 8.5
#define LIST_HEADING_HEIGHT 20.0
#define LIST_PAD_X 4.0
#define LIST_PAD_Y 4.0
#define LIST_ROW_MIN 17.0
#define LIST_NAME_LINES 3
static const double LIST_TEXT_SIZES[] = {9.0, 8.0, 7.0};
static const double LIST_CODE_SIZES[] = {9.0, 8.0, 7.0, 6.0};
static const double LIST_ID_SIZES[] = {9.5, 8.5, 7.5, 6.5};
static const double LIST_TITLE_SIZES[] = {15.0, 13.0, 11.0, 9.0};
static const double LIST_SUBTITLE_SIZES[] = {10.0, 9.0, 8.0};

typedef struct list_renderer {
    pdf_doc doc;
    double x[COL_COUNT + 1]; /* left edge of each column, and the right edge of the table */
    PangoLayout *cells[COL_COUNT];
    const char *const *media_numbers; /* NULL, or one per row (media_user_list_pdf_numbered) */
    PangoLayout *footer;
    cairo_surface_t *page_header; /* title, subtitle and column headings */
    double table_top;             /* top of the first body row */
    double text_line, id_line;    /* one line of the body fonts */
    bool supplement;              /* the 追加分 section (SUPPLEMENT_HEADINGS) */
    size_t page_base, page_total; /* page numbers over both sections (0: this section's) */
} list_renderer;

static void list_record_header(list_renderer *r, const char *title, const char *subtitle)
{
    pdf_doc *doc = &r->doc;
    PangoLayout *title_layout = pdf_layout_new(doc, PDF_FONT_JAPANESE, 15, CONTENT_WIDTH);
    pango_layout_set_text(title_layout, title[0] ? title : DEFAULT_LIST_TITLE, -1);
    pdf_layout_fit(title_layout, LIST_TITLE_SIZES, ARRAY_COUNT(LIST_TITLE_SIZES), 40);
    PangoLayout *sub = pdf_layout_new(doc, PDF_FONT_JAPANESE, 10, CONTENT_WIDTH);
    pango_layout_set_text(sub, subtitle ? subtitle : "", -1);
    pdf_layout_fit(sub, LIST_SUBTITLE_SIZES, ARRAY_COUNT(LIST_SUBTITLE_SIZES), 26);

    double y = MARGIN_TOP;
    double sub_y = y + pdf_layout_height(title_layout) + 4;
    double rule_y = sub_y + (subtitle && subtitle[0] ? pdf_layout_height(sub) + 4 : 0);
    double heading_y = rule_y + 10;
    r->table_top = heading_y + LIST_HEADING_HEIGHT;

    cairo_t *cr;
    r->page_header = pdf_record_begin(PAGE_WIDTH, r->table_top, &cr);
    pdf_show_layout(cr, title_layout, MARGIN_X, y);
    if (subtitle && subtitle[0])
        pdf_show_layout(cr, sub, MARGIN_X, sub_y);
    pdf_stroke_line(cr, MARGIN_X, rule_y, MARGIN_X + CONTENT_WIDTH, rule_y, RULE_INNER, 0);
    cairo_set_source_rgb(cr, SHADE, SHADE, SHADE);
    cairo_rectangle(cr, MARGIN_X, heading_y, CONTENT_WIDTH, LIST_HEADING_HEIGHT);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int c = 0; c < COL_COUNT; c++) {
        PangoLayout *heading = pdf_line_new(doc, PDF_FONT_JAPANESE, LIST_HEADING_SIZE,
                                            r->x[c + 1] - r->x[c] - 2, PANGO_ALIGN_CENTER);
        pango_layout_set_text(heading, (r->supplement ? SUPPLEMENT_HEADINGS : LIST_HEADINGS)[c],
                              -1);
        pdf_show_layout(cr, heading, r->x[c] + 1,
                        heading_y + (LIST_HEADING_HEIGHT - pdf_layout_height(heading)) / 2);
        g_object_unref(heading);
    }
    cairo_destroy(cr);
    g_object_unref(title_layout);
    g_object_unref(sub);
}

static NSDB_MUST_CHECK nsdb_err list_open(list_renderer *r, strbuf *out, const char *title,
                                          const char *subtitle)
{
    nsdb_err err = pdf_doc_open(&r->doc, out, PAGE_WIDTH, PAGE_HEIGHT,
                                title[0] ? title : DEFAULT_LIST_TITLE);
    if (err != NSDB_OK)
        return err;
    double fixed = 0;
    for (int c = 0; c < COL_COUNT; c++)
        fixed += LIST_WIDTHS[c];
    r->x[0] = MARGIN_X;
    for (int c = 0; c < COL_COUNT; c++)
        r->x[c + 1] = r->x[c] + (LIST_WIDTHS[c] > 0 ? LIST_WIDTHS[c] : CONTENT_WIDTH - fixed);
    assert(fabs(r->x[COL_COUNT] - (MARGIN_X + CONTENT_WIDTH)) < 0.01);

    for (int c = 0; c < COL_COUNT; c++) {
        bool mono = c == COL_USER_ID;
        r->cells[c] = pdf_layout_new(&r->doc, mono ? PDF_FONT_MONO : PDF_FONT_JAPANESE,
                                     mono ? LIST_ID_SIZE : LIST_TEXT_SIZE,
                                     r->x[c + 1] - r->x[c] - 2 * LIST_PAD_X);
    }
    pango_layout_set_alignment(r->cells[COL_NUMBER], PANGO_ALIGN_RIGHT);
    r->footer = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, FOOTER_SIZE, CONTENT_WIDTH,
                             PANGO_ALIGN_CENTER);
    r->text_line = pdf_line_height(&r->doc, PDF_FONT_JAPANESE, LIST_TEXT_SIZE);
    r->id_line = pdf_line_height(&r->doc, PDF_FONT_MONO, LIST_ID_SIZE);
    list_record_header(r, title, subtitle);
    return NSDB_OK;
}

static void list_free(list_renderer *r)
{
    pdf_layouts_unref(r->cells, COL_COUNT);
    pdf_layouts_unref(&r->footer, 1);
    if (r->page_header)
        cairo_surface_destroy(r->page_header);
}

static bool same_institution(const media_list_row *a, const media_list_row *b)
{
    return strcmp(a->municipality_code, b->municipality_code) == 0 &&
           strcmp(a->institution_code, b->institution_code) == 0;
}

/* Whether b continues a's group: the institution (in the 追加分, its code is the first field). */
static bool list_same_group(const list_renderer *r, const media_list_row *a,
                            const media_list_row *b)
{
    return r->supplement ? strcmp(a->municipality_code, b->municipality_code) == 0
                         : same_institution(a, b);
}

/* Sets one cell's text and fits it: codes and IDs to one line, names to a few. */
static void list_cell_set(list_renderer *r, int column, const char *text)
{
    PangoLayout *cell = r->cells[column];
    if (!pdf_layout_set_text_if_changed(cell, text))
        return;
    switch (column) {
    case COL_MUNI_NAME:
    case COL_INST_NAME:
        pdf_layout_fit(cell, LIST_TEXT_SIZES, ARRAY_COUNT(LIST_TEXT_SIZES),
                       LIST_NAME_LINES * r->text_line + 0.5);
        break;
    case COL_USER_ID:
        pdf_layout_fit(cell, LIST_ID_SIZES, ARRAY_COUNT(LIST_ID_SIZES), r->id_line + 0.5);
        break;
    default:
        pdf_layout_fit(cell, LIST_CODE_SIZES, ARRAY_COUNT(LIST_CODE_SIZES), r->text_line + 0.5);
        break;
    }
}

/* Lays out row index (naming its institution or not) and returns its height. */
static double list_row_prepare(list_renderer *r, const media_list_row *row, size_t index,
                               bool names)
{
    char number[32];
    snprintf(number, sizeof number, "%zu", index + 1);
    list_cell_set(r, COL_NUMBER, number);
    list_cell_set(r, COL_MUNI_CODE, names ? row->municipality_code : "");
    list_cell_set(r, COL_MUNI_NAME, names ? row->municipality_name : "");
    /* the 追加分's date and name are the user's: always printed */
    bool shown = names || r->supplement;
    list_cell_set(r, COL_INST_CODE, shown ? row->institution_code : "");
    const char *media_number = r->media_numbers && !r->supplement ? r->media_numbers[index] : NULL;
    if (names && media_number != NULL) { /* matched with its disc at a glance */
        char *name = NULL;
        if (asprintf(&name, "［媒体番号 %s］%s", media_number, row->institution_name) > 0) {
            list_cell_set(r, COL_INST_NAME, name);
            free(name);
        } else {
            list_cell_set(r, COL_INST_NAME, row->institution_name);
        }
    } else {
        list_cell_set(r, COL_INST_NAME, shown ? row->institution_name : "");
    }
    list_cell_set(r, COL_USER_ID, row->user_id);
    double content = 0;
    for (int c = 0; c < COL_COUNT; c++)
        content = fmax(content, pdf_layout_height(r->cells[c]));
    return fmax(LIST_ROW_MIN, content + 2 * LIST_PAD_Y);
}

/* Which rows start a page, decided before drawing so that every footer knows the page count.
 * A row never splits; an institution continued on a new page is named again there. */
static size_t list_paginate(list_renderer *r, const media_list_row *rows, size_t n, bool *page_top)
{
    double bottom = PAGE_HEIGHT - MARGIN_BOTTOM, y = r->table_top;
    size_t pages = 1;
    for (size_t i = 0; i < n; i++) {
        bool group_start = i == 0 || !list_same_group(r, &rows[i - 1], &rows[i]);
        double height = list_row_prepare(r, &rows[i], i, group_start || i == 0);
        page_top[i] = i == 0;
        if (i > 0 && y + height > bottom) {
            page_top[i] = true;
            pages++;
            y = r->table_top;
            if (!group_start)
                height = list_row_prepare(r, &rows[i], i, true);
        }
        assert(r->table_top + height <= bottom);
        y += height;
    }
    return pages;
}

static void list_draw_row(list_renderer *r, double y, bool continued)
{
    cairo_t *cr = r->doc.cr;
    double top_baseline = 0;
    for (int c = 0; c < COL_COUNT; c++)
        top_baseline = fmax(top_baseline, pdf_layout_baseline(r->cells[c]));
    for (int c = 0; c < COL_COUNT; c++) {
        bool grey = continued && c >= COL_MUNI_CODE &&
                    c <= (r->supplement ? COL_MUNI_NAME : COL_INST_NAME);
        double g = grey ? CONTINUED_GREY : 0;
        cairo_set_source_rgb(cr, g, g, g);
        pdf_show_layout(cr, r->cells[c], r->x[c] + LIST_PAD_X,
                        y + LIST_PAD_Y + top_baseline - pdf_layout_baseline(r->cells[c]));
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
}

/* Column rules and the outer frame of one page's table, from the headings to bottom. */
static void list_finish_page(list_renderer *r, double bottom, size_t page, size_t pages)
{
    cairo_t *cr = r->doc.cr;
    double top = r->table_top - LIST_HEADING_HEIGHT;
    for (int c = 1; c < COL_COUNT; c++)
        pdf_stroke_line(cr, r->x[c], top, r->x[c], bottom, RULE_INNER, 0);
    pdf_stroke_line(cr, r->x[0], r->table_top, r->x[COL_COUNT], r->table_top, RULE_OUTER, 0);
    cairo_set_line_width(cr, RULE_OUTER);
    cairo_rectangle(cr, r->x[0], top, r->x[COL_COUNT] - r->x[0], bottom - top);
    cairo_stroke(cr);
    draw_page_number(cr, r->footer, page + r->page_base, r->page_total ? r->page_total : pages);
    cairo_show_page(cr);
}

static void list_draw(list_renderer *r, const media_list_row *rows, size_t n, const bool *page_top,
                      size_t pages)
{
    cairo_t *cr = r->doc.cr;
    double y = r->table_top;
    size_t page = 0;
    for (size_t i = 0; i < n; i++) {
        if (page_top[i]) {
            if (page > 0)
                list_finish_page(r, y, page, pages);
            page++;
            pdf_paint_recording(cr, r->page_header, 0);
            y = r->table_top;
        }
        bool group_start = i == 0 || !list_same_group(r, &rows[i - 1], &rows[i]);
        double height = list_row_prepare(r, &rows[i], i, group_start || page_top[i]);
        if (!page_top[i])
            pdf_stroke_line(cr, r->x[0], y, r->x[COL_COUNT], y,
                            group_start ? RULE_GROUP : RULE_INNER, group_start ? 0 : 0.55);
        list_draw_row(r, y, page_top[i] && !group_start);
        y += height;
    }
    list_finish_page(r, y, page, pages);
    assert(page == pages);
}

nsdb_err media_user_list_pdf(const media_list_row *rows, size_t n, const char *title,
                             const char *subtitle, strbuf *out)
{
    return media_user_list_pdf_numbered(rows, NULL, n, title, subtitle, out);
}

nsdb_err media_user_list_pdf_numbered(const media_list_row *rows, const char *const *media_numbers,
                                      size_t n, const char *title, const char *subtitle,
                                      strbuf *out)
{
    nsdb_err err = media_pdf_count_check(rows, n, out);
    if (err == NSDB_OK)
        err = pdf_text_check(title, MEDIA_PDF_MAX_FIELD);
    if (err == NSDB_OK && subtitle)
        err = pdf_text_check(subtitle, MEDIA_PDF_MAX_FIELD);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = list_row_check(&rows[i]);
    for (size_t i = 0; media_numbers != NULL && i < n && err == NSDB_OK; i++)
        err = media_pdf_code_check(media_numbers[i], false);
    if (err != NSDB_OK)
        return err;
    bool *page_top = calloc(n, sizeof *page_top);
    if (page_top == NULL)
        return NSDB_ERR_NOMEM;

    list_renderer r = {.media_numbers = media_numbers};
    err = list_open(&r, out, title, subtitle);
    if (err == NSDB_OK) {
        size_t pages = list_paginate(&r, rows, n, page_top);
        list_draw(&r, rows, n, page_top, pages);
    }
    err = pdf_doc_close(&r.doc, err);
    list_free(&r);
    free(page_top);
    return err;
}

static NSDB_MUST_CHECK nsdb_err supplement_row_check(const media_supplement_row *row)
{
    nsdb_err errs[] = {media_pdf_code_check(row->institution_code, false),
                       pdf_text_check(row->institution_name, MEDIA_PDF_MAX_FIELD),
                       pdf_text_check(row->name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(row->user_id, false),
                       media_pdf_code_check(row->registered_on, false)};
    return media_pdf_first_error(errs, ARRAY_COUNT(errs));
}

/* The list's pages (when n > 0), then the 追加分's, numbered through. */
static void package_list_draw(list_renderer *r, const media_list_row *rows, size_t n,
                              const media_list_row *extra, size_t extra_n, const char *subtitle,
                              bool *page_top, bool *extra_top)
{
    cairo_surface_t *main_header = r->page_header;
    double main_top = r->table_top;
    size_t pages = n > 0 ? list_paginate(r, rows, n, page_top) : 0;
    r->supplement = true;
    r->page_header = NULL;
    list_record_header(r, SUPPLEMENT_TITLE, subtitle);
    size_t extra_pages = list_paginate(r, extra, extra_n, extra_top);
    r->page_total = pages + extra_pages;
    cairo_surface_t *extra_header = r->page_header;
    double extra_top_y = r->table_top;
    if (n > 0) {
        r->supplement = false;
        r->page_header = main_header;
        r->table_top = main_top;
        list_draw(r, rows, n, page_top, pages);
    }
    r->supplement = true;
    r->page_header = extra_header;
    r->table_top = extra_top_y;
    r->page_base = pages;
    list_draw(r, extra, extra_n, extra_top, extra_pages);
    cairo_surface_destroy(main_header);
}

nsdb_err media_package_list_pdf(const media_list_row *rows, const char *const *media_numbers,
                                size_t n, const media_supplement_row *extra, size_t extra_n,
                                const char *title, const char *subtitle, strbuf *out)
{
    if (extra_n == 0)
        return media_user_list_pdf_numbered(rows, media_numbers, n, title, subtitle, out);
    nsdb_err err = media_pdf_count_check(extra, extra_n, out);
    if (err == NSDB_OK && n > 0)
        err = media_pdf_count_check(rows, n, out);
    if (err == NSDB_OK && n + extra_n > MEDIA_PDF_MAX_ROWS)
        err = NSDB_ERR_TOO_LARGE;
    if (err == NSDB_OK)
        err = pdf_text_check(title, MEDIA_PDF_MAX_FIELD);
    if (err == NSDB_OK && subtitle)
        err = pdf_text_check(subtitle, MEDIA_PDF_MAX_FIELD);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = list_row_check(&rows[i]);
    for (size_t i = 0; media_numbers != NULL && i < n && err == NSDB_OK; i++)
        err = media_pdf_code_check(media_numbers[i], false);
    for (size_t i = 0; i < extra_n && err == NSDB_OK; i++)
        err = supplement_row_check(&extra[i]);
    if (err != NSDB_OK)
        return err;
    bool *page_top = calloc(n + extra_n, sizeof *page_top);
    media_list_row *mapped = calloc(extra_n, sizeof *mapped);
    if (page_top == NULL || mapped == NULL) {
        free(page_top);
        free(mapped);
        return NSDB_ERR_NOMEM;
    }
    for (size_t i = 0; i < extra_n; i++)
        mapped[i] = (media_list_row){extra[i].institution_code, extra[i].institution_name,
                                     extra[i].registered_on, extra[i].name, extra[i].user_id};
    list_renderer r = {.media_numbers = media_numbers};
    err = list_open(&r, out, title, subtitle);
    if (err == NSDB_OK)
        package_list_draw(&r, rows, n, mapped, extra_n, subtitle, page_top, page_top + n);
    err = pdf_doc_close(&r.doc, err);
    list_free(&r);
    free(mapped);
    free(page_top);
    return err;
}

nsdb_err media_user_list_csv(const media_list_row *rows, size_t n, strbuf *out)
{
    /* An institution without users yet still gets its file, with the header line only. */
    nsdb_err err = n == 0 && out != NULL ? NSDB_OK : media_pdf_count_check(rows, n, out);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = list_row_check(&rows[i]);
    if (err != NSDB_OK)
        return err;
    strbuf_puts(out, "\xEF\xBB\xBF");
    csv_out_row(out, LIST_HEADINGS, COL_COUNT);
    for (size_t i = 0; i < n; i++) {
        char number[32];
        snprintf(number, sizeof number, "%zu", i + 1);
        const char *cells[COL_COUNT] = {number,
                                        rows[i].municipality_code,
                                        rows[i].municipality_name,
                                        rows[i].institution_code,
                                        rows[i].institution_name,
                                        rows[i].user_id};
        csv_out_row(out, cells, COL_COUNT);
    }
    return NSDB_OK;
}

/* ---- the passphrase sheet --------------------------------------------------------------- */

#define PASS_LABEL_WIDTH 130.0
#define PASS_PAD 10.0
#define PASS_ROW_HEIGHT 34.0
#define PASS_NAME_HEIGHT 60.0
/* The passphrase has the table's full width under a caption band, so that a long one still
 * prints large. */
#define PASS_BAND_HEIGHT 24.0
#define PASS_SECRET_HEIGHT 64.0
#define PASS_SECRET_WIDTH (CONTENT_WIDTH - 2 * PASS_PAD)
#define PASS_SECRET_MAX_SIZE 26.0
#define PASS_SECRET_MIN_SIZE 7.0
/* As for the notice's secrets: wide enough to read symbol by symbol, narrow enough that
 * pdftotext and copy-paste keep the passphrase one string. */
#define PASS_LETTER_SPACING 0.15
static const double PASS_VALUE_SIZES[] = {13, 12, 11, 10, 9, 8};
static const double PASS_TITLE_SIZES[] = {20, 17, 14, 12};

static const char PASS_LEAD[] =
    "医療機関へ送付する媒体（DVD）に格納された、VPN 接続用クライアント証明書のパスフレーズです。";
static const char PASS_GUIDE[] =
    "・VPN クライアントに証明書を読み込むときに入力します。大切に保管してください。\n"
    "・パスフレーズは媒体（DVD）には記録されていません。\n"
    "・英字の大文字と小文字は区別されます。\n"
    "・本紙を紛失した場合は、所属の自治体担当窓口にお問い合わせください。";

/* Rows with a label column, then the passphrase under its caption. */
enum pass_row { PASS_CODE, PASS_NAME, PASS_MEDIA, PASS_ROWS };
static const char *const PASS_LABELS[PASS_ROWS] = {"医療機関ID", "医療機関名", "媒体番号"};
static const char PASS_SECRET_LABEL[] = "証明書のパスフレーズ";

typedef struct pass_renderer {
    pdf_doc doc;
    PangoLayout *values[PASS_ROWS], *secret;
    PangoLayout *footer;
    cairo_surface_t *page_template; /* title, lead, table rules and labels, the guide */
    double table_top, secret_top;
} pass_renderer;

static double pass_row_height(enum pass_row row)
{
    return row == PASS_NAME ? PASS_NAME_HEIGHT : PASS_ROW_HEIGHT;
}

/* The ruled table with its labels; returns its bottom. */
static double pass_draw_table_frame(pass_renderer *r, cairo_t *cr)
{
    double rows_height = 0;
    for (int row = 0; row < PASS_ROWS; row++)
        rows_height += pass_row_height((enum pass_row)row);
    double top = r->table_top, band_top = top + rows_height;
    r->secret_top = band_top + PASS_BAND_HEIGHT;
    double bottom = r->secret_top + PASS_SECRET_HEIGHT;

    cairo_set_source_rgb(cr, SHADE, SHADE, SHADE);
    cairo_rectangle(cr, MARGIN_X, top, PASS_LABEL_WIDTH, rows_height);
    cairo_rectangle(cr, MARGIN_X, band_top, CONTENT_WIDTH, PASS_BAND_HEIGHT);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    PangoLayout *label = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, 11,
                                      PASS_LABEL_WIDTH - 2 * PASS_PAD, PANGO_ALIGN_LEFT);
    double y = top;
    for (int row = 0; row <= PASS_ROWS; row++) {
        double height = row < PASS_ROWS ? pass_row_height((enum pass_row)row) : PASS_BAND_HEIGHT;
        pango_layout_set_text(label, row < PASS_ROWS ? PASS_LABELS[row] : PASS_SECRET_LABEL, -1);
        pdf_show_layout(cr, label, MARGIN_X + PASS_PAD,
                        y + (height - pdf_layout_height(label)) / 2);
        y += height;
        pdf_stroke_line(cr, MARGIN_X, y, MARGIN_X + CONTENT_WIDTH, y, RULE_INNER * 1.5, 0);
    }
    g_object_unref(label);
    pdf_stroke_line(cr, MARGIN_X + PASS_LABEL_WIDTH, top, MARGIN_X + PASS_LABEL_WIDTH, band_top,
                    RULE_INNER * 1.5, 0);
    cairo_set_line_width(cr, RULE_OUTER);
    cairo_rectangle(cr, MARGIN_X, top, CONTENT_WIDTH, bottom - top);
    cairo_stroke(cr);
    return bottom;
}

static void pass_record_template(pass_renderer *r, const char *title)
{
    pdf_doc *doc = &r->doc;
    PangoLayout *title_layout = pdf_layout_new(doc, PDF_FONT_JAPANESE, 20, CONTENT_WIDTH);
    pango_layout_set_alignment(title_layout, PANGO_ALIGN_CENTER);
    pango_layout_set_text(title_layout, title[0] ? title : DEFAULT_PASSPHRASE_TITLE, -1);
    pdf_layout_fit(title_layout, PASS_TITLE_SIZES, ARRAY_COUNT(PASS_TITLE_SIZES), 60);
    PangoLayout *lead = pdf_layout_new(doc, PDF_FONT_JAPANESE, 10.5, CONTENT_WIDTH);
    pango_layout_set_text(lead, PASS_LEAD, -1);
    PangoLayout *guide = pdf_layout_new(doc, PDF_FONT_JAPANESE, 10.5, CONTENT_WIDTH - 10.5);
    pango_layout_set_indent(guide, (int)(-10.5 * PANGO_SCALE)); /* hanging bullets */
    pango_layout_set_spacing(guide, (int)(4 * PANGO_SCALE));
    pango_layout_set_text(guide, PASS_GUIDE, -1);

    double title_y = MARGIN_TOP + 16;
    double rule_y = title_y + pdf_layout_height(title_layout) + 6;
    double lead_y = rule_y + 22;
    r->table_top = lead_y + pdf_layout_height(lead) + 14;

    cairo_t *cr;
    r->page_template = pdf_record_begin(PAGE_WIDTH, PAGE_HEIGHT, &cr);
    pdf_show_layout(cr, title_layout, MARGIN_X, title_y);
    pdf_stroke_line(cr, MARGIN_X + CONTENT_WIDTH * 0.1, rule_y, MARGIN_X + CONTENT_WIDTH * 0.9,
                    rule_y, RULE_OUTER, 0);
    pdf_show_layout(cr, lead, MARGIN_X, lead_y);
    double guide_top = pass_draw_table_frame(r, cr) + 24;
    pdf_show_layout(cr, guide, MARGIN_X + 10.5, guide_top);
    assert(guide_top + pdf_layout_height(guide) < PAGE_HEIGHT - MARGIN_BOTTOM);
    cairo_destroy(cr);
    g_object_unref(title_layout);
    g_object_unref(lead);
    g_object_unref(guide);
}

static NSDB_MUST_CHECK nsdb_err pass_open(pass_renderer *r, strbuf *out, const char *title)
{
    nsdb_err err = pdf_doc_open(&r->doc, out, PAGE_WIDTH, PAGE_HEIGHT,
                                title[0] ? title : DEFAULT_PASSPHRASE_TITLE);
    if (err != NSDB_OK)
        return err;
    double value_width = CONTENT_WIDTH - PASS_LABEL_WIDTH - 2 * PASS_PAD;
    for (int row = 0; row < PASS_ROWS; row++)
        r->values[row] = pdf_layout_new(&r->doc,
                                        row == PASS_NAME ? PDF_FONT_JAPANESE : PDF_FONT_MONO,
                                        PASS_VALUE_SIZES[0], value_width);
    r->secret = pdf_layout_new(&r->doc, PDF_FONT_MONO " Bold", PASS_SECRET_MAX_SIZE, 0);
    pango_layout_set_alignment(r->secret, PANGO_ALIGN_CENTER);
    r->footer = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, FOOTER_SIZE, CONTENT_WIDTH,
                             PANGO_ALIGN_CENTER);
    pass_record_template(r, title);
    return NSDB_OK;
}

static void pass_free(pass_renderer *r)
{
    pdf_layouts_unref(r->values, PASS_ROWS);
    pdf_layouts_unref(&r->secret, 1);
    pdf_layouts_unref(&r->footer, 1);
    if (r->page_template)
        cairo_surface_destroy(r->page_template);
}

/* Sets the passphrase on one line at the largest size that fits the width: spaced text grows in
 * proportion to its size, so one measurement at the largest size gives the scale. Wraps by
 * character only if even the smallest size is too wide (not within MEDIA_PDF_MAX_TOKEN). */
static void pass_set_secret(PangoLayout *layout, const char *passphrase)
{
    if (!pdf_layout_set_text_if_changed(layout, passphrase))
        return;
    pango_layout_set_width(layout, -1);
    pdf_layout_set_size(layout, PASS_SECRET_MAX_SIZE);
    pdf_layout_set_letter_spacing(layout, PASS_LETTER_SPACING);
    double natural = pdf_layout_width(layout);
    if (natural > PASS_SECRET_WIDTH) {
        double size = floor(PASS_SECRET_MAX_SIZE * PASS_SECRET_WIDTH / natural * 0.97 * 4) / 4;
        pdf_layout_set_size(layout, fmax(size, PASS_SECRET_MIN_SIZE));
        pdf_layout_set_letter_spacing(layout, PASS_LETTER_SPACING);
    }
    pango_layout_set_width(layout, (int)(PASS_SECRET_WIDTH * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_CHAR);
}

static void pass_draw_page(pass_renderer *r, const media_passphrase_row *row, size_t page,
                           size_t pages)
{
    cairo_t *cr = r->doc.cr;
    pdf_paint_recording(cr, r->page_template, 0);
    const char *texts[PASS_ROWS] = {row->institution_code, row->institution_name, row->media_id};
    double y = r->table_top;
    for (int i = 0; i < PASS_ROWS; i++) {
        double height = pass_row_height((enum pass_row)i);
        if (pdf_layout_set_text_if_changed(r->values[i], texts[i]))
            pdf_layout_fit(r->values[i], PASS_VALUE_SIZES, ARRAY_COUNT(PASS_VALUE_SIZES),
                           height - 2 * PASS_PAD);
        pdf_show_layout(cr, r->values[i], MARGIN_X + PASS_LABEL_WIDTH + PASS_PAD,
                        y + (height - pdf_layout_height(r->values[i])) / 2);
        y += height;
    }
    pass_set_secret(r->secret, row->passphrase);
    double secret_height = pdf_layout_height(r->secret);
    assert(secret_height <= PASS_SECRET_HEIGHT);
    pdf_show_layout(cr, r->secret, MARGIN_X + PASS_PAD,
                    r->secret_top + (PASS_SECRET_HEIGHT - secret_height) / 2);
    draw_page_number(cr, r->footer, page, pages);
    cairo_show_page(cr);
}

nsdb_err media_passphrase_list_pdf(const media_passphrase_row *rows, size_t n, const char *title,
                                   strbuf *out)
{
    nsdb_err err = media_pdf_count_check(rows, n, out);
    if (err == NSDB_OK)
        err = pdf_text_check(title, MEDIA_PDF_MAX_FIELD);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = passphrase_row_check(&rows[i]);
    if (err != NSDB_OK)
        return err;
    pass_renderer r = {0};
    err = pass_open(&r, out, title);
    for (size_t i = 0; i < n && err == NSDB_OK; i++) {
        pass_draw_page(&r, &rows[i], i + 1, n);
        err = pdf_doc_status(&r.doc);
    }
    err = pdf_doc_close(&r.doc, err);
    pass_free(&r);
    return err;
}
