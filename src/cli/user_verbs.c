/*
 * user_verbs.c — the verbs that add accounts by hand: `user add` (administration and municipality
 * users, not institution users), `municipality add` and `token add` (the operator's API token).
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
#include "domain/session_token.h"
#include "util/arena.h"

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

int verb_user_add(int argc, char **argv, app_config *cfg)
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

int verb_municipality_add(int argc, char **argv, app_config *cfg)
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

int verb_token_add(int argc, char **argv, app_config *cfg)
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
