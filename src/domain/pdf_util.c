/*
 * pdf_util.c — see pdf_util.h. The PDF is streamed into the caller's strbuf as cairo writes it;
 * on any failure the strbuf is cut back, so a caller never sees half a file.
 */
#include "domain/pdf_util.h"

#include <string.h>

#include <cairo-pdf.h>

#include "util/log.h"

static cairo_status_t write_to_strbuf(void *closure, const unsigned char *data, unsigned int length)
{
    strbuf_append(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* Logs a warning when fontconfig substitutes another family: the document still prints, but an
 * operator must install fonts-ipaexfont / fonts-dejavu-core. */
static void pdf_doc_check_font(pdf_doc *doc, const char *family)
{
    PangoFontDescription *want = pango_font_description_from_string(family);
    PangoFont *font = pango_font_map_load_font(doc->font_map, doc->context, want);
    PangoFontDescription *got = font ? pango_font_describe(font) : NULL;
    const char *got_family = got ? pango_font_description_get_family(got) : NULL;
    if (got_family == NULL || strcmp(got_family, family) != 0)
        log_event(LOG_WARN, "pdf_font_missing", "want", family, "got",
                  got_family ? got_family : "(none)", NULL);
    if (got)
        pango_font_description_free(got);
    if (font)
        g_object_unref(font);
    pango_font_description_free(want);
}

nsdb_err pdf_doc_open(pdf_doc *doc, strbuf *out, double width, double height, const char *title)
{
    memset(doc, 0, sizeof *doc);
    doc->out = out;
    doc->start = out->len;
    doc->surface = cairo_pdf_surface_create_for_stream(write_to_strbuf, out, width, height);
    if (cairo_surface_status(doc->surface) != CAIRO_STATUS_SUCCESS)
        return NSDB_ERR_NOMEM;
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_CREATOR, "nsdb");
    doc->cr = cairo_create(doc->surface);
    if (cairo_status(doc->cr) != CAIRO_STATUS_SUCCESS)
        return NSDB_ERR_NOMEM;

    /* A font map of our own: nothing Pango caches is shared with another thread's render. */
    doc->font_map = pango_cairo_font_map_new();
    doc->context = pango_font_map_create_context(doc->font_map);
    pango_cairo_context_set_resolution(doc->context, 72.0); /* 1 Pango point = 1 PDF point */
    pango_context_set_language(doc->context, pango_language_from_string("ja-jp"));
    cairo_font_options_t *options = cairo_font_options_create();
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(doc->context, options);
    cairo_font_options_destroy(options);
    pango_cairo_update_context(doc->cr, doc->context);
    pdf_doc_check_font(doc, PDF_FONT_JAPANESE);
    pdf_doc_check_font(doc, PDF_FONT_MONO);
    cairo_set_source_rgb(doc->cr, 0, 0, 0);
    return NSDB_OK;
}

nsdb_err pdf_doc_status(const pdf_doc *doc)
{
    return cairo_status(doc->cr) == CAIRO_STATUS_SUCCESS ? NSDB_OK : NSDB_ERR_NOMEM;
}

nsdb_err pdf_doc_close(pdf_doc *doc, nsdb_err err)
{
    if (err == NSDB_OK && doc->cr)
        err = pdf_doc_status(doc);
    if (doc->surface) {
        cairo_surface_finish(doc->surface);
        if (err == NSDB_OK && cairo_surface_status(doc->surface) != CAIRO_STATUS_SUCCESS)
            err = NSDB_ERR_IO;
    }
    if (doc->context)
        g_object_unref(doc->context);
    if (doc->font_map)
        g_object_unref(doc->font_map);
    if (doc->cr)
        cairo_destroy(doc->cr);
    if (doc->surface)
        cairo_surface_destroy(doc->surface);
    if (err != NSDB_OK && doc->out && doc->out->data) {
        doc->out->len = doc->start;
        doc->out->data[doc->start] = '\0';
    }
    memset(doc, 0, sizeof *doc);
    return err;
}

PangoLayout *pdf_layout_new(pdf_doc *doc, const char *family, double size, double width)
{
    PangoLayout *layout = pango_layout_new(doc->context);
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

PangoLayout *pdf_line_new(pdf_doc *doc, const char *family, double size, double width,
                          PangoAlignment align)
{
    PangoLayout *layout = pdf_layout_new(doc, family, size, width);
    pango_layout_set_alignment(layout, align);
    pango_layout_set_height(layout, -1);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    return layout;
}

double pdf_line_height(pdf_doc *doc, const char *family, double size)
{
    PangoLayout *probe = pdf_layout_new(doc, family, size, 0);
    pango_layout_set_text(probe, "0", -1);
    double height = pdf_layout_height(probe);
    g_object_unref(probe);
    return height;
}

double pdf_layout_baseline(PangoLayout *layout)
{
    return (double)pango_layout_get_baseline(layout) / PANGO_SCALE;
}

void pdf_layouts_unref(PangoLayout **layouts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (layouts[i])
            g_object_unref(layouts[i]);
}

double pdf_layout_height(PangoLayout *layout)
{
    int width, height;
    pango_layout_get_size(layout, &width, &height);
    return (double)height / PANGO_SCALE;
}

double pdf_layout_width(PangoLayout *layout)
{
    int width, height;
    pango_layout_get_size(layout, &width, &height);
    return (double)width / PANGO_SCALE;
}

void pdf_layout_set_size(PangoLayout *layout, double size)
{
    PangoFontDescription *font =
        pango_font_description_copy(pango_layout_get_font_description(layout));
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
}

bool pdf_layout_set_text_if_changed(PangoLayout *layout, const char *text)
{
    if (strcmp(pango_layout_get_text(layout), text) == 0)
        return false;
    pango_layout_set_text(layout, text, -1);
    return true;
}

void pdf_layout_fit(PangoLayout *layout, const double *sizes, size_t n_sizes, double max_height)
{
    pango_layout_set_height(layout, -1);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_NONE);
    for (size_t i = 0; i < n_sizes; i++) {
        pdf_layout_set_size(layout, sizes[i]);
        if (pdf_layout_height(layout) <= max_height)
            return;
    }
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(layout, (int)(max_height * PANGO_SCALE));
}

void pdf_layout_set_letter_spacing(PangoLayout *layout, double em)
{
    const PangoFontDescription *font = pango_layout_get_font_description(layout);
    double size = (double)pango_font_description_get_size(font);
    PangoAttrList *old = pango_layout_get_attributes(layout);
    PangoAttrList *attrs = old ? pango_attr_list_copy(old) : pango_attr_list_new();
    pango_attr_list_change(attrs, pango_attr_letter_spacing_new((int)(em * size)));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
}

void pdf_show_layout(cairo_t *cr, PangoLayout *layout, double x, double y)
{
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, layout);
}

void pdf_stroke_line(cairo_t *cr, double x0, double y0, double x1, double y1, double width,
                     double grey)
{
    cairo_set_source_rgb(cr, grey, grey, grey);
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

cairo_surface_t *pdf_record_begin(double width, double height, cairo_t **cr)
{
    cairo_rectangle_t extents = {0, 0, width, height};
    cairo_surface_t *surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
    *cr = cairo_create(surface);
    cairo_set_source_rgb(*cr, 0, 0, 0);
    return surface;
}

void pdf_paint_recording(cairo_t *cr, cairo_surface_t *recording, double y)
{
    cairo_set_source_surface(cr, recording, 0, y);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

nsdb_err pdf_text_check(const char *text, size_t max_bytes)
{
    if (text == NULL)
        return NSDB_ERR_INVALID;
    size_t n = strlen(text);
    if (n > max_bytes)
        return NSDB_ERR_TOO_LARGE;
    return str_is_clean_utf8(text, n) ? NSDB_OK : NSDB_ERR_INVALID;
}
