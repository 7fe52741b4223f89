/*
 * upload_limits.c — the budget of one upload request (see upload_limits.h) and the Japanese
 * messages that name each limit and say what to do. The numbers in the messages come from the
 * same macros as the limits.
 */
#include "domain/upload_limits.h"

#define UPLOAD_STR_(x) #x
#define UPLOAD_STR(x) UPLOAD_STR_(x)

const char UPLOAD_MSG_TOO_MANY_FILES[] =
    "一度にアップロードできるファイルは " UPLOAD_STR(UPLOAD_MAX_FILES) " 個までです。"
    "ファイルを " UPLOAD_STR(UPLOAD_MAX_FILES) " 個以下ずつに分けて、何回かに分けて"
    "アップロードしてください。何も登録していません。";
const char UPLOAD_MSG_TOO_MANY_BYTES[] =
    "ファイルの中身が大きすぎます（1回のアップロードで、展開後の合計 " UPLOAD_STR(
        UPLOAD_MAX_UNPACKED_MB) " MB まで）。ファイルを分けて、何回かに分けてアップロードして"
                                "ください。何も登録していません。";
const char UPLOAD_MSG_TOO_MANY_CELLS[] =
    "セルの数が多すぎます（1回のアップロードで合計 " UPLOAD_STR(
        UPLOAD_MAX_CELLS_MAN) " 万個まで。空のセルや使われていない文字列も数えます）。"
                              "不要な行・列を削除するか、ファイルを分けて、何回かに分けて"
                              "アップロードしてください。何も登録していません。";
const char UPLOAD_MSG_TOO_MANY_ROWS[] =
    "行が多すぎます（1回のアップロードで合計 " UPLOAD_STR(
        UPLOAD_MAX_ROWS_MAN) " 万行まで）。ファイルを分けて、何回かに分けてアップロードして"
                             "ください。何も登録していません。";

upload_budget upload_budget_for_request(void)
{
    return (upload_budget){.bytes_left = UPLOAD_MAX_UNPACKED_BYTES,
                           .cells_left = UPLOAD_MAX_CELLS,
                           .rows_left = UPLOAD_MAX_ROWS};
}

bool upload_files_fit(size_t count)
{
    return count <= UPLOAD_MAX_FILES;
}

static bool upload_budget_take(upload_budget *b, size_t *left, size_t n, const char *message)
{
    if (b->exceeded != NULL)
        return false;
    if (n > *left) {
        b->exceeded = message;
        return false;
    }
    *left -= n;
    return true;
}

bool upload_budget_take_bytes(upload_budget *b, size_t n)
{
    return upload_budget_take(b, &b->bytes_left, n, UPLOAD_MSG_TOO_MANY_BYTES);
}

bool upload_budget_take_cells(upload_budget *b, size_t n)
{
    return upload_budget_take(b, &b->cells_left, n, UPLOAD_MSG_TOO_MANY_CELLS);
}

bool upload_budget_take_rows(upload_budget *b, size_t n)
{
    return upload_budget_take(b, &b->rows_left, n, UPLOAD_MSG_TOO_MANY_ROWS);
}
