/*
 * admin_verbs.c — the operator's housekeeping verbs: `migrate`, `mail send` (one pass over the
 * outbox), `audit` (the audit log, newest first), `backup` (online SQLite copy) and `version`.
 */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/mailer.h"
#include "store/backup.h"
#include "store/audit.h"
#include "util/arena.h"

/* The options of mail send and audit. */
enum { O_SMTP = 1, O_FROM, O_JSON, O_LIMIT };

int verb_migrate(int argc, char **argv, app_config *cfg)
{
    int rc = parse_common_only(argc, argv, cfg);
    if (rc != 0)
        return rc;
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    printf("nsdb: データベースは最新です。\n");
    app_close(&a);
    return 0;
}

static int mail_send_option(int opt, const char *arg, void *ctx)
{
    app_config *cfg = ctx;
    if (opt == O_SMTP)
        cfg->smtp_url = arg;
    else if (opt == O_FROM)
        cfg->mail_from = arg;
    else
        return -1;
    return 0;
}

int verb_mail_send(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"smtp", required_argument, NULL, O_SMTP},
                                         {"mail-from", required_argument, NULL, O_FROM},
                                         {NULL, 0, NULL, 0}};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, mail_send_option, cfg);
    if (rc != 0)
        return rc;
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    mailer_result r;
    nsdb_err e = mailer_flush(&a, true, &r);
    app_close(&a);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: 送信待ちメールを処理できません: %s\n", nsdb_err_message(e));
        return EXIT_USER;
    }
    printf("送信 %d 件、再送待ち %d 件、送信不能 %d 件\n", r.sent, r.retried, r.failed);
    return r.retried + r.failed > 0 ? EXIT_USER : 0;
}
typedef struct audit_opts {
    bool json;
    long limit;
} audit_opts;

static int audit_option(int opt, const char *arg, void *ctx)
{
    audit_opts *o = ctx;
    if (opt == O_JSON) {
        o->json = true;
    } else if (opt == O_LIMIT) {
        o->limit = atol(arg);
        if (o->limit <= 0) {
            fprintf(stderr, "nsdb: --limit は 1 以上の整数です。\n");
            return EXIT_USAGE;
        }
    } else {
        return -1;
    }
    return 0;
}

int verb_audit(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"json", no_argument, NULL, O_JSON},
                                         {"limit", required_argument, NULL, O_LIMIT},
                                         {NULL, 0, NULL, 0}};
    audit_opts o = {.limit = 100};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, audit_option, &o);
    if (rc != 0)
        return rc;
    bool json = o.json;
    long limit = o.limit;
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    db *conn = db_pool_acquire(a.pool);
    arena *ar = arena_new();
    store_audit *rows = NULL;
    size_t n = 0;
    if (store_audit_list(conn, ar, limit, &rows, &n) != NSDB_OK) {
        fprintf(stderr, "nsdb: 監査ログを読めません。\n");
        rc = EXIT_USER;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_audit *r = &rows[i];
        if (json) {
            json_array_append_new(list, json_pack("{s:I, s:I, s:s?, s:s?, s:s, s:s?, s:s, s:s?}",
                                                  "id", (json_int_t)r->id, "at", (json_int_t)r->at,
                                                  "actor", r->actor_user_id, "ip", r->client_ip,
                                                  "action", r->action, "target", r->target,
                                                  "result", r->result, "detail", r->detail));
        } else {
            char when[32];
            time_t t = (time_t)r->at;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", when, r->actor_user_id ? r->actor_user_id : "-",
                   r->client_ip ? r->client_ip : "-", r->action, r->target ? r->target : "-",
                   r->result, r->detail ? r->detail : "");
        }
    }
    if (json)
        cli_print_json(list, JSON_INDENT(2));
    else
        json_decref(list);
    arena_free(ar);
    db_pool_release(a.pool, conn);
    app_close(&a);
    return rc;
}
int verb_backup(int argc, char **argv, app_config *cfg)
{
    int rc = parse_common_only(argc, argv, cfg);
    if (rc != 0)
        return rc;
    if (optind != argc - 1) {
        usage_verb(stderr, current_verb);
        return EXIT_USAGE;
    }
    const char *target = argv[optind];
    if (access(target, F_OK) == 0) {
        fprintf(stderr, "nsdb: %s は既に存在します。別のファイル名を指定してください。\n", target);
        return EXIT_USER;
    }
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    if (db_pool_dialect(a.pool) != DB_SQLITE) {
        fprintf(stderr, "nsdb: PostgreSQL のバックアップには pg_dump を使ってください。\n");
        app_close(&a);
        return EXIT_USER;
    }
    nsdb_err e = store_backup_sqlite(a.pool, target);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: バックアップに失敗しました: %s\n", nsdb_err_message(e));
        rc = EXIT_USER;
    } else {
        /* neither key is in the database: without secret.key the sealed passwords and
           passphrases are lost, without ca/ca.key no certificate or CRL can be signed again */
        printf("nsdb: %s にバックアップしました。秘密鍵 %s/secret.key と VPN 認証局の鍵 "
               "%s/ca/ca.key（と証明書 ca/ca.crt）は別に保管してください。\n",
               target, cfg->data_dir, cfg->data_dir);
    }
    app_close(&a);
    return rc;
}

int verb_version(int argc, char **argv, app_config *cfg)
{
    int rc = parse_common_only(argc, argv, cfg);
    if (rc != 0)
        return rc;
    printf("nsdb %s (SQLite %s, libsodium %s)\n", NSDB_VERSION, store_sqlite_version(),
           sodium_version_string());
    return 0;
}
