/*
 * media_label_pdf.c — the Letter Pack Plus shipping label of the media cycle (SPEC §6): one A4
 * page per package, the label a box in its top half with 発送先, 発送元, contents, package
 * reference and tracking number in fixed slots. As everywhere in media_pdf, values go through
 * pango_layout_set_text, never markup, and each is fitted to its slot (shrink, then ellipsis), so
 * no input can push anything out of the box or across a rule.
 */
#include <assert.h>
#include <string.h>

#include "domain/media_pdf_int.h"

static const char LABEL_TITLE[] = "難病・小慢DB 媒体送付ラベル";

static NSDB_MUST_CHECK nsdb_err label_check(const media_label *label)
{
    nsdb_err errs[] = {pdf_text_check(label->sender_name, MEDIA_PDF_MAX_FIELD),
                       pdf_text_check(label->sender_postal, MEDIA_PDF_MAX_TOKEN),
                       pdf_text_check(label->sender_address, MEDIA_PDF_MAX_FIELD),
                       pdf_text_check(label->sender_phone, MEDIA_PDF_MAX_TOKEN),
                       pdf_text_check(label->to_postal, MEDIA_PDF_MAX_TOKEN),
                       pdf_text_check(label->to_address, MEDIA_PDF_MAX_FIELD),
                       pdf_text_check(label->to_name, MEDIA_PDF_MAX_FIELD),
                       pdf_text_check(label->to_phone, MEDIA_PDF_MAX_TOKEN),
                       pdf_text_check(label->package_ref, MEDIA_PDF_MAX_FIELD),
                       media_pdf_code_check(label->tracking_number, true)};
    nsdb_err err = media_pdf_first_error(errs, ARRAY_COUNT(errs));
    if (err == NSDB_OK && (label->media_count < 0 || label->media_count > MEDIA_LABEL_MAX_MEDIA))
        err = NSDB_ERR_INVALID;
    return err;
}

/* ---- the Letter Pack Plus label --------------------------------------------------------- */

/* The label: a box in the top half of an A4 page, cut out and stuck on the pack. */
#define LABEL_X MARGIN_X
#define LABEL_Y MARGIN_TOP
#define LABEL_WIDTH CONTENT_WIDTH
#define LABEL_HEIGHT 404.0
#define LABEL_PAD 16.0
#define LABEL_INNER (LABEL_WIDTH - 2 * LABEL_PAD)
#define TAG_SIZE 11.0

enum label_part {
    PART_TO_TAG,
    PART_TO_POSTAL,
    PART_TO_ADDRESS,
    PART_TO_NAME,
    PART_TO_PHONE,
    PART_FROM_TAG,
    PART_FROM_POSTAL,
    PART_FROM_ADDRESS,
    PART_FROM_NAME,
    PART_FROM_PHONE,
    PART_CONTENT,
    PART_REF,
    PART_TRACKING_LABEL,
    PART_TRACKING,
    PART_NOTE,
    PART_COUNT
};

typedef struct label_slot {
    double x, y, width, max_height; /* relative to the label's top left corner; the sender's
                                     * address, name and phone flow down from y of the first */
    const char *family;
    double sizes[6]; /* largest first; 0 ends the list */
} label_slot;

#define TRACKING_X (LABEL_PAD + LABEL_INNER * 0.55)
#define TRACKING_WIDTH (LABEL_INNER * 0.45)
static const label_slot LABEL_SLOTS[PART_COUNT] = {
    [PART_TO_TAG] = {LABEL_PAD + 5, LABEL_PAD + 3, 80, 16, PDF_FONT_JAPANESE, {TAG_SIZE}},
    [PART_TO_POSTAL] = {LABEL_PAD, 46, LABEL_INNER, 30, PDF_FONT_JAPANESE, {22, 18, 14}},
    [PART_TO_ADDRESS] =
        {LABEL_PAD + 12, 80, LABEL_INNER - 12, 62, PDF_FONT_JAPANESE, {17, 15, 13, 11, 10, 9}},
    [PART_TO_NAME] =
        {LABEL_PAD + 12, 146, LABEL_INNER - 12, 38, PDF_FONT_JAPANESE, {21, 18, 16, 14, 12, 10}},
    [PART_TO_PHONE] =
        {LABEL_PAD + 12, 0, LABEL_INNER - 12, 16, PDF_FONT_JAPANESE, {12, 11, 10, 9}},
    [PART_FROM_TAG] = {LABEL_PAD + 5, 221, 80, 16, PDF_FONT_JAPANESE, {TAG_SIZE}},
    [PART_FROM_POSTAL] =
        {LABEL_PAD + 90, 220, LABEL_INNER - 90, 16, PDF_FONT_JAPANESE, {12, 10, 9}},
    [PART_FROM_ADDRESS] =
        {LABEL_PAD + 12, 242, LABEL_INNER - 12, 30, PDF_FONT_JAPANESE, {11, 10, 9, 8}},
    [PART_FROM_NAME] =
        {LABEL_PAD + 12, 0, LABEL_INNER - 12, 30, PDF_FONT_JAPANESE, {12, 11, 10, 9, 8}},
    [PART_FROM_PHONE] =
        {LABEL_PAD + 12, 0, LABEL_INNER - 12, 15, PDF_FONT_JAPANESE, {11, 10, 9, 8}},
    [PART_CONTENT] = {LABEL_PAD, 342, LABEL_INNER * 0.53, 30, PDF_FONT_JAPANESE, {11, 10, 9, 8}},
    [PART_REF] = {LABEL_PAD, 374, LABEL_INNER * 0.53, 28, PDF_FONT_JAPANESE, {10, 9, 8, 7}},
    [PART_TRACKING_LABEL] = {TRACKING_X, 342, TRACKING_WIDTH, 14, PDF_FONT_JAPANESE, {9}},
    [PART_TRACKING] =
        {TRACKING_X, 358, TRACKING_WIDTH, 30, PDF_FONT_MONO " Bold", {20, 17, 14, 12, 10, 8}},
    [PART_NOTE] = {0, LABEL_HEIGHT + 8, LABEL_WIDTH, 14, PDF_FONT_JAPANESE, {8.5}},
};
#define LABEL_RULE_1 210.0
#define LABEL_RULE_2 332.0

