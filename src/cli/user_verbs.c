/*
 * user_verbs.c — the verbs that add accounts by hand: `user add` (administration and municipality
 * users, not institution users), `municipality add` and `token add` (the operator's API token).
 * Each writes its row and its audit record in one transaction; secrets are shown once.
 */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/accounts.h"
#include "domain/ids.h"
#include "domain/roles.h"
#include "domain/session_token.h"
#include "store/store.h"
#include "util/arena.h"

static int user_add_validate(const char *role, const char *name, const char *municipality,
                             const char *category)
{
    if (role == NULL || name == NULL || *name == '\0') {
        fprintf(stderr, "nsdb: --role と --name は必須です。\n");
        return EXIT_USAGE;
    }
    if (!role_key_valid(role)) {
        fprintf(stderr, "nsdb: --role %s は不明です（mhlw, operator, muni_admin, muni_staff）。\n", role);
        return EXIT_USER;
    }
    unsigned bit = role_bit(role);
    if (bit & ROLES_INSTITUTION) {
        fprintf(stderr, "nsdb: 医療機関ユーザ（doctor, inst_manager）は画面の「医療機関ユーザ新規登録」"
                        "から登録してください。\n");
        return EXIT_USER;
    }
    if ((bit & ROLES_MUNI) && municipality == NULL) {
        fprintf(stderr, "nsdb: 自治体ユーザには --municipality（地方公共団体コード）が必要です。\n");
        return EXIT_USER;
    }
    if (!(bit & ROLES_MUNI) && municipality != NULL) {
        fprintf(stderr, "nsdb: --municipality は自治体ユーザ（muni_admin, muni_staff）にだけ指定できます。\n");
        return EXIT_USER;
    }
    if (category != NULL && strcmp(category, "nanbyo") != 0 && strcmp(category, "shoman") != 0 &&
        strcmp(category, "both") != 0) {
        fprintf(stderr, "nsdb: --category は nanbyo, shoman, both のいずれかです。\n");
        return EXIT_USER;
    }
    return 0;
}

static int user_add_store(app *a, store_user_new *u, const char *municipality, bool json)
{
    db *conn = db_pool_acquire(a->pool);
    arena *ar = arena_new();
    int rc = EXIT_USER;
    accounts_issued issued;
    if (municipality != NULL) {
        store_municipality *m = NULL;
        if (store_municipality_find_by_code(conn, ar, municipality, &m) != NSDB_OK) {
            fprintf(stderr, "nsdb: 地方公共団体コード %s は登録されていません"
                            "（nsdb municipality add で登録してください）。\n", municipality);
            goto done;
        }
        u->municipality_pk = m->pk;
    }
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = accounts_issue(a, conn, u, (int64_t)time(NULL), &issued);
    if (e == NSDB_OK) {
        cli_audit(conn, "user_create", issued.user_id, u->role);
        e = db_commit(conn);
    }
    if (e != NSDB_OK) {
        db_rollback(conn);
        fprintf(stderr, "nsdb: ユーザを登録できません: %s\n", nsdb_err_message(e));
        goto done;
    }
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
    rc = 0;
done:
    arena_free(ar);
    db_pool_release(a->pool, conn);
    return rc;
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
    store_user_new u = {0};
    const char *municipality = NULL;
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        if (common_option(opt, cfg) == 0)
            continue;
        switch (opt) {
        case O_ROLE: u.role = optarg; break;
        case O_NAME: u.name = optarg; break;
        case O_KANA: u.name_kana = optarg; break;
        case O_MUNI: municipality = optarg; break;
        case O_EMAIL: u.email = optarg; break;
        case O_DEPT: u.department = optarg; break;
        case O_CAT: u.category = optarg; break;
        case O_JSON: json = true; break;
        default: usage_verb(stderr, current_verb); return EXIT_USAGE;
        }
    }
    int rc = user_add_validate(u.role, u.name, municipality, u.category);
    if (rc != 0)
        return rc;
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    rc = user_add_store(&a, &u, municipality, json);
    app_close(&a);
    return rc;
}

static bool postal_valid(const char *p)
{
    if (strlen(p) != 8 || p[3] != '-')
        return false;
    for (int i = 0; i < 8; i++)
        if (i != 3 && (p[i] < '0' || p[i] > '9'))
            return false;
    return true;
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
    if (!ids_municipality_code_valid(code)) {
        fprintf(stderr, "nsdb: 地方公共団体コード %s が正しくありません（6桁、最後の1桁は検査数字）。\n",
                code);
        return EXIT_USER;
    }
    if (postal != NULL && !postal_valid(postal)) {
        fprintf(stderr, "nsdb: 郵便番号は NNN-NNNN の形で指定してください。\n");
        return EXIT_USER;
    }
    app a;
    int rc = open_app(&a, cfg, 1);
    if (rc != 0)
        return rc;
    db *conn = db_pool_acquire(a.pool);
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_municipality_insert(conn, code, name, postal, address, (int64_t)time(NULL), NULL);
    if (e == NSDB_OK) {
        cli_audit(conn, "municipality_create", code, name);
        e = db_commit(conn);
    }
    if (e != NSDB_OK) {
        db_rollback(conn);
        fprintf(stderr, "nsdb: %s\n",
                e == NSDB_ERR_EXISTS ? "この地方公共団体コードは既に登録されています。"
                                     : nsdb_err_message(e));
        rc = EXIT_USER;
    } else {
        printf("地方公共団体 %s %s を登録しました。\n", code, name);
    }
    db_pool_release(a.pool, conn);
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
    unsigned char raw[SESSION_TOKEN_BYTES];
    char token[SESSION_TOKEN_TEXT_LEN + 1], hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    session_token_new(raw);
    session_token_encode(raw, token);
    secret_token_hash((const unsigned char *)token, strlen(token), hash);
    db *conn = db_pool_acquire(a.pool);
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_api_token_insert(conn, name, hash, (int64_t)time(NULL));
    if (e == NSDB_OK) {
        cli_audit(conn, "api_token_create", name, NULL);
        e = db_commit(conn);
    }
    db_pool_release(a.pool, conn);
    app_close(&a);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: トークンを登録できません: %s\n", nsdb_err_message(e));
        return EXIT_USER;
    }
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
