/*
 * cli.h — what the command-line verbs share: the verb table entry and the table's lookup
 * (cli.c), the common options (--data, --database, --help), opening the application, the core
 * context of a verb and how its problems are printed, and every verb's handler (serve.c,
 * user_verbs.c, token_verbs.c, admin_verbs.c, media_verbs.c).
 */
#ifndef NSDB_CLI_H
#define NSDB_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/actor.h"
#include "core/app.h"
#include "store/db.h"

#define NSDB_VERSION "0.1.0"
#define EXIT_USER 1
#define EXIT_USAGE 2

typedef int (*verb_fn)(int argc, char **argv, app_config *cfg);

typedef struct verb {
    const char *name;
    verb_fn run;
    const char *usage;
    const char *help;
    bool draws_pdf; /* main() loads fontconfig before such a verb runs */
} verb;

/* Options every verb accepts; verb options follow from index COMMON_COUNT. */
enum { OPT_DATA = 1000, OPT_DATABASE, OPT_HELP };
#define COMMON_LONG_OPTIONS                                                                      \
    {"data", required_argument, NULL, OPT_DATA},                                                 \
        {"database", required_argument, NULL, OPT_DATABASE}, {"help", no_argument, NULL, OPT_HELP}

/* Options of the media cycle (package labels, VPN profile, template), for serve and the media
   verbs. */
enum { OPT_VPN_REMOTE = 1100, OPT_SENDER_NAME, OPT_SENDER_POSTAL, OPT_SENDER_ADDRESS,
       OPT_SENDER_PHONE, OPT_MEDIA_TEMPLATE };
#define MEDIA_LONG_OPTIONS                                                                       \
    {"vpn-remote", required_argument, NULL, OPT_VPN_REMOTE},                                     \
        {"sender-name", required_argument, NULL, OPT_SENDER_NAME},                               \
        {"sender-postal", required_argument, NULL, OPT_SENDER_POSTAL},                           \
        {"sender-address", required_argument, NULL, OPT_SENDER_ADDRESS},                         \
        {"sender-phone", required_argument, NULL, OPT_SENDER_PHONE},                             \
        {"media-template", required_argument, NULL, OPT_MEDIA_TEMPLATE}
/* Handles a media option; -1 when opt is not one. */
int media_option(int opt, app_config *cfg);

/* The verb being run, for its usage text; set by main() before the verb runs. */
extern const verb *current_verb;
/* Finds the verb named by argv[1] (and argv[2] for two-word verbs); *words receives how many
   words name it. NULL when none does. */
const verb *cli_verb_find(int argc, char **argv, int *words);
/* Prints every verb's usage and help, then the common options. */
void cli_usage_all(FILE *out);
/* Handles a common option; returns -1 when opt is not one, else 0 to go on (--help exits). */
int common_option(int opt, app_config *cfg);
/* A verb's own option (arg: its value): 0 when handled, -1 when it is not one of the verb's, or an
   exit status when its value is refused (the handler has said why on stderr). */
typedef int (*verb_option_fn)(int opt, const char *arg, void *ctx);
/* The option loop of every verb: the common and media options go into cfg, the others to
   verb_option (may be NULL); an unknown option prints the verb's usage. 0, or an exit status. */
int cli_parse_options(int argc, char **argv, app_config *cfg, const struct option *opts,
                      verb_option_fn verb_option, void *ctx);
/* Parses the options of a verb that has only the common ones: 0, or EXIT_USAGE. */
int parse_common_only(int argc, char **argv, app_config *cfg);
void usage_verb(FILE *out, const verb *v);
/* app_open as an exit status: 0, or EXIT_USER when the application cannot open. */
int open_app(app *a, const app_config *cfg, int pool_size);
/* The core context of a verb (the command line as actor; a pooled connection) and its end. */
core_ctx cli_core(app *a, arena *ar);
void cli_core_end(core_ctx *c);
/* A verb that runs core operations: the application, an arena and the core context. */
typedef struct cli_run {
    app app;
    arena *arena;
    core_ctx core;
} cli_run;
/* Opens all three (0, or the exit status when the application cannot open); r must not move. */
int cli_run_open(cli_run *r, const app_config *cfg);
/* Releases the connection (unless cli_core_end did), frees the arena, closes the application. */
void cli_run_close(cli_run *r);
/* Prints a JSON value (json_dumps flags) on stdout and releases it. */
void cli_print_json(json_t *value, size_t flags);
/* Prints the problem of a refused operation on stderr; returns EXIT_USER. */
int cli_problem(const nsdb_problem *pb);

/* serve.c */
int verb_serve(int argc, char **argv, app_config *cfg);
/* user_verbs.c */
int verb_user_add(int argc, char **argv, app_config *cfg);
int verb_user_totp_reset(int argc, char **argv, app_config *cfg);
int verb_municipality_add(int argc, char **argv, app_config *cfg);
/* token_verbs.c */
int verb_token_add(int argc, char **argv, app_config *cfg);
int verb_token_list(int argc, char **argv, app_config *cfg);
int verb_token_revoke(int argc, char **argv, app_config *cfg);
/* admin_verbs.c */
int verb_migrate(int argc, char **argv, app_config *cfg);
int verb_mail_send(int argc, char **argv, app_config *cfg);
int verb_audit(int argc, char **argv, app_config *cfg);
int verb_backup(int argc, char **argv, app_config *cfg);
int verb_version(int argc, char **argv, app_config *cfg);
/* media_verbs.c */
int verb_cycle_list(int argc, char **argv, app_config *cfg);
int verb_media_build(int argc, char **argv, app_config *cfg);
int verb_media_list(int argc, char **argv, app_config *cfg);
int verb_package_build(int argc, char **argv, app_config *cfg);
/* package_verbs.c */
int verb_package_ship(int argc, char **argv, app_config *cfg);
/* ca_verbs.c */
int verb_ca_crl(int argc, char **argv, app_config *cfg);
int verb_ca_revoke(int argc, char **argv, app_config *cfg);
int verb_ca_renewals(int argc, char **argv, app_config *cfg);

#endif
