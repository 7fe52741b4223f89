/*
 * media_verbs.c — the operator's media-cycle verbs: `cycle list`, `media build`, `media list`,
 * `package build` (SPEC §4, §6). Output is Japanese text, or JSON with --json for scripts.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/media.h"
#include "store/media_store.h"

/* Parses --cycle, --template, --json, --from for the verbs below. */
typedef struct media_opts {
    const char *cycle, *template_dir, *from;
    bool json;
} media_opts;

enum { O_CYCLE = 1, O_TEMPLATE, O_JSON, O_FROM };

static int media_verb_option(int opt, const char *arg, void *ctx)
{
    media_opts *o = ctx;
    switch (opt) {
    case O_CYCLE: o->cycle = arg; return 0;
    case O_TEMPLATE: o->template_dir = arg; return 0;
    case O_JSON: o->json = true; return 0;
    case O_FROM: o->from = arg; return 0;
    default: return -1;
    }
}

static int parse_media_opts(int argc, char **argv, app_config *cfg, media_opts *o)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         MEDIA_LONG_OPTIONS,
                                         {"cycle", required_argument, NULL, O_CYCLE},
                                         {"template", required_argument, NULL, O_TEMPLATE},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"from", required_argument, NULL, O_FROM},
                                         {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    return cli_parse_options(argc, argv, cfg, OPTS, media_verb_option, o);
}

static json_t *cycle_json(const cycle_window *c)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->id, "registration_from",
                     c->registration_from, "registration_to", c->registration_to, "media_from",
                     c->media_from, "media_to", c->media_to, "delivery_from", c->delivery_from,
                     "delivery_to", c->delivery_to);
}

/* What a media verb needs on its command line besides the common options. */
enum media_needs { NEED_NOTHING, NEED_CYCLE, NEED_CYCLE_AND_TEMPLATE };

/* The work of one media verb once the application is open: it prints its result (JSON with
   --json) and returns its outcome; a refusal is described in *pb. */
typedef nsdb_err (*media_verb_body)(app *a, const media_opts *o, arena *ar, nsdb_problem *pb);

/* The skeleton every media verb shares: options, required options, the application and an arena
   around the body, then the problem on stderr and the exit status. */
static int run_media_verb(int argc, char **argv, app_config *cfg, enum media_needs needs,
                          media_verb_body body)
{
    media_opts o;
    int rc = parse_media_opts(argc, argv, cfg, &o);
    if (rc != 0)
        return rc;
    if (needs == NEED_CYCLE_AND_TEMPLATE && (o.cycle == NULL || o.template_dir == NULL)) {
        fprintf(stderr, "nsdb: --cycle と --template は必須です。\n");
        return EXIT_USAGE;
    }
    if (needs == NEED_CYCLE && o.cycle == NULL) {
        fprintf(stderr, "nsdb: --cycle は必須です。\n");
        return EXIT_USAGE;
    }
    app a;
    if ((rc = open_app(&a, cfg, 1)) != 0)
        return rc;
    arena *ar = arena_new();
    nsdb_problem pb = {0};
    nsdb_err e = body(&a, &o, ar, &pb);
    if (e != NSDB_OK)
        fprintf(stderr, "nsdb: %s\n", problem_message(&pb));
    arena_free(ar);
    app_close(&a);
    return e == NSDB_OK ? 0 : EXIT_USER;
}

/* A read that failed, as the verb's sentence ("…を読めません: " and the error). */
static nsdb_err read_failed(arena *ar, nsdb_problem *pb, const char *what, nsdb_err e)
{
    return problem_set(pb, e, NULL,
                       arena_printf(ar, "%sを読めません: %s", what, nsdb_err_message(e)));
}

static nsdb_err cycle_list_body(app *a, const media_opts *o, arena *ar, nsdb_problem *pb)
{
    static cycle_window cycles[2048];
    size_t n = 0;
    db *conn = db_pool_acquire(a->pool);
    nsdb_err e = store_cycle_list(conn, o->from, cycles, sizeof cycles / sizeof cycles[0], &n);
    db_pool_release(a->pool, conn);
    if (e != NSDB_OK)
        return read_failed(ar, pb, "サイクル", e);
    if (o->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, cycle_json(&cycles[i]));
        cli_print_json(list, JSON_INDENT(2));
        return NSDB_OK;
    }
    printf("サイクル\t登録期間\t\t\t媒体作成\t\t\t送付\n");
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s〜%s\t%s〜%s\t%s〜%s\n", cycles[i].id, cycles[i].registration_from,
               cycles[i].registration_to, cycles[i].media_from, cycles[i].media_to,
               cycles[i].delivery_from, cycles[i].delivery_to);
    return NSDB_OK;
}

int verb_cycle_list(int argc, char **argv, app_config *cfg)
{
    return run_media_verb(argc, argv, cfg, NEED_NOTHING, cycle_list_body);
}

