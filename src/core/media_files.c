/*
 * media_files.c — see media_files.h. Reads only: the downloads change nothing but the audit log,
 * which the web layer writes for each file that carries key material or user IDs.
 */
#include "core/media_files.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"

static const char *const PACKAGE_KINDS[] = {"label.pdf", "list.pdf", "list.csv"};

const char *media_package_file(arena *ar, const char *data_dir, const store_package *p,
                               const char *kind)
{
    /* the name pack_files (media.c) writes: MUNI_SEQ_kind */
    return arena_printf(ar, "%s/media/%s/packages/%s_%02lld_%s", data_dir, p->cycle_id,
                        p->municipality_code, (long long)p->seq, kind);
}

const char *media_iso_file(arena *ar, const char *data_dir, const store_media *m)
{
    const char *slash = m->iso_path ? strrchr(m->iso_path, '/') : NULL;
    const char *name = slash ? slash + 1 : m->iso_path ? m->iso_path : "";
    return arena_printf(ar, "%s/media/%s/%s", data_dir, m->cycle_id, name);
}

/* Adds path as name when it is a regular file; false when it is not there. */
static bool add_file(arena *ar, const char *name, const char *path, media_cycle_file *out,
                     size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    out[(*n)++] = (media_cycle_file){arena_strdup(ar, name), path, (uint64_t)st.st_size,
                                     (int64_t)st.st_mtime};
    return true;
}

nsdb_err media_cycle_files(app *a, db *conn, arena *ar, const char *cycle_id,
                           media_cycle_file **out, size_t *count_out)
{
    store_package *p = NULL;
    store_media *m = NULL;
    size_t np = 0, nm = 0;
    nsdb_err e = store_package_list(conn, ar, cycle_id, 0, &p, &np);
    if (e == NSDB_OK)
        e = store_media_list(conn, ar, cycle_id, 0, 0, 0, &m, &nm);
    if (e != NSDB_OK)
        return e;
    size_t kinds = sizeof PACKAGE_KINDS / sizeof PACKAGE_KINDS[0];
    media_cycle_file *files = arena_calloc(ar, np * kinds + nm + 1, sizeof *files);
    size_t n = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t k = 0; k < kinds; k++) {
            const char *path = media_package_file(ar, a->cfg.data_dir, &p[i], PACKAGE_KINDS[k]);
            add_file(ar, arena_printf(ar, "%s/packages/%s", cycle_id, strrchr(path, '/') + 1), path,
                     files, &n);
        }
    for (size_t i = 0; i < nm; i++) {
        const char *path = media_iso_file(ar, a->cfg.data_dir, &m[i]);
        if (!add_file(ar, arena_printf(ar, "%s/%s", cycle_id, strrchr(path, '/') + 1), path, files,
                      &n))
            log_event(LOG_WARN, "media_file_missing", "cycle", cycle_id, "path", path, NULL);
    }
    *out = files;
    *count_out = n;
    return NSDB_OK;
}
