/*
 * media_pdf_int.h — what the renderers of the media papers share and nobody else sees (as
 * SQLite's btreeInt.h): the A4 page geometry and rule weights, and the input checks that every
 * paper applies before it draws (media_pdf.c: the user-ID list and the passphrase sheet;
 * media_label_pdf.c: the Letter Pack Plus label).
 */
#ifndef NSDB_MEDIA_PDF_INT_H
#define NSDB_MEDIA_PDF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/media_pdf.h"
#include "domain/pdf_util.h"

#define PAGE_WIDTH PDF_A4_WIDTH
#define PAGE_HEIGHT PDF_A4_HEIGHT
#define MARGIN_X 36.0
#define MARGIN_TOP 40.0
#define MARGIN_BOTTOM 48.0
#define CONTENT_WIDTH (PAGE_WIDTH - 2 * MARGIN_X)
#define FOOTER_SIZE 9.0

#define SHADE 0.88
#define CONTINUED_GREY 0.45
#define RULE_OUTER 1.0
#define RULE_GROUP 0.7
#define RULE_INNER 0.3
#define ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* NSDB_OK when s is a code, user ID or media ID (ASCII letters, digits, -_.; at most
 * MEDIA_PDF_MAX_TOKEN bytes); empty only when may_be_empty. */
NSDB_MUST_CHECK nsdb_err media_pdf_code_check(const char *s, bool may_be_empty);
/* The first error among checks, in order; NSDB_OK when there is none. */
NSDB_MUST_CHECK nsdb_err media_pdf_first_error(const nsdb_err *errs, size_t n);
/* The common refusal of a render call: nothing to draw or nowhere to put it (NSDB_ERR_INVALID),
 * more than MEDIA_PDF_MAX_ROWS items (NSDB_ERR_TOO_LARGE). */
NSDB_MUST_CHECK nsdb_err media_pdf_count_check(const void *items, size_t n, const strbuf *out);

#endif
