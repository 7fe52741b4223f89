/*
 * routes.c — the one route table: method, path pattern, handler, roles allowed, flags. The
 * dispatcher enforces login, roles, the forced first password change, two-factor authentication
 * (a half-authenticated session reaches only ROUTE_TOTP_STEP routes; the roles that must enrol
 * reach only the enrolment, the password change and logout until they do) and CSRF from this
 * table, so a handler never has to remember them.
 */
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "web/ca.h"
#include "web/confirm.h"
#include "web/media_board.h"
#include "web/media_files.h"
#include "web/user_actions.h"
#include "web/web.h"

#define FORM_BODY_LIMIT (64 * 1024)
#define UPLOAD_BODY_LIMIT (32 * 1024 * 1024)

static const route ROUTES[] = {
    /* method  pattern              handler              roles      flags      arg */
    {"GET", "/healthz", web_healthz, 0, ROUTE_PUBLIC, NULL},
    {"GET", "/metrics", web_metrics, 0, ROUTE_PUBLIC, NULL},
    {"GET", "/static/{}", web_static, 0, ROUTE_PUBLIC, NULL},
    {"GET", "/login", web_login_form, 0, ROUTE_PUBLIC, NULL},
    {"POST", "/login", web_login_submit, 0, ROUTE_PUBLIC | ROUTE_CSRF, NULL},
    {"POST", "/logout", web_logout, ROLES_ALL,
     ROUTE_CSRF | ROUTE_PENDING_OK | ROUTE_TOTP_STEP, NULL},
    {"GET", "/login/totp", web_login_totp_form, ROLES_ALL, ROUTE_TOTP_STEP, NULL},
    {"POST", "/login/totp", web_login_totp_submit, ROLES_ALL, ROUTE_CSRF | ROUTE_TOTP_STEP, NULL},
    {"GET", "/account/totp", web_totp_form, ROLES_ALL, ROUTE_TOTP_ENROL, NULL},
    {"POST", "/account/totp", web_totp_submit, ROLES_ALL, ROUTE_CSRF | ROUTE_TOTP_ENROL, NULL},
    {"POST", "/account/totp/disable", web_totp_disable, ROLES_ALL, ROUTE_CSRF, NULL},
    {"GET", "/account/password", web_account_form, ROLES_ALL, ROUTE_PENDING_OK, NULL},
    {"POST", "/account/password", web_account_submit, ROLES_ALL, ROUTE_CSRF | ROUTE_PENDING_OK, NULL},
    {"GET", "/", web_menu, ROLES_ALL, 0, NULL},
    {"GET", "/audit", web_audit_list, ROLE_MHLW, 0, NULL},
    {"GET", "/admin-lists", web_admin_lists, ROLE_MHLW | ROLE_OPERATOR, 0, NULL},
    {"GET", "/admin-lists/template.xlsx", web_admin_list_template, ROLE_MHLW | ROLE_OPERATOR, 0, NULL},
    {"POST", "/admin-lists", web_admin_list_upload, ROLE_MHLW, ROUTE_CSRF | ROUTE_UPLOAD, NULL},
    {"GET", "/admin-lists/{}", web_admin_list_show, ROLE_MHLW | ROLE_OPERATOR, 0, NULL},
    {"GET", "/admin-lists/{}/file", web_admin_list_file, ROLE_MHLW | ROLE_OPERATOR, 0, NULL},
    {"GET", "/admin-lists/{}/approve", web_admin_list_confirm, ROLE_MHLW, 0,
     &(const admin_list_action){ADMIN_LIST_ACTION_APPROVE}},
    {"POST", "/admin-lists/{}/approve", web_admin_list_approve, ROLE_MHLW, ROUTE_CSRF, NULL},
    {"GET", "/admin-lists/{}/reject", web_admin_list_confirm, ROLE_MHLW, 0,
     &(const admin_list_action){ADMIN_LIST_ACTION_REJECT}},
    {"POST", "/admin-lists/{}/reject", web_admin_list_reject, ROLE_MHLW, ROUTE_CSRF, NULL},
    {"GET", "/admin-lists/{}/issue", web_admin_list_confirm, ROLE_OPERATOR, 0,
     &(const admin_list_action){ADMIN_LIST_ACTION_ISSUE}},
    {"POST", "/admin-lists/{}/issue", web_admin_list_issue, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    {"GET", "/muni-users/new", web_muni_user_new_form, ROLE_MUNI_ADMIN, 0, NULL},
    {"POST", "/muni-users/new", web_muni_user_new_submit, ROLE_MUNI_ADMIN, ROUTE_CSRF, NULL},
    {"GET", "/muni-users", web_muni_users, ROLE_MUNI_ADMIN, 0, NULL},
    {"GET", "/muni-users/{}/edit", web_muni_user_edit_form, ROLE_MUNI_ADMIN, 0, NULL},
    {"POST", "/muni-users/{}/edit", web_muni_user_edit_submit, ROLE_MUNI_ADMIN, ROUTE_CSRF, NULL},
    {"GET", "/muni-users/{}/reset", web_user_button_confirm, ROLE_MUNI_ADMIN, 0,
     &(const user_button){ROLES_MUNI, USER_ACTION_RESET, "/muni-users"}},
    {"POST", "/muni-users/{}/reset", web_user_button, ROLE_MUNI_ADMIN, ROUTE_CSRF,
     &(const user_button){ROLES_MUNI, USER_ACTION_RESET, "/muni-users"}},
    {"GET", "/muni-users/{}/totp-reset", web_user_totp_reset_confirm, ROLE_MUNI_ADMIN, 0,
     &(const user_button){ROLES_MUNI, USER_ACTION_TOTP_RESET, "/muni-users"}},
    {"POST", "/muni-users/{}/totp-reset", web_user_button, ROLE_MUNI_ADMIN, ROUTE_CSRF,
     &(const user_button){ROLES_MUNI, USER_ACTION_TOTP_RESET, "/muni-users"}},
    {"GET", "/muni-users/{}/suspend", web_user_button_confirm, ROLE_MUNI_ADMIN, 0,
     &(const user_button){ROLES_MUNI, USER_ACTION_SUSPEND, "/muni-users"}},
    {"POST", "/muni-users/{}/suspend", web_user_button, ROLE_MUNI_ADMIN, ROUTE_CSRF,
     &(const user_button){ROLES_MUNI, USER_ACTION_SUSPEND, "/muni-users"}},
    {"GET", "/muni-users/{}/resume", web_user_button_confirm, ROLE_MUNI_ADMIN, 0,
     &(const user_button){ROLES_MUNI, USER_ACTION_RESUME, "/muni-users"}},
    {"POST", "/muni-users/{}/resume", web_user_button, ROLE_MUNI_ADMIN, ROUTE_CSRF,
     &(const user_button){ROLES_MUNI, USER_ACTION_RESUME, "/muni-users"}},
    {"GET", "/users/{}/notice.pdf", web_user_notice, ROLES_MUNI | ROLE_INST_MANAGER, 0, NULL},
    {"GET", "/institution/users", web_institution_users, ROLE_INST_MANAGER, 0, NULL},
    {"GET", "/institution/users/{}/reset", web_user_button_confirm, ROLE_INST_MANAGER, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESET, "/institution/users"}},
    {"POST", "/institution/users/{}/reset", web_user_button, ROLE_INST_MANAGER, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESET, "/institution/users"}},
    {"GET", "/institution/users/{}/totp-reset", web_user_totp_reset_confirm, ROLE_INST_MANAGER, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_TOTP_RESET, "/institution/users"}},
    {"POST", "/institution/users/{}/totp-reset", web_user_button, ROLE_INST_MANAGER, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_TOTP_RESET, "/institution/users"}},
    {"GET", "/institution/users/{}/suspend", web_user_button_confirm, ROLE_INST_MANAGER, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_SUSPEND, "/institution/users"}},
    {"POST", "/institution/users/{}/suspend", web_user_button, ROLE_INST_MANAGER, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_SUSPEND, "/institution/users"}},
    {"GET", "/institution/users/{}/resume", web_user_button_confirm, ROLE_INST_MANAGER, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESUME, "/institution/users"}},
    {"POST", "/institution/users/{}/resume", web_user_button, ROLE_INST_MANAGER, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESUME, "/institution/users"}},
    {"GET", "/me", web_me, ROLES_INSTITUTION, 0, NULL},
    {"GET", "/media", web_media, ROLES_MUNI, 0, NULL},
    {"GET", "/media/packages/{}/receive", web_media_receive_confirm, ROLES_MUNI, 0, NULL},
    {"POST", "/media/packages/{}/receive", web_media_receive, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/media/packages/{}/passphrases.pdf", web_media_passphrases, ROLES_MUNI, 0, NULL},
    {"GET", "/media/{}/forward", web_media_item_confirm, ROLES_MUNI, 0,
     &(const media_action){MEDIA_ACTION_FORWARD}},
    {"POST", "/media/{}/forward", web_media_forward, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/media/{}/damage", web_media_item_confirm, ROLES_MUNI, 0,
     &(const media_action){MEDIA_ACTION_DAMAGE}},
    {"POST", "/media/{}/damage", web_media_damage, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/cycles", web_cycles, ROLE_OPERATOR | ROLE_MHLW, 0, NULL},
    {"POST", "/cycles/{}", web_cycle_adjust, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    {"GET", "/operator/media", web_media_board, ROLE_OPERATOR | ROLE_MHLW, 0, NULL},
    {"GET", "/operator/media/build", web_media_board_confirm, ROLE_OPERATOR, 0,
     &(const web_board_action){WEB_BOARD_BUILD}},
    {"POST", "/operator/media/build", web_media_build, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    {"GET", "/operator/media/pack", web_media_board_confirm, ROLE_OPERATOR, 0,
     &(const web_board_action){WEB_BOARD_PACK}},
    {"POST", "/operator/media/pack", web_media_pack, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    {"GET", "/operator/packages/{}/ship", web_package_ship_confirm, ROLE_OPERATOR, 0, NULL},
    {"POST", "/operator/packages/{}/ship", web_package_ship, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    /* media files (issue 13): operator only, the images hold key material (media_files.h) */
    {"GET", "/operator/packages/{}/label.pdf", web_media_package_file, ROLE_OPERATOR, 0,
     &(const web_package_file){"label.pdf", "application/pdf"}},
    {"GET", "/operator/packages/{}/list.pdf", web_media_package_file, ROLE_OPERATOR, 0,
     &(const web_package_file){"list.pdf", "application/pdf"}},
    {"GET", "/operator/packages/{}/list.csv", web_media_package_file, ROLE_OPERATOR, 0,
     &(const web_package_file){"list.csv", "text/csv; charset=utf-8"}},
    {"GET", "/operator/packages/{}/discs.pdf", web_media_disc_labels, ROLE_OPERATOR, 0, NULL},
    {"GET", "/operator/media/{}/image.iso", web_media_iso, ROLE_OPERATOR, 0, NULL},
    {"GET", "/operator/cycles/{}/media.tar", web_media_cycle_archive, ROLE_OPERATOR, 0, NULL},
    {"GET", "/operator/mail", web_mail_desk, ROLE_OPERATOR, 0, NULL},
    {"GET", "/operator/mail/{}/resend", web_mail_resend_form, ROLE_OPERATOR, 0, NULL},
    {"POST", "/operator/mail/{}/resend", web_mail_resend, ROLE_OPERATOR, ROUTE_CSRF, NULL},
    {"GET", "/operator/ca.crl", web_ca_crl, ROLE_OPERATOR, 0, NULL},
    {"GET", "/operator/ca.crl.pem", web_ca_crl_pem, ROLE_OPERATOR, 0, NULL},
    {"GET", "/registrations", web_registrations, ROLE_OPERATOR | ROLE_MHLW, 0, NULL},
    {"GET", "/registrations.csv", web_registrations_csv, ROLE_OPERATOR | ROLE_MHLW, 0, NULL},
    {"GET", "/api/v1/registrations", web_registrations_api, 0, ROUTE_PUBLIC, NULL},
    {"GET", "/forms", web_forms, ROLES_MUNI, 0, NULL},
    {"GET", "/forms/inst-users.csv", web_forms_csv, ROLES_MUNI, 0, NULL},
    {"GET", "/forms/inst-user-form.xlsx", web_forms_xlsx, ROLES_MUNI, 0, NULL},
    {"GET", "/inst-users/new", web_inst_user_new_form, ROLES_MUNI, 0, NULL},
    {"POST", "/inst-users/new", web_inst_user_new_submit, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/inst-users", web_inst_users, ROLES_MUNI, 0, NULL},
    {"POST", "/inst-users/import", web_inst_user_import, ROLES_MUNI, ROUTE_CSRF | ROUTE_UPLOAD, NULL},
    {"GET", "/inst-users/import/{}", web_inst_user_import_result, ROLES_MUNI, 0, NULL},
    {"GET", "/inst-users/import/{}/users.csv", web_inst_user_import_csv, ROLES_MUNI, 0, NULL},
    {"POST", "/inst-users/notices.pdf", web_inst_user_notices, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/inst-users/{}/edit", web_inst_user_edit_form, ROLES_MUNI, 0, NULL},
    {"POST", "/inst-users/{}/edit", web_inst_user_edit_submit, ROLES_MUNI, ROUTE_CSRF, NULL},
    {"GET", "/inst-users/{}/reset", web_user_button_confirm, ROLES_MUNI, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESET, "/inst-users"}},
    {"POST", "/inst-users/{}/reset", web_user_button, ROLES_MUNI, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESET, "/inst-users"}},
    {"GET", "/inst-users/{}/totp-reset", web_user_totp_reset_confirm, ROLES_MUNI, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_TOTP_RESET, "/inst-users"}},
    {"POST", "/inst-users/{}/totp-reset", web_user_button, ROLES_MUNI, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_TOTP_RESET, "/inst-users"}},
    {"GET", "/inst-users/{}/suspend", web_user_button_confirm, ROLES_MUNI, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_SUSPEND, "/inst-users"}},
    {"POST", "/inst-users/{}/suspend", web_user_button, ROLES_MUNI, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_SUSPEND, "/inst-users"}},
    {"GET", "/inst-users/{}/resume", web_user_button_confirm, ROLES_MUNI, 0,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESUME, "/inst-users"}},
    {"POST", "/inst-users/{}/resume", web_user_button, ROLES_MUNI, ROUTE_CSRF,
     &(const user_button){ROLES_INSTITUTION, USER_ACTION_RESUME, "/inst-users"}},
    /* the institution master: the scope of municipal staff is checked by core_institution_find */
    {"GET", "/institutions", web_institutions, ROLE_OPERATOR, 0, NULL},
    {"GET", "/institutions/{}/edit", web_institution_edit_form, ROLE_OPERATOR | ROLES_MUNI, 0, NULL},
    {"POST", "/institutions/{}/edit", web_institution_edit_submit, ROLE_OPERATOR | ROLES_MUNI,
     ROUTE_CSRF, NULL},
};

