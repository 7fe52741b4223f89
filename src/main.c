/*
 * main.c — the command line: `nsdb VERB [options]`. Every verb is declared once in VERBS with
 * its help text; each accepts --data DIR and --database URL. Exit status: 0 success, 1 user
 * error (message on stderr), 2 usage.
 */
#include <dlfcn.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/accounts.h"
#include "core/registry.h"
#include "core/users.h"
#include "domain/fields.h"
#include "core/app.h"
#include "core/mailer.h"
#include "core/media_job.h"
#include "domain/smtp.h"
#include "domain/ids.h"
#include "domain/session_token.h"
#include "domain/states.h"
#include "http/http.h"
#include "store/api_tokens.h"
#include "store/audit.h"
#include "store/backup.h"
#include "store/migrate.h"
#include "store/municipalities.h"
#include "util/log.h"
#include "web/web.h"

#include "cli/cli.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_PAUSE() __lsan_disable()
#define LSAN_RESUME() __lsan_enable()
#else
#define LSAN_PAUSE() ((void)0)
#define LSAN_RESUME() ((void)0)
#endif

/* Loads fontconfig's configuration once before any PDF is drawn: the first request does not pay
   for it, and the few hundred bytes fontconfig keeps for the life of the process (inside the
   library) do not show up as a leak in the sanitizer build. Looked up at run time because nsdb
   links fontconfig only through Pango. */
static void fonts_preload(void)
{
    int (*fc_init)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "FcInit");
    LSAN_PAUSE();
    if (fc_init != NULL)
        fc_init();
    LSAN_RESUME();
}

static int verb_serve(int argc, char **argv, app_config *cfg);
static int verb_migrate(int argc, char **argv, app_config *cfg);
static int verb_user_add(int argc, char **argv, app_config *cfg);
static int verb_municipality_add(int argc, char **argv, app_config *cfg);
static int verb_audit(int argc, char **argv, app_config *cfg);
static int verb_backup(int argc, char **argv, app_config *cfg);
static int verb_version(int argc, char **argv, app_config *cfg);
static int verb_mail_send(int argc, char **argv, app_config *cfg);
static int verb_token_add(int argc, char **argv, app_config *cfg);

static const verb VERBS[] = {
    {"serve", verb_serve,
     "serve [--listen HOST:PORT] [--threads N] [--public-url URL] [--secure-cookies] "
     "[--trust-proxy] [--pwhash-ops N] [--pwhash-mem-mib N] [--smtp smtp://HOST:PORT] "
     "[--mail-from ADDRESS] [--media-template DIR] [--vpn-remote 'HOST PORT'] "
     "[--sender-name N --sender-postal P --sender-address A --sender-phone T]",
     "Web サーバを起動します（初回はデータフォルダ・データベース・秘密鍵を作成）。"},
    {"migrate", verb_migrate, "migrate", "データベースを最新のスキーマに更新します。"},
    {"user add", verb_user_add,
     "user add --role ROLE --name NAME [--name-kana KANA] [--municipality CODE] [--email E] "
     "[--department D] [--category nanbyo|shoman|both] [--json]",
     "ユーザを登録し、ユーザIDと初期パスワードを表示します。ROLE: mhlw operator muni_admin "
     "muni_staff"},
    {"municipality add", verb_municipality_add,
     "municipality add --code CODE --name NAME [--postal NNN-NNNN --address ADDRESS]",
     "地方公共団体を登録します（地方公共団体コードは検査数字つき6桁）。"},
    {"mail send", verb_mail_send, "mail send [--smtp smtp://HOST:PORT] [--mail-from ADDRESS]",
     "送信待ちのメールを1回送ります（--smtp がなければ DATA/mail/ に .eml として書き出します）。"},
    {"cycle list", verb_cycle_list, "cycle list [--json] [--from YYYY-MM-DD]",
     "媒体送付サイクル（登録・媒体作成・送付の期間）を表示します。"},
    {"media build", verb_media_build, "media build --cycle ID --template DIR [--json]",
     "サイクルの媒体（医療機関ごとの ISO イメージ）を作成します。"},
    {"media list", verb_media_list, "media list [--cycle ID] [--json]", "媒体の一覧を表示します。"},
    {"package build", verb_package_build,
     "package build --cycle ID [--json] [--sender-name N --sender-postal P --sender-address A "
     "--sender-phone T]",
     "サイクルの媒体を自治体ごとに梱包します（レターパックプラス1つに15枚まで）。"},
    {"token add", verb_token_add, "token add --name NAME [--json]",
     "運用事業者の API（/api/v1/registrations）用のトークンを発行します。表示は一度だけです。"},
    {"audit", verb_audit, "audit [--json] [--limit N]", "監査ログを新しい順に表示します。"},
    {"backup", verb_backup, "backup FILE", "SQLite データベースをオンラインでバックアップします。"},
    {"version", verb_version, "version", "バージョンを表示します。"},
};

