/*
 * inst_form.c — the 医療機関ユーザデータファイル (SPEC §5.2a), both halves of its layout: reading a
 * filled form (the institution from the labelled cells at the top, one user per filled row below
 * the header, the first row's person as the 責任者 and, given a 指定医番号, also as a doctor;
 * every cell checked as in the CSV through inst_import_int.h) and writing the blank or a filled
 * form with text-formatted cells, so that Excel keeps leading zeros.
 */
#include "domain/inst_import_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <xlsxwriter.h>

#include "domain/text.h"
#include "domain/xlsx.h"
#include "domain/xlsx_form.h"

const field_id INST_FORM_LABEL_FIELDS[INST_FORM_LABEL_COUNT] = {
    FIELD_INST_CODE, FIELD_INST_NAME, FIELD_INST_POSTAL, FIELD_INST_ADDRESS, FIELD_INST_PHONE,
};
const field_id INST_FORM_COLUMN_FIELDS[INST_FORM_COLUMN_COUNT] = {
    FIELD_LIST_NO,       FIELD_NAME,      FIELD_NAME_KANA, FIELD_CATEGORY,
    FIELD_DOCTOR_NUMBER, FIELD_SPECIALTY, FIELD_EMAIL,
};

const char *inst_form_label(unsigned index)
{
    return index < INST_FORM_LABEL_COUNT ? field_get(INST_FORM_LABEL_FIELDS[index])->form_label
                                         : NULL;
}

const char *inst_form_header(unsigned index)
{
    return index < INST_FORM_COLUMN_COUNT ? field_get(INST_FORM_COLUMN_FIELDS[index])->form_label
                                          : NULL;
}

unsigned inst_form_column(field_id id)
{
    for (unsigned i = 0; i < INST_FORM_COLUMN_COUNT; i++)
        if (INST_FORM_COLUMN_FIELDS[i] == id)
            return i + 1;
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------- */

static const char MSG_FORM_NO_HEADER[] =
    "見出しの行（A列が「No」、B列が「氏名」の行）が見つかりません。医療機関ユーザデータファイルの"
    "様式に入力してください。";
static const char MSG_FORM_NO_ROWS[] =
    "指定医の行がありません。見出しの下に、1人につき1行を入力してください（1人目の方が医療機関の"
    "責任者になります）。";

static bool label_matches(const char *key, const char *label)
{
    if (strcmp(key, label) == 0)
        return true;
    /* "医療機関郵便番号", "医療機関所在地" as in the CSV */
    size_t k = strlen(key), l = strlen(label);
    return k > l && str_starts_with(key, "医療機関") && strcmp(key + k - l, label) == 0;
}

static bool form_header_is_no(arena *a, const char *cell)
{
    const char *k = text_header_key(a, cell);
    return strcasecmp(k, "No") == 0 || strcasecmp(k, "No.") == 0;
}

/* One person of the form as a row of the given user type. */
static void form_person(import_ctx *c, const inst_import_row base, cell_in in[], unsigned row,
                        const char *user_type)
{
    in[FIELD_USER_TYPE] = (cell_in){user_type, false, {row, 0, NULL}};
    inst_import_row r = base;
    r.record = row;
    inst_import_check_person(c, in, &r);
    inst_import_row_done(c, &r);
}

static void form_read(import_ctx *c, const xlsx_table *t)
{
    arena *w = c->scratch;
    size_t rows = xlsx_table_rows(t), header = SIZE_MAX;
    for (size_t i = 0; i < rows && header == SIZE_MAX; i++)
        if (form_header_is_no(w, xlsx_table_cell(t, i, 0)) &&
            strcmp(text_header_key(w, xlsx_table_cell(t, i, 1)), inst_form_header(1)) == 0)
            header = i;
    if (header == SIZE_MAX) {
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_FORM_NO_HEADER);
        return;
    }
    unsigned header_row = xlsx_table_row_number(t, header);
    for (unsigned col = 3; col <= INST_FORM_COLUMN_COUNT; col++) {
        const char *want = inst_form_header(col - 1);
        if (strcmp(text_header_key(w, xlsx_table_cell(t, header, col - 1)), text_header_key(w, want)) == 0)
            continue;
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){header_row, col, want},
                  arena_printf(w, "見出しが「%s」ではありません。列の順番を変えずに、様式どおり"
                                  "に入力してください。",
                               want));
        return;
    }

    cell_in inst[INST_FIELD_COUNT];
    bool missing = false;
    file_info *info = inst_import_file_info(c->out, c->file);
    for (int f = 0; f < INST_FIELD_COUNT; f++) {
        size_t found = SIZE_MAX;
        for (size_t i = 0; i < header && found == SIZE_MAX; i++)
            if (label_matches(text_header_key(w, xlsx_table_cell(t, i, 0)), inst_form_label((unsigned)f)))
                found = i;
        if (found == SIZE_MAX) {
            inst_import_error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL},
                      arena_printf(w, "「%s」の欄（A列の見出しとB列の値）が見つかりません。様式の"
                                      "上の部分を消さずに、B列に入力してください。",
                                   inst_form_label((unsigned)f)));
            missing = true;
            continue;
        }
        unsigned row = xlsx_table_row_number(t, found);
        info->label_row[f] = row;
        inst[f] = (cell_in){xlsx_table_cell(t, found, 1), xlsx_table_cell_is_number(t, found, 1),
                            {row, 2, inst_form_label((unsigned)f)}};
    }
    if (missing)
        return;
    inst_import_row base = {.file = c->file};
    inst_import_check_institution(c, c->a, inst, &base); /* once per file, so into the result's arena */

    size_t people = 0;
    for (size_t i = header + 1; i < rows; i++) {
        bool blank = true;
        for (unsigned col = 2; col <= INST_FORM_COLUMN_COUNT && blank; col++) {
            const char *v = xlsx_table_cell(t, i, col - 1);
            blank = v == NULL || inst_import_blank_text(v);
        }
        if (blank)
            continue; /* numbered but unused rows of the form */
        unsigned row = xlsx_table_row_number(t, i);
        cell_in in[INST_IMPORT_COLUMN_COUNT];
        memcpy(in, inst, sizeof inst);
        for (field_id f = FIELD_NAME; f <= FIELD_EMAIL; f++) {
            unsigned col = inst_form_column(f);
            in[f] = (cell_in){xlsx_table_cell(t, i, col - 1),
                              xlsx_table_cell_is_number(t, i, col - 1),
                              {row, col, inst_form_header(col - 1)}};
        }
        /* the first row is the 責任者; given a 指定医番号 it is a doctor too (SPEC §5.2a: "the
           doctor on its first data row becomes the 責任者"), so it makes both accounts */
        bool manager = people == 0;
        bool doctor = !manager || (in[FIELD_DOCTOR_NUMBER].text != NULL &&
                                   !inst_import_blank_text(in[FIELD_DOCTOR_NUMBER].text));
        if (manager)
            form_person(c, base, in, row, "責任者");
        if (doctor)
            form_person(c, base, in, row, "指定医");
        if (manager && doctor)
            inst_import_warning_add(c->out, c->a, c->file,
                                    arena_printf(c->scratch, /* w was renewed by the rows */
                                                 "%u行目（1人目）の方は医療機関の責任者で、指定医番号"
                                                 "もあるため、責任者と指定医の2つのIDを登録します。",
                                                 row));
        people++;
    }
    if (people == 0)
        inst_import_error_add(c->out, c->a, c->file, (cell_ref){0, 0, NULL}, MSG_FORM_NO_ROWS);
}