/* Matches path against pattern; "{}" captures one non-empty segment. */
static bool route_match(const char *pattern, const char *path, http_request *req)
{
    int captured = 0;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t n = strcspn(path, "/");
            if (n == 0 || captured >= HTTP_MAX_PATH_PARAMS)
                return false;
            req->path_params[captured++] = arena_strndup(req->arena, path, n);
            path += n;
            pattern += 2;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    if (*pattern || *path)
        return false;
    req->path_param_count = captured;
    return true;
}

/* The methods the path answers to, for the Allow header of a 405. */
static const char *route_allowed_methods(http_request *req)
{
    bool get = false, post = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (!route_match(ROUTES[i].pattern, req->path, req))
            continue;
        get |= strcmp(ROUTES[i].method, "GET") == 0;
        post |= strcmp(ROUTES[i].method, "POST") == 0;
    }
    return get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
}

static const route *route_find(http_request *req, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (!route_match(ROUTES[i].pattern, req->path, req))
            continue;
        *path_known = true;
        if (strcmp(ROUTES[i].method, req->method) == 0 ||
            (strcmp(req->method, "HEAD") == 0 && strcmp(ROUTES[i].method, "GET") == 0))
            return &ROUTES[i];
    }
    return NULL;
}

static size_t route_body_limit(const route *r)
{
    if (r == NULL || strcmp(r->method, "POST") != 0)
        return 0;
    return (r->flags & ROUTE_UPLOAD) ? UPLOAD_BODY_LIMIT : FORM_BODY_LIMIT;
}

