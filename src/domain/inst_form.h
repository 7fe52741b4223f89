/*
 * inst_form.h — the 医療機関ユーザデータファイル (SPEC §5.2a): one xlsx per institution that a
 * medical institution fills in, its layout, and the writer of the blank and of a filled form.
 * Reading a filled form is inst_import_parse_xlsx (inst_import.h), which shares the row checks of
 * the CSV; inst_form.c holds both halves so that the layout is written in one place.
 */
#ifndef NSDB_INST_FORM_H
#define NSDB_INST_FORM_H

#include <stddef.h>

#include "domain/fields.h"
#include "util/err.h"

#define INST_IMPORT_FORM_TITLE "医療機関ユーザデータファイル（ID・PW申請書）"

/* Layout of the form, as 1-based sheet rows and columns (A = 1): the title; the labels
 * 医療機関コード, 医療機関名, 郵便番号, 所在地, 電話番号 in column A with their values in column B;
 * an instruction line; the header No, 氏名, 氏名カナ, 難病/小慢, 指定医番号, 診療科, メールアドレス;
 * one row per doctor below. The reader finds the labels and the header by their text (rows may
 * have been inserted), so these positions are what the writer produces. */
#define INST_FORM_TITLE_ROW 1
#define INST_FORM_FIRST_LABEL_ROW 3 /* 医療機関コード; the other four follow */
#define INST_FORM_NOTE_ROW 9
#define INST_FORM_HEADER_ROW 10
#define INST_FORM_FIRST_DATA_ROW 11
#define INST_FORM_DATA_ROWS 100 /* rows numbered and formatted in the blank form */
#define INST_FORM_LABEL_COUNT 5
#define INST_FORM_COLUMN_COUNT 7 /* A No .. G メールアドレス */

/* The fields of the five labels (FIELD_INST_CODE .. FIELD_INST_PHONE) and of the seven columns
 * (FIELD_LIST_NO, FIELD_NAME .. FIELD_EMAIL but FIELD_USER_TYPE); their text is the field
 * table's form_label. */
extern const field_id INST_FORM_LABEL_FIELDS[INST_FORM_LABEL_COUNT];
extern const field_id INST_FORM_COLUMN_FIELDS[INST_FORM_COLUMN_COUNT];
/* The text of label i (0-based) and of the header of column i (0-based, A = 0). */
const char *inst_form_label(unsigned index);
const char *inst_form_header(unsigned index);
/* The 1-based sheet column of a person field in the form; 0 when it has none. */
unsigned inst_form_column(field_id id);

/* Values to fill in, as a person would type them; NULL cells stay empty. */
typedef struct inst_import_form_doctor {
    const char *name, *name_kana, *category, *doctor_number, *specialty, *email;
} inst_import_form_doctor;

typedef struct inst_import_form_data {
    const char *inst_code, *inst_name, *inst_postal, *inst_address, *inst_phone;
    const inst_import_form_doctor *doctors;
    size_t doctor_count;
} inst_import_form_data;

/* Writes the blank form (.xlsx) to path: text-formatted code, postal, phone and doctor-number
 * cells (so that Excel keeps leading zeros), a drop-down for 難病/小慢, the 責任者 row marked.
 * NSDB_ERR_IO on failure. */
NSDB_MUST_CHECK nsdb_err inst_import_form_xlsx(const char *path);
/* The same form filled with data (every value written as text): examples and tests. */
NSDB_MUST_CHECK nsdb_err inst_import_form_xlsx_filled(const char *path,
                                                      const inst_import_form_data *data);

#endif