static const char COMMON_OPTIONS[] =
    "  --data DIR        データフォルダ（既定: ./var）\n"
    "  --database URL    データベース（既定: データフォルダ内の SQLite）\n"
    "  --help            この説明\n";

static void usage_all(FILE *out)
{
    fputs("使い方: nsdb VERB [options]\n\n", out);
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
        fprintf(out, "  nsdb %s\n      %s\n", VERBS[i].usage, VERBS[i].help);
    fprintf(out, "\n共通オプション:\n%s", COMMON_OPTIONS);
}

void usage_verb(FILE *out, const verb *v)
{
    fprintf(out, "使い方: nsdb %s\n%s\n\n共通オプション:\n%s", v->usage, v->help, COMMON_OPTIONS);
}

const verb *current_verb;

/* Handles a common option; returns -1 when opt is not one, else an exit code or 0 to go on. */
int common_option(int opt, app_config *cfg)
{
    switch (opt) {
    case OPT_DATA:
        cfg->data_dir = optarg;
        return 0;
    case OPT_DATABASE:
        cfg->database_url = optarg;
        return 0;
    case OPT_HELP:
        usage_verb(stdout, current_verb);
        exit(0);
    case '?':
        usage_verb(stderr, current_verb);
        exit(EXIT_USAGE);
    default:
        return -1;
    }
}

static int parse_common_only(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1)
        if (common_option(opt, cfg) < 0)
            return EXIT_USAGE;
    return 0;
}

int open_app(app *a, const app_config *cfg, int pool_size)
{
    return app_open(a, cfg, pool_size) == NSDB_OK ? 0 : EXIT_USER;
}

/* ---- serve ---- */

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

