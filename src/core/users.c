/*
 * users.c — see users.h. The field rules are the field table's (domain/fields.h, the forms'),
 * so that an account the command line makes is one the screen would have accepted, with the
 * same search key.
 */
#include "core/users.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/registration.h"
#include "domain/fields.h"
#include "domain/states.h"
#include "store/institutions.h"
#include "store/registrations.h"
#include "store/totp.h"

/* The profile rules: municipal users (and admins) need kana, e-mail and category, as the form
   does; other users may leave them out, but what is given must be valid. */
static bool profile_valid(arena *a, bool complete, bool email_required,
                          const user_profile_input *in, user_profile_input *out, nsdb_problem *pb)
{
    memset(out, 0, sizeof *out);
    unsigned need = complete ? FIELD_REQUIRED : FIELD_OPTIONAL;
    return core_field(a, FIELD_NAME, in->name, 0, &out->name, pb) &&
           core_field(a, FIELD_NAME_KANA, in->name_kana, need, &out->name_kana, pb) &&
           core_field(a, FIELD_EMAIL, in->email, email_required ? FIELD_REQUIRED : FIELD_OPTIONAL,
                    &out->email, pb) &&
           core_field(a, FIELD_DEPARTMENT, in->department, 0, &out->department, pb) &&
           core_field(a, FIELD_CATEGORY, in->category, need, &out->category, pb);
}

/* Scope, checked again here whatever the caller looked up: a municipal user reaches only users
   of their municipality, a 責任者 only those the same municipality registered at their
   institution (institutions are shared between municipalities); the command line reaches all. */
static bool target_in_scope(const core_ctx *c, const store_user *target)
{
    if (c->who.municipality_pk != 0 && target->municipality_pk != c->who.municipality_pk)
        return false;
    return c->who.institution_pk == 0 || target->institution_pk == c->who.institution_pk;
}

static nsdb_err out_of_scope(core_ctx *c, const store_user *target, nsdb_problem *pb)
{
    nsdb_err e = core_audit_event(c, "scope_denied", target->user_id, "denied", "core");
    return problem_set(pb, e == NSDB_OK ? NSDB_ERR_NOT_FOUND : e, NULL,
                       "指定されたユーザは見つかりません。");
}

/* Which municipality the new user belongs to: the admin's own, or the one the command line
   names by code. */
static NSDB_MUST_CHECK nsdb_err add_municipality(core_ctx *c, const user_add_input *in,
                                                 bool municipal, int64_t *pk_out, nsdb_problem *pb)
{
    *pk_out = 0;
    if (c->who.municipality_pk != 0) {
        if (!municipal)
            return problem_set(pb, NSDB_ERR_FORBIDDEN, "role",
                               "権限は「自治体職員」か「自治体管理者」を選んでください。");
        *pk_out = c->who.municipality_pk;
        return NSDB_OK;
    }
    if (c->who.user_pk != 0) /* only the command line names a municipality */
        return problem_set(pb, NSDB_ERR_FORBIDDEN, "role", NULL);
    if (!municipal) {
        if (in->municipality_code != NULL)
            return problem_set(pb, NSDB_ERR_INVALID, "municipality_code",
                               "地方公共団体コードは自治体ユーザ（muni_admin, muni_staff）にだけ"
                               "指定できます。");
        return NSDB_OK;
    }
    if (in->municipality_code == NULL || *in->municipality_code == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "municipality_code",
                           "自治体ユーザには地方公共団体コードが必要です。");
    store_municipality *m = NULL;
    nsdb_err e = store_municipality_find_by_code(c->conn, c->arena, in->municipality_code, &m);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, "municipality_code",
                           arena_printf(c->arena,
                                        "地方公共団体コード %s は登録されていません"
                                        "（nsdb municipality add で登録してください）。",
                                        in->municipality_code));
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    *pk_out = m->pk;
    return NSDB_OK;
}