static nsdb_err media_build_body(app *a, const media_opts *o, arena *ar, nsdb_problem *pb)
{
    media_built *built = NULL;
    size_t n = 0;
    core_actor who = core_actor_cli();
    nsdb_err e = media_build_cycle(a, o->cycle, o->template_dir, &who, NULL, ar, &built, &n, pb);
    if (o->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "media_id",
                                (json_int_t)built[i].media_id, "municipality",
                                built[i].municipality, "institution", built[i].institution, "iso",
                                built[i].iso, "sha256", built[i].sha256, "reissue",
                                built[i].reissue));
        cli_print_json(list, JSON_INDENT(2));
        return e;
    }
    for (size_t i = 0; i < n; i++)
        printf("媒体 %lld\t%s\t%s\t%s\t%s%s\n", (long long)built[i].media_id,
               built[i].municipality, built[i].institution, built[i].iso, built[i].sha256,
               built[i].reissue ? "\t再発行" : "");
    printf("%zu 件の媒体を作成しました。\n", n);
    return e;
}

int verb_media_build(int argc, char **argv, app_config *cfg)
{
    return run_media_verb(argc, argv, cfg, NEED_CYCLE_AND_TEMPLATE, media_build_body);
}

static nsdb_err media_list_body(app *a, const media_opts *o, arena *ar, nsdb_problem *pb)
{
    store_media *rows = NULL;
    size_t n = 0;
    db *conn = db_pool_acquire(a->pool);
    nsdb_err e = store_media_list(conn, ar, o->cycle, 0, 0, 0, &rows, &n);
    db_pool_release(a->pool, conn);
    if (e != NSDB_OK)
        return read_failed(ar, pb, "媒体の一覧", e);
    if (o->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o?}", "media_id",
                                (json_int_t)rows[i].id, "cycle", rows[i].cycle_id, "municipality",
                                rows[i].municipality_code, "institution", rows[i].institution_code,
                                "iso", rows[i].iso_path, "sha256", rows[i].sha256, "status",
                                media_status_key(rows[i].status), "kind", rows[i].kind, "size_bytes",
                                (json_int_t)rows[i].size_bytes, "package_id",
                                rows[i].package_id ? json_integer(rows[i].package_id) : NULL));
        cli_print_json(list, JSON_INDENT(2));
        return NSDB_OK;
    }
    for (size_t i = 0; i < n; i++)
        printf("媒体 %lld\t%s\t%s\t%s\t%s\t%s\n", (long long)rows[i].id, rows[i].cycle_id,
               rows[i].municipality_code, rows[i].institution_code,
               media_status_key(rows[i].status), rows[i].iso_path);
    return NSDB_OK;
}

int verb_media_list(int argc, char **argv, app_config *cfg)
{
    return run_media_verb(argc, argv, cfg, NEED_NOTHING, media_list_body);
}

static nsdb_err package_build_body(app *a, const media_opts *o, arena *ar, nsdb_problem *pb)
{
    package_built *built = NULL;
    size_t n = 0;
    core_actor who = core_actor_cli();
    nsdb_err e = media_pack_cycle(a, o->cycle, &who, ar, &built, &n, pb);
    if (o->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *ids = json_array();
            for (size_t k = 0; k < built[i].media_count; k++)
                json_array_append_new(ids, json_integer(built[i].media_ids[k]));
            /* tracking_number: null until 発送 (nsdb package ship) */
            json_array_append_new(list,
                                  json_pack("{s:I, s:s, s:o, s:n, s:s, s:s}", "package_id",
                                            (json_int_t)built[i].package_id, "municipality",
                                            built[i].municipality, "media", ids, "tracking_number",
                                            "label_pdf", built[i].label_pdf, "list_pdf",
                                            built[i].list_pdf));
        }
        cli_print_json(list, JSON_INDENT(2));
        return e;
    }
    for (size_t i = 0; i < n; i++)
        printf("梱包 %lld\t%s\t媒体 %zu 枚\t梱包済（発送は nsdb package ship）\n",
               (long long)built[i].package_id, built[i].municipality, built[i].media_count);
    printf("%zu 個の梱包を作成しました。\n", n);
    return e;
}

int verb_package_build(int argc, char **argv, app_config *cfg)
{
    return run_media_verb(argc, argv, cfg, NEED_CYCLE, package_build_body);
}

int media_option(int opt, app_config *cfg)
{
    switch (opt) {
    case OPT_VPN_REMOTE: cfg->vpn_remote = optarg; return 0;
    case OPT_SENDER_NAME: cfg->sender_name = optarg; return 0;
    case OPT_SENDER_POSTAL: cfg->sender_postal = optarg; return 0;
    case OPT_SENDER_ADDRESS: cfg->sender_address = optarg; return 0;
    case OPT_SENDER_PHONE: cfg->sender_phone = optarg; return 0;
    case OPT_MEDIA_TEMPLATE: cfg->media_template = optarg; return 0;
    default: return -1;
    }
}
