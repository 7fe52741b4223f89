/*
 * serve.c — `nsdb serve`: opens the application, starts the HTTP server, the mail thread and the
 * media job, and runs until SIGTERM or SIGINT, then stops them in order (SPEC §4).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/mailer.h"
#include "core/import_job.h"
#include "core/media_job.h"
#include "http/http.h"
#include "store/users.h"
#include "util/log.h"
#include "web/web.h"

/* A city hall's staff may all come from one NAT address: generous, but one client cannot take
   the server's 4,096 connections. */
#define SERVE_PER_CLIENT_CONNECTIONS 256u
/* After the header deadline's grace an upload must average this many bytes per second. */
#define SERVE_MIN_UPLOAD_RATE 2048u
/* Bytes of request bodies being received at once, over all connections (8 uploads of 32 MB). */
#define SERVE_UPLOAD_BYTES_IN_FLIGHT ((size_t)256 * 1024 * 1024)

/* host receives the address part; cfg->listen_host points to it. */
static int parse_listen(const char *text, app_config *cfg, char *host, size_t host_size)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= host_size)
        return -1;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    cfg->listen_host = host;
    cfg->port = (uint16_t)port;
    return 0;
}

enum {
    O_LISTEN = 1, O_THREADS, O_URL, O_SECURE, O_PROXY, O_OPS, O_MEM, O_SMTP, O_FROM, O_PER_CLIENT,
    O_HEADER_TIMEOUT, O_HELPDESK
};

/* The options of serve go into the configuration; the --listen host is kept in listen_host. */
typedef struct serve_opts {
    app_config *cfg;
    char listen_host[256];
    long per_client; /* -1: the default (none behind a proxy, whose address every client shares) */
    long header_timeout;
} serve_opts;

/* A whole number in [min, max], or -1. */
static long parse_count(const char *arg, long min, long max)
{
    char *end = NULL;
    long v = strtol(arg, &end, 10);
    return end != arg && *end == '\0' && v >= min && v <= max ? v : -1;
}

static int serve_option(int opt, const char *arg, void *ctx)
{
    serve_opts *o = ctx;
    app_config *cfg = o->cfg;
    switch (opt) {
    case O_LISTEN:
        if (parse_listen(arg, cfg, o->listen_host, sizeof o->listen_host) != 0) {
            fprintf(stderr,
                    "nsdb: --listen は HOST:PORT の形で指定してください（例 127.0.0.1:8080）。\n");
            return EXIT_USAGE;
        }
        return 0;
    case O_THREADS: cfg->threads = (unsigned)atoi(arg); return 0;
    case O_URL:
        if (!app_public_url_valid(arg)) {
            fprintf(stderr,
                    "nsdb: --public-url は http:// または https:// で始まる URL です"
                    "（空白を含まず %d 文字以内。例 https://nsdb.example.go.jp）。\n",
                    APP_PUBLIC_URL_MAX);
            return EXIT_USAGE;
        }
        cfg->public_url = arg;
        return 0;
    case O_SECURE: cfg->secure_cookies = true; return 0;
    case O_PROXY: cfg->trust_proxy = true; return 0;
    case O_OPS: cfg->cost.opslimit = strtoull(arg, NULL, 10); return 0;
    case O_MEM: cfg->cost.memlimit = (size_t)strtoull(arg, NULL, 10) * 1024 * 1024; return 0;
    case O_SMTP: cfg->smtp_url = arg; return 0;
    case O_FROM: cfg->mail_from = arg; return 0;
    case O_PER_CLIENT:
        o->per_client = parse_count(arg, 0, 4096);
        if (o->per_client < 0) {
            fprintf(stderr, "nsdb: --max-connections-per-client は 0〜4096 の整数で指定してください"
                            "（0 は制限なし）。\n");
            return EXIT_USAGE;
        }
        return 0;
    case O_HEADER_TIMEOUT:
        o->header_timeout = parse_count(arg, 1, 3600);
        if (o->header_timeout < 0) {
            fprintf(stderr, "nsdb: --header-timeout は 1〜3600 の秒数で指定してください。\n");
            return EXIT_USAGE;
        }
        return 0;
    case O_HELPDESK:
        if (!app_helpdesk_valid(arg)) {
            fprintf(stderr, "nsdb: --helpdesk は改行を含まない %d 文字以内の連絡先です"
                            "（例 '電話 03-0000-0000（平日9時〜17時）'）。\n",
                    APP_HELPDESK_MAX);
            return EXIT_USAGE;
        }
        cfg->helpdesk = arg;
        return 0;
    default: return -1;
    }
}

