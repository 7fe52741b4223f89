/*
 * cli.c — the command line's one verb table (VERBS: name, handler, usage, help, whether it
 * draws PDFs) and what every verb shares: the common options (--data, --database, --help), the
 * usage texts, the option loop every verb runs, opening the application, the core context of a verb (the command line as actor)
 * and how a refused operation is printed. The verbs themselves live one file per subject:
 * serve.c, user_verbs.c, token_verbs.c, admin_verbs.c, media_verbs.c.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/fields.h"

static const verb VERBS[] = {
    {"serve", verb_serve,
     "serve [--listen HOST:PORT] [--threads N] [--public-url URL] [--secure-cookies] "
     "[--trust-proxy] [--pwhash-ops N] [--pwhash-mem-mib N] [--smtp smtp://HOST:PORT] "
     "[--mail-from ADDRESS] [--helpdesk TEXT] [--media-template DIR] [--vpn-remote 'HOST PORT'] "
     "[--sender-name N --sender-postal P --sender-address A --sender-phone T]",
     "Web サーバを起動します（初回はデータフォルダ・データベース・秘密鍵を作成）。", true},
    {"migrate", verb_migrate, "migrate", "データベースを最新のスキーマに更新します。", false},
    {"user add", verb_user_add,
     "user add --role ROLE --name NAME [--name-kana KANA] [--municipality CODE] [--email E] "
     "[--department D] [--category nanbyo|shoman|both] [--json]",
     "ユーザを登録し、ユーザIDと初期パスワードを表示します。ROLE: mhlw operator muni_admin "
     "muni_staff",
     false},
    {"user totp-reset", verb_user_totp_reset, "user totp-reset --user-id ID",
     "ユーザの二要素認証（認証アプリの登録と回復コード）を初期化します。", false},
    {"municipality add", verb_municipality_add,
     "municipality add --code CODE --name NAME [--postal NNN-NNNN --address ADDRESS]",
     "地方公共団体を登録します（地方公共団体コードは検査数字つき6桁）。", false},
    {"mail send", verb_mail_send, "mail send [--smtp smtp://HOST:PORT] [--mail-from ADDRESS]",
     "送信待ちのメールを1回送ります（--smtp がなければ DATA/mail/ に .eml として書き出します）。",
     false},
    {"cycle list", verb_cycle_list, "cycle list [--json] [--from YYYY-MM-DD]",
     "媒体送付サイクル（登録・媒体作成・送付の期間）を表示します。", false},
    {"media build", verb_media_build, "media build --cycle ID --template DIR [--json]",
     "サイクルの媒体（医療機関ごとの ISO イメージ）を作成します。", true},
    {"media list", verb_media_list, "media list [--cycle ID] [--json]", "媒体の一覧を表示します。",
     false},
    {"package build", verb_package_build,
     "package build --cycle ID [--json] [--sender-name N --sender-postal P --sender-address A "
     "--sender-phone T]",
     "サイクルの媒体を自治体ごとに梱包します（レターパックプラス1つに15枚まで）。", true},
    {"package ship", verb_package_ship, "package ship --id N --tracking-number NUMBER [--json]",
     "梱包を発送済にします。NUMBER はレターパックに印字された12桁の追跡番号です（ハイフン可）。",
     false},
    {"token add", verb_token_add, "token add --name NAME [--days N] [--json]",
     "運用事業者の API（/api/v1/registrations、/metrics）用のトークンを発行します。表示は一度だけ"
     "です。有効期限は N 日後（既定 90、最大 366）。",
     false},
    {"token list", verb_token_list, "token list [--json]",
     "API トークンの一覧（ID・状態・有効期限・用途）を表示します。", false},
    {"token revoke", verb_token_revoke, "token revoke --id N",
     "API トークンを直ちに失効させます（ID は token add と token list が表示します）。", false},
    {"ca crl", verb_ca_crl, "ca crl [--der]",
     "VPN 認証局の失効リスト（CRL、既定は PEM）を標準出力に書き出します。", false},
    {"ca revoke", verb_ca_revoke, "ca revoke --institution CODE",
     "全ユーザが利用停止の医療機関の VPN 証明書を失効させます。", false},
    {"ca renewals", verb_ca_renewals, "ca renewals [--json]",
     "有効期限が90日以内の VPN 証明書（更新媒体の対象）を表示します。", false},
    {"audit", verb_audit, "audit [--json] [--limit N]", "監査ログを新しい順に表示します。", false},
    {"backup", verb_backup, "backup FILE", "SQLite データベースをオンラインでバックアップします。",
     false},
    {"version", verb_version, "version", "バージョンを表示します。", false},
};

static const char COMMON_OPTIONS[] =
    "  --data DIR        データフォルダ（既定: ./var）\n"
    "  --database URL    データベース（既定: データフォルダ内の SQLite）\n"
    "  --help            この説明\n";

void cli_usage_all(FILE *out)
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

int cli_parse_options(int argc, char **argv, app_config *cfg, const struct option *opts,
                      verb_option_fn verb_option, void *ctx)
{
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (common_option(opt, cfg) == 0 || media_option(opt, cfg) == 0)
            continue;
        int rc = verb_option != NULL ? verb_option(opt, optarg, ctx) : -1;
        if (rc < 0) {
            usage_verb(stderr, current_verb);
            return EXIT_USAGE;
        }
        if (rc > 0)
            return rc;
    }
    return 0;
}

int parse_common_only(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    return cli_parse_options(argc, argv, cfg, OPTS, NULL, NULL);
}

void cli_print_json(json_t *value, size_t flags)
{
    char *text = json_dumps(value, flags);
    puts(text);
    free(text);
    json_decref(value);
}

int open_app(app *a, const app_config *cfg, int pool_size)
{
    return app_open(a, cfg, pool_size) == NSDB_OK ? 0 : EXIT_USER;
}

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

int cli_run_open(cli_run *r, const app_config *cfg)
{
    int rc = open_app(&r->app, cfg, 1);
    if (rc != 0)
        return rc;
    r->arena = arena_new();
    r->core = cli_core(&r->app, r->arena);
    return 0;
}

void cli_run_close(cli_run *r)
{
    if (r->core.conn != NULL)
        cli_core_end(&r->core);
    arena_free(r->arena);
    app_close(&r->app);
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

/* Finds the verb named by argv[1] (and argv[2] for two-word verbs). */
const verb *cli_verb_find(int argc, char **argv, int *words)
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
