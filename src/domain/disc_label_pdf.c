/*
 * disc_label_pdf.c — see disc_label_pdf.h. The printable part of a label is the ring between the
 * hole and the edge; the text sits in two boxes, above and below the hole, narrow enough that
 * their corners stay inside the circle (a box of half-width w at distance d from the centre fits
 * while w² + d² ≤ r²). Thin grey circles mark the cut for plain paper.
 */
#include "domain/disc_label_pdf.h"

#include <math.h>
#include <stdio.h>

#include "domain/media_pdf.h"
#include "domain/media_pdf_int.h"

#define MM (72.0 / 25.4)
#define RADIUS (DISC_LABEL_DIAMETER_MM / 2 * MM)
#define HOLE_RADIUS (DISC_LABEL_HOLE_MM / 2 * MM)
/* Centres of the two labels: symmetric on the page, 137 mm apart. */
static const double CENTRE_Y_MM[DISC_LABELS_PER_SHEET] = {80.0, 217.0};
#define BOX_WIDTH (76.0 * MM)
#define BOX_NEAR (HOLE_RADIUS + 2.5 * MM) /* from the centre to the box's edge by the hole */
#define BOX_FAR (44.0 * MM)               /* from the centre to the box's outer edge */
#define BOX_HEIGHT (BOX_FAR - BOX_NEAR)

enum disc_part { PART_HEAD, PART_NAME, PART_CODE, PART_MUNI, PART_CYCLE, PART_NUMBER, PART_COUNT };

static const double NAME_SIZES[] = {15, 13, 12, 11, 10, 9, 8};
static const double MUNI_SIZES[] = {11, 10, 9, 8};

static NSDB_MUST_CHECK nsdb_err disc_label_check(const disc_label *l)
{
    nsdb_err errs[] = {media_pdf_code_check(l->institution_code, false),
                       pdf_text_check(l->institution_name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(l->municipality_code, false),
                       pdf_text_check(l->municipality_name, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(l->cycle_id, false),
                       media_pdf_code_check(l->media_number, false)};
    return media_pdf_first_error(errs, ARRAY_COUNT(errs));
}

typedef struct disc_renderer {
    pdf_doc doc;
    PangoLayout *parts[PART_COUNT];
} disc_renderer;

static void disc_open_layouts(disc_renderer *r)
{
    r->parts[PART_HEAD] = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, 8, BOX_WIDTH,
                                       PANGO_ALIGN_CENTER);
    r->parts[PART_NAME] = pdf_layout_new(&r->doc, PDF_FONT_JAPANESE, NAME_SIZES[0], BOX_WIDTH);
    pango_layout_set_alignment(r->parts[PART_NAME], PANGO_ALIGN_CENTER);
    r->parts[PART_CODE] = pdf_line_new(&r->doc, PDF_FONT_MONO, 10, BOX_WIDTH, PANGO_ALIGN_CENTER);
    r->parts[PART_MUNI] = pdf_layout_new(&r->doc, PDF_FONT_JAPANESE, MUNI_SIZES[0], BOX_WIDTH);
    pango_layout_set_alignment(r->parts[PART_MUNI], PANGO_ALIGN_CENTER);
    r->parts[PART_CYCLE] = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, 9, BOX_WIDTH,
                                        PANGO_ALIGN_CENTER);
    r->parts[PART_NUMBER] = pdf_line_new(&r->doc, PDF_FONT_JAPANESE, 16, BOX_WIDTH,
                                         PANGO_ALIGN_CENTER);
}

/* Shows layouts one under the other from top, centred on cx. */
static double show_stack(cairo_t *cr, PangoLayout **layouts, size_t n, double cx, double top)
{
    for (size_t i = 0; i < n; i++) {
        pdf_show_layout(cr, layouts[i], cx - BOX_WIDTH / 2, top);
        top += pdf_layout_height(layouts[i]) + 1.5;
    }
    return top;
}