static int verb_serve(int argc, char **argv, app_config *cfg)
{
    enum { O_LISTEN = 1, O_THREADS, O_URL, O_SECURE, O_PROXY, O_OPS, O_MEM, O_SMTP, O_FROM };
    static const struct option OPTS[] = {
        COMMON_LONG_OPTIONS,
        {"listen", required_argument, NULL, O_LISTEN},
        {"threads", required_argument, NULL, O_THREADS},
        {"public-url", required_argument, NULL, O_URL},
        {"secure-cookies", no_argument, NULL, O_SECURE},
        {"trust-proxy", no_argument, NULL, O_PROXY},
        {"pwhash-ops", required_argument, NULL, O_OPS},
        {"pwhash-mem-mib", required_argument, NULL, O_MEM},
        {"smtp", required_argument, NULL, O_SMTP},
        {"mail-from", required_argument, NULL, O_FROM},
        MEDIA_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    char listen_host[256];
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0 || media_option(opt, cfg) == 0)
            continue;
        switch (opt) {
        case O_LISTEN:
            if (parse_listen(optarg, cfg, listen_host, sizeof listen_host) != 0) {
                fprintf(stderr, "nsdb: --listen は HOST:PORT の形で指定してください（例 127.0.0.1:8080）。\n");
                return EXIT_USAGE;
            }
            break;
        case O_THREADS:
            cfg->threads = (unsigned)atoi(optarg);
            break;
        case O_URL:
            cfg->public_url = optarg;
            break;
        case O_SECURE:
            cfg->secure_cookies = true;
            break;
        case O_PROXY:
            cfg->trust_proxy = true;
            break;
        case O_OPS:
            cfg->cost.opslimit = strtoull(optarg, NULL, 10);
            break;
        case O_MEM:
            cfg->cost.memlimit = (size_t)strtoull(optarg, NULL, 10) * 1024 * 1024;
            break;
        case O_SMTP:
            cfg->smtp_url = optarg;
            break;
        case O_FROM:
            cfg->mail_from = optarg;
            break;
        default:
            usage_verb(stderr, current_verb);
            return EXIT_USAGE;
        }
    }
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
    int rc = open_app(&a, cfg, (int)cfg->threads + 2);
    if (rc != 0)
        return rc;
    if (password_hash("nsdb-dummy-password-for-timing", cfg->cost, a.dummy_hash) != NSDB_OK) {
        app_close(&a);
        return EXIT_USER;
    }
    http_server_config hc = {.listen_host = cfg->listen_host,
                             .port = cfg->port,
                             .threads = cfg->threads,
                             .connection_timeout_seconds = 30,
                             .header_memory_limit = 64 * 1024,
                             .trust_proxy = cfg->trust_proxy};
    http_server *srv = NULL;
    if (http_server_start(&hc, web_handle, web_body_limit, &a, &srv) != NSDB_OK) {
        fprintf(stderr, "nsdb: %s:%u で待ち受けできません（ポートが使用中か、アドレスが不正です）。\n",
                cfg->listen_host, (unsigned)cfg->port);
        app_close(&a);
        return EXIT_USER;
    }
    mailer_thread_start(&a, 10, &a.mailer);
    media_job_create(&a, &a.media_job);
    printf("nsdb: http://%s:%u/ で待ち受けています（データ: %s）。停止は Ctrl-C。\n",
           cfg->listen_host, (unsigned)http_server_port(srv), cfg->data_dir);
    db *conn = db_pool_acquire(a.pool);
    int64_t users = 0;
    store_user_count(conn, &users);
    db_pool_release(a.pool, conn);
    if (users == 0)
        printf("nsdb: ユーザがまだいません。最初のユーザは別の端末で次のように作成します:\n"
               "  ./nsdb user add --data %s --role mhlw --name '難病対策課 担当'\n"
               "  （表示されたユーザIDと初期パスワードでログインし、パスワードを変更します）\n",
               cfg->data_dir);
    fflush(stdout);
    log_event(LOG_INFO, "server_started", "listen", cfg->listen_host, NULL);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_event(LOG_INFO, "server_stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    http_server_stop(srv);
    media_job_destroy(a.media_job); /* a build stops after its current media */
    mailer_thread_stop(a.mailer);
    app_close(&a);
    return 0;
}

/* ---- mail send ---- */

