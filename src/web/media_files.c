/*
 * media_files.c — see media_files.h. Every file is found from a database row (a package or
 * media id, a cycle id checked against the cycles table), never from a path in the request.
 * Images and the archive are sent from disk in chunks by libmicrohttpd (http_send_fd,
 * http_send_stream): a DVD image is up to 4.7 GB and a cycle's archive many of them, so nothing
 * is read into memory. The archive is a tar laid out on demand (domain/tar_stream.h) rather than
 * a file built in DATA/tmp: no second copy of gigabytes on disk, no stale archive to invalidate
 * when a media is added, and its size is known before the first byte. Downloads of an image or
 * the archive (key material) and of the lists (user IDs) write an audit record.
 */
#include "web/media_files.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/media_files.h"
#include "domain/disc_label_pdf.h"
#include "domain/tar_stream.h"
#include "store/media_store.h"
#include "util/log.h"

static const char NO_PACKAGE[] = "指定された梱包は見つかりません。";
static const char NO_MEDIA[] = "指定された媒体は見つかりません。";

/* The route's id: digits only, > 0; 0 otherwise. */
static int64_t path_id(web_ctx *ctx)
{
    const char *s = ctx->req->path_params[0];
    if (s == NULL || *s == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
        return 0;
    return (int64_t)strtoll(s, NULL, 10);
}

static store_package *package_of_path(web_ctx *ctx)
{
    store_package *p = NULL;
    int64_t id = path_id(ctx);
    nsdb_err e = id == 0 ? NSDB_ERR_NOT_FOUND
                         : store_package_get(web_db(ctx), ctx->req->arena, id, 0, &p);
    if (e != NSDB_OK) {
        page_error(ctx, e == NSDB_ERR_NOT_FOUND ? 404 : 503,
                   e == NSDB_ERR_NOT_FOUND ? NO_PACKAGE : nsdb_err_message(e));
        return NULL;
    }
    return p;
}

/* Sends path from disk; false (and a page) when it is not there. */
static bool send_from_disk(web_ctx *ctx, const char *path, const char *content_type,
                           const char *filename, const char *missing)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        log_event(LOG_WARN, "media_file_missing", "path", path, NULL);
        page_error(ctx, 404, missing);
        return false;
    }
    http_send_fd(ctx->req, content_type, filename, fd, (uint64_t)st.st_size);
    return true;
}

void web_media_package_file(web_ctx *ctx)
{
    const web_package_file *f = ctx->route->arg;
    store_package *p = package_of_path(ctx);
    if (p == NULL)
        return;
    arena *a = ctx->req->arena;
    const char *path = media_package_file(a, ctx->app->cfg.data_dir, p, f->kind);
    const char *name = arena_printf(a, "%s_%s_%02lld_%s", p->cycle_id, p->municipality_code,
                                    (long long)p->seq, f->kind);
    if (send_from_disk(
            ctx, path, f->content_type, name,
            strcmp(f->kind, "list.pdf") == 0
                ? "この梱包の一覧（PDF）はありません（ユーザのいない医療機関だけの梱包です）。"
                : "この梱包のファイルがこのサーバのデータフォルダにありません。"))
        web_audit_now(ctx, "package_file_download",
                      arena_printf(a, "package:%lld", (long long)p->id), "ok", f->kind);
}

void web_media_disc_labels(web_ctx *ctx)
{
    store_package *p = package_of_path(ctx);
    if (p == NULL)
        return;
    arena *a = ctx->req->arena;
    store_media *m = NULL;
    size_t n = 0;
    nsdb_err e = store_media_list(web_db(ctx), a, NULL, 0, p->id, 0, &m, &n);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    if (n == 0) {
        page_error(ctx, 404, "この梱包に媒体はありません。");
        return;
    }
    disc_label *labels = arena_calloc(a, n, sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = (disc_label){m[i].institution_code,
                                 m[i].institution_name,
                                 m[i].municipality_code,
                                 m[i].municipality_name,
                                 m[i].cycle_id,
                                 arena_printf(a, "%lld", (long long)m[i].id)};
    strbuf pdf = STRBUF_INIT;
    e = disc_label_pdf(labels, n, &pdf);
    if (e != NSDB_OK) {
        strbuf_free(&pdf);
        page_error(ctx, 500, "媒体ラベルを作成できませんでした。");
        return;
    }
    http_send_file(ctx->req, "application/pdf",
                   arena_printf(a, "%s_%s_%02lld_discs.pdf", p->cycle_id, p->municipality_code,
                                (long long)p->seq),
                   pdf.data, pdf.len);
    strbuf_free(&pdf);
}

void web_media_iso(web_ctx *ctx)
{
    store_media *m = NULL;
    int64_t id = path_id(ctx);
    arena *a = ctx->req->arena;
    nsdb_err e = id == 0 ? NSDB_ERR_NOT_FOUND : store_media_get(web_db(ctx), a, id, 0, &m);
    if (e != NSDB_OK) {
        page_error(ctx, e == NSDB_ERR_NOT_FOUND ? 404 : 503,
                   e == NSDB_ERR_NOT_FOUND ? NO_MEDIA : nsdb_err_message(e));
        return;
    }
    const char *path = media_iso_file(a, ctx->app->cfg.data_dir, m);
    const char *name = strrchr(path, '/') + 1;
    if (send_from_disk(ctx, path, "application/x-iso9660-image", name,
                       "この媒体のイメージがこのサーバのデータフォルダにありません"
                       "（複数のサーバでは、データフォルダを共有してください）。"))
        web_audit_now(ctx, "media_iso_download", arena_printf(a, "media:%lld", (long long)m->id),
                      "ok",
                      arena_printf(a, "%s %s %s SHA-256 %s", m->cycle_id, m->municipality_code,
                                   m->institution_code, m->sha256 ? m->sha256 : ""));
}

static long archive_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    return tar_stream_read(cls, pos, buf, max);
}

