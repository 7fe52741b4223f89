/*
 * token_verbs.c — the verbs of the operator's API tokens (SPEC §4 and §8): `token add` issues a
 * bearer token for /api/v1/registrations and /metrics that expires after --days (90 unless told,
 * at most 366), `token list` shows every token with its id and state, `token revoke --id N`
 * refuses a token from the next request on. The token itself is shown once, by add; each change
 * is one core operation (core/registry.c), audited.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/registry.h"
#include "domain/holiday.h"
#include "domain/session_token.h"
#include "store/api_tokens.h"
#include "util/arena.h"

enum { O_NAME = 1, O_JSON, O_DAYS, O_ID };

typedef struct token_opts {
    const char *name;
    long days;
    long long id;
    bool json;
} token_opts;

/* A whole decimal number; false for anything else (empty, a sign, trailing text, overflow). */
static bool parse_count(const char *arg, long long *out)
{
    if (arg == NULL || *arg < '0' || *arg > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int token_option(int opt, const char *arg, void *ctx)
{
    token_opts *o = ctx;
    long long v = 0;
    switch (opt) {
    case O_NAME:
        o->name = arg;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    case O_DAYS:
        if (!parse_count(arg, &v) || v > 100000) {
            fprintf(stderr, "nsdb: --days は日数（1〜%d の整数）です。\n", API_TOKEN_DAYS_MAX);
            return EXIT_USAGE;
        }
        o->days = (long)v;
        return 0;
    case O_ID:
        if (!parse_count(arg, &v) || v <= 0) {
            fprintf(stderr, "nsdb: --id はトークンの ID（token list で表示される番号）です。\n");
            return EXIT_USAGE;
        }
        o->id = v;
        return 0;
    default:
        return -1;
    }
}

/* A time as Japan shows it, "2026-12-06 17:40". */
static const char *jst_text(arena *a, int64_t t)
{
    time_t when = (time_t)(t + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&when, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return arena_strdup(a, buf);
}

int verb_token_add(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"name", required_argument, NULL, O_NAME},
                                         {"days", required_argument, NULL, O_DAYS},
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    token_opts o = {.days = API_TOKEN_DAYS_DEFAULT};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, token_option, &o);
    if (rc != 0)
        return rc;
    if (o.name == NULL || *o.name == '\0') {
        fprintf(stderr, "nsdb: --name（トークンの用途）は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    char token[SESSION_TOKEN_TEXT_LEN + 1];
    int64_t id = 0, expires = 0;
    nsdb_problem pb = {0};
    nsdb_err e = core_api_token_add(&r.core, o.name, o.days, token, &id, &expires, &pb);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: トークンを登録できません: %s\n", problem_message(&pb));
        cli_run_close(&r);
        return EXIT_USER;
    }
    if (o.json)
        cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "name", o.name, "token", token, "id",
                                 (json_int_t)id, "expires_at", (json_int_t)expires),
                       JSON_COMPACT);
    else
        printf("トークン: %s\n（Authorization: Bearer %s として送ります。再表示はできません）\n"
               "ID: %lld（失効は nsdb token revoke --id %lld）、有効期限: %s\n",
               token, token, (long long)id, (long long)id, jst_text(r.arena, expires));
    sodium_memzero(token, sizeof token);
    cli_run_close(&r);
    return 0;
}

static const char *token_state(const store_api_token *t, int64_t now)
{
    if (t->revoked_at != 0)
        return "失効";
    return t->expires_at <= now ? "期限切れ" : "有効";
}

int verb_token_list(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    token_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, token_option, &o);
    if (rc != 0)
        return rc;
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    store_api_token *rows = NULL;
    size_t n = 0;
    if (store_api_token_list(r.core.conn, r.arena, &rows, &n) != NSDB_OK) {
        fprintf(stderr, "nsdb: トークンの一覧を読めません。\n");
        cli_run_close(&r);
        return EXIT_USER;
    }
    int64_t now = r.core.who.now;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_api_token *t = &rows[i];
        if (o.json)
            json_array_append_new(
                list,
                json_pack("{s:I, s:s, s:I, s:I, s:o, s:o, s:b}", "id", (json_int_t)t->id, "name",
                          t->name ? t->name : "", "created_at", (json_int_t)t->created_at,
                          "expires_at", (json_int_t)t->expires_at, "last_used_at",
                          t->last_used_at ? json_integer(t->last_used_at) : json_null(),
                          "revoked_at", t->revoked_at ? json_integer(t->revoked_at) : json_null(),
                          "valid", t->revoked_at == 0 && t->expires_at > now));
        else
            printf("%lld\t%s\t有効期限 %s\t%s\n", (long long)t->id, token_state(t, now),
                   jst_text(r.arena, t->expires_at), t->name ? t->name : "");
    }
    if (o.json)
        cli_print_json(list, JSON_INDENT(2));
    else
        json_decref(list);
    cli_run_close(&r);
    return 0;
}

int verb_token_revoke(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"id", required_argument, NULL, O_ID},
                                         {NULL, 0, NULL, 0}};
    token_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, token_option, &o);
    if (rc != 0)
        return rc;
    if (o.id == 0) {
        fprintf(stderr,
                "nsdb: --id（失効させるトークンの ID。nsdb token list で表示）は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    nsdb_problem pb = {0};
    nsdb_err e = core_api_token_revoke(&r.core, (int64_t)o.id, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb); /* the message lives in the arena */
    if (e == NSDB_OK)
        printf("トークン %lld を失効させました。以後このトークンは使えません。\n", o.id);
    cli_run_close(&r);
    return rc;
}