typedef struct label_renderer {
    pdf_doc doc;
    PangoLayout *parts[PART_COUNT];
    cairo_surface_t *frame; /* box, rules, tags and fixed captions */
    strbuf scratch;
} label_renderer;

static size_t slot_sizes(const label_slot *slot)
{
    size_t n = 0;
    while (n < ARRAY_COUNT(slot->sizes) && slot->sizes[n] > 0)
        n++;
    return n;
}

static void label_part_set(label_renderer *r, enum label_part part, const char *text)
{
    const label_slot *slot = &LABEL_SLOTS[part];
    if (pdf_layout_set_text_if_changed(r->parts[part], text))
        pdf_layout_fit(r->parts[part], slot->sizes, slot_sizes(slot), slot->max_height);
}

/* Shows a part at y (relative to the label) and returns the y below it. */
static double label_show_part_at(cairo_t *cr, label_renderer *r, enum label_part part, double y)
{
    const label_slot *slot = &LABEL_SLOTS[part];
    double height = pdf_layout_height(r->parts[part]);
    assert(height <= slot->max_height + 0.5);
    pdf_show_layout(cr, r->parts[part], LABEL_X + slot->x, LABEL_Y + y);
    return y + height;
}

static void label_show_part(cairo_t *cr, label_renderer *r, enum label_part part)
{
    label_show_part_at(cr, r, part, LABEL_SLOTS[part].y);
}

