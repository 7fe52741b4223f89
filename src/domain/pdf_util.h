/*
 * pdf_util.h — what every printed document of nsdb shares: a PDF written with cairo into a strbuf,
 * a Pango context of its own (its own font map, 72 dpi, no hinting, Japanese), layouts that take
 * plain text only, and fitting a value to its box by shrinking and, at worst, an ellipsis. Used by
 * notice_pdf.c and media_pdf.c; the layout of each document stays in its own module.
 */
#ifndef NSDB_PDF_UTIL_H
#define NSDB_PDF_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "util/err.h"
#include "util/str.h"

/* A4 in PostScript points; cairo's user unit on a PDF surface is the point. */
#define PDF_A4_WIDTH 595.276
#define PDF_A4_HEIGHT 841.890

#define PDF_FONT_JAPANESE "IPAexGothic"
#define PDF_FONT_MONO "DejaVu Sans Mono"

/* One PDF being written. Thread-safe by construction: nothing in it is shared with another
 * document, the font map included, so renders on several HTTP threads are independent. */
typedef struct pdf_doc {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *font_map;
    PangoContext *context;
    strbuf *out;
    size_t start; /* out->len before the document, restored on failure */
} pdf_doc;

/*
 * Starts a PDF whose pages are width × height points, appended to out as it is written, with the
 * metadata title given. Checks once that the Japanese and monospace fonts are installed (a warning
 * in the log otherwise). On failure the caller still calls pdf_doc_close.
 */
NSDB_MUST_CHECK nsdb_err pdf_doc_open(pdf_doc *doc, strbuf *out, double width, double height,
                                      const char *title);
/* Ends the document: when err is NSDB_OK, finishes the file and reports a failure to; whatever
 * happened, frees everything and, on error, cuts out back to what it held before. Returns the
 * final result. */
NSDB_MUST_CHECK nsdb_err pdf_doc_close(pdf_doc *doc, nsdb_err err);
/* NSDB_ERR_NOMEM once cairo has failed (it stops drawing at its first error). */
NSDB_MUST_CHECK nsdb_err pdf_doc_status(const pdf_doc *doc);

/* A layout in family at size points. width > 0 wraps at that width (words, then characters)
 * without inserting hyphens that are not in the value; width 0 is one unbounded line. */
PangoLayout *pdf_layout_new(pdf_doc *doc, const char *family, double size, double width);
/* A layout kept to one line of width (ellipsis if it must), aligned as given. */
PangoLayout *pdf_line_new(pdf_doc *doc, const char *family, double size, double width,
                          PangoAlignment align);
/* Height of one line of family at size, measured (it differs by font). */
double pdf_line_height(pdf_doc *doc, const char *family, double size);
/* Distance from the top of the layout to the baseline of its first line, in points. */
double pdf_layout_baseline(PangoLayout *layout);
/* Unrefs each non-NULL layout of an array. */
void pdf_layouts_unref(PangoLayout **layouts, size_t n);
/* Size in points of the laid-out text. */
double pdf_layout_height(PangoLayout *layout);
double pdf_layout_width(PangoLayout *layout);
void pdf_layout_set_size(PangoLayout *layout, double size);
/* Sets plain text (never markup) only when it differs, so that Pango shapes text shared by many
 * pages once; true when it changed. */
bool pdf_layout_set_text_if_changed(PangoLayout *layout, const char *text);
/* Shrinks a wrapped layout through sizes (largest first) until it fits max_height; failing that,
 * cuts it with an ellipsis at the smallest size. Nothing ever leaves its box. */
void pdf_layout_fit(PangoLayout *layout, const double *sizes, size_t n_sizes, double max_height);
/* Spaces every character by em × the layout's size: pdftotext -raw keeps up to about 0.15 em as
 * one word, so a spaced secret still copies and searches as one string. */
void pdf_layout_set_letter_spacing(PangoLayout *layout, double em);
void pdf_show_layout(cairo_t *cr, PangoLayout *layout, double x, double y);
/* A straight rule of width points in grey (0 black … 1 white); the source is black after. */
void pdf_stroke_line(cairo_t *cr, double x0, double y0, double x1, double y1, double width,
                     double grey);

/* Drawing that every page shares is recorded once: cairo writes a recording surface painted on
 * many pages as one PDF form XObject, so a page carries only what differs. pdf_record_begin
 * returns the recording (width × height points) and a context to draw it with, which the caller
 * destroys when done; pdf_paint_recording paints it with its origin at (0, y). */
cairo_surface_t *pdf_record_begin(double width, double height, cairo_t **cr);
void pdf_paint_recording(cairo_t *cr, cairo_surface_t *recording, double y);

/* NSDB_ERR_INVALID for NULL or text that is not clean UTF-8 (str_is_clean_utf8), and
 * NSDB_ERR_TOO_LARGE beyond max_bytes; NSDB_OK otherwise (empty text included). */
NSDB_MUST_CHECK nsdb_err pdf_text_check(const char *text, size_t max_bytes);

#endif
