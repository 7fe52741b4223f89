/*
 * iso.c — media images with libisofs (see iso.h). The template tree is walked here rather than
 * with iso_tree_add_dir_rec so that symbolic links can be checked against the template folder,
 * special files skipped and names checked for UTF-8 before libisofs sees them. Extra files are
 * memory streams. The image is read from libisofs's burn_source (its writer thread fills a ring
 * buffer) and written to a temporary file while being hashed.
 *
 * libisofs has process-wide state: iso_init (run once, by pthread_once; iso_finish is never
 * called, the library's few global allocations live until exit), the shared local-filesystem
 * object whose reference count is not atomic, and the counter behind memory-stream inode
 * numbers. So one image is built at a time: iso_build_lock is held for the whole of a build,
 * until its writer thread has been joined and its objects freed. Key generation and the other
 * per-institution work happen outside, in parallel if the caller likes; a build itself is
 * bound by disk and SHA-256.
 */
#include "domain/iso.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Use the copy of struct burn_source in libisofs.h (we are not linked with libburn). The header
 * declares a few functions with () instead of (void). */
#define LIBISOFS_WITHOUT_LIBBURN 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libisofs.h>
#pragma GCC diagnostic pop
#include <sodium.h>

#include "util/fd.h"
#include "util/str.h"

enum {
    ISO_SECTOR = 2048,
    ISO_WRITE_CHUNK = 128 * ISO_SECTOR,
    ISO_MAX_DEPTH = 64,                  /* folders inside folders; deeper is a mistake */
    ISO_FILE_MODE = 0444,
    ISO_DIR_MODE = 0555,
};

static pthread_once_t iso_init_once = PTHREAD_ONCE_INIT;
static int iso_init_status; /* written once, under iso_init_once */
static pthread_mutex_t iso_build_lock = PTHREAD_MUTEX_INITIALIZER;

static void iso_library_init(void)
{
    static char utf8[] = "UTF-8";
    static char never[] = "NEVER", sorry[] = "SORRY", prefix[] = "nsdb: libisofs: ";
    if (sodium_init() < 0) {
        iso_init_status = -1;
        return;
    }
    /* bit0: leave the process locale alone; names are UTF-8 whatever the environment says. */
    iso_init_status = iso_init_with_flag(1);
    if (iso_init_status < 0)
        return;
    iso_set_local_charset(utf8, 0);
    iso_set_msgs_severities(never, sorry, prefix);
}

static NSDB_MUST_CHECK nsdb_err iso_fail(const char *what, int code)
{
    fprintf(stderr, "nsdb: iso: %s: %s\n", what, iso_error_to_msg(code));
    return code == (int)ISO_OUT_OF_MEM ? NSDB_ERR_NOMEM : NSDB_ERR_IO;
}

/* ---- validation --------------------------------------------------------------------------- */

