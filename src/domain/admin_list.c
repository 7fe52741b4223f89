/*
 * admin_list.c — parsing and validation of 管理者権限のユーザID申請リスト (SPEC §5.1), and its blank
 * template.
 *
 * Each column is a field of the field table (fields.h), checked by field_check with whether Excel
 * stored the cell as a number, so that a value accepted on one screen is accepted here with the
 * same sentence. Spreadsheet damage is repaired only where the intent is unambiguous: a code or
 * postal code that Excel turned into a number lost its leading zeros, which are put back only
 * when the result is well-formed (for 地方公共団体コード: when the check digit then agrees).
 */
#include "domain/admin_list.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xlsxwriter.h>

#include "domain/ids.h"
#include "domain/text.h"
#include "domain/fields.h"
#include "domain/xlsx_form.h"
#include "util/str.h"

enum {
    COL_NO, COL_CODE, COL_MUNI_NAME, COL_CATEGORY, COL_DEPARTMENT, COL_TITLE, COL_NAME, COL_KANA,
    COL_EMAIL, COL_PHONE, COL_EXTENSION, COL_REQUEST, COL_NOTE, COL_POSTAL, COL_ADDRESS,
};

const field_id ADMIN_LIST_COLUMNS[ADMIN_LIST_COLUMN_COUNT] = {
    FIELD_LIST_NO, FIELD_MUNI_CODE, FIELD_MUNI_NAME, FIELD_CATEGORY,  FIELD_DEPARTMENT,
    FIELD_TITLE,   FIELD_NAME,      FIELD_NAME_KANA, FIELD_EMAIL,     FIELD_PHONE,
    FIELD_EXTENSION, FIELD_REQUEST_TYPE, FIELD_NOTE, FIELD_POSTAL,    FIELD_ADDRESS,
};

const char *admin_list_header(unsigned col)
{
    return col < ADMIN_LIST_COLUMN_COUNT ? field_get(ADMIN_LIST_COLUMNS[col])->list_header : NULL;
}

static const char MSG_NO_HEADER[] =
    "見出し行（A列が「No」の行）が見つかりません。管理者権限のユーザID申請リストの様式"
    "（1枚目のシート）に入力してください。";
static const char MSG_NO_ROWS[] =
    "申請する行がありません。見出し行の下に、1人につき1行を入力してください。";

typedef struct parse_state {
    const xlsx_table *table;
    arena *a;
    admin_list *out;
    size_t error_cap;
    size_t dropped; /* errors beyond ADMIN_LIST_MAX_ERRORS */
} parse_state;

/* ---- errors -------------------------------------------------------------------------------- */

static void error_add(parse_state *st, unsigned row, int col, const char *reason)
{
    admin_list *out = st->out;
    if (out->error_count == ADMIN_LIST_MAX_ERRORS) {
        st->dropped++;
        return;
    }
    if (out->error_count == st->error_cap) {
        size_t cap = st->error_cap ? st->error_cap * 2 : 16;
        admin_list_error *errors = arena_calloc(st->a, cap, sizeof *errors);
        if (out->error_count)
            memcpy(errors, out->errors, out->error_count * sizeof *errors);
        out->errors = errors;
        st->error_cap = cap;
    }
    admin_list_error *e = &out->errors[out->error_count++];
    e->row_number = row;
    e->reason = reason;
    if (col < 0) {
        e->column = 0;
        e->column_name = NULL;
        e->message = row ? arena_printf(st->a, "%u行目: %s", row, reason) : reason;
        return;
    }
    e->column = (char)('A' + col);
    e->column_name = admin_list_header((unsigned)(col));
    e->message = arena_printf(st->a, "%u行目 %c列（%s）: %s", row, e->column, e->column_name,
                              reason);
}

static int error_compare(const void *x, const void *y)
{
    const admin_list_error *a = x, *b = y;
    if (a->row_number != b->row_number)
        return a->row_number < b->row_number ? -1 : 1;
    if (a->column != b->column)
        return a->column < b->column ? -1 : 1;
    return a < b ? -1 : a > b; /* qsort is not stable; errors of one cell keep their order */
}

