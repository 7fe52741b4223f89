/*
 * xlsx_form.c — see xlsx_form.h.
 */
#include "domain/xlsx_form.h"

#define HEADER_SHADE 0xD9E1F2
#define PAPER_A4 9

void xlsx_form_formats_add(lxw_workbook *wb, xlsx_form_formats *out)
{
    out->title = workbook_add_format(wb);
    format_set_bold(out->title);
    format_set_font_size(out->title, 14);
    out->note = workbook_add_format(wb);
    format_set_text_wrap(out->note);
    format_set_align(out->note, LXW_ALIGN_VERTICAL_TOP);
    format_set_font_size(out->note, 10);
    out->header = workbook_add_format(wb);
    format_set_bold(out->header);
    format_set_text_wrap(out->header);
    format_set_align(out->header, LXW_ALIGN_CENTER);
    format_set_align(out->header, LXW_ALIGN_VERTICAL_CENTER);
    format_set_bg_color(out->header, HEADER_SHADE);
    format_set_border(out->header, LXW_BORDER_THIN);
    out->text = workbook_add_format(wb);
    format_set_num_format(out->text, "@");
}

void xlsx_form_choice(lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t col,
                      const char *name, char **choices, const char *error_message)
{
    lxw_data_validation v = {
        .validate = LXW_VALIDATION_TYPE_LIST,
        .value_list = choices,
        .input_title = (char *)name,
        .input_message = "一覧から選んでください。",
        .error_title = (char *)name,
        .error_message = (char *)error_message,
    };
    worksheet_data_validation_range(ws, first, col, last, col, &v);
}

void xlsx_form_print_setup(lxw_worksheet *ws, lxw_row_t header_row)
{
    worksheet_freeze_panes(ws, header_row + 1, 0);
    worksheet_set_paper(ws, PAPER_A4);
    worksheet_set_landscape(ws);
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_repeat_rows(ws, header_row, header_row);
}