static void disc_draw(disc_renderer *r, const disc_label *l, double cy)
{
    cairo_t *cr = r->doc.cr;
    double cx = PAGE_WIDTH / 2;
    cairo_set_line_width(cr, 0.3);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_new_path(cr);
    cairo_arc(cr, cx, cy, RADIUS, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_new_path(cr);
    cairo_arc(cr, cx, cy, HOLE_RADIUS, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);

    char text[MEDIA_PDF_MAX_FIELD + 160];
    pdf_layout_set_text_if_changed(r->parts[PART_HEAD], "難病・小慢DB 接続用媒体（医療機関用）");
    pdf_layout_set_size(r->parts[PART_NAME], NAME_SIZES[0]);
    pdf_layout_set_text_if_changed(r->parts[PART_NAME], l->institution_name);
    snprintf(text, sizeof text, "医療機関ID %s", l->institution_code);
    pdf_layout_set_text_if_changed(r->parts[PART_CODE], text);
    double fixed = pdf_layout_height(r->parts[PART_HEAD]) + pdf_layout_height(r->parts[PART_CODE]);
    pdf_layout_fit(r->parts[PART_NAME], NAME_SIZES, ARRAY_COUNT(NAME_SIZES),
                   BOX_HEIGHT - fixed - 4.5);
    PangoLayout *above[] = {r->parts[PART_HEAD], r->parts[PART_NAME], r->parts[PART_CODE]};
    double height = 0;
    for (size_t i = 0; i < ARRAY_COUNT(above); i++)
        height += pdf_layout_height(above[i]) + 1.5;
    show_stack(cr, above, ARRAY_COUNT(above), cx, cy - BOX_NEAR - height); /* ends by the hole */

    snprintf(text, sizeof text, "%s %s", l->municipality_code, l->municipality_name);
    pdf_layout_set_size(r->parts[PART_MUNI], MUNI_SIZES[0]);
    pdf_layout_set_text_if_changed(r->parts[PART_MUNI], text);
    snprintf(text, sizeof text, "媒体送付サイクル %s", l->cycle_id);
    pdf_layout_set_text_if_changed(r->parts[PART_CYCLE], text);
    snprintf(text, sizeof text, "媒体番号 %s", l->media_number);
    pdf_layout_set_text_if_changed(r->parts[PART_NUMBER], text);
    fixed = pdf_layout_height(r->parts[PART_CYCLE]) + pdf_layout_height(r->parts[PART_NUMBER]);
    pdf_layout_fit(r->parts[PART_MUNI], MUNI_SIZES, ARRAY_COUNT(MUNI_SIZES),
                   BOX_HEIGHT - fixed - 4.5);
    PangoLayout *below[] = {r->parts[PART_NUMBER], r->parts[PART_MUNI], r->parts[PART_CYCLE]};
    show_stack(cr, below, ARRAY_COUNT(below), cx, cy + BOX_NEAR);
}

nsdb_err disc_label_pdf(const disc_label *labels, size_t n, strbuf *out)
{
    nsdb_err err = media_pdf_count_check(labels, n, out);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = disc_label_check(&labels[i]);
    if (err != NSDB_OK)
        return err;
    disc_renderer r = {0};
    err = pdf_doc_open(&r.doc, out, PAGE_WIDTH, PAGE_HEIGHT, "難病・小慢DB 媒体ラベル");
    if (err == NSDB_OK) {
        disc_open_layouts(&r);
        for (size_t i = 0; i < n; i++) {
            disc_draw(&r, &labels[i], CENTRE_Y_MM[i % DISC_LABELS_PER_SHEET] * MM);
            if (i % DISC_LABELS_PER_SHEET == DISC_LABELS_PER_SHEET - 1 || i == n - 1)
                cairo_show_page(r.doc.cr);
        }
        err = pdf_doc_status(&r.doc);
    }
    pdf_layouts_unref(r.parts, PART_COUNT);
    return pdf_doc_close(&r.doc, err);
}
