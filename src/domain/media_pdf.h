/*
 * media_pdf.h — the papers of the media cycle (SPEC §6): the printed per-institution user-ID list
 * that travels in each package (PDF, and the same rows as CSV), the shipping label of a Letter
 * Pack Plus, and the sheet of PKCS#12 passphrases that municipal staff print from the 媒体受領
 * screen (the passphrase never travels with the media). Pure rendering, like notice_pdf: the
 * caller looks the rows up and decides who may print; this module only lays out pages.
 */
#ifndef NSDB_MEDIA_PDF_H
#define NSDB_MEDIA_PDF_H

#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

/* More rows, labels or passphrases than this in one call is refused (NSDB_ERR_TOO_LARGE). */
#define MEDIA_PDF_MAX_ROWS 50000
/* Longest accepted text field (names, addresses, titles), in bytes (NSDB_ERR_TOO_LARGE). */
#define MEDIA_PDF_MAX_FIELD 2048
/* Codes, user IDs, media IDs, tracking numbers and passphrases: at most this many bytes
 * (NSDB_ERR_INVALID beyond). Postal codes and phone numbers, free text: NSDB_ERR_TOO_LARGE. */
#define MEDIA_PDF_MAX_TOKEN 64
/* A Letter Pack Plus holds at most this many DVDs (SPEC §6); a label for more is refused. */
#define MEDIA_LABEL_MAX_MEDIA 15

/* One line of the list: one user of one institution. Rows come grouped by institution, in print
 * order; the municipality and institution are printed on the first row of each group only. */
typedef struct media_list_row {
    const char *municipality_code; /* 公共団体ID; every code and ID: ASCII letters, digits, -_. */
    const char *municipality_name; /* 公共団体名 */
    const char *institution_code;  /* 医療機関ID */
    const char *institution_name;  /* 医療機関名 */
    const char *user_id;           /* ユーザID */
} media_list_row;

typedef struct media_label {
    const char *sender_name, *sender_postal, *sender_address, *sender_phone; /* 発送元 */
    const char *to_postal, *to_address;
    const char *to_name;         /* e.g. "千代田区 保健福祉部 御中", printed as given */
    const char *to_phone;        /* the department's 電話番号 ("" when none) */
    const char *package_ref;     /* e.g. "2026-11-16 / 131016 / 1/2" */
    const char *tracking_number; /* "" before the pack is registered: a blank to write in */
    int media_count;             /* 0 (the 追加分 list only) … MEDIA_LABEL_MAX_MEDIA */
} media_label;

typedef struct media_passphrase_row {
    const char *institution_code, *institution_name;
    const char *media_id;   /* 媒体番号 */
    const char *passphrase; /* printable ASCII without spaces */
} media_passphrase_row;

/*
 * The printed list (医療機関毎の指定医のユーザID一覧): A4 portrait, title and subtitle (e.g. the
 * cycle and the package) on every page, a ruled table # · 公共団体ID · 公共団体名 · 医療機関ID ·
 * 医療機関名 · ユーザID whose header repeats on every page, and "1 / 3" page numbers. An
 * institution continued on a new page is named again there, in grey. An empty title prints
 * 医療機関毎の指定医のユーザID一覧; subtitle may be NULL or "".
 */
NSDB_MUST_CHECK nsdb_err media_user_list_pdf(const media_list_row *rows, size_t n,
                                             const char *title, const char *subtitle, strbuf *out);
/* The same list with each institution's 媒体番号 (media_numbers[i] for rows[i], a code) printed
 * before its name, as on the disc's label (disc_label_pdf.h), so discs and notices are matched at
 * a glance. The CSV keeps its columns. */
NSDB_MUST_CHECK nsdb_err media_user_list_pdf_numbered(const media_list_row *rows,
                                                      const char *const *media_numbers, size_t n,
                                                      const char *title, const char *subtitle,
                                                      strbuf *out);
/* One user of the 追加分 (supplementary list): registered after the package with their
 * institution's media was packed, so named on no earlier list. */
typedef struct media_supplement_row {
    const char *institution_code, *institution_name;
    const char *name;          /* 氏名 */
    const char *user_id;       /* ユーザID */
    const char *registered_on; /* 登録日, YYYY-MM-DD */
} media_supplement_row;

/* The package's printed list: the rows as media_user_list_pdf (none when n is 0), then a
 * section 追加分 (its own title and headings # · 医療機関ID · 医療機関名 · 登録日 · 氏名 ·
 * ユーザID, the institution named once per group) of extra; pages numbered through both.
 * media_numbers: NULL, or the 媒体番号 of each of rows (as media_user_list_pdf_numbered). With
 * extra_n 0 it is media_user_list_pdf_numbered. */
NSDB_MUST_CHECK nsdb_err media_package_list_pdf(const media_list_row *rows,
                                                const char *const *media_numbers, size_t n,
                                                const media_supplement_row *extra, size_t extra_n,
                                                const char *title, const char *subtitle,
                                                strbuf *out);
/* The same rows as CSV: UTF-8 with BOM, CRLF, a header line, every cell filled (a spreadsheet
 * sorts and filters), cells that a spreadsheet would run as formulas prefixed with '. Unlike the
 * PDF, n may be 0 (rows may then be NULL): the header line alone. */
NSDB_MUST_CHECK nsdb_err media_user_list_csv(const media_list_row *rows, size_t n, strbuf *out);

/* One A4 page per label: the label in a cut-out box of the top half, 発送先 (〒, address,
 * addressee with its department, TEL) large, then 発送元, the package reference, 内容 (DVD N枚) and the tracking number. */
NSDB_MUST_CHECK nsdb_err media_label_pdf(const media_label *labels, size_t n, strbuf *out);

/* One A4 page per media, so that each goes in its own institution's envelope: institution,
 * 媒体番号 and the certificate passphrase in large spaced monospace (copies as one string), with
 * what to do with it. An empty title prints VPN接続用証明書のパスフレーズ. */
NSDB_MUST_CHECK nsdb_err media_passphrase_list_pdf(const media_passphrase_row *rows, size_t n,
                                                   const char *title, strbuf *out);

/*
 * Common to all four: plain text only (a name like "<b>&amp;" prints literally); long values wrap,
 * shrink and at worst end in an ellipsis, never leaving their cell; fonts embedded as subsets;
 * the PDF's metadata title set; thread-safe (each call has its own font map). NSDB_ERR_INVALID for
 * NULL arguments, n == 0 (but see the CSV), a NULL field, text that is not clean UTF-8 or a code
 * outside its alphabet; NSDB_ERR_TOO_LARGE beyond the limits above. On any error out is left as it
 * was; on success the document is appended to it.
 */

#endif
