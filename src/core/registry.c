/*
 * registry.c — see registry.h.
 */
#include "core/registry.h"

#include <sodium.h>
#include <string.h>

#include "domain/ids.h"
#include "domain/fields.h"
#include "domain/text.h"
#include "store/api_tokens.h"
#include "store/municipalities.h"
#include "util/str.h"

#define TOKEN_NAME_MAX_CHARS 100

nsdb_err core_municipality_add(core_ctx *c, const char *code_raw, const char *name_raw,
                               const char *postal_raw, const char *address_raw, nsdb_problem *pb)
{
    const char *code = NULL, *name = NULL, *address = NULL, *postal = NULL;
    if (!core_field(c->arena, FIELD_MUNI_CODE, code_raw, 0, &code, pb) ||
        !core_field(c->arena, FIELD_MUNI_NAME, name_raw, 0, &name, pb) ||
        !core_field(c->arena, FIELD_POSTAL, postal_raw, FIELD_OPTIONAL, &postal, pb) ||
        !core_field(c->arena, FIELD_ADDRESS, address_raw, FIELD_OPTIONAL, &address, pb))
        return pb->code;
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

nsdb_err core_api_token_add(core_ctx *c, const char *name_raw, long days,
                            char token_out[SESSION_TOKEN_TEXT_LEN + 1], int64_t *id_out,
                            int64_t *expires_out, nsdb_problem *pb)
{
    const char *name = text_one_line(c->arena, name_raw ? name_raw : "");
    name = name ? text_nfkc(c->arena, name) : NULL;
    if (name == NULL || *name == '\0' || str_utf8_length(name) > TOKEN_NAME_MAX_CHARS)
        return problem_set(pb, NSDB_ERR_INVALID, "name",
                           "トークンの用途（名前）を100文字以内で入力してください。");
    if (days < 1 || days > API_TOKEN_DAYS_MAX)
        return problem_set(pb, NSDB_ERR_INVALID, "days",
                           "トークンの有効日数は1〜366日で指定してください。");
    int64_t expires = c->who.now + (int64_t)days * 86400;
    unsigned char raw[SESSION_TOKEN_BYTES];
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    session_token_new(raw);
    session_token_encode(raw, token_out);
    sodium_memzero(raw, sizeof raw);
    secret_token_hash((const unsigned char *)token_out, strlen(token_out), hash);
    int64_t id = 0;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_api_token_insert(c->conn, name, hash, c->who.now, expires, &id);
    if (e == NSDB_OK)
        e = core_audit(c, "api_token_create", core_target_id(c, "api_token", id), "ok",
                       arena_printf(c->arena, "%s (%ld days)", name, days));
    e = core_end(c, e);
    if (e != NSDB_OK) {
        sodium_memzero(token_out, SESSION_TOKEN_TEXT_LEN + 1);
        return problem_set(pb, e, NULL, NULL);
    }
    *id_out = id;
    *expires_out = expires;
    return NSDB_OK;
}

static const char *token_refusal_name(store_api_token_refusal why)
{
    switch (why) {
    case API_TOKEN_REFUSED_REVOKED: return "revoked";
    case API_TOKEN_REFUSED_EXPIRED: return "expired";
    case API_TOKEN_REFUSED_UNKNOWN: break;
    }
    return "unknown";
}

nsdb_err core_api_token_use(core_ctx *c, const char *token_hash, const char *target)
{
    store_api_token_refusal why = API_TOKEN_REFUSED_UNKNOWN;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_api_token_check(c->conn, token_hash, c->who.now, &why);
    e = core_end(c, e);
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    /* the refusal is on record whatever its reason; the caller answers all of them alike */
    nsdb_err logged = core_audit_event(c, "api_denied", target, "denied", token_refusal_name(why));
    return logged == NSDB_OK ? NSDB_ERR_NOT_FOUND : logged;
}

nsdb_err core_api_token_revoke(core_ctx *c, int64_t id, nsdb_problem *pb)
{
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_api_token_revoke(c->conn, id, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "api_token_revoke", core_target_id(c, "api_token", id), "ok", NULL);
    e = core_end(c, e);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, "id",
                           arena_printf(c->arena, "ID %lld のトークンはありません。",
                                        (long long)id));
    if (e == NSDB_ERR_CONFLICT)
        return problem_set(pb, e, "id",
                           arena_printf(c->arena, "ID %lld のトークンは既に失効しています。",
                                        (long long)id));
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}
