/*
 * package_verbs.c — `nsdb package ship --id N --tracking-number X [--json]`: 発送 of a packed
 * package from the command line, the same core operation as the board's form
 * (core_package_ship): the number as printed on the Letter Pack (hyphens, spaces and full-width
 * digits allowed) is checked, refused when another package has it, stored and audited. The
 * package IDs are those `nsdb package build --json` prints.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/shipping_desk.h"

enum { O_ID = 1, O_TRACKING, O_JSON };

typedef struct ship_opts {
    long long id;
    const char *tracking;
    bool json;
} ship_opts;

static int ship_option(int opt, const char *arg, void *ctx)
{
    ship_opts *o = ctx;
    char *end = NULL;
    switch (opt) {
    case O_ID:
        errno = 0;
        o->id = arg[0] >= '0' && arg[0] <= '9' ? strtoll(arg, &end, 10) : 0;
        if (errno != 0 || end == NULL || *end != '\0' || o->id <= 0) {
            fprintf(stderr, "nsdb: --id は梱包の ID（package build --json の package_id）です。\n");
            return EXIT_USAGE;
        }
        return 0;
    case O_TRACKING:
        o->tracking = arg;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    default:
        return -1;
    }
}

int verb_package_ship(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"id", required_argument, NULL, O_ID},
                                         {"tracking-number", required_argument, NULL, O_TRACKING},
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    ship_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, ship_option, &o);
    if (rc != 0)
        return rc;
    if (o.id == 0 || o.tracking == NULL) {
        fprintf(stderr, "nsdb: --id と --tracking-number は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    nsdb_problem pb = {0};
    store_package *p = NULL;
    nsdb_err e = core_package_ship(&r.core, (int64_t)o.id, o.tracking, &p, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb); /* the message lives in the arena */
    if (e == NSDB_OK && o.json)
        cli_print_json(json_pack("{s:I, s:s, s:s, s:s, s:I}", "package_id", (json_int_t)p->id,
                                 "tracking_number", p->tracking_number, "shipped_on", p->shipped_on,
                                 "status", package_status_key(p->status), "media_count",
                                 (json_int_t)p->media_count),
                       JSON_INDENT(2));
    else if (e == NSDB_OK)
        printf("梱包 %lld（%s %s 梱包 %lld、媒体 %lld 枚）を発送済にしました。追跡番号 %s、発送日 "
               "%s\n",
               (long long)p->id, p->municipality_code, p->municipality_name, (long long)p->seq,
               (long long)p->media_count, shipping_tracking_display(r.arena, p->tracking_number),
               p->shipped_on);
    cli_run_close(&r);
    return rc;
}