static int verb_mail_send(int argc, char **argv, app_config *cfg)
{
    enum { O_SMTP = 1, O_FROM };
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"smtp", required_argument, NULL, O_SMTP},
                                         {"mail-from", required_argument, NULL, O_FROM},
                                         {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        if (opt == O_SMTP)
            cfg->smtp_url = optarg;
        else if (opt == O_FROM)
            cfg->mail_from = optarg;
        else {
            usage_verb(stderr, current_verb);
            return EXIT_USAGE;
        }
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
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

/* ---- migrate ---- */

static int verb_migrate(int argc, char **argv, app_config *cfg)
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

/* ---- user add ---- */

/* The core context of a verb: the command line as actor, a connection and an arena. */
core_ctx cli_core(app *a, arena *ar)
{
    core_ctx c = {.app = a, .conn = db_pool_acquire(a->pool), .arena = ar, .who = core_actor_cli()};
    return c;
}

void cli_core_end(core_ctx *c)
{
    db_pool_release(c->app->pool, c->conn);
    c->conn = NULL;
}

/* The problem of a refused operation on stderr: "nsdb: message". */
int cli_problem(const nsdb_problem *pb)
{
    const field_def *f = pb->field ? field_find(pb->field) : NULL;
    if (f != NULL && pb->code == NSDB_ERR_INVALID)
        fprintf(stderr, "nsdb: %s: %s\n", f->label, problem_message(pb));
    else
        fprintf(stderr, "nsdb: %s\n", problem_message(pb));
    return EXIT_USER;
}

static int user_add_run(app *a, const user_add_input *in, bool json)
{
    arena *ar = arena_new();
    core_ctx c = cli_core(a, ar);
    accounts_issued issued;
    nsdb_problem pb = {0};
    nsdb_err e = core_user_add(&c, in, &issued, &pb);
    cli_core_end(&c);
    if (e != NSDB_OK) {
        int rc = cli_problem(&pb); /* the message lives in the arena */
        arena_free(ar);
        return rc;
    }
    arena_free(ar);
    if (json) {
        json_t *o = json_pack("{s:s, s:s}", "user_id", issued.user_id, "initial_password",
                              issued.initial_password);
        char *text = json_dumps(o, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(o);
    } else {
        printf("ユーザID: %s\n初期パスワード: %s\n", issued.user_id, issued.initial_password);
    }
    sodium_memzero(&issued, sizeof issued);
    return 0;
}

static int verb_user_add(int argc, char **argv, app_config *cfg)
{
    enum { O_ROLE = 1, O_NAME, O_MUNI, O_EMAIL, O_DEPT, O_CAT, O_JSON, O_KANA };
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"role", required_argument, NULL, O_ROLE},
                                         {"name", required_argument, NULL, O_NAME},
                                         {"name-kana", required_argument, NULL, O_KANA},
                                         {"municipality", required_argument, NULL, O_MUNI},
                                         {"email", required_argument, NULL, O_EMAIL},
                                         {"department", required_argument, NULL, O_DEPT},
                                         {"category", required_argument, NULL, O_CAT},
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    user_add_input u = {.profile_optional = true};
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        switch (opt) {
        case O_ROLE: u.role = optarg; break;
        case O_NAME: u.name = optarg; break;
        case O_KANA: u.name_kana = optarg; break;
        case O_MUNI: u.municipality_code = optarg; break;
        case O_EMAIL: u.email = optarg; break;
        case O_DEPT: u.department = optarg; break;
        case O_CAT: u.category = optarg; break;
        case O_JSON: json = true; break;
        default: usage_verb(stderr, current_verb); return EXIT_USAGE;
        }
    }
    if (u.role == NULL || u.name == NULL || *u.name == '\0') {
        fprintf(stderr, "nsdb: --role と --name は必須です。\n");
        return EXIT_USAGE;
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
        return rc;
    rc = user_add_run(&a, &u, json);
    app_close(&a);
    return rc;
}

/* ---- municipality add ---- */

static int verb_municipality_add(int argc, char **argv, app_config *cfg)
{
    enum { O_CODE = 1, O_NAME, O_POSTAL, O_ADDRESS };
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"code", required_argument, NULL, O_CODE},
                                         {"name", required_argument, NULL, O_NAME},
                                         {"postal", required_argument, NULL, O_POSTAL},
                                         {"address", required_argument, NULL, O_ADDRESS},
                                         {NULL, 0, NULL, 0}};
    const char *code = NULL, *name = NULL, *postal = NULL, *address = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        switch (opt) {
        case O_CODE: code = optarg; break;
        case O_NAME: name = optarg; break;
        case O_POSTAL: postal = optarg; break;
        case O_ADDRESS: address = optarg; break;
        default: usage_verb(stderr, current_verb); return EXIT_USAGE;
        }
    }
    if (code == NULL || name == NULL || *name == '\0') {
        fprintf(stderr, "nsdb: --code と --name は必須です。\n");
        return EXIT_USAGE;
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
        return rc;
    arena *ar = arena_new();
    core_ctx c = cli_core(&a, ar);
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&c, code, name, postal, address, &pb);
    cli_core_end(&c);
    /* the problem's message lives in the arena */
    rc = e == NSDB_OK ? 0 : cli_problem(&pb);
    if (e == NSDB_OK)
        printf("地方公共団体 %s %s を登録しました。\n", code, name);
    arena_free(ar);
    app_close(&a);
    return rc;
}

/* ---- token add ---- */

