/*
 * err.c — messages for nsdb_err. Kept in one table so that wording is reviewed in one place.
 */
#include "util/err.h"

#include <stddef.h>

static const struct {
    const char *name;
    const char *message;
} ERR_TABLE[NSDB_ERR_COUNT] = {
    [NSDB_OK] = {"ok", "正常に処理しました。"},
    [NSDB_ERR_NOMEM] = {"nomem", "メモリが不足しています。時間をおいて再度お試しください。"},
    [NSDB_ERR_IO] = {"io", "ファイルまたは通信の処理に失敗しました。"},
    [NSDB_ERR_DB] = {"db", "データベースの処理に失敗しました。時間をおいて再度お試しください。"},
    [NSDB_ERR_NOT_FOUND] = {"not_found", "対象が見つかりません。"},
    [NSDB_ERR_EXISTS] = {"exists", "既に登録されています。"},
    [NSDB_ERR_INVALID] = {"invalid", "入力内容に誤りがあります。"},
    [NSDB_ERR_PARSE] = {"parse", "ファイルの形式が正しくありません。"},
    [NSDB_ERR_TOO_LARGE] = {"too_large", "サイズが上限を超えています。"},
    [NSDB_ERR_AUTH] = {"auth", "ユーザIDまたはパスワードが正しくありません。"},
    [NSDB_ERR_LOCKED] = {"locked", "ログインに続けて失敗したため、アカウントを一時的にロックしています。15分後に再度お試しください。"},
    [NSDB_ERR_SUSPENDED] = {"suspended", "このアカウントは利用停止中です。管理者にお問い合わせください。"},
    [NSDB_ERR_FORBIDDEN] = {"forbidden", "この操作を行う権限がありません。"},
    [NSDB_ERR_CRYPTO] = {"crypto", "暗号処理に失敗しました。"},
    [NSDB_ERR_BUSY] = {"busy", "混み合っています。時間をおいて再度お試しください。"},
    [NSDB_ERR_CONFLICT] = {"conflict", "現在の状態ではこの操作はできません。"},
};

const char *nsdb_err_message(nsdb_err err)
{
    if (err < 0 || err >= NSDB_ERR_COUNT)
        return "不明なエラーが発生しました。";
    return ERR_TABLE[err].message;
}

const char *nsdb_err_name(nsdb_err err)
{
    if (err < 0 || err >= NSDB_ERR_COUNT)
        return "unknown";
    return ERR_TABLE[err].name;
}

nsdb_err problem_set(nsdb_problem *p, nsdb_err code, const char *field, const char *message)
{
    if (p != NULL) {
        p->code = code;
        p->field = field;
        p->message = message;
    }
    return code;
}

const char *problem_message(const nsdb_problem *p)
{
    return p->message != NULL ? p->message : nsdb_err_message(p->code);
}
