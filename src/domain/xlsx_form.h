/*
 * xlsx_form.h — what nsdb's blank spreadsheets share (libxlsxwriter): the title, note, header
 * and text cell formats, a drop-down list of choices with its Japanese prompts, and the print
 * setup (A4 landscape, one page wide, the header repeated). Used by the admin application list
 * template (admin_list.c) and the 医療機関ユーザデータファイル (inst_form.c), so both look alike.
 */
#ifndef NSDB_XLSX_FORM_H
#define NSDB_XLSX_FORM_H

#include <xlsxwriter.h>

typedef struct xlsx_form_formats {
    lxw_format *title;  /* bold, 14 pt */
    lxw_format *note;   /* 10 pt, wrapped, top-aligned */
    lxw_format *header; /* bold, centred, wrapped, shaded, bordered */
    lxw_format *text;   /* "@": Excel keeps the leading zeros of codes */
} xlsx_form_formats;

void xlsx_form_formats_add(lxw_workbook *wb, xlsx_form_formats *out);

/* A drop-down of choices (NULL-terminated) on rows first..last of column col, with the field's
   name as title, 「一覧から選んでください。」 as prompt and error_message for anything else. */
void xlsx_form_choice(lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t col,
                      const char *name, char **choices, const char *error_message);

/* A4 landscape, one page wide, the header row repeated on every page, frozen below it. */
void xlsx_form_print_setup(lxw_worksheet *ws, lxw_row_t header_row);

#endif