static bool iso_volume_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ISO_VOLUME_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* A file or folder name as it may appear on the media. */
static bool iso_name_valid(const char *name, size_t n)
{
    if (n == 0 || n > 255 || !str_is_clean_utf8(name, n))
        return false;
    if ((n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '/' || name[i] == '\t' || name[i] == '\r' || name[i] == '\n')
            return false;
    return true;
}

/* ---- the template tree -------------------------------------------------------------------- */

typedef struct iso_walk {
    IsoImage *image;
    char root[PATH_MAX]; /* real path of the template folder */
    size_t root_len;
    struct stat ancestors[ISO_MAX_DEPTH]; /* folders being walked, against link loops */
    int depth;
} iso_walk;

static NSDB_MUST_CHECK nsdb_err iso_add_dir(iso_walk *w, IsoDir *parent, const char *path);

static bool iso_inside_root(const iso_walk *w, const char *real)
{
    return strncmp(real, w->root, w->root_len) == 0 &&
           (real[w->root_len] == '/' || real[w->root_len] == '\0');
}

static bool iso_is_ancestor(const iso_walk *w, const struct stat *st)
{
    for (int i = 0; i < w->depth; i++)
        if (w->ancestors[i].st_dev == st->st_dev && w->ancestors[i].st_ino == st->st_ino)
            return true;
    return false;
}

/* Adds one directory entry. A symbolic link is replaced by what it points to when that is
 * inside the template; otherwise it is left out with a note. */
static NSDB_MUST_CHECK nsdb_err iso_add_entry(iso_walk *w, IsoDir *parent, const char *path,
                                              const char *name)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        fprintf(stderr, "nsdb: iso: %s: %s\n", path, strerror(errno));
        return NSDB_ERR_IO;
    }
    char real[PATH_MAX];
    const char *source = path;
    if (S_ISLNK(st.st_mode)) {
        if (realpath(path, real) == NULL || !iso_inside_root(w, real) || stat(real, &st) != 0) {
            fprintf(stderr, "nsdb: iso: skipping %s: a link to outside the template\n", path);
            return NSDB_OK;
        }
        source = real;
    }
    if (S_ISDIR(st.st_mode)) {
        if (w->depth >= ISO_MAX_DEPTH || iso_is_ancestor(w, &st)) {
            fprintf(stderr, "nsdb: iso: skipping %s: folder loop or too deep\n", path);
            return NSDB_OK;
        }
        IsoDir *dir = NULL;
        int rc = iso_image_add_new_dir(w->image, parent, name, &dir);
        if (rc < 0)
            return iso_fail(path, rc);
        iso_node_set_permissions((IsoNode *)dir, ISO_DIR_MODE);
        w->ancestors[w->depth++] = st;
        nsdb_err err = iso_add_dir(w, dir, source);
        w->depth--;
        return err;
    }
    if (S_ISREG(st.st_mode)) {
        IsoNode *node = NULL;
        int rc = iso_tree_add_new_node(w->image, parent, name, source, &node);
        if (rc < 0)
            return iso_fail(path, rc);
        iso_node_set_permissions(node, ISO_FILE_MODE);
        return NSDB_OK;
    }
    return NSDB_OK; /* sockets, devices, FIFOs have no place on a disc */
}

static NSDB_MUST_CHECK nsdb_err iso_add_dir(iso_walk *w, IsoDir *parent, const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "nsdb: iso: cannot open %s: %s\n", path, strerror(errno));
        return NSDB_ERR_IO;
    }
    nsdb_err err = NSDB_OK;
    char child[PATH_MAX];
    for (struct dirent *e; err == NSDB_OK && (errno = 0, e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!iso_name_valid(e->d_name, strlen(e->d_name))) {
            fprintf(stderr, "nsdb: iso: %s/%s: the name is not clean UTF-8\n", path, e->d_name);
            err = NSDB_ERR_INVALID;
            break;
        }
        int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child) {
            err = NSDB_ERR_TOO_LARGE;
            break;
        }
        err = iso_add_entry(w, parent, child, e->d_name);
    }
    if (err == NSDB_OK && errno != 0) {
        fprintf(stderr, "nsdb: iso: cannot read %s: %s\n", path, strerror(errno));
        err = NSDB_ERR_IO;
    }
    closedir(d);
    return err;
}

static NSDB_MUST_CHECK nsdb_err iso_add_template(IsoImage *image, const char *template_dir)
{
    iso_walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NSDB_ERR_NOMEM;
    w->image = image;
    nsdb_err err = NSDB_OK;
    struct stat st;
    if (realpath(template_dir, w->root) == NULL || stat(w->root, &st) != 0) {
        fprintf(stderr, "nsdb: iso: template folder %s: %s\n", template_dir, strerror(errno));
        err = NSDB_ERR_NOT_FOUND;
    } else if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nsdb: iso: template %s is not a folder\n", template_dir);
        err = NSDB_ERR_NOT_FOUND;
    } else {
        w->root_len = strlen(w->root);
        if (w->root_len == 1)
            w->root_len = 0; /* "/" as template: every path is inside */
        w->ancestors[w->depth++] = st;
        err = iso_add_dir(w, iso_image_get_root(image), w->root);
    }
    free(w);
    return err;
}

/* ---- files given in memory ---------------------------------------------------------------- */