nsdb_err core_user_add(core_ctx *c, const user_add_input *in, accounts_issued *out,
                       nsdb_problem *pb)
{
    user_role role = 0;
    unsigned bit = user_role_from_key(in->role, &role) ? role_bit(role) : 0;
    if (bit == 0)
        return problem_set(pb, NSDB_ERR_INVALID, "role",
                           "権限は mhlw, operator, muni_admin, muni_staff のいずれかです。");
    if (bit & ROLES_INSTITUTION)
        return problem_set(pb, NSDB_ERR_INVALID, "role",
                           "医療機関ユーザ（指定医・責任者）は「医療機関ユーザ新規登録」から"
                           "登録してください。");
    bool municipal = (bit & ROLES_MUNI) != 0;
    user_profile_input raw = {in->name, in->name_kana, in->email, in->department, in->category,
                              NULL};
    user_profile_input v;
    bool complete = municipal && !in->profile_optional;
    if (!profile_valid(c->arena, complete, complete, &raw, &v, pb))
        return pb->code;
    int64_t municipality_pk = 0;
    nsdb_err e = add_municipality(c, in, municipal, &municipality_pk, pb);
    if (e != NSDB_OK)
        return e;
    store_user_new u = {.role = role,
                        .name = v.name,
                        .name_kana = v.name_kana,
                        .email = v.email,
                        .department = v.department,
                        .category = v.category,
                        .municipality_pk = municipality_pk,
                        .created_by = c->who.user_pk,
                        .search_key = field_search_key(c->arena, v.name, v.name_kana)};
    store_user *same = NULL;
    e = core_begin(c);
    /* the same form sent twice (a double click, a reload) must not make a second account:
       checked inside the write transaction, so two concurrent sends cannot both pass */
    if (e == NSDB_OK && municipality_pk != 0 && v.email != NULL && *v.email != '\0') {
        e = store_user_find_same_municipal_user(c->conn, c->arena, municipality_pk, v.name,
                                                v.email, &same);
        e = e == NSDB_OK ? NSDB_ERR_EXISTS : e == NSDB_ERR_NOT_FOUND ? NSDB_OK : e;
    }
    if (e == NSDB_OK)
        e = accounts_issue(c->app, c->conn, &u, c->who.now, out);
    if (e == NSDB_OK)
        e = core_audit(c, "user_create", out->user_id, "ok", in->role);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        sodium_memzero(out, sizeof *out);
        if (e == NSDB_ERR_EXISTS && same != NULL)
            return problem_set(
                pb, e, NULL,
                arena_printf(c->arena,
                             "同じ氏名とメールアドレスの自治体ユーザが既に登録されています（ユーザID "
                             "%s、%s）。二重に登録しないよう、登録しませんでした。登録内容を変える"
                             "ときは、自治体ユーザ一覧から編集してください。",
                             same->user_id, user_role_label(same->role)));
        return problem_set(pb, e, NULL, NULL);
    }
    return NSDB_OK;
}

/* "field: old -> new" for each value that changed, "; " between; the audit's detail. */
static void change_note(core_ctx *c, const char **note, const char *field, const char *was,
                        const char *is)
{
    was = was ? was : "";
    is = is ? is : "";
    if (strcmp(was, is) == 0)
        return;
    const char *item = arena_printf(c->arena, "%s: %s -> %s", field, was, is);
    *note = *note ? arena_printf(c->arena, "%s; %s", *note, item) : item;
}

static const char *profile_changes(core_ctx *c, const store_user *t, const store_user_profile *p)
{
    const char *note = NULL;
    change_note(c, &note, "name", t->name, p->name);
    change_note(c, &note, "name_kana", t->name_kana, p->name_kana);
    change_note(c, &note, "email", t->email, p->email);
    change_note(c, &note, "department", t->department, p->department);
    change_note(c, &note, "category", t->category, p->category);
    return note;
}

/* The new role of a municipal user (the target's own when none is asked); false with *pb when
   the input is not a municipal role. */
static bool role_valid(core_ctx *c, const store_user *target, const char *raw, user_role *out,
                       nsdb_problem *pb)
{
    *out = target->role;
    if (raw == NULL || (role_bit(target->role) & ROLES_MUNI) == 0)
        return true;
    const char *key = NULL;
    if (!core_field(c->arena, FIELD_ROLE, raw, 0, &key, pb))
        return false;
    if (user_role_from_key(key, out))
        return true;
    problem_set(pb, NSDB_ERR_INVALID, "role", NULL);
    return false;
}

/* A muni_admin that stops being one must leave another active admin behind: counted inside the
   write transaction, so two admins demoting each other at once cannot both pass. */
