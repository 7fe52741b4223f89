/*
 * registration.c — see registration.h.
 */
#include "core/registration.h"

#include <string.h>

#include "domain/cycle.h"
#include "domain/text.h"
#include "store/audit.h"
#include "store/institutions.h"
#include "store/media_store.h"
#include "store/registrations.h"
#include <time.h>

/* Compares two texts as the user would: NFKC, without spaces. */
static bool same_text(arena *a, const char *x, const char *y)
{
    const char *kx = text_search_key(a, x ? x : "");
    const char *ky = text_search_key(a, y ? y : "");
    return kx != NULL && ky != NULL && strcmp(kx, ky) == 0;
}

static nsdb_err institution_for(db *conn, arena *ar, const registration_input *in, int64_t now,
                                int64_t *pk_out, const char **refusal, registration_field *field)
{
    store_institution *inst = NULL;
    nsdb_err e = store_institution_find_by_code(conn, ar, in->inst_code, &inst);
    if (e == NSDB_ERR_NOT_FOUND)
        return store_institution_insert(conn, in->inst_code, in->inst_name, in->inst_postal,
                                        in->inst_address, in->inst_phone, now, pk_out);
    if (e != NSDB_OK)
        return e;
    if (!same_text(ar, inst->name, in->inst_name)) {
        *refusal = arena_printf(ar,
                                "医療機関コード %s は「%s」として登録されています。医療機関名が"
                                "異なります（入力：「%s」）。コードと名称を確認してください。",
                                inst->code, inst->name, in->inst_name);
        *field = REGISTRATION_FIELD_INSTITUTION_NAME;
        return NSDB_ERR_INVALID;
    }
    if (!same_text(ar, inst->address, in->inst_address)) {
        *refusal = arena_printf(ar,
                                "医療機関コード %s の所在地は「%s」として登録されています。"
                                "入力された所在地（「%s」）と異なります。",
                                inst->code, inst->address ? inst->address : "", in->inst_address);
        *field = REGISTRATION_FIELD_INSTITUTION_ADDRESS;
        return NSDB_ERR_INVALID;
    }
    *pk_out = inst->pk;
    return NSDB_OK;
}

nsdb_err registration_cycle(db *conn, int64_t now, cycle_window *out)
{
    /* the calendar in the database (the operator may have adjusted it) decides */
    time_t t = (time_t)(now + 9 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    nsdb_err e = store_cycle_for_date(conn, today, out);
    if (e == NSDB_ERR_NOT_FOUND) {
        cycle_for_time(now, out); /* beyond the stored calendar: the rule itself */
        e = store_cycle_ensure(conn, out);
    }
    return e;
}

nsdb_err registration_register(app *a, db *conn, arena *ar, const registration_input *in,
                               const registration_actor *actor, accounts_issued *out,
                               const char **refusal, registration_field *field)
{
    int64_t inst_pk = 0;
    nsdb_err e = institution_for(conn, ar, in, actor->now, &inst_pk, refusal, field);
    if (e != NSDB_OK)
        return e;
    store_user *dup = NULL;
    e = store_user_find_duplicate(conn, ar, inst_pk, in->search_key, in->category, &dup);
    if (e == NSDB_OK) {
        *refusal = arena_printf(ar,
                                "%s（%s）は同じ医療機関・同じ区分で既に登録されています"
                                "（ユーザID %s）。",
                                in->name, in->name_kana, dup->user_id);
        *field = REGISTRATION_FIELD_NAME;
        return NSDB_ERR_INVALID;
    }
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    store_user_new u = {.role = in->user_type,
                        .name = in->name,
                        .name_kana = in->name_kana,
                        .email = in->email,
                        .category = in->category,
                        .municipality_pk = actor->municipality_pk,
                        .institution_pk = inst_pk,
                        .doctor_number = in->doctor_number,
                        .specialty = in->specialty,
                        .created_by = actor->user_pk,
                        .search_key = in->search_key,
                        /* an import adds the name index of its whole batch at the end */
                        .defer_grams = actor->batch_id != 0};
    e = accounts_issue(a, conn, &u, actor->now, out);
    if (e != NSDB_OK)
        return e;
    cycle_window cycle;
    e = registration_cycle(conn, actor->now, &cycle);
    if (e != NSDB_OK)
        return e;
    e = store_registration_insert(conn, out->pk, actor->municipality_pk, inst_pk, cycle.id,
                                  actor->batch_id, actor->now);
    if (e != NSDB_OK)
        return e;
    store_audit entry = {.at = actor->now,
                         .actor_user_pk = actor->user_pk,
                         .actor_user_id = actor->user_id,
                         .client_ip = actor->client_ip,
                         .action = "user_create",
                         .target = out->user_id,
                         .result = "ok",
                         .detail = arena_printf(ar, "%s %s", in->user_type, in->inst_code)};
    return store_audit_insert(conn, &entry);
}