static int verb_token_add(int argc, char **argv, app_config *cfg)
{
    enum { O_NAME = 1, O_JSON };
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"name", required_argument, NULL, O_NAME},
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL;
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        if (opt == O_NAME)
            name = optarg;
        else if (opt == O_JSON)
            json = true;
        else {
            usage_verb(stderr, current_verb);
            return EXIT_USAGE;
        }
    }
    if (name == NULL || *name == '\0') {
        fprintf(stderr, "nsdb: --name（トークンの用途）は必須です。\n");
        return EXIT_USAGE;
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
        return rc;
    arena *ar = arena_new();
    core_ctx c = cli_core(&a, ar);
    char token[SESSION_TOKEN_TEXT_LEN + 1];
    nsdb_problem pb = {0};
    nsdb_err e = core_api_token_add(&c, name, token, &pb);
    cli_core_end(&c);
    if (e != NSDB_OK)
        fprintf(stderr, "nsdb: トークンを登録できません: %s\n", problem_message(&pb));
    arena_free(ar);
    app_close(&a);
    if (e != NSDB_OK)
        return EXIT_USER;
    if (json) {
        json_t *o = json_pack("{s:s, s:s}", "name", name, "token", token);
        char *text = json_dumps(o, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(o);
    }
    else
        printf("トークン: %s\n（Authorization: Bearer %s として送ります。再表示はできません）\n", token, token);
    sodium_memzero(token, sizeof token);
    return 0;
}

/* ---- audit ---- */

static int verb_audit(int argc, char **argv, app_config *cfg)
{
    enum { O_JSON = 1, O_LIMIT };
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"json", no_argument, NULL, O_JSON},
                                         {"limit", required_argument, NULL, O_LIMIT},
                                         {NULL, 0, NULL, 0}};
    bool json = false;
    long limit = 100;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        if (opt == O_JSON) {
            json = true;
        } else if (opt == O_LIMIT) {
            limit = atol(optarg);
            if (limit <= 0) {
                fprintf(stderr, "nsdb: --limit は 1 以上の整数です。\n");
                return EXIT_USAGE;
            }
        } else {
            usage_verb(stderr, current_verb);
            return EXIT_USAGE;
        }
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
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
            json_array_append_new(
                list, json_pack("{s:I, s:I, s:s?, s:s?, s:s, s:s?, s:s, s:s?}", "id",
                                (json_int_t)r->id, "at", (json_int_t)r->at, "actor",
                                r->actor_user_id, "ip", r->client_ip, "action", r->action,
                                "target", r->target, "result", r->result, "detail", r->detail));
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
    if (json) {
        char *text = json_dumps(list, JSON_INDENT(2));
        puts(text);
        free(text);
    }
    json_decref(list);
    arena_free(ar);
    db_pool_release(a.pool, conn);
    app_close(&a);
    return rc;
}

/* ---- backup, version ---- */

static int verb_backup(int argc, char **argv, app_config *cfg)
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
        printf("nsdb: %s にバックアップしました。秘密鍵 %s/secret.key は別に保管してください。\n",
               target, cfg->data_dir);
    }
    app_close(&a);
    return rc;
}

static int verb_version(int argc, char **argv, app_config *cfg)
{
    int rc = parse_common_only(argc, argv, cfg);
    if (rc != 0)
        return rc;
    printf("nsdb %s (SQLite %s, libsodium %s)\n", NSDB_VERSION, store_sqlite_version(),
           sodium_version_string());
    return 0;
}

/* Finds the verb named by argv[1] (and argv[2] for two-word verbs). */
static const verb *verb_find(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++) {
        const char *name = VERBS[i].name;
        const char *space = strchr(name, ' ');
        if (space == NULL && strcmp(argv[1], name) == 0) {
            *words = 1;
            return &VERBS[i];
        }
        if (space != NULL && argc > 2 && strncmp(argv[1], name, (size_t)(space - name)) == 0 &&
            argv[1][space - name] == '\0' && strcmp(argv[2], space + 1) == 0) {
            *words = 2;
            return &VERBS[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    int words = 0;
    const verb *v = verb_find(argc, argv, &words);
    if (v == NULL) {
        fprintf(stderr, "nsdb: 不明なコマンドです: %s\n\n", argv[1]);
        usage_all(stderr);
        return EXIT_USAGE;
    }
    current_verb = v;
    if (v->run == verb_serve || v->run == verb_media_build || v->run == verb_package_build)
        fonts_preload();
    smtp_global_init();
    atexit(smtp_global_cleanup);
    umask(077); /* the database, key and mail hold secrets: owner only */
    app_config cfg;
    app_config_defaults(&cfg);
    /* getopt sees the verb's words as argv[0]… */
    return v->run(argc - words, argv + words, &cfg);
}