static NSDB_MUST_CHECK nsdb_err role_change_allowed(core_ctx *c, const store_user *target,
                                                    user_role role)
{
    if (target->role != USER_ROLE_MUNI_ADMIN || role == USER_ROLE_MUNI_ADMIN ||
        target->status != ACCOUNT_STATUS_ACTIVE)
        return NSDB_OK;
    int64_t admins = 0;
    nsdb_err e = store_user_count_active_admins(c->conn, target->municipality_pk, &admins);
    return e != NSDB_OK ? e : admins > 1 ? NSDB_OK : NSDB_ERR_CONFLICT;
}

nsdb_err core_user_update_profile(core_ctx *c, const store_user *target,
                                  const user_profile_input *in, nsdb_problem *pb)
{
    if (!target_in_scope(c, target))
        return out_of_scope(c, target, pb);
    unsigned bit = role_bit(target->role);
    bool municipal = (bit & ROLES_MUNI) != 0;
    user_profile_input v;
    if (!profile_valid(c->arena, municipal || (bit & ROLES_INSTITUTION), municipal, in, &v, pb))
        return pb->code;
    user_role role = target->role;
    if (!role_valid(c, target, in->role, &role, pb))
        return pb->code;
    store_user_profile p = {.name = v.name,
                            .name_kana = v.name_kana,
                            .email = v.email,
                            .department = municipal ? v.department : target->department,
                            .title = target->title,
                            .phone = target->phone,
                            .category = v.category};
    const char *note = profile_changes(c, target, &p);
    if (role != target->role)
        change_note(c, &note, "role", user_role_key(target->role), user_role_key(role));
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK && role != target->role) {
        e = role_change_allowed(c, target, role);
        if (e == NSDB_OK)
            e = store_user_set_role(c->conn, target->pk, role, c->who.now);
        if (e == NSDB_OK && target->pk != c->who.user_pk)
            e = store_session_delete_for_user(c->conn, target->pk, NULL);
    }
    if (e == NSDB_OK)
        e = store_user_update_profile(c->conn, target->pk, &p,
                                      field_search_key(c->arena, v.name, v.name_kana),
                                      c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "user_update", target->user_id, "ok", note);
    e = core_end(c, e);
    if (e == NSDB_ERR_CONFLICT)
        return problem_set(pb, e, "role",
                           "この自治体の自治体管理者がいなくなるため、権限を「自治体職員」に変更"
                           "できません。先に別の方を自治体管理者にしてください。");
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

/* The fields of the institution-user edit, checked as on 個別登録. */
static bool inst_edit_valid(core_ctx *c, const inst_user_edit_input *in, inst_user_edit_input *v,
                            user_role *role, nsdb_problem *pb)
{
    arena *a = c->arena;
    memset(v, 0, sizeof *v);
    if (!core_field(a, FIELD_INST_CODE, in->inst_code, 0, &v->inst_code, pb) ||
        !core_field(a, FIELD_USER_TYPE, in->user_type, 0, &v->user_type, pb) ||
        !core_field(a, FIELD_NAME, in->name, 0, &v->name, pb) ||
        !core_field(a, FIELD_NAME_KANA, in->name_kana, FIELD_REQUIRED, &v->name_kana, pb) ||
        !core_field(a, FIELD_CATEGORY, in->category, FIELD_REQUIRED, &v->category, pb))
        return false;
    if (!user_role_from_key(v->user_type, role) || (role_bit(*role) & ROLES_INSTITUTION) == 0) {
        problem_set(pb, NSDB_ERR_INVALID, "user_type", NULL);
        return false;
    }
    unsigned number = *role == USER_ROLE_DOCTOR ? FIELD_REQUIRED : FIELD_OPTIONAL;
    return core_field(a, FIELD_DOCTOR_NUMBER, in->doctor_number, number, &v->doctor_number, pb) &&
           core_field(a, FIELD_SPECIALTY, in->specialty, FIELD_OPTIONAL, &v->specialty, pb) &&
           core_field(a, FIELD_EMAIL, in->email, FIELD_OPTIONAL, &v->email, pb);
}

/* The institution the edit names: the target's own, or another registered one (a move). */
static NSDB_MUST_CHECK nsdb_err edit_institution(core_ctx *c, const store_user *target,
                                                 const char *code, int64_t *pk_out,
                                                 nsdb_problem *pb)
{
    *pk_out = target->institution_pk;
    if (target->institution_code != NULL && strcmp(code, target->institution_code) == 0)
        return NSDB_OK;
    store_institution *inst = NULL;
    nsdb_err e = store_institution_find_by_code(c->conn, c->arena, code, &inst);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, NSDB_ERR_INVALID, "inst_code",
                           arena_printf(c->arena,
                                        "医療機関コード %s の医療機関は登録されていません。移動"
                                        "できるのは登録済みの医療機関だけです。医療機関コードを確認"
                                        "してください。",
                                        code));
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    *pk_out = inst->pk;
    return NSDB_OK;
}

