/*
 * app.c — opening the application: data folder, secret key, database and migrations,
 * templates.
 */
#include "core/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/media.h"
#include "core/search_keys.h"
#include "domain/totp.h"
#include "store/migrate.h"
#include "util/log.h"
#include "util/str.h"

/* The default cycle calendar is generated into the database this far ahead. */
#define APP_CYCLES_THROUGH_YEAR 2035

void app_config_defaults(app_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->data_dir = "./var";
    cfg->database_url = NULL;
    cfg->listen_host = "127.0.0.1";
    cfg->port = 8080;
    cfg->threads = 0; /* 0: number of CPUs */
    cfg->public_url = NULL;
    cfg->helpdesk = NULL;
    cfg->cost = password_cost_default();
    cfg->session_idle_seconds = 30 * 60;
    cfg->session_absolute_seconds = 12 * 60 * 60;
    cfg->max_login_failures = 5;
    cfg->lock_seconds = 15 * 60;
    cfg->mail_from = "noreply@nsdb.invalid";
    cfg->vpn_remote = "vpn.nsdb.invalid 1194";
    cfg->sender_name = "難病・小慢データベース 運用事業者";
    cfg->sender_postal = "100-0000";
    cfg->sender_address = "（発送元の住所は --sender-address で設定してください）";
    cfg->sender_phone = "";
}

bool app_helpdesk_valid(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || !str_is_clean_utf8(text, n) || str_utf8_length(text) > APP_HELPDESK_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return false;
    return true;
}

bool app_public_url_valid(const char *url)
{
    if (url == NULL || strlen(url) > APP_PUBLIC_URL_MAX)
        return false;
    const char *host = strncmp(url, "https://", 8) == 0  ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7
                                                         : NULL;
    if (host == NULL || *host == '\0' || *host == '/')
        return false;
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

const char *app_login_url(const app_config *cfg, arena *a)
{
    const char *base = cfg->public_url;
    if (base == NULL || !app_public_url_valid(base)) {
        const char *host = cfg->listen_host;
        if (host == NULL || *host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
            strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
            host = "127.0.0.1";
        bool bare_ipv6 = strchr(host, ':') != NULL && host[0] != '[';
        base = arena_printf(a, "http://%s%s%s:%u", bare_ipv6 ? "[" : "", host, bare_ipv6 ? "]" : "",
                            (unsigned)cfg->port);
    }
    size_t n = strlen(base);
    return arena_printf(a, "%.*s/login", (int)(n > 0 && base[n - 1] == '/' ? n - 1 : n), base);
}

static NSDB_MUST_CHECK nsdb_err data_dir_ensure(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "nsdb: データフォルダ %s を作成できません: %s\n", dir, strerror(errno));
        return NSDB_ERR_IO;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nsdb: %s はフォルダではありません。\n", dir);
        return NSDB_ERR_IO;
    }
    return NSDB_OK;
}

/* The stored search keys follow the table of name variants of this program (core/search_keys.h). */
static nsdb_err app_search_keys_current(app *a, db *conn)
{
    arena *ar = arena_new();
    core_ctx c = {.app = a, .conn = conn, .arena = ar, .who = core_actor_cli()};
    int64_t users = 0;
    nsdb_err e = core_search_keys_refold(&c, &users);
    if (e == NSDB_OK && users > 0)
        log_event(LOG_INFO, "search_keys_refolded", "users", arena_printf(ar, "%lld", (long long)users),
                  NULL);
    arena_free(ar);
    return e;
}

nsdb_err app_open(app *a, const app_config *cfg, int pool_size)
{
    memset(a, 0, sizeof *a);
    a->cfg = *cfg;
    if (sodium_init() < 0 || totp_library_init() != NSDB_OK)
        return NSDB_ERR_CRYPTO;
    const char *url = cfg->database_url;
    if (url != NULL && *url != '\0' && strncmp(url, "sqlite:", 7) != 0 &&
        strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0) {
        fprintf(stderr, "nsdb: --database には sqlite:ファイル名 または postgresql://… を指定して"
                        "ください。\n");
        return NSDB_ERR_INVALID;
    }
    nsdb_err e = data_dir_ensure(cfg->data_dir);
    if (e != NSDB_OK)
        return e;
    char path[4096];
    snprintf(path, sizeof path, "%s/secret.key", cfg->data_dir);
    e = secret_key_load_or_create(path, &a->key);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: 秘密鍵 %s を読めません。\n", path);
        return e;
    }
    e = db_pool_open(cfg->database_url, cfg->data_dir, pool_size, &a->pool);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: データベースを開けません%s。\n",
                url != NULL && strncmp(url, "postgres", 8) == 0
                    ? "（PostgreSQL: 接続 URL とサーバーを確認してください）"
                    : "");
        app_close(a);
        return e;
    }
    db *conn = db_pool_acquire(a->pool);
    int applied = 0;
    e = migrate_apply_all(conn, &applied);
    if (e == NSDB_OK)
        e = media_cycles_ensure(conn, APP_CYCLES_THROUGH_YEAR);
    if (e == NSDB_OK)
        e = app_search_keys_current(a, conn);
    db_pool_release(a->pool, conn);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: データベースの更新（マイグレーション）に失敗しました。\n");
        app_close(a);
        return e;
    }
    a->templates = template_set_new();
    char *err = NULL;
    if (a->templates == NULL || template_set_add_embedded(a->templates, &err) != NSDB_OK) {
        fprintf(stderr, "nsdb: template error: %s\n", err ? err : "out of memory");
        free(err);
        app_close(a);
        return NSDB_ERR_PARSE;
    }
    return NSDB_OK;
}

void app_close(app *a)
{
    template_set_free(a->templates);
    a->templates = NULL;
    db_pool_close(a->pool);
    a->pool = NULL;
    secret_key_wipe(&a->key);
}