/* Finds or makes the folder called name (n bytes) in parent. */
static NSDB_MUST_CHECK nsdb_err iso_extra_dir(IsoImage *image, IsoDir *parent, const char *name,
                                              IsoDir **out)
{
    IsoNode *node = NULL;
    if (iso_dir_get_node(parent, name, &node) == 1) {
        if (!ISO_NODE_IS_DIR(node)) {
            fprintf(stderr, "nsdb: iso: %s is a file in the template, not a folder\n", name);
            return NSDB_ERR_EXISTS;
        }
        *out = (IsoDir *)node;
        return NSDB_OK;
    }
    int rc = iso_image_add_new_dir(image, parent, name, out);
    if (rc < 0)
        return iso_fail(name, rc);
    iso_node_set_permissions((IsoNode *)*out, ISO_DIR_MODE);
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err iso_add_extra(IsoImage *image, const iso_extra_file *f)
{
    if (f->path == NULL || (f->data == NULL && f->len > 0))
        return NSDB_ERR_INVALID;
    IsoDir *dir = iso_image_get_root(image);
    char name[256];
    const char *p = f->path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (!iso_name_valid(p, n) || n >= sizeof name) {
            fprintf(stderr, "nsdb: iso: bad file path %s\n", f->path);
            return NSDB_ERR_INVALID;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (slash == NULL)
            break;
        nsdb_err err = iso_extra_dir(image, dir, name, &dir);
        if (err != NSDB_OK)
            return err;
        p = slash + 1;
    }
    IsoNode *existing = NULL;
    if (iso_dir_get_node(dir, name, &existing) == 1) {
        fprintf(stderr, "nsdb: iso: %s is already in the template\n", f->path);
        return NSDB_ERR_EXISTS;
    }
    unsigned char *copy = malloc(f->len > 0 ? f->len : 1); /* the stream will free it */
    if (copy == NULL)
        return NSDB_ERR_NOMEM;
    if (f->len > 0)
        memcpy(copy, f->data, f->len);
    IsoStream *stream = NULL;
    int rc = iso_memory_stream_new(copy, f->len, &stream);
    if (rc < 0) {
        free(copy);
        return iso_fail(f->path, rc);
    }
    IsoFile *file = NULL;
    rc = iso_image_add_new_file(image, dir, name, stream, &file);
    if (rc < 0) {
        iso_stream_unref(stream);
        return iso_fail(f->path, rc);
    }
    iso_node_set_permissions((IsoNode *)file, ISO_FILE_MODE);
    return NSDB_OK;
}

/* ---- what the image holds: sizes and names that differ only in case ---------------------- */

/* name folded as Windows compares Joliet names, for the letters our media can hold: ASCII and
 * full-width Latin (U+FF41–FF5A, EF BD 81–9A in UTF-8) to upper case. */
static char *iso_name_fold(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        if (c == 0xEF && i + 2 < n && (unsigned char)name[i + 1] == 0xBD &&
            (unsigned char)name[i + 2] >= 0x81 && (unsigned char)name[i + 2] <= 0x9A) {
            /* ａ (EF BD 81) … ｚ (EF BD 9A) → Ａ (EF BC A1) … Ｚ (EF BC BA) */
            out[i] = (char)0xEF;
            out[i + 1] = (char)0xBC;
            out[i + 2] = (char)((unsigned char)name[i + 2] + 0x20);
            i += 2;
        }
    }
    return out;
}

typedef struct iso_child {
    char *folded;
    const char *name;
} iso_child;

