/*
 * app.h — the running application: configuration, the data folder (database, secret key, mail),
 * the connection pool, the templates. Opened once by every CLI verb that needs storage.
 */
#ifndef NSDB_APP_H
#define NSDB_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/password.h"
#include "domain/secret.h"
#include "store/db.h"
#include "util/arena.h"
#include "util/template.h"

typedef struct app_config {
    const char *data_dir;
    const char *database_url;
    const char *listen_host;
    uint16_t port;
    unsigned threads;
    const char *public_url; /* e.g. https://nsdb.example.go.jp — login URL on notices and mail */
    const char *helpdesk;   /* help desk contact on notices, mail and pages; NULL: none */
    bool secure_cookies;    /* Secure attribute: on behind TLS */
    bool trust_proxy;
    password_cost cost;
    int session_idle_seconds;
    int session_absolute_seconds;
    int max_login_failures;
    int lock_seconds;
    const char *smtp_url;  /* smtp://host:port; NULL: mail is written as .eml files */
    const char *mail_from; /* sender address of outgoing mail */
    const char *media_template; /* the operator's media template folder (manuals, tools, VPN) */
    const char *vpn_remote;     /* "host port" written into the VPN profile on each media */
    const char *sender_name, *sender_postal, *sender_address, *sender_phone; /* 発送元 label */
} app_config;

typedef struct app {
    app_config cfg;
    db_pool *pool;
    template_set *templates;
    secret_key key;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown users: same time, same answer */
    struct mailer_thread *mailer;            /* woken when mail is queued; NULL outside serve */
    struct media_job *media_job;             /* the operator's media build; NULL outside serve */
    struct import_jobs *import_jobs;         /* background 一括登録; NULL outside serve */
} app;

/* Defaults of SPEC §3 and §7. */
void app_config_defaults(app_config *cfg);
/* Whether url may be the --public-url: http:// or https:// with a host, printable ASCII without
   spaces, at most APP_PUBLIC_URL_MAX bytes (it is printed on notices and mailed). */
#define APP_PUBLIC_URL_MAX 200
bool app_public_url_valid(const char *url);
/* Whether text may be the --helpdesk contact: 1–APP_HELPDESK_MAX characters of clean UTF-8 on one
   line (no control characters), as it is printed on notices and mailed. */
#define APP_HELPDESK_MAX 100
bool app_helpdesk_valid(const char *text);
/* The login URL printed on the ID・PW発行通知書 and in the ⑦ mails, in a: the configured
   public_url + "/login", else http://HOST:PORT/login of the listen address (127.0.0.1 for a
   wildcard address). Configuration only: never a request's Host header, which a client writes. */
const char *app_login_url(const app_config *cfg, arena *a);
/* Creates the data folder (0700), key and database on first use, applies migrations, loads the
   templates. pool_size: connections to open. Errors are explained on stderr. */
NSDB_MUST_CHECK nsdb_err app_open(app *a, const app_config *cfg, int pool_size);
void app_close(app *a);

#endif