/* ---- cell text ----------------------------------------------------------------------------- */

/* The cell's text with line breaks and tabs made spaces and outer blanks trimmed; "" if empty. */
static char *cell_text(parse_state *st, size_t index, int col)
{
    const char *raw = xlsx_table_cell(st->table, index, (unsigned)col);
    char *s = arena_strdup(st->a, raw ? raw : "");
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    return str_trim(s);
}

/* ---- the sheet ----------------------------------------------------------------------------- */

static bool header_is_no(arena *a, const char *s)
{
    char *k = text_header_key(a, s);
    return strcasecmp(k, "No") == 0 || strcasecmp(k, "No.") == 0;
}

/* Index of the header row, or SIZE_MAX. Checks that B..O carry the expected headers, so that a
 * sheet with moved columns is refused instead of read into the wrong fields. */
static size_t find_header(parse_state *st)
{
    size_t rows = xlsx_table_rows(st->table);
    for (size_t i = 0; i < rows; i++) {
        if (!header_is_no(st->a, xlsx_table_cell(st->table, i, COL_NO)))
            continue;
        unsigned row = xlsx_table_row_number(st->table, i);
        for (int col = COL_CODE; col < ADMIN_LIST_COLUMN_COUNT; col++) {
            const char *have = text_header_key(st->a, xlsx_table_cell(st->table, i, (unsigned)col));
            const char *want = text_header_key(st->a, admin_list_header((unsigned)(col)));
            /* "郵便番号（〒）" is fine; "氏名" where 氏名カナ belongs is not. */
            if (strstr(have, want) == NULL)
                error_add(st, row, col,
                          arena_printf(st->a,
                                       "見出しが「%s」ではありません。列の順番を変えずに、様式"
                                       "どおりA列からO列に入力してください。",
                                       admin_list_header((unsigned)(col))));
        }
        return i;
    }
    return SIZE_MAX;
}

static bool row_is_blank(parse_state *st, size_t index)
{
    for (int col = COL_CODE; col < ADMIN_LIST_COLUMN_COUNT; col++)
        if (*cell_text(st, index, col) != '\0')
            return false;
    return true;
}

/* Offsets of the row's value of each column, in column order. */
static const size_t ROW_OFFSET[ADMIN_LIST_COLUMN_COUNT] = {
    offsetof(admin_list_row, no),         offsetof(admin_list_row, municipality_code),
    offsetof(admin_list_row, municipality_name), offsetof(admin_list_row, category),
    offsetof(admin_list_row, department), offsetof(admin_list_row, title),
    offsetof(admin_list_row, name),       offsetof(admin_list_row, name_kana),
    offsetof(admin_list_row, email),      offsetof(admin_list_row, phone),
    offsetof(admin_list_row, extension),  offsetof(admin_list_row, request_type),
    offsetof(admin_list_row, note),       offsetof(admin_list_row, postal),
    offsetof(admin_list_row, address),
};

static void parse_row(parse_state *st, size_t index, admin_list_row *r)
{
    memset(r, 0, sizeof *r);
    r->row_number = xlsx_table_row_number(st->table, index);
    for (int col = 0; col < ADMIN_LIST_COLUMN_COUNT; col++) {
        const char **slot = (const char **)(void *)((char *)r + ROW_OFFSET[col]);
        unsigned flags = xlsx_table_cell_is_number(st->table, index, (unsigned)col)
                             ? FIELD_FROM_NUMBER
                             : 0;
        const char *reason = field_check(st->a, ADMIN_LIST_COLUMNS[col],
                                         xlsx_table_cell(st->table, index, (unsigned)col), flags,
                                         slot);
        if (reason != NULL)
            error_add(st, r->row_number, col, reason);
    }
}