/* A white caption on a black band, so that 発送先 and 発送元 cannot be confused. */
static void label_draw_tag(cairo_t *cr, label_renderer *r, enum label_part part, const char *text)
{
    const label_slot *slot = &LABEL_SLOTS[part];
    label_part_set(r, part, text);
    double width = pdf_layout_width(r->parts[part]) + 10;
    cairo_rectangle(cr, LABEL_X + slot->x - 5, LABEL_Y + slot->y - 3, width,
                    pdf_layout_height(r->parts[part]) + 6);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    label_show_part(cr, r, part);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

static void label_record_frame(label_renderer *r)
{
    cairo_t *cr;
    r->frame = pdf_record_begin(PAGE_WIDTH, PAGE_HEIGHT, &cr);
    cairo_set_line_width(cr, 1.5);
    cairo_rectangle(cr, LABEL_X, LABEL_Y, LABEL_WIDTH, LABEL_HEIGHT);
    cairo_stroke(cr);
    pdf_stroke_line(cr, LABEL_X + LABEL_PAD, LABEL_Y + LABEL_RULE_1,
                    LABEL_X + LABEL_WIDTH - LABEL_PAD, LABEL_Y + LABEL_RULE_1, RULE_GROUP, 0);
    pdf_stroke_line(cr, LABEL_X + LABEL_PAD, LABEL_Y + LABEL_RULE_2,
                    LABEL_X + LABEL_WIDTH - LABEL_PAD, LABEL_Y + LABEL_RULE_2, RULE_INNER, 0);
    label_draw_tag(cr, r, PART_TO_TAG, "発送先");
    label_draw_tag(cr, r, PART_FROM_TAG, "発送元");
    label_part_set(r, PART_TRACKING_LABEL, "追跡番号（お問い合わせ番号）");
    label_show_part(cr, r, PART_TRACKING_LABEL);
    label_part_set(r, PART_NOTE, "枠線に沿って切り取り、レターパックプラスに貼り付けてください。");
    label_show_part(cr, r, PART_NOTE);
    cairo_destroy(cr);
}

static NSDB_MUST_CHECK nsdb_err label_open(label_renderer *r, strbuf *out)
{
    nsdb_err err = pdf_doc_open(&r->doc, out, PAGE_WIDTH, PAGE_HEIGHT, LABEL_TITLE);
    if (err != NSDB_OK)
        return err;
    for (int part = 0; part < PART_COUNT; part++) {
        const label_slot *slot = &LABEL_SLOTS[part];
        r->parts[part] = pdf_layout_new(&r->doc, slot->family, slot->sizes[0], slot->width);
    }
    pango_layout_set_alignment(r->parts[PART_NOTE], PANGO_ALIGN_CENTER);
    label_record_frame(r);
    return NSDB_OK;
}

static void label_free(label_renderer *r)
{
    pdf_layouts_unref(r->parts, PART_COUNT);
    if (r->frame)
        cairo_surface_destroy(r->frame);
    strbuf_free(&r->scratch);
}

/* "〒100-8601": seven ASCII digits gain their hyphen; a value already marked keeps its mark. */
static const char *label_postal(strbuf *sb, const char *postal)
{
    strbuf_reset(sb);
    if (postal[0] == '\0')
        return "";
    if (!str_starts_with(postal, "〒"))
        strbuf_puts(sb, "〒");
    if (strlen(postal) == 7 && strspn(postal, "0123456789") == 7)
        strbuf_printf(sb, "%.3s-%.4s", postal, postal + 3);
    else
        strbuf_puts(sb, postal);
    return sb->data;
}

static void label_draw_page(label_renderer *r, const media_label *label)
{
    cairo_t *cr = r->doc.cr;
    pdf_paint_recording(cr, r->frame, 0);
    label_part_set(r, PART_TO_POSTAL, label_postal(&r->scratch, label->to_postal));
    label_part_set(r, PART_TO_ADDRESS, label->to_address);
    label_part_set(r, PART_TO_NAME, label->to_name);
    strbuf_reset(&r->scratch);
    if (label->to_phone[0])
        strbuf_printf(&r->scratch, "TEL %s", label->to_phone);
    label_part_set(r, PART_TO_PHONE, r->scratch.data ? r->scratch.data : "");
    label_part_set(r, PART_FROM_POSTAL, label_postal(&r->scratch, label->sender_postal));
    label_part_set(r, PART_FROM_ADDRESS, label->sender_address);
    label_part_set(r, PART_FROM_NAME, label->sender_name);
    strbuf_reset(&r->scratch);
    if (label->sender_phone[0])
        strbuf_printf(&r->scratch, "TEL %s", label->sender_phone);
    label_part_set(r, PART_FROM_PHONE, r->scratch.data ? r->scratch.data : "");
    strbuf_reset(&r->scratch);
    if (label->media_count == 0) /* a package of the 追加分 list only (issue 13 item 7) */
        strbuf_puts(&r->scratch, "内容：ユーザID一覧（追加分）のみ（媒体なし）");
    else
        strbuf_printf(&r->scratch, "内容：DVD %d枚（難病・小慢DB 医療機関用媒体）",
                      label->media_count);
    label_part_set(r, PART_CONTENT, r->scratch.data);
    strbuf_reset(&r->scratch);
    strbuf_printf(&r->scratch, "梱包番号：%s", label->package_ref);
    label_part_set(r, PART_REF, r->scratch.data);
    label_part_set(r, PART_TRACKING, label->tracking_number);

    static const enum label_part fixed[] = {PART_TO_POSTAL,   PART_TO_ADDRESS, PART_FROM_POSTAL,
                                            PART_CONTENT,     PART_REF,        PART_TRACKING};
    for (size_t i = 0; i < ARRAY_COUNT(fixed); i++)
        label_show_part(cr, r, fixed[i]);
    /* the addressee, then its phone just below it (the name takes one or two lines) */
    double y = label_show_part_at(cr, r, PART_TO_NAME, LABEL_SLOTS[PART_TO_NAME].y);
    y = label_show_part_at(cr, r, PART_TO_PHONE, y + 3);
    assert(y <= LABEL_RULE_1);
    y = label_show_part_at(cr, r, PART_FROM_ADDRESS, LABEL_SLOTS[PART_FROM_ADDRESS].y);
    y = label_show_part_at(cr, r, PART_FROM_NAME, y + 5);
    y = label_show_part_at(cr, r, PART_FROM_PHONE, y + 5);
    assert(y <= LABEL_RULE_2);
    if (label->tracking_number[0] == '\0') { /* a line to write the number on */
        const label_slot *slot = &LABEL_SLOTS[PART_TRACKING];
        double line_y = LABEL_Y + slot->y + 26;
        pdf_stroke_line(cr, LABEL_X + slot->x, line_y, LABEL_X + slot->x + slot->width, line_y,
                        RULE_INNER, 0);
    }
    cairo_show_page(cr);
}

nsdb_err media_label_pdf(const media_label *labels, size_t n, strbuf *out)
{
    nsdb_err err = media_pdf_count_check(labels, n, out);
    for (size_t i = 0; i < n && err == NSDB_OK; i++)
        err = label_check(&labels[i]);
    if (err != NSDB_OK)
        return err;
    label_renderer r = {0};
    err = label_open(&r, out);
    for (size_t i = 0; i < n && err == NSDB_OK; i++) {
        label_draw_page(&r, &labels[i]);
        err = pdf_doc_status(&r.doc);
    }
    err = pdf_doc_close(&r.doc, err);
    label_free(&r);
    return err;
}
