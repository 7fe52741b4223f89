/*
 * web.h — what the screens share: the application (configuration, pool, templates, key), the
 * per-request context the router fills in, roles, and the helpers that render pages, check
 * input and call core/ operations. Handlers stay thin: parse, call the operation, render; no
 * handler opens a transaction or writes to the store.
 */
#ifndef NSDB_WEB_H
#define NSDB_WEB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/actor.h"
#include "core/app.h"
#include "core/sessions.h"
#include "domain/password.h"
#include "domain/states.h"
#include "domain/secret.h"
#include "http/http.h"
#include "store/db.h"
#include "store/users.h"
#include "util/template.h"

/* Route flags. */
enum {
    ROUTE_PUBLIC = 1 << 0,     /* no login needed */
    ROUTE_CSRF = 1 << 1,       /* state-changing: a valid csrf field is required */
    ROUTE_PENDING_OK = 1 << 2, /* reachable before the forced first password change */
    ROUTE_UPLOAD = 1 << 3,     /* accepts a large multipart body */
    ROUTE_TOTP_STEP = 1 << 4,  /* reachable by a half-authenticated session (code still due) */
    ROUTE_TOTP_ENROL = 1 << 5, /* reachable before a role that must enrol has enrolled */
};

typedef struct web_ctx web_ctx;
typedef void (*web_handler_fn)(web_ctx *ctx);

typedef struct route {
    const char *method;
    const char *pattern; /* "/users/{}/notice.pdf": {} matches one path segment */
    web_handler_fn handler;
    unsigned roles;
    unsigned flags;
    const void *arg; /* the handler's own data (a user_button for the 操作 buttons), or NULL */
} route;

struct web_ctx {
    app *app;
    http_request *req;
    const route *route;
    int64_t now;
    db *conn;              /* acquired on first use, released when the request ends */
    store_user *user;      /* NULL when not logged in */
    const char *session_token; /* from the cookie; never logged */
    char session_hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    const char *csrf_token;
    bool totp_pending; /* the session's password was right; the second factor is still due */
};

/* routes.c */
void web_handle(void *cls, http_request *req);
/* Runs when the headers are in (http_precheck_fn): route, login, role; the body limit. */
size_t web_precheck(void *cls, http_request *req);

/* context.c */
db *web_db(web_ctx *ctx);
/* The context a core/ operation is called with: the request's connection and arena, the
   logged-in user (if any), the client address and the request time. */
core_ctx web_core(web_ctx *ctx);
/* An audit record of an event that changes nothing (a refused request); errors are logged. */
void web_audit_now(web_ctx *ctx, const char *action, const char *target, const char *result,
                   const char *detail);
/* The HTTP status for an operation's problem (400 invalid, 404 not found, 409 conflict, 503 for
   storage and other failures …), and the error page that shows its message. */
int web_problem_status(const nsdb_problem *pb);
void web_problem_page(web_ctx *ctx, const nsdb_problem *pb);

/* bearer.c: the request's "Authorization: Bearer" token. NONE: no such header (or not a token's
   shape); REFUSED: unknown, revoked or expired (audited); UNAVAILABLE: it could not be checked. */
typedef enum web_bearer {
    WEB_BEARER_NONE = 1,
    WEB_BEARER_VALID,
    WEB_BEARER_REFUSED,
    WEB_BEARER_UNAVAILABLE,
} web_bearer;
web_bearer web_bearer_check(web_ctx *ctx);

/* auth.c */
void auth_load_session(web_ctx *ctx);
/* Sets the cookie of a session core_login or core_password_change opened. */
void auth_start_session(web_ctx *ctx, const core_session *s);
/* Clears the session cookie (core_logout ended the session itself). */
void auth_end_session(web_ctx *ctx);
/* The CSRF token for forms on this page (sets the anonymous cookie when needed). */
const char *auth_csrf_token(web_ctx *ctx);
bool auth_csrf_valid(web_ctx *ctx, const char *submitted);

/* page.c */
json_t *page_data(web_ctx *ctx, const char *title);
/* Renders templates/<name>.html inside the layout and sets a 200 (or req->status) response.
   Takes ownership of data. */
void page_render(web_ctx *ctx, const char *name, json_t *data);
void page_error(web_ctx *ctx, int status, const char *message);
void page_set_security_headers(http_request *req);
/* Sends a file that write_file creates at a temporary path (xlsx templates written by
   libxlsxwriter, which writes only to files); a Japanese error page when it fails. */
void page_send_generated(web_ctx *ctx, nsdb_err (*write_file)(const char *path),
                         const char *content_type, const char *filename);
/* obj[key] = value (null for NULL) for the rows of long lists: key is an ASCII literal and the
   value is checked as UTF-8 by one tight loop instead of jansson's check, which costs a function
   call per byte (a page of 50 search results spent a sixth of its time there). Text that is not
   clean UTF-8 becomes U+FFFD. */