/* The same person, category and role already at the institution (another account): refused
   as registration refuses it, another municipality's user unnamed. */
static NSDB_MUST_CHECK nsdb_err edit_duplicate(core_ctx *c, const store_user *target,
                                               int64_t inst_pk, const char *key,
                                               const inst_user_edit_input *v, user_role role,
                                               nsdb_problem *pb)
{
    store_user *dup = NULL;
    nsdb_err e =
        store_user_find_duplicate(c->conn, c->arena, inst_pk, key, v->category, role, NULL, &dup);
    if (e == NSDB_ERR_NOT_FOUND || (e == NSDB_OK && dup->pk == target->pk))
        return NSDB_OK;
    if (e != NSDB_OK)
        return e;
    const char *who = dup->municipality_pk == c->who.municipality_pk
                          ? arena_printf(c->arena, "（ユーザID %s）", dup->user_id)
                          : "（別の自治体の登録）";
    problem_set(pb, NSDB_ERR_INVALID, "name",
                arena_printf(c->arena,
                             "%s（%s）は同じ医療機関・同じ区分・同じユーザ種別で既に登録されていま"
                             "す%s。",
                             v->name, v->name_kana, who));
    return NSDB_ERR_INVALID;
}

nsdb_err core_inst_user_update(core_ctx *c, const store_user *target,
                               const inst_user_edit_input *in, nsdb_problem *pb)
{
    if (!target_in_scope(c, target) || (role_bit(target->role) & ROLES_INSTITUTION) == 0)
        return out_of_scope(c, target, pb);
    if (c->who.municipality_pk == 0 || c->who.institution_pk != 0)
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL, NULL);
    inst_user_edit_input v;
    user_role role = 0;
    if (!inst_edit_valid(c, in, &v, &role, pb))
        return pb->code;
    const char *key = field_search_key(c->arena, v.name, v.name_kana);
    store_user_profile p = {.name = v.name,
                            .name_kana = v.name_kana,
                            .email = v.email,
                            .department = target->department,
                            .title = target->title,
                            .phone = target->phone,
                            .category = v.category};
    const char *note = profile_changes(c, target, &p);
    change_note(c, &note, "user_type", user_role_key(target->role), user_role_key(role));
    change_note(c, &note, "doctor_number", target->doctor_number, v.doctor_number);
    change_note(c, &note, "specialty", target->specialty, v.specialty);
    change_note(c, &note, "inst_code", target->institution_code, v.inst_code);
    store_user_record r = {role, 0, v.doctor_number, v.specialty};
    nsdb_problem refusal = {0};
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = edit_institution(c, target, v.inst_code, &r.institution_pk, &refusal);
    bool moved = e == NSDB_OK && r.institution_pk != target->institution_pk;
    /* only what changes who the account is can clash with another account */
    const char *old_key = field_search_key(c->arena, target->name,
                                           target->name_kana ? target->name_kana : "");
    bool identity = moved || role != target->role || strcmp(v.category, target->category) != 0 ||
                    old_key == NULL || key == NULL || strcmp(old_key, key) != 0;
    /* the institution is shared with other municipalities, whose edits and registrations there
       run at once on PostgreSQL: its row is locked before the check for the same person */
    if (e == NSDB_OK && identity)
        e = store_institution_lock(c->conn, r.institution_pk);
    if (e == NSDB_OK && identity)
        e = edit_duplicate(c, target, r.institution_pk, key, &v, role, &refusal);
    if (e == NSDB_OK)
        e = store_user_update_profile(c->conn, target->pk, &p, key, c->who.now);
    if (e == NSDB_OK)
        e = store_user_update_record(c->conn, target->pk, &r, c->who.now);
    if (e == NSDB_OK && moved) {
        /* a move is a registration at the new institution as of now: its media (if it has none
           yet for this municipality) comes with the current cycle's build */
        cycle_window cycle;
        e = registration_cycle(c->conn, c->who.now, &cycle);
        if (e == NSDB_OK)
            e = store_registration_move(c->conn, target->pk, r.institution_pk, cycle.id,
                                        c->who.now);
    }
    /* another role or institution is another scope: the user logs in again into it */
    if (e == NSDB_OK && (role != target->role || moved))
        e = store_session_delete_for_user(c->conn, target->pk, NULL);
    if (e == NSDB_OK)
        e = core_audit(c, "user_update", target->user_id, "ok", note);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, refusal.field, refusal.message);
    return NSDB_OK;
}