static void archive_release(void *cls)
{
    tar_stream_free(cls);
}

void web_media_cycle_archive(web_ctx *ctx)
{
    arena *a = ctx->req->arena;
    const char *cycle = ctx->req->path_params[0];
    cycle_window w;
    nsdb_err e = store_cycle_get(web_db(ctx), cycle, &w);
    if (e != NSDB_OK) {
        page_error(ctx, e == NSDB_ERR_NOT_FOUND ? 404 : 503,
                   e == NSDB_ERR_NOT_FOUND ? "指定されたサイクルは見つかりません。"
                                           : nsdb_err_message(e));
        return;
    }
    media_cycle_file *files = NULL;
    size_t n = 0;
    e = media_cycle_files(ctx->app, web_db(ctx), a, w.id, &files, &n);
    tar_entry *entries = arena_calloc(a, n ? n : 1, sizeof *entries);
    for (size_t i = 0; i < n; i++)
        entries[i] = (tar_entry){files[i].name, files[i].path, files[i].size, files[i].mtime};
    tar_stream *t = NULL;
    if (e == NSDB_OK)
        e = tar_stream_open(entries, n, &t);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    if (n == 0) {
        tar_stream_free(t);
        page_error(ctx, 404, "このサイクルの媒体のファイルはまだありません。");
        return;
    }
    web_audit_now(ctx, "media_archive_download", arena_printf(a, "cycle:%s", w.id), "ok",
                  arena_printf(a, "%zu files", n));
    http_send_stream(ctx->req, "application/x-tar", arena_printf(a, "nsdb_media_%s.tar", w.id),
                     tar_stream_size(t), archive_read, archive_release, t);
}

json_t *web_media_board_files(web_ctx *ctx, const char *cycle)
{
    json_t *out = json_object();
    if (ctx->user->role != USER_ROLE_OPERATOR || cycle == NULL)
        return out; /* mhlw reads the board, never the key material */
    arena *a = ctx->req->arena;
    store_package *p = NULL;
    store_media *m = NULL;
    size_t np = 0, nm = 0;
    if (store_package_list(web_db(ctx), a, cycle, 0, &p, &np) != NSDB_OK ||
        store_media_list(web_db(ctx), a, cycle, 0, 0, 0, &m, &nm) != NSDB_OK) {
        json_decref(out);
        return NULL;
    }
    json_t *packages = json_array(), *media = json_array();
    for (size_t i = 0; i < np; i++) {
        struct stat st; /* a package without users has no list PDF */
        bool list_pdf = stat(media_package_file(a, ctx->app->cfg.data_dir, &p[i], "list.pdf"),
                             &st) == 0;
        json_array_append_new(packages,
                              json_pack("{s:I, s:s, s:s, s:I, s:b}", "id", (json_int_t)p[i].id,
                                        "code", p[i].municipality_code, "name",
                                        p[i].municipality_name, "seq", (json_int_t)p[i].seq,
                                        "list_pdf", list_pdf));
    }
    for (size_t i = 0; i < nm; i++)
        json_array_append_new(
            media,
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)m[i].id, "code",
                      m[i].municipality_code, "inst_code", m[i].institution_code, "inst_name",
                      m[i].institution_name, "status_label", media_status_label(m[i].status),
                      "size", arena_printf(a, "%.1f MB", (double)m[i].size_bytes / 1e6), "sha256",
                      m[i].sha256 ? m[i].sha256 : "", "reissue", m[i].reissue_of ? "再発行" : ""));
    json_object_set_new(out, "packages", packages);
    json_object_set_new(out, "media", media);
    json_object_set_new(out, "any", json_boolean(np + nm > 0));
    return out;
}