void page_row_text(json_t *obj, const char *key, const char *value);
void page_row_bool(json_t *obj, const char *key, bool value);
/* Sets data["total"] and, past the search's count cap, data["total_label"]. */
void page_set_total(json_t *data, int64_t total);
/* The query parameters of the request named in keys[0..n) that are present and not empty, each
   percent-encoded, as "k=v&" pairs (a paging link appends "page=N"); in the request arena. */
const char *page_query_string(web_ctx *ctx, const char *const *keys, size_t n);
/* "2026-11-25 14:03" in Japan time, in the request arena. */
const char *page_format_time(web_ctx *ctx, int64_t unix_time);
/* Adds {field: message} to data["errors"] and an entry to data["error_list"] for the summary. */
void page_add_error(json_t *data, const char *field, const char *label, const char *message);

/* totp.c: whether the logged-in user must enrol in two-factor authentication before anything
   but the enrolment page, the password change and logout. */
bool web_totp_enrolment_due(const web_ctx *ctx);

/* screens */
void web_login_form(web_ctx *ctx);
void web_login_submit(web_ctx *ctx);
void web_logout(web_ctx *ctx);
void web_account_form(web_ctx *ctx);
void web_account_submit(web_ctx *ctx);
void web_totp_form(web_ctx *ctx);
void web_totp_submit(web_ctx *ctx);
void web_totp_disable(web_ctx *ctx);
void web_login_totp_form(web_ctx *ctx);
void web_login_totp_submit(web_ctx *ctx);
/* The confirmation page of 二要素認証の初期化 (GET on the path of the POST; arg: user_button). */
void web_user_totp_reset_confirm(web_ctx *ctx);
void web_menu(web_ctx *ctx);
void web_healthz(web_ctx *ctx);
void web_metrics(web_ctx *ctx);
void web_static(web_ctx *ctx);
void web_audit_list(web_ctx *ctx);
void web_admin_lists(web_ctx *ctx);
void web_admin_list_template(web_ctx *ctx);
void web_admin_list_upload(web_ctx *ctx);
void web_admin_list_show(web_ctx *ctx);
void web_admin_list_file(web_ctx *ctx);
void web_admin_list_approve(web_ctx *ctx);
void web_admin_list_reject(web_ctx *ctx);
void web_admin_list_issue(web_ctx *ctx);
void web_muni_user_new_form(web_ctx *ctx);
void web_muni_user_new_submit(web_ctx *ctx);
void web_muni_users(web_ctx *ctx);
void web_muni_user_edit_form(web_ctx *ctx);
void web_muni_user_edit_submit(web_ctx *ctx);
void web_user_notice(web_ctx *ctx);
void web_inst_user_notices(web_ctx *ctx);
void web_inst_user_new_form(web_ctx *ctx);
void web_inst_user_new_submit(web_ctx *ctx);
void web_inst_users(web_ctx *ctx);
void web_inst_user_edit_form(web_ctx *ctx);
void web_inst_user_edit_submit(web_ctx *ctx);
void web_registrations(web_ctx *ctx);
void web_media(web_ctx *ctx);
void web_media_receive(web_ctx *ctx);
void web_media_passphrases(web_ctx *ctx);
void web_media_forward(web_ctx *ctx);
void web_media_damage(web_ctx *ctx);
void web_cycles(web_ctx *ctx);
void web_cycle_adjust(web_ctx *ctx);
void web_media_board(web_ctx *ctx);
void web_media_build(web_ctx *ctx);
void web_media_pack(web_ctx *ctx);
void web_forms(web_ctx *ctx);
void web_forms_csv(web_ctx *ctx);
void web_forms_xlsx(web_ctx *ctx);
void web_inst_user_import(web_ctx *ctx);
void web_inst_user_import_result(web_ctx *ctx);
void web_inst_user_import_csv(web_ctx *ctx);
void web_institution_users(web_ctx *ctx);
/* institutions.c: 医療機関情報の修正 and the operator's search of the institution master */
void web_institution_edit_form(web_ctx *ctx);
void web_institution_edit_submit(web_ctx *ctx);
void web_institutions(web_ctx *ctx);
/* パスワード初期化, 利用停止 and 再開 of the three user screens: the route's arg is a
   user_button (user_actions.h). */
void web_user_button(web_ctx *ctx);
void web_me(web_ctx *ctx);
void web_registrations_csv(web_ctx *ctx);
void web_registrations_api(web_ctx *ctx);
/* mail_desk.c: the operator's screen of mail not sent, and the outbox gauges of /metrics */
void web_mail_desk(web_ctx *ctx);
void web_mail_resend_form(web_ctx *ctx);
void web_mail_resend(web_ctx *ctx);
void web_mail_metrics_write(web_ctx *ctx, strbuf *out);

#endif