nsdb_err inst_import_parse_xlsx(const void *data, size_t len, const char *filename,
                                upload_budget *budget, arena *a, inst_import *out)
{
    upload_budget own = upload_budget_for_request();
    if (budget == NULL)
        budget = &own;
    import_ctx c;
    inst_import_ctx_open(&c, out, a, filename, true);
    xlsx_table *t = NULL;
    char *message = NULL;
    if (xlsx_read_limited(data, len, budget, &t, &message) != NSDB_OK) {
        inst_import_error_add(out, a, c.file, (cell_ref){0, 0, NULL},
                  message ? message : "Excel ファイル（.xlsx）として読み込めません。");
        free(message);
        nsdb_err e = inst_import_ctx_close(&c);
        return budget->exceeded != NULL ? NSDB_ERR_TOO_LARGE : e;
    }
    form_read(&c, t);
    xlsx_table_free(t);
    return inst_import_ctx_close(&c);
}

/* ---- writing ------------------------------------------------------------------------------- */

static const char FORM_NOTE[] =
    "指定医の方を1人につき1行で入力してください。1人目（No 1）の方が、この医療機関の責任者（管理者）"
    "になります。氏名カナは全角カタカナ、「難病/小慢」はセルの一覧から選びます。指定医番号は英数字と"
    "ハイフンです。診療科とメールアドレスは空欄でも構いません。行と列の順番は変えないでください。";
static const char FORM_INST_HINT[] =
    "医療機関の情報（1回だけ入力。医療機関コードは検査数字を含む10桁、郵便番号は「123-4567」の形）";
static const double FORM_WIDTHS[INST_FORM_COLUMN_COUNT] = {16, 18, 20, 11, 14, 14, 32};