static int iso_child_cmp(const void *a, const void *b)
{
    const iso_child *x = a, *y = b;
    int c = strcmp(x->folded, y->folded);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static void iso_path_join(char out[ISO_CHECK_PATH_MAX], const char *dir, const char *name)
{
    snprintf(out, ISO_CHECK_PATH_MAX, "%s/%s", dir, name);
}

/* Sizes and case clashes under dir, whose path on the media is path ("" for the root). */
static NSDB_MUST_CHECK nsdb_err iso_content_walk(IsoDir *dir, const char *path, int depth,
                                                 iso_content *out)
{
    int count = iso_dir_get_children_count(dir);
    if (count <= 0)
        return NSDB_OK;
    iso_child *children = calloc((size_t)count, sizeof *children);
    IsoDirIter *iter = NULL;
    if (children == NULL || iso_dir_get_children(dir, &iter) != 1) {
        free(children);
        return NSDB_ERR_NOMEM;
    }
    nsdb_err err = NSDB_OK;
    size_t n = 0;
    IsoNode *node = NULL;
    while (err == NSDB_OK && n < (size_t)count && iso_dir_iter_next(iter, &node) == 1) {
        const char *name = iso_node_get_name(node);
        children[n].name = name;
        children[n].folded = iso_name_fold(name);
        if (children[n++].folded == NULL) {
            err = NSDB_ERR_NOMEM;
            break;
        }
        if (ISO_NODE_IS_FILE(node)) {
            out->file_bytes += (int64_t)iso_file_get_size((IsoFile *)node);
        } else if (ISO_NODE_IS_DIR(node) && depth < ISO_MAX_DEPTH) {
            char child[ISO_CHECK_PATH_MAX];
            iso_path_join(child, path, name);
            err = iso_content_walk((IsoDir *)node, child, depth + 1, out);
        }
    }
    iso_dir_iter_free(iter);
    if (err == NSDB_OK)
        qsort(children, n, sizeof *children, iso_child_cmp);
    for (size_t i = 1; err == NSDB_OK && i < n && out->clash_first[0] == '\0'; i++)
        if (strcmp(children[i - 1].folded, children[i].folded) == 0) {
            iso_path_join(out->clash_first, path, children[i - 1].name);
            iso_path_join(out->clash_second, path, children[i].name);
        }
    for (size_t i = 0; i < n; i++)
        free(children[i].folded);
    free(children);
    return err;
}

/* Fills *out from a filled image; NSDB_ERR_EXISTS when two names clash. */
static NSDB_MUST_CHECK nsdb_err iso_content_of(IsoImage *image, iso_content *out)
{
    memset(out, 0, sizeof *out);
    nsdb_err err = iso_content_walk(iso_image_get_root(image), "", 0, out);
    if (err == NSDB_OK && out->clash_first[0] != '\0') {
        fprintf(stderr, "nsdb: iso: %s and %s differ only in case\n", out->clash_first,
                out->clash_second);
        err = NSDB_ERR_EXISTS;
    }
    return err;
}

/* ---- writing ------------------------------------------------------------------------------ */

static IsoWriteOpts *iso_write_opts_for(time_t timestamp)
{
    IsoWriteOpts *opts = NULL;
    if (iso_write_opts_new(&opts, 0) < 0)
        return NULL;
    static char utf8[] = "UTF-8";
    /* The volume times as "YYYYMMDDhhmmsscc" in UTC: predictable, free of time zones. */
    char uuid[32] = "";
    struct tm tm;
    if (gmtime_r(&timestamp, &tm) == NULL ||
        strftime(uuid, sizeof uuid, "%Y%m%d%H%M%S00", &tm) != 16)
        uuid[0] = '\0'; /* then the volume times come from timestamp itself */
    iso_write_opts_set_iso_level(opts, 3);      /* files over 4 GiB (videos) */
    iso_write_opts_set_rockridge(opts, 1);
    /* RRIP 1.10 (what mkisofs writes) has no inode numbers in PX; libisofs hands those out in
     * an order that depends on heap addresses, which would make equal inputs differ. */
    iso_write_opts_set_rrip_version_1_10(opts, 1);
    iso_write_opts_set_joliet(opts, 1);
    iso_write_opts_set_joliet_long_names(opts, 1);
    iso_write_opts_set_joliet_longer_paths(opts, 1);
    iso_write_opts_set_joliet_utf16(opts, 1);
    iso_write_opts_set_output_charset(opts, utf8);
    iso_write_opts_set_aaip(opts, 0);
    iso_write_opts_set_hardlinks(opts, 0);
    iso_write_opts_set_always_gmt(opts, 1);
    iso_write_opts_set_replace_mode(opts, 1, 1, 1, 1); /* readable by all, owned by root */
    iso_write_opts_set_replace_timestamps(opts, 2);
    iso_write_opts_set_default_timestamp(opts, timestamp);
    iso_write_opts_set_dir_rec_mtime(opts, 1 | 2 | 4);
    iso_write_opts_set_pvd_times(opts, timestamp, timestamp, 0, 0, uuid);
    return opts;
}

/* Drains the burn_source into fd, hashing as it goes. */
static NSDB_MUST_CHECK nsdb_err iso_drain(struct burn_source *src, int fd, unsigned char hash[32])
{
    unsigned char *buf = malloc(ISO_WRITE_CHUNK);
    if (buf == NULL)
        return NSDB_ERR_NOMEM;
    crypto_hash_sha256_state sha;
    crypto_hash_sha256_init(&sha);
    off_t expected = src->get_size(src), total = 0;
    nsdb_err err = NSDB_OK;
    size_t fill = 0;
    for (;;) {
        /* libisofs delivers whole sectors; one sector a call is the burn_source contract. */
        int r = src->read != NULL ? src->read(src, buf + fill, ISO_SECTOR)
                                  : src->read_xt(src, buf + fill, ISO_SECTOR);
        if (r < 0) {
            err = NSDB_ERR_IO;
            break;
        }
        fill += (size_t)r;
        total += r;
        if (fill > 0 && (fill == ISO_WRITE_CHUNK || r < ISO_SECTOR)) {
            crypto_hash_sha256_update(&sha, buf, fill);
            err = fd_write_all(fd, buf, fill);
            fill = 0;
            if (err != NSDB_OK)
                break;
        }
        if (r < ISO_SECTOR)
            break;
    }
    if (err == NSDB_OK && total != expected) {
        fprintf(stderr, "nsdb: iso: image ended after %lld of %lld bytes\n", (long long)total,
                (long long)expected);
        err = NSDB_ERR_IO;
    }
    crypto_hash_sha256_final(&sha, hash);
    free(buf);
    return err;
}

static NSDB_MUST_CHECK nsdb_err iso_write_image(IsoImage *image, time_t timestamp, int fd,
                                                unsigned char hash[32])
{
    IsoWriteOpts *opts = iso_write_opts_for(timestamp);
    if (opts == NULL)
        return NSDB_ERR_NOMEM;
    struct burn_source *src = NULL;
    int rc = iso_image_create_burn_source(image, opts, &src);
    iso_write_opts_free(opts);
    if (rc < 0)
        return iso_fail("starting the image", rc);
    off_t size = src->get_size(src);
    nsdb_err err = NSDB_OK;
    if ((long long)size > ISO_DVD_CAPACITY_BYTES) {
        fprintf(stderr, "nsdb: iso: the image would be %lld bytes, over a DVD's %lld\n",
                (long long)size, (long long)ISO_DVD_CAPACITY_BYTES);
        err = NSDB_ERR_TOO_LARGE;
    }
    if (err == NSDB_OK)
        err = iso_drain(src, fd, hash);
    if (err != NSDB_OK)
        src->cancel(src);
    src->free_data(src); /* joins the writer thread */
    free(src);
    return err;
}

/* ---- the whole build ---------------------------------------------------------------------- */

static NSDB_MUST_CHECK nsdb_err iso_image_fill(IsoImage *image, const char *template_dir,
                                               const iso_extra_file *extra, size_t extra_count)
{
    iso_image_set_ignore_aclea(image, 1 | 2); /* the server's ACLs and xattrs stay home */
    iso_tree_set_follow_symlinks(image, 0);
    iso_image_set_truncate_mode(image, 0, 255); /* a too-long name is an error, not a hash */
    iso_image_set_application_id(image, "NSDB");
    nsdb_err err = iso_add_template(image, template_dir);
    for (size_t i = 0; err == NSDB_OK && i < extra_count; i++)
        err = iso_add_extra(image, &extra[i]);
    return err;
}

static void iso_hex(const unsigned char hash[32], char out[ISO_SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[ISO_SHA256_HEX_LEN] = '\0';
}

static void iso_dir_sync_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Runs under iso_build_lock. */
static NSDB_MUST_CHECK nsdb_err iso_build_locked(const char *output_path, const char *volume_id,
                                                 const char *template_dir,
                                                 const iso_extra_file *extra, size_t extra_count,
                                                 time_t timestamp, unsigned char hash[32])
{
    IsoImage *image = NULL;
    int rc = iso_image_new(volume_id, &image);
    if (rc < 0)
        return iso_fail("creating the image", rc);
    nsdb_err err = iso_image_fill(image, template_dir, extra, extra_count);
    iso_content content;
    if (err == NSDB_OK)
        err = iso_content_of(image, &content);

    char tmp[PATH_MAX];
    int fd = -1;
    if (err == NSDB_OK) {
        int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", output_path);
        if (n < 0 || (size_t)n >= sizeof tmp)
            err = NSDB_ERR_TOO_LARGE;
        else if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
            fprintf(stderr, "nsdb: iso: cannot create %s: %s\n", tmp, strerror(errno));
            err = NSDB_ERR_IO;
        }
    }
    if (err == NSDB_OK)
        err = iso_write_image(image, timestamp, fd, hash);
    iso_image_unref(image);
    if (fd < 0)
        return err;
    if (err == NSDB_OK && fsync(fd) != 0)
        err = NSDB_ERR_IO;
    if (close(fd) != 0 && err == NSDB_OK)
        err = NSDB_ERR_IO;
    if (err == NSDB_OK && rename(tmp, output_path) != 0) {
        fprintf(stderr, "nsdb: iso: cannot rename to %s: %s\n", output_path, strerror(errno));
        err = NSDB_ERR_IO;
    }
    if (err != NSDB_OK) {
        unlink(tmp);
        return err;
    }
    iso_dir_sync_of(output_path);
    return NSDB_OK;
}

nsdb_err iso_build_at(const char *output_path, const char *volume_id, const char *template_dir,
                      const iso_extra_file *extra, size_t extra_count, time_t timestamp,
                      char sha256_hex_out[ISO_SHA256_HEX_LEN + 1])
{
    sha256_hex_out[0] = '\0';
    if (!iso_volume_id_valid(volume_id) || (extra == NULL && extra_count > 0))
        return NSDB_ERR_INVALID;
    pthread_once(&iso_init_once, iso_library_init);
    if (iso_init_status < 0)
        return iso_fail("initialising libisofs", iso_init_status);

    unsigned char hash[32];
    pthread_mutex_lock(&iso_build_lock);
    nsdb_err err = iso_build_locked(output_path, volume_id, template_dir, extra, extra_count,
                                    timestamp, hash);
    pthread_mutex_unlock(&iso_build_lock);
    if (err == NSDB_OK)
        iso_hex(hash, sha256_hex_out);
    return err;
}

nsdb_err iso_build(const char *output_path, const char *volume_id, const char *template_dir,
                   const iso_extra_file *extra, size_t extra_count,
                   char sha256_hex_out[ISO_SHA256_HEX_LEN + 1])
{
    return iso_build_at(output_path, volume_id, template_dir, extra, extra_count, time(NULL),
                        sha256_hex_out);
}

nsdb_err iso_check(const char *template_dir, const iso_extra_file *extra, size_t extra_count,
                   iso_content *out)
{
    memset(out, 0, sizeof *out);
    if (extra == NULL && extra_count > 0)
        return NSDB_ERR_INVALID;
    pthread_once(&iso_init_once, iso_library_init);
    if (iso_init_status < 0)
        return iso_fail("initialising libisofs", iso_init_status);
    pthread_mutex_lock(&iso_build_lock);
    IsoImage *image = NULL;
    int rc = iso_image_new("CHECK", &image);
    nsdb_err err = rc < 0 ? iso_fail("creating the image", rc)
                          : iso_image_fill(image, template_dir, extra, extra_count);
    if (err == NSDB_OK)
        err = iso_content_of(image, out);
    if (image != NULL)
        iso_image_unref(image);
    pthread_mutex_unlock(&iso_build_lock);
    return err;
}
