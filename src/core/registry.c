/*
 * registry.c — see registry.h.
 */
#include "core/registry.h"

#include <sodium.h>
#include <string.h>

#include "domain/ids.h"
#include "domain/text.h"
#include "domain/validate.h"
#include "store/store.h"

#define MUNICIPALITY_NAME_MAX_CHARS 100
#define ADDRESS_MAX_CHARS 200
#define TOKEN_NAME_MAX_CHARS 100

nsdb_err core_municipality_add(core_ctx *c, const char *code, const char *name_raw,
                               const char *postal_raw, const char *address_raw, nsdb_problem *pb)
{
    if (code == NULL || !ids_municipality_code_valid(code))
        return problem_set(pb, NSDB_ERR_INVALID, "code",
                           arena_printf(c->arena,
                                        "地方公共団体コード %s が正しくありません（6桁、最後の1桁は"
                                        "検査数字）。",
                                        code ? code : ""));
    const char *name = NULL, *address = NULL, *postal = NULL;
    const char *reason = validate_optional_text(c->arena, name_raw, MUNICIPALITY_NAME_MAX_CHARS, &name);
    if (reason != NULL || name == NULL)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           reason ? reason : "地方公共団体名を入力してください。");
    if (postal_raw != NULL && *postal_raw != '\0' &&
        (postal = text_postal_normalize(c->arena, postal_raw)) == NULL)
        return problem_set(pb, NSDB_ERR_INVALID, "postal",
                           "郵便番号は NNN-NNNN の形で指定してください。");
    reason = validate_optional_text(c->arena, address_raw, ADDRESS_MAX_CHARS, &address);
    if (reason != NULL)
        return problem_set(pb, NSDB_ERR_INVALID, "address", reason);
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_municipality_insert(c->conn, code, name, postal, address, c->who.now, NULL);
    if (e == NSDB_OK)
        e = core_audit(c, "municipality_create", code, "ok", name);
    e = core_end(c, e);
    if (e == NSDB_ERR_EXISTS)
        return problem_set(pb, e, "code", "この地方公共団体コードは既に登録されています。");
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

nsdb_err core_api_token_add(core_ctx *c, const char *name_raw,
                            char token_out[SESSION_TOKEN_TEXT_LEN + 1], nsdb_problem *pb)
{
    const char *name = NULL;
    const char *reason = validate_optional_text(c->arena, name_raw, TOKEN_NAME_MAX_CHARS, &name);
    if (reason != NULL || name == NULL)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           reason ? reason : "トークンの用途（名前）を入力してください。");
    unsigned char raw[SESSION_TOKEN_BYTES];
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    session_token_new(raw);
    session_token_encode(raw, token_out);
    sodium_memzero(raw, sizeof raw);
    secret_token_hash((const unsigned char *)token_out, strlen(token_out), hash);
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_api_token_insert(c->conn, name, hash, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "api_token_create", name, "ok", NULL);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        sodium_memzero(token_out, SESSION_TOKEN_TEXT_LEN + 1);
        return problem_set(pb, e, NULL, NULL);
    }
    return NSDB_OK;
}
