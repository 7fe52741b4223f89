/*
 * user_verbs.c — the verbs that add accounts by hand: `user add` (administration and municipality
 * users, not institution users), `user totp-reset` (the operator's recovery of a user who lost
 * the second factor) and `municipality add` (API tokens: token_verbs.c).
 * Each parses its options and calls its core/ operation, which checks the fields and writes the
 * row and its audit record in one transaction; secrets are shown once.
 */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/accounts.h"
#include "core/registry.h"
#include "core/users.h"
#include "store/users.h"
#include "util/arena.h"

static int user_add_run(const app_config *cfg, const user_add_input *in, bool json)
{
    cli_run r;
    int rc = cli_run_open(&r, cfg);
    if (rc != 0)
        return rc;
    accounts_issued issued;
    nsdb_problem pb = {0};
    nsdb_err e = core_user_add(&r.core, in, &issued, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb); /* the message lives in the arena */
    cli_run_close(&r);
    if (e != NSDB_OK)
        return rc;
    if (json)
        cli_print_json(json_pack("{s:s, s:s}", "user_id", issued.user_id, "initial_password",
                                 issued.initial_password),
                       JSON_COMPACT);
    else
        printf("ユーザID: %s\n初期パスワード: %s\n", issued.user_id, issued.initial_password);
    sodium_memzero(&issued, sizeof issued);
    return 0;
}

enum { O_ROLE = 1, O_NAME, O_MUNI, O_EMAIL, O_DEPT, O_CAT, O_JSON, O_KANA, O_CODE, O_POSTAL,
       O_ADDRESS, O_USER_ID };

typedef struct user_add_opts {
    user_add_input in;
    bool json;
} user_add_opts;

static int user_add_option(int opt, const char *arg, void *ctx)
{
    user_add_opts *o = ctx;
    switch (opt) {
    case O_ROLE: o->in.role = arg; return 0;
    case O_NAME: o->in.name = arg; return 0;
    case O_KANA: o->in.name_kana = arg; return 0;
    case O_MUNI: o->in.municipality_code = arg; return 0;
    case O_EMAIL: o->in.email = arg; return 0;
    case O_DEPT: o->in.department = arg; return 0;
    case O_CAT: o->in.category = arg; return 0;
    case O_JSON: o->json = true; return 0;
    default: return -1;
    }
}

int verb_user_add(int argc, char **argv, app_config *cfg)
{
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
    user_add_opts o = {.in = {.profile_optional = true}};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, user_add_option, &o);
    if (rc != 0)
        return rc;
    if (o.in.role == NULL || o.in.name == NULL || *o.in.name == '\0') {
        fprintf(stderr, "nsdb: --role と --name は必須です。\n");
        return EXIT_USAGE;
    }
    return user_add_run(cfg, &o.in, o.json);
}

static int user_id_option(int opt, const char *arg, void *ctx)
{
    if (opt != O_USER_ID)
        return -1;
    *(const char **)ctx = arg;
    return 0;
}

int verb_user_totp_reset(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"user-id", required_argument, NULL, O_USER_ID},
                                         {NULL, 0, NULL, 0}};
    const char *user_id = NULL;
    int rc = cli_parse_options(argc, argv, cfg, OPTS, user_id_option, &user_id);
    if (rc != 0)
        return rc;
    if (user_id == NULL || *user_id == '\0') {
        fprintf(stderr, "nsdb: --user-id は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    store_user *u = NULL;
    nsdb_problem pb = {0};
    nsdb_err e = store_user_find_by_user_id(r.core.conn, r.arena, user_id, &u);
    if (e == NSDB_ERR_NOT_FOUND)
        problem_set(&pb, e, NULL, "指定されたユーザは見つかりません。");
    else if (e != NSDB_OK)
        problem_set(&pb, e, NULL, NULL);
    else
        e = core_user_totp_reset(&r.core, u, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb);
    if (e == NSDB_OK)
        printf("二要素認証を初期化しました（ユーザID %s）。次回ログイン時に設定し直します。\n",
               u->user_id);
    cli_run_close(&r);
    return rc;
}

typedef struct municipality_opts {
    const char *code, *name, *postal, *address;
} municipality_opts;

static int municipality_option(int opt, const char *arg, void *ctx)
{
    municipality_opts *o = ctx;
    switch (opt) {
    case O_CODE: o->code = arg; return 0;
    case O_NAME: o->name = arg; return 0;
    case O_POSTAL: o->postal = arg; return 0;
    case O_ADDRESS: o->address = arg; return 0;
    default: return -1;
    }
}

int verb_municipality_add(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"code", required_argument, NULL, O_CODE},
                                         {"name", required_argument, NULL, O_NAME},
                                         {"postal", required_argument, NULL, O_POSTAL},
                                         {"address", required_argument, NULL, O_ADDRESS},
                                         {NULL, 0, NULL, 0}};
    municipality_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, municipality_option, &o);
    if (rc != 0)
        return rc;
    if (o.code == NULL || o.name == NULL || *o.name == '\0') {
        fprintf(stderr, "nsdb: --code と --name は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    nsdb_problem pb = {0};
    nsdb_err e = core_municipality_add(&r.core, o.code, o.name, o.postal, o.address, &pb);
    /* the problem's message lives in the arena */
    rc = e == NSDB_OK ? 0 : cli_problem(&pb);
    if (e == NSDB_OK)
        printf("地方公共団体 %s %s を登録しました。\n", o.code, o.name);
    cli_run_close(&r);
    return rc;
}
