/*
 * disc_label_pdf.h — the labels stuck on the DVDs of a package (issue 13 item 3): an A4 sheet of
 * round CD/DVD labels (two per sheet, 117 mm across with a 41 mm hole, the A-One 29121 layout),
 * each naming the institution (name and code), the municipality, the cycle and the 媒体番号 that
 * the package's printed list shows next to the institution, so discs and notices are matched at
 * a glance. Pure rendering like media_pdf.h.
 */
#ifndef NSDB_DISC_LABEL_PDF_H
#define NSDB_DISC_LABEL_PDF_H

#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

#define DISC_LABELS_PER_SHEET 2
#define DISC_LABEL_DIAMETER_MM 117.0
#define DISC_LABEL_HOLE_MM 41.0

typedef struct disc_label {
    const char *institution_code, *institution_name;
    const char *municipality_code, *municipality_name;
    const char *cycle_id;
    const char *media_number; /* 媒体番号 */
} disc_label;

/* n labels, two per A4 page, in order. Plain text only; a long name shrinks and at worst ends in
   an ellipsis inside the printable ring. Errors as in media_pdf.h (codes: ASCII letters, digits,
   -_.; NSDB_ERR_INVALID for n == 0 or NULL fields). On success the PDF is appended to out. */
NSDB_MUST_CHECK nsdb_err disc_label_pdf(const disc_label *labels, size_t n, strbuf *out);

#endif