typedef struct email_seen {
    const char *email;
    unsigned row_number;
    size_t order;
} email_seen;

static int email_compare(const void *x, const void *y)
{
    const email_seen *a = x, *b = y;
    int c = strcasecmp(a->email, b->email);
    if (c != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The same address on two 新規 rows would issue two admins for one mailbox: report every later
 * row, naming the first. Sorting keeps this O(n log n) for large files. */
static void check_duplicate_emails(parse_state *st)
{
    admin_list *out = st->out;
    email_seen *seen = arena_calloc(st->a, out->row_count + 1, sizeof *seen);
    size_t n = 0;
    for (size_t i = 0; i < out->row_count; i++) {
        const admin_list_row *r = &out->rows[i];
        if (r->email != NULL && r->request_type != NULL && strcmp(r->request_type, "new") == 0)
            seen[n++] = (email_seen){r->email, r->row_number, i};
    }
    qsort(seen, n, sizeof *seen, email_compare);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (strcasecmp(seen[first].email, seen[i].email) != 0) {
            first = i;
            continue;
        }
        error_add(st, seen[i].row_number, COL_EMAIL,
                  arena_printf(st->a,
                               "同じメールアドレスが%u行目にもあります。新規の申請は1人につき1行"
                               "にしてください（別の人ならその人のメールアドレスを入力してください）。",
                               seen[first].row_number));
    }
}

nsdb_err admin_list_parse(const xlsx_table *t, arena *a, admin_list *out)
{
    memset(out, 0, sizeof *out);
    parse_state st = {.table = t, .a = a, .out = out};
    size_t header = t ? find_header(&st) : SIZE_MAX;
    if (header == SIZE_MAX) {
        error_add(&st, 0, -1, MSG_NO_HEADER);
        return NSDB_ERR_INVALID;
    }
    size_t rows = xlsx_table_rows(t);
    out->rows = arena_calloc(a, rows - header, sizeof *out->rows);
    for (size_t i = header + 1; i < rows; i++) {
        if (row_is_blank(&st, i))
            continue;
        char *mark = text_nfkc(a, cell_text(&st, i, COL_NO));
        if (mark != NULL && strcmp(mark, ADMIN_LIST_EXAMPLE_MARK) == 0)
            continue;
        parse_row(&st, i, &out->rows[out->row_count++]);
    }
    if (out->row_count == 0)
        error_add(&st, 0, -1, MSG_NO_ROWS);
    check_duplicate_emails(&st);
    if (out->error_count > 1)
        qsort(out->errors, out->error_count, sizeof *out->errors, error_compare);
    if (st.dropped > 0) {
        /* Appended after sorting: it is about the list, not a row. */
        out->error_count--;
        st.dropped++;
        error_add(&st, 0, -1,
                  arena_printf(a,
                               "誤りが多いため、最初の%d件だけを表示しています（ほかに%zu件あります）。"
                               "表示された誤りを直してから、もう一度アップロードしてください。",
                               ADMIN_LIST_MAX_ERRORS - 1, st.dropped));
    }
    return out->error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK;
}

/* ---- 変更 and 削除 rows: which admin they mean ------------------------------------------------ */

void admin_list_add_error(admin_list *l, arena *a, unsigned row, char column, const char *reason)
{
    admin_list_error *errors = arena_calloc(a, l->error_count + 1, sizeof *errors);
    if (l->error_count)
        memcpy(errors, l->errors, l->error_count * sizeof *errors);
    admin_list_error *e = &errors[l->error_count];
    e->row_number = row;
    e->reason = reason;
    if (column >= 'A' && column < 'A' + ADMIN_LIST_COLUMN_COUNT) {
        e->column = column;
        e->column_name = admin_list_header((unsigned)(column - 'A'));
        e->message = arena_printf(a, "%u行目 %c列（%s）: %s", row, column, e->column_name, reason);
    } else {
        e->message = row ? arena_printf(a, "%u行目: %s", row, reason) : reason;
    }
    l->errors = errors;
    l->error_count++;
    qsort(l->errors, l->error_count, sizeof *l->errors, error_compare);
}

static bool category_fits(const char *row, const char *admin)
{
    if (row == NULL || admin == NULL)
        return false;
    return strcmp(row, admin) == 0 || strcmp(row, "both") == 0 || strcmp(admin, "both") == 0;
}

/* Equal after NFKC with every space removed ("ヤマダ タロウ" = "ヤマダ　タロウ" = "ヤマダタロウ"). */
static bool kana_equal(arena *a, const char *x, const char *y)
{
    if (x == NULL || y == NULL || *x == '\0' || *y == '\0')
        return false;
    char *nx = text_nfkc(a, x), *ny = text_nfkc(a, y);
    if (nx == NULL || ny == NULL)
        return false;
    const char *p = nx, *q = ny;
    for (;;) {
        while (*p == ' ')
            p++;
        while (*q == ' ')
            q++;
        if (*p != *q)
            return false;
        if (*p == '\0')
            return true;
        p++, q++;
    }
}

admin_list_match admin_list_match_target(const char *category, const char *email,
                                         const char *name_kana, const admin_list_candidate *c,
                                         size_t n, size_t *index_out)
{
    arena *a = arena_new();
    admin_list_match result = ADMIN_LIST_MATCH_NONE;
    for (int key = 0; key < 2 && result == ADMIN_LIST_MATCH_NONE; key++) {
        size_t fits = 0, exact = 0, fit_at = 0, exact_at = 0;
        for (size_t i = 0; i < n; i++) {
            if (!category_fits(category, c[i].category))
                continue;
            bool same = key == 0 ? email != NULL && c[i].email != NULL &&
                                       strcasecmp(email, c[i].email) == 0
                                 : kana_equal(a, name_kana, c[i].name_kana);
            if (!same)
                continue;
            fits++, fit_at = i;
            if (strcmp(category, c[i].category) == 0)
                exact++, exact_at = i;
        }
        if (fits == 1 || exact == 1) {
            *index_out = fits == 1 ? fit_at : exact_at;
            result = ADMIN_LIST_MATCH_ONE;
        } else if (fits > 1) {
            result = ADMIN_LIST_MATCH_MANY;
        }
    }
    arena_free(a);
    return result;
}

const char *admin_list_match_reason(arena *a, const char *request_type, const char *category,
                                    const char *email, const char *name_kana, admin_list_match m)
{
    const char *what = request_type != NULL && strcmp(request_type, "delete") == 0 ? "削除" : "変更";
    const char *cat = category == NULL ? "" : strcmp(category, "nanbyo") == 0 ? "難病"
                                          : strcmp(category, "shoman") == 0 ? "小慢"
                                                                             : "難病・小慢";
    if (m == ADMIN_LIST_MATCH_MANY)
        return arena_printf(a,
                            "%sの対象になる自治体管理者が2人以上います（メールアドレスまたは氏名カナ"
                            "が同じ）。登録済みのメールアドレスを入力して、1人に決まるようにしてください。",
                            what);
    return arena_printf(a,
                        "%sの対象になる自治体管理者が見つかりません。この自治体の%sの管理者に、"
                        "メールアドレス「%s」の人も氏名カナ「%s」の人もいません。新しい管理者なら"
                        "申請区分を「新規」にしてください。",
                        what, cat, email ? email : "", name_kana ? name_kana : "");
}

/* ---- the template -------------------------------------------------------------------------- */

enum { TEMPLATE_TITLE_ROW, TEMPLATE_NOTE_ROW, TEMPLATE_HEADER_ROW, TEMPLATE_EXAMPLE_ROW };
#define TEMPLATE_INPUT_ROWS 1000 /* rows below the header that get formats and drop-downs */

static const char TEMPLATE_NOTE[] =
    "記入方法：1人につき1行を記入してください。地方公共団体コードは検査数字を含む6桁（例：011002）、"
    "郵便番号は「123-4567」の形で入力します。「難病/小慢」と「申請区分」はセルの一覧から選んで"
    "ください。氏名カナは全角カタカナです。灰色の「記入例」の行は読み込まれません（消しても残しても"
    "構いません）。見出しの行と列の順番は変えないでください。";

static const char *const TEMPLATE_EXAMPLE[ADMIN_LIST_COLUMN_COUNT] = {
    ADMIN_LIST_EXAMPLE_MARK, "011002", "札幌市", "難病", "保健福祉局 健康企画課", "係長",
    "札幌 花子", "サッポロ ハナコ", "hanako.sapporo@example.lg.jp", "011-000-0000", "1234",
    "新規", "", "060-0001", "北海道札幌市中央区北1条西2丁目",
};

static const double TEMPLATE_WIDTHS[ADMIN_LIST_COLUMN_COUNT] = {
    8, 14, 16, 11, 24, 12, 16, 18, 32, 15, 8, 10, 20, 11, 40,
};

nsdb_err admin_list_template_xlsx(const char *path)
{
    lxw_workbook *wb = workbook_new(path);
    if (wb == NULL)
        return NSDB_ERR_IO;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "申請リスト");

    xlsx_form_formats fmt;
    xlsx_form_formats_add(wb, &fmt);
    lxw_format *title = fmt.title, *note = fmt.note, *header = fmt.header, *text = fmt.text;
    lxw_format *example = workbook_add_format(wb);
    format_set_num_format(example, "@");
    format_set_italic(example);
    format_set_font_color(example, 0x595959);
    format_set_bg_color(example, 0xEDEDED);

    for (lxw_col_t col = 0; col < ADMIN_LIST_COLUMN_COUNT; col++) {
        bool is_text = col == COL_CODE || col == COL_PHONE || col == COL_EXTENSION ||
                       col == COL_POSTAL;
        worksheet_set_column(ws, col, col, TEMPLATE_WIDTHS[col], is_text ? text : NULL);
    }
    worksheet_write_string(ws, TEMPLATE_TITLE_ROW, 0, ADMIN_LIST_TITLE, title);
    worksheet_set_row(ws, TEMPLATE_NOTE_ROW, 36, NULL);
    worksheet_merge_range(ws, TEMPLATE_NOTE_ROW, 0, TEMPLATE_NOTE_ROW, ADMIN_LIST_COLUMN_COUNT - 1,
                          TEMPLATE_NOTE, note);
    worksheet_set_row(ws, TEMPLATE_HEADER_ROW, 30, NULL);
    for (lxw_col_t col = 0; col < ADMIN_LIST_COLUMN_COUNT; col++) {
        worksheet_write_string(ws, TEMPLATE_HEADER_ROW, col, admin_list_header((unsigned)(col)), header);
        worksheet_write_string(ws, TEMPLATE_EXAMPLE_ROW, col, TEMPLATE_EXAMPLE[col], example);
    }
    xlsx_form_print_setup(ws, TEMPLATE_HEADER_ROW);

    char *categories[] = {"難病", "小慢", "両方", NULL};
    char *requests[] = {"新規", "変更", "削除", NULL};
    lxw_row_t first = TEMPLATE_EXAMPLE_ROW, last = TEMPLATE_HEADER_ROW + TEMPLATE_INPUT_ROWS;
    xlsx_form_choice(ws, first, last, COL_CATEGORY, "難病/小慢", categories,
                     "「難病」「小慢」「両方」のいずれかを選んでください。");
    xlsx_form_choice(ws, first, last, COL_REQUEST, "申請区分", requests,
                     "「新規」「変更」「削除」のいずれかを選んでください。");

    workbook_set_properties(wb, &(lxw_doc_properties){.title = ADMIN_LIST_TITLE});
    return workbook_close(wb) == LXW_NO_ERROR ? NSDB_OK : NSDB_ERR_IO;
}