nsdb_err core_user_reset_password(core_ctx *c, const store_user *target, nsdb_problem *pb)
{
    if (!target_in_scope(c, target))
        return out_of_scope(c, target, pb);
    if (target->pk == c->who.user_pk)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "自分のパスワードは「自アカウント管理」で変更してください。");
    char password[IDS_INITIAL_PASSWORD_LEN + 1];
    ids_initial_password_generate(password);
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    nsdb_err e =
        secret_seal(&c->app->key, password, IDS_INITIAL_PASSWORD_LEN, &sealed, &sealed_len);
    sodium_memzero(password, sizeof password);
    if (e == NSDB_OK)
        e = core_begin(c);
    if (e == NSDB_OK)
        e = store_user_reset_password(c->conn, target->pk, sealed, sealed_len, c->who.user_pk,
                                      c->who.now);
    if (e == NSDB_OK)
        e = store_session_delete_for_user(c->conn, target->pk, NULL);
    if (e == NSDB_OK)
        e = core_audit(c, "password_reset", target->user_id, "ok", NULL);
    e = core_end(c, e);
    free(sealed);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

nsdb_err core_user_totp_reset(core_ctx *c, const store_user *target, nsdb_problem *pb)
{
    if (!target_in_scope(c, target))
        return out_of_scope(c, target, pb);
    if (target->pk == c->who.user_pk)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "自分の二要素認証は「自アカウント管理」で設定してください。");
    bool removed = false;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_totp_delete(c->conn, target->pk, c->who.now, &removed);
    if (e == NSDB_OK && !removed)
        e = NSDB_ERR_NOT_FOUND;
    if (e == NSDB_OK)
        e = core_audit(c, "totp_reset", target->user_id, "ok", NULL);
    e = core_end(c, e);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "このユーザは二要素認証を設定していません。");
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

nsdb_err core_user_set_suspended(core_ctx *c, const store_user *target, bool suspend,
                                 nsdb_problem *pb)
{
    if (!target_in_scope(c, target))
        return out_of_scope(c, target, pb);
    if (target->pk == c->who.user_pk)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           suspend ? "自分自身を利用停止にすることはできません。"
                                   : "自分自身の利用再開はできません。");
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_user_set_status(c->conn, target->pk,
                                  suspend ? ACCOUNT_STATUS_SUSPENDED : ACCOUNT_STATUS_ACTIVE,
                                  c->who.now);
    if (e == NSDB_OK && suspend)
        e = store_session_delete_for_user(c->conn, target->pk, NULL);
    if (e == NSDB_OK)
        e = core_audit(c, suspend ? "user_suspend" : "user_resume", target->user_id, "ok", NULL);
    e = core_end(c, e);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}

const char *core_notice_refusal(const core_ctx *c, const store_user *target)
{
    /* an institution's 責任者 prints only the notice of a password they reset themselves: the
       first notice of a doctor is the municipality's to print (its 発行済 must mean it did) */
    if (c->who.institution_pk != 0 && target->initial_password_by != c->who.user_pk)
        return "この通知書は自治体が発行します。医療機関の責任者が出力できるのは、自分でパスワード"
               "を初期化したユーザの通知書だけです。";
    return NULL;
}

nsdb_err core_notices_printed(core_ctx *c, store_user *const *users, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!target_in_scope(c, users[i]))
            return out_of_scope(c, users[i], NULL);
        if (core_notice_refusal(c, users[i]) != NULL) {
            nsdb_err e = core_audit_event(c, "notice_print", users[i]->user_id, "denied",
                                          "not reset by this user");
            return e == NSDB_OK ? NSDB_ERR_FORBIDDEN : e;
        }
    }
    nsdb_err e = core_begin(c);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        e = store_user_mark_notice_issued(c->conn, users[i]->pk, c->who.now);
        if (e == NSDB_OK)
            e = core_audit(c, "notice_print", users[i]->user_id, "ok", n > 1 ? "bulk" : NULL);
    }
    return core_end(c, e);
}
