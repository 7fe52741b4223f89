/*
 * institutions.c — see institutions.h. Scope is the store's query
 * (store_institution_find_for_municipality), run again inside the write transaction, so a
 * municipality whose last user there left between the form and the save is refused.
 */
#include "core/institutions.h"

#include <string.h>

#include "util/str.h"

#define NOT_FOUND_MESSAGE "指定された医療機関は見つかりません。"

/* The institution in the actor's scope, on c->conn (inside or outside a transaction). */
static NSDB_MUST_CHECK nsdb_err institution_in_scope(core_ctx *c, const char *code,
                                                     store_institution **out, bool *exists)
{
    *exists = false;
    if (c->who.institution_pk != 0) /* an institution user corrects nothing */
        return NSDB_ERR_NOT_FOUND;
    if (c->who.municipality_pk == 0)
        return store_institution_find_by_code(c->conn, c->arena, code, out);
    nsdb_err e = store_institution_find_for_municipality(c->conn, c->arena, code,
                                                         c->who.municipality_pk, out);
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    store_institution *any = NULL;
    nsdb_err found = store_institution_find_by_code(c->conn, c->arena, code, &any);
    if (found != NSDB_OK && found != NSDB_ERR_NOT_FOUND)
        return found;
    *exists = found == NSDB_OK;
    return NSDB_ERR_NOT_FOUND;
}

static nsdb_err not_found(core_ctx *c, const char *code, bool exists, nsdb_problem *pb)
{
    nsdb_err e = NSDB_OK;
    if (exists) /* municipal staff without users there: refused like an unknown code */
        e = core_audit_event(c, "scope_denied", arena_printf(c->arena, "institution:%s", code),
                             "denied", "core");
    return problem_set(pb, e == NSDB_OK ? NSDB_ERR_NOT_FOUND : e, NULL, NOT_FOUND_MESSAGE);
}

nsdb_err core_institution_find(core_ctx *c, const char *code, store_institution **out,
                               nsdb_problem *pb)
{
    const char *valid = NULL;
    nsdb_problem ignored = {0};
    if (!core_field(c->arena, FIELD_INST_CODE, code, 0, &valid, &ignored))
        return problem_set(pb, NSDB_ERR_NOT_FOUND, NULL, NOT_FOUND_MESSAGE);
    bool exists = false;
    nsdb_err e = institution_in_scope(c, valid, out, &exists);
    if (e == NSDB_ERR_NOT_FOUND)
        return not_found(c, valid, exists, pb);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

/* "name「old」→「new」" for a field that changed, appended to detail. */
static void change_note(strbuf *detail, const char *what, const char *old, const char *new_value)
{
    old = old ? old : "";
    if (strcmp(old, new_value) == 0)
        return;
    strbuf_printf(detail, "%s%s「%s」→「%s」", detail->len ? "; " : "", what, old, new_value);
}

nsdb_err core_institution_edit(core_ctx *c, const char *code, const institution_edit_input *in,
                               nsdb_problem *pb)
{
    store_institution *before = NULL;
    nsdb_err e = core_institution_find(c, code, &before, pb);
    if (e != NSDB_OK)
        return e;
    institution_edit_input v = {0};
    if (!core_field(c->arena, FIELD_INST_NAME, in->name, 0, &v.name, pb) ||
        !core_field(c->arena, FIELD_INST_POSTAL, in->postal, 0, &v.postal, pb) ||
        !core_field(c->arena, FIELD_INST_ADDRESS, in->address, 0, &v.address, pb) ||
        !core_field(c->arena, FIELD_INST_PHONE, in->phone, 0, &v.phone, pb))
        return pb->code;
    bool exists = false;
    e = core_begin(c);
    /* the old values and the scope, again, inside the transaction */
    if (e == NSDB_OK)
        e = institution_in_scope(c, before->code, &before, &exists);
    strbuf detail = STRBUF_INIT;
    if (e == NSDB_OK) {
        change_note(&detail, "name", before->name, v.name);
        change_note(&detail, "postal", before->postal, v.postal);
        change_note(&detail, "address", before->address, v.address);
        change_note(&detail, "phone", before->phone, v.phone);
        e = store_institution_update(c->conn, before->pk, v.name, v.postal, v.address, v.phone,
                                     c->who.now);
    }
    if (e == NSDB_OK)
        e = core_audit(c, "institution_edit",
                       arena_printf(c->arena, "institution:%s", before->code), "ok",
                       detail.len ? detail.data : "unchanged");
    strbuf_free(&detail);
    e = core_end(c, e);
    if (e == NSDB_ERR_NOT_FOUND)
        return not_found(c, before->code, exists, pb);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}