int verb_serve(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"listen", required_argument, NULL, O_LISTEN},
                                         {"threads", required_argument, NULL, O_THREADS},
                                         {"public-url", required_argument, NULL, O_URL},
                                         {"secure-cookies", no_argument, NULL, O_SECURE},
                                         {"trust-proxy", no_argument, NULL, O_PROXY},
                                         {"pwhash-ops", required_argument, NULL, O_OPS},
                                         {"pwhash-mem-mib", required_argument, NULL, O_MEM},
                                         {"smtp", required_argument, NULL, O_SMTP},
                                         {"mail-from", required_argument, NULL, O_FROM},
                                         {"max-connections-per-client", required_argument, NULL,
                                          O_PER_CLIENT},
                                         {"header-timeout", required_argument, NULL, O_HEADER_TIMEOUT},
                                         {"helpdesk", required_argument, NULL, O_HELPDESK},
                                         MEDIA_LONG_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    serve_opts o = {.cfg = cfg, .per_client = -1, .header_timeout = 20};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, serve_option, &o);
    if (rc != 0)
        return rc;
    password_cost floor = password_cost_default();
    if (cfg->cost.opslimit < floor.opslimit || cfg->cost.memlimit < floor.memlimit) {
        fprintf(stderr, "nsdb: パスワードハッシュの強度は 2 パス・19 MiB 未満にできません。\n");
        return EXIT_USAGE;
    }
    if (cfg->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (unsigned)n : 2;
    }
    if (cfg->public_url != NULL && strncmp(cfg->public_url, "https://", 8) == 0)
        cfg->secure_cookies = true;

    /* SIGTERM/SIGINT are taken by sigwait below, in this thread only */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    app a;
    /* + mailer, media, keeper; an import worker two (its registrations beside, import_tail.h) */
    rc = open_app(&a, cfg, (int)cfg->threads + 3 + 2 * IMPORT_JOB_WORKERS);
    if (rc != 0)
        return rc;
    if (password_hash("nsdb-dummy-password-for-timing", cfg->cost, a.dummy_hash) != NSDB_OK) {
        app_close(&a);
        return EXIT_USER;
    }
    char upload_dir[4200];
    snprintf(upload_dir, sizeof upload_dir, "%s/tmp", cfg->data_dir);
    if (mkdir(upload_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "nsdb: 一時フォルダ %s を作成できません。\n", upload_dir);
        app_close(&a);
        return EXIT_USER;
    }
    unsigned per_client = o.per_client >= 0 ? (unsigned)o.per_client
                          : cfg->trust_proxy ? 0u
                                             : SERVE_PER_CLIENT_CONNECTIONS;
    http_server_config hc = {.listen_host = cfg->listen_host,
                             .port = cfg->port,
                             .threads = cfg->threads,
                             .connection_timeout_seconds = 30,
                             .header_memory_limit = 64 * 1024,
                             .trust_proxy = cfg->trust_proxy,
                             .per_client_connection_limit = per_client,
                             .header_timeout_seconds = (unsigned)o.header_timeout,
                             .min_body_rate = SERVE_MIN_UPLOAD_RATE,
                             .body_bytes_in_flight_cap = SERVE_UPLOAD_BYTES_IN_FLIGHT,
                             .upload_tmp_dir = upload_dir};
    /* before the first request: what a stopped server left unfinished ends failed first */
    if (import_jobs_start(&a, &a.import_jobs) != NSDB_OK) {
        fprintf(stderr, "nsdb: 一括登録のスレッドを開始できません。\n");
        app_close(&a);
        return EXIT_USER;
    }
    http_server *srv = NULL;
    if (http_server_start(&hc, web_handle, web_precheck, &a, &srv) != NSDB_OK) {
        fprintf(stderr,
                "nsdb: %s:%u で待ち受けできません（ポートが使用中か、アドレスが不正です）。\n",
                cfg->listen_host, (unsigned)cfg->port);
        import_jobs_stop(a.import_jobs);
        app_close(&a);
        return EXIT_USER;
    }
    if (mailer_thread_start(&a, 10, &a.mailer) != NSDB_OK ||
        media_job_create(&a, &a.media_job) != NSDB_OK) {
        fprintf(stderr, "nsdb: メール送信または媒体作成のスレッドを開始できません。\n");
        http_server_stop(srv);
        import_jobs_stop(a.import_jobs);
        mailer_thread_stop(a.mailer);
        app_close(&a);
        return EXIT_USER;
    }
    printf("nsdb: http://%s:%u/ で待ち受けています（データ: %s）。停止は Ctrl-C。\n",
           cfg->listen_host, (unsigned)http_server_port(srv), cfg->data_dir);
    db *conn = db_pool_acquire(a.pool);
    int64_t users = -1; /* unknown when the count fails: no hint then */
    if (store_user_count(conn, &users) != NSDB_OK)
        users = -1;
    db_pool_release(a.pool, conn);
    if (users == 0)
        printf("nsdb: ユーザがまだいません。最初のユーザは別の端末で次のように作成します:\n"
               "  ./nsdb user add --data %s --role mhlw --name '難病対策課 担当'\n"
               "  （表示されたユーザIDと初期パスワードでログインし、パスワードを変更します）\n",
               cfg->data_dir);
    if (cfg->public_url == NULL) {
        arena *ar = arena_new();
        printf("nsdb: --public-url がないため、通知書とメールのログインURLは %s です。\n",
               app_login_url(&a.cfg, ar));
        arena_free(ar);
    }
    fflush(stdout);
    log_event(LOG_INFO, "server_started", "listen", cfg->listen_host, NULL);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_event(LOG_INFO, "server_stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    http_server_stop(srv);
    media_job_destroy(a.media_job); /* a build stops after its current media */
    import_jobs_stop(a.import_jobs); /* a running import ends as failed */
    mailer_thread_stop(a.mailer);
    app_close(&a);
    return 0;
}