static NSDB_MUST_CHECK nsdb_err form_write(const char *path, const inst_import_form_data *d)
{
    lxw_workbook *wb = workbook_new(path);
    if (wb == NULL)
        return NSDB_ERR_IO;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "医療機関ユーザ");

    xlsx_form_formats fmt;
    xlsx_form_formats_add(wb, &fmt);
    lxw_format *title = fmt.title, *note = fmt.note, *header = fmt.header;
    lxw_format *hint = workbook_add_format(wb);
    format_set_font_size(hint, 10);
    lxw_format *label = workbook_add_format(wb);
    format_set_bold(label);
    format_set_bg_color(label, 0xD9E1F2);
    format_set_border(label, LXW_BORDER_THIN);
    lxw_format *value = workbook_add_format(wb);
    format_set_num_format(value, "@"); /* Excel keeps leading zeros of text */
    format_set_border(value, LXW_BORDER_THIN);
    lxw_format *cell = workbook_add_format(wb);
    format_set_num_format(cell, "@");
    format_set_border(cell, LXW_BORDER_THIN);
    lxw_format *manager = workbook_add_format(wb); /* the 責任者's row */
    format_set_num_format(manager, "@");
    format_set_border(manager, LXW_BORDER_THIN);
    format_set_bg_color(manager, 0xFFF2CC);

    for (lxw_col_t col = 0; col < INST_FORM_COLUMN_COUNT; col++)
        worksheet_set_column(ws, col, col, FORM_WIDTHS[col], NULL);
    worksheet_write_string(ws, INST_FORM_TITLE_ROW - 1, 0, INST_IMPORT_FORM_TITLE, title);
    worksheet_write_string(ws, INST_FORM_FIRST_LABEL_ROW - 2, 0, FORM_INST_HINT, hint);
    const char *inst_values[INST_FORM_LABEL_COUNT] = {NULL};
    if (d != NULL) {
        inst_values[0] = d->inst_code, inst_values[1] = d->inst_name;
        inst_values[2] = d->inst_postal, inst_values[3] = d->inst_address;
        inst_values[4] = d->inst_phone;
    }
    for (int i = 0; i < INST_FORM_LABEL_COUNT; i++) {
        lxw_row_t row = (lxw_row_t)(INST_FORM_FIRST_LABEL_ROW - 1 + i);
        worksheet_write_string(ws, row, 0, inst_form_label(i), label);
        worksheet_merge_range(ws, row, 1, row, INST_FORM_COLUMN_COUNT - 1,
                              inst_values[i] ? inst_values[i] : "", value);
    }
    worksheet_set_row(ws, INST_FORM_NOTE_ROW - 1, 42, NULL);
    worksheet_merge_range(ws, INST_FORM_NOTE_ROW - 1, 0, INST_FORM_NOTE_ROW - 1,
                          INST_FORM_COLUMN_COUNT - 1, FORM_NOTE, note);
    for (lxw_col_t col = 0; col < INST_FORM_COLUMN_COUNT; col++)
        worksheet_write_string(ws, INST_FORM_HEADER_ROW - 1, col, inst_form_header(col), header);

    size_t count = d && d->doctor_count > INST_FORM_DATA_ROWS ? d->doctor_count
                                                               : INST_FORM_DATA_ROWS;
    for (size_t i = 0; i < count; i++) {
        lxw_row_t row = (lxw_row_t)(INST_FORM_FIRST_DATA_ROW - 1 + i);
        lxw_format *f = i == 0 ? manager : cell;
        char no[32];
        snprintf(no, sizeof no, i == 0 ? "%zu（責任者）" : "%zu", i + 1);
        worksheet_write_string(ws, row, 0, no, f);
        const inst_import_form_doctor *doc = d && i < d->doctor_count ? &d->doctors[i] : NULL;
        const char *cells[INST_FORM_COLUMN_COUNT - 1] = {NULL};
        if (doc != NULL) {
            cells[0] = doc->name, cells[1] = doc->name_kana, cells[2] = doc->category;
            cells[3] = doc->doctor_number, cells[4] = doc->specialty, cells[5] = doc->email;
        }
        for (lxw_col_t col = 1; col < INST_FORM_COLUMN_COUNT; col++) {
            if (cells[col - 1] != NULL && *cells[col - 1] != '\0')
                worksheet_write_string(ws, row, col, cells[col - 1], f);
            else
                worksheet_write_blank(ws, row, col, f);
        }
    }
    char *categories[] = {"難病", "小慢", "両方", NULL};
    xlsx_form_choice(ws, INST_FORM_FIRST_DATA_ROW - 1,
                     (lxw_row_t)(INST_FORM_FIRST_DATA_ROW - 2 + count), 3, "難病/小慢", categories,
                     "「難病」「小慢」「両方」のいずれかを選んでください。");
    xlsx_form_print_setup(ws, INST_FORM_HEADER_ROW - 1);
    workbook_set_properties(wb, &(lxw_doc_properties){.title = INST_IMPORT_FORM_TITLE});
    return workbook_close(wb) == LXW_NO_ERROR ? NSDB_OK : NSDB_ERR_IO;
}

nsdb_err inst_import_form_xlsx(const char *path)
{
    return form_write(path, NULL);
}

nsdb_err inst_import_form_xlsx_filled(const char *path, const inst_import_form_data *data)
{
    return form_write(path, data);
}