/* Finds the route and lets the request through when its caller may use it: logged in and of an
   allowed role. Answers (and returns false) otherwise. Runs before the body is read. */
static bool gate(web_ctx *ctx)
{
    http_request *req = ctx->req;
    bool path_known;
    const route *r = route_find(req, &path_known);
    if (r == NULL) {
        if (path_known) {
            http_add_header(req, "Allow", route_allowed_methods(req));
            page_error(ctx, 405, "この操作は受け付けていません。");
        } else {
            page_error(ctx, 404, "お探しのページは見つかりません。");
        }
        return false;
    }
    ctx->route = r;
    if (!(r->flags & ROUTE_PUBLIC) || strcmp(r->pattern, "/login") == 0)
        auth_load_session(ctx);
    /* a half-authenticated session (password right, code due) opens nothing but /login/totp
       and logout */
    if (ctx->user != NULL && ctx->totp_pending &&
        !(r->flags & (ROUTE_TOTP_STEP | ROUTE_PUBLIC))) {
        http_redirect(req, 303, "/login/totp");
        return false;
    }
    if (!(r->flags & ROUTE_PUBLIC)) {
        if (ctx->user == NULL) {
            http_redirect(req, 303, "/login");
            return false;
        }
        if (!(r->roles & role_bit(ctx->user->role))) {
            web_audit_now(ctx, "access_denied", req->path, "denied", "role");
            page_error(ctx, 403, "この画面を利用する権限がありません。");
            return false;
        }
    }
    /* the roles that must use two-factor authentication enrol before anything else (after the
       forced password change, which dispatch sends them to first) */
    if (web_totp_enrolment_due(ctx) &&
        !(r->flags & (ROUTE_PENDING_OK | ROUTE_TOTP_ENROL | ROUTE_PUBLIC))) {
        http_redirect(req, 303, "/account/totp");
        return false;
    }
    return true;
}

/* After the gate, with the whole body: CSRF, the forced first password change, the handler. */
static void dispatch(web_ctx *ctx)
{
    http_request *req = ctx->req;
    const route *r = ctx->route;
    if ((r->flags & ROUTE_CSRF) && !auth_csrf_valid(ctx, http_form(req, "csrf"))) {
        web_audit_now(ctx, "csrf_rejected", req->path, "denied", NULL);
        page_error(ctx, 403,
                   "画面の有効期限が切れたか、不正な送信です。画面を開き直してから操作してください。");
        return;
    }
    if (ctx->user != NULL && ctx->user->must_change_password && !(r->flags & ROUTE_PENDING_OK)) {
        http_redirect(req, 303, "/account/password");
        return;
    }
    r->handler(ctx);
}

static void release_conn(web_ctx *ctx)
{
    if (ctx->conn != NULL)
        db_pool_release(ctx->app->pool, ctx->conn);
    ctx->conn = NULL;
}

size_t web_precheck(void *cls, http_request *req)
{
    web_ctx *ctx = arena_calloc(req->arena, 1, sizeof *ctx);
    ctx->app = cls;
    ctx->req = req;
    ctx->now = (int64_t)time(NULL);
    req->context = ctx;
    page_set_security_headers(req);
    bool pass = gate(ctx);
    /* no database connection is held while a (possibly slow) body arrives */
    release_conn(ctx);
    if (!pass) {
        req->answered = true;
        if (strcmp(req->method, "HEAD") == 0)
            strbuf_reset(&req->out);
        req->context = NULL;
        return 0;
    }
    return route_body_limit(ctx->route);
}

void web_handle(void *cls, http_request *req)
{
    web_ctx *ctx = req->context;
    if (ctx == NULL) { /* called without the precheck */
        (void)web_precheck(cls, req);
        if (req->answered)
            return;
        ctx = req->context;
    }
    ctx->now = (int64_t)time(NULL);
    dispatch(ctx);
    release_conn(ctx);
    if (strcmp(req->method, "HEAD") == 0)
        strbuf_reset(&req->out);
    req->context = NULL;
}
