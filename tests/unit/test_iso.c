/*
 * test_iso.c — media images of domain/iso.c, read back with isoinfo (genisoimage): volume ID,
 * Joliet and Rock Ridge present, every template and in-memory file there by its Japanese name
 * with the right content, links and special files handled, SHA-256 equal to sha256sum's,
 * identical bytes for identical inputs, atomic output, refusals, and concurrent builds. The
 * isoinfo checks are skipped, with a message, only when the command is not installed.
 */
#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domain/iso.h"
#include "util/str.h"

enum { BIG_FILE_BYTES = 1024 * 1024 };

#define FIXED_TIME ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define VOLUME_ID "NSDB_1312345678"

typedef struct {
    char dir[64];
    char template_dir[96];
    char image[128];
    char *big; /* the 1 MB file's content */
} fixture;

/* The template tree: path relative to the template folder, and content (NULL: the big file). */
static const struct {
    const char *path;
    const char *content;
} TEMPLATE_FILES[] = {
    {"README.txt", "難病・小慢DB 媒体\r\n"},
    {"manual/マニュアル.pdf", "%PDF-1.4\n% not really a PDF\n"},
    {"manual/確認ツール/チェックツール説明書.txt", "起動して「確認」を押してください。\n"},
    {"video/introduction.mp4", NULL},
    {"vpn/vpnclient-setup.msi", "MZ\x90\x00installer"},
    {"deep/1/2/3/4/5/6/7/8/9/leaf.txt", "nine folders down\n"},
    {"a file name that is long enough to pass the old sixty-four character Joliet limit.txt",
     "long\n"},
};

static const char P12_BYTES[] = {0x30, (char)0x82, 0x05, 0x00, 0x00, 0x01, 0x02, (char)0xff};
static const char CSV_TEXT[] = "#,公共団体ID,公共団体名,医療機関ID,医療機関名,ユーザID\r\n"
                               "1,131016,千代田区,1312345678,難病記念病院,K7M2QX9ZP4TB\r\n";

#define OVPN_TEXT "client\nremote vpn.example.jp 1194\npkcs12 ../client.p12\n"

static const iso_extra_file EXTRA_FILES[] = {
    {"vpn/client.p12", P12_BYTES, sizeof P12_BYTES},
    {"list/ユーザID一覧.csv", CSV_TEXT, sizeof CSV_TEXT - 1},
    {"vpn/profile/難病DB.ovpn", OVPN_TEXT, sizeof OVPN_TEXT - 1},
    {"empty.txt", "", 0},
};

static void make_parent_dirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strchr(buf + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(buf, 0755) != 0)
            assert_int_equal(access(buf, F_OK), 0);
        *p = '/';
    }
}

static void write_file(const char *path, const void *data, size_t n)
{
    make_parent_dirs(path);
    test_write_file(path, data, n);
}

static int setup_template(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (test_mkdtemp(f->dir, sizeof f->dir, "nsdb-iso") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->template_dir, sizeof f->template_dir, "%s/template", f->dir);
    snprintf(f->image, sizeof f->image, "%s/out/media.iso", f->dir);
    f->big = malloc(BIG_FILE_BYTES);
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < BIG_FILE_BYTES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        f->big[i] = (char)(x >> 24);
    }
    char path[512];
    for (size_t i = 0; i < sizeof TEMPLATE_FILES / sizeof TEMPLATE_FILES[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->template_dir, TEMPLATE_FILES[i].path);
        const char *c = TEMPLATE_FILES[i].content;
        if (c == NULL)
            write_file(path, f->big, BIG_FILE_BYTES);
        else
            write_file(path, c, strcmp(TEMPLATE_FILES[i].path, "vpn/vpnclient-setup.msi") == 0
                                    ? 13
                                    : strlen(c));
    }
    snprintf(path, sizeof path, "%s/empty folder", f->template_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/out", f->dir);
    mkdir(path, 0755);
    /* A link inside the template is followed, one to outside and a FIFO are left out. */
    snprintf(path, sizeof path, "%s/はじめに.txt", f->template_dir);
    if (symlink("README.txt", path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/manual/video-link", f->template_dir);
    if (symlink("../video", path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/passwd", f->template_dir);
    if (symlink("/etc/passwd", path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/loop", f->template_dir);
    if (symlink(".", path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/fifo", f->template_dir);
    if (mkfifo(path, 0600) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown_template(void **state)
{
    fixture *f = *state;
    int rc = test_remove_tree(f->dir);
    free(f->big);
    free(f);
    return rc;
}

static void require_isoinfo(void)
{
    if (system("command -v isoinfo >/dev/null 2>&1") != 0) {
        print_message("SKIP: isoinfo is not installed (apt-get install genisoimage)\n");
        skip();
    }
}

static void build_fixture_image(fixture *f, time_t when, char sha[ISO_SHA256_HEX_LEN + 1])
{
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, EXTRA_FILES,
                                  sizeof EXTRA_FILES / sizeof EXTRA_FILES[0], when, sha),
                     NSDB_OK);
    assert_int_equal(strlen(sha), ISO_SHA256_HEX_LEN);
}

/* Extracts path from the image with isoinfo (tree: "-J" Joliet or "-R" Rock Ridge) and
 * compares it with the expected content. */
static void assert_file_in_image(const fixture *f, const char *tree, const char *path,
                                 const void *content, size_t n)
{
    char cmd[768], *out;
    size_t len;
    snprintf(cmd, sizeof cmd, "isoinfo %s -i '%s' -x '/%s'", tree, f->image, path);
    assert_int_equal(test_capture(cmd, &out, &len), 0);
    if (len != n || memcmp(out, content, n) != 0)
        fail_msg("%s /%s: %zu bytes, expected %zu", tree, path, len, n);
    free(out);
}

static void assert_listed(const char *listing, const char *path)
{
    char line[512];
    snprintf(line, sizeof line, "\n/%s\n", path);
    if (strstr(listing, line) == NULL)
        fail_msg("/%s is missing from the image listing:\n%s", path, listing);
}

/* ---- a small Joliet reader ----------------------------------------------------------------
 * isoinfo -J cannot print Japanese names (it knows no UTF-8), so the Joliet tree is also read
 * here, straight from the bytes: independent of libisofs, enough for these images. */

enum { SECTOR = 2048, MAX_ENTRIES = 64 };

typedef struct {
    char path[512];
    bool dir;
    size_t offset, len;
} joliet_entry;

typedef struct {
    char *img;
    size_t img_len;
    joliet_entry entries[MAX_ENTRIES];
    int count;
} joliet_tree;

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void utf8_put(strbuf *sb, uint32_t c)
{
    if (c < 0x80) {
        strbuf_putc(sb, (char)c);
    } else if (c < 0x800) {
        strbuf_putc(sb, (char)(0xC0 | c >> 6));
        strbuf_putc(sb, (char)(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        strbuf_putc(sb, (char)(0xE0 | c >> 12));
        strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 0x3F)));
        strbuf_putc(sb, (char)(0x80 | (c & 0x3F)));
    } else {
        strbuf_putc(sb, (char)(0xF0 | c >> 18));
        strbuf_putc(sb, (char)(0x80 | ((c >> 12) & 0x3F)));
        strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 0x3F)));
        strbuf_putc(sb, (char)(0x80 | (c & 0x3F)));
    }
}

static void joliet_walk(joliet_tree *t, uint32_t extent, uint32_t size, const char *prefix,
                        int depth)
{
    assert_true(depth < 32);
    assert_true((size_t)extent * SECTOR + size <= t->img_len);
    const unsigned char *dir = (const unsigned char *)t->img + (size_t)extent * SECTOR;
    for (size_t pos = 0; pos < size;) {
        const unsigned char *r = dir + pos;
        if (r[0] == 0) { /* records do not cross sectors: the rest of this one is padding */
            pos = (pos / SECTOR + 1) * SECTOR;
            continue;
        }
        size_t name_len = r[32];
        assert_true(33 + name_len <= r[0] && pos + r[0] <= size);
        const unsigned char *name = r + 33;
        if (!(name_len == 1 && (name[0] == 0 || name[0] == 1))) {
            strbuf path = STRBUF_INIT;
            strbuf_printf(&path, "%s/", prefix);
            for (size_t i = 0; i + 1 < name_len; i += 2) {
                uint32_t c = (uint32_t)name[i] << 8 | name[i + 1];
                if (c >= 0xD800 && c < 0xDC00 && i + 3 < name_len) {
                    uint32_t low = (uint32_t)name[i + 2] << 8 | name[i + 3];
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    i += 2;
                }
                utf8_put(&path, c);
            }
            bool is_dir = (r[25] & 2) != 0;
            if (!is_dir && path.len > 2 && strcmp(path.data + path.len - 2, ";1") == 0)
                path.data[path.len -= 2] = '\0';
            assert_true(t->count < MAX_ENTRIES && path.len < sizeof t->entries[0].path);
            joliet_entry *e = &t->entries[t->count++];
            snprintf(e->path, sizeof e->path, "%s", path.data);
            e->dir = is_dir;
            e->offset = (size_t)le32(r + 2) * SECTOR;
            e->len = le32(r + 10);
            assert_true(e->offset + e->len <= t->img_len);
            if (is_dir)
                joliet_walk(t, le32(r + 2), le32(r + 10), e->path, depth + 1);
            strbuf_free(&path);
        }
        pos += r[0];
    }
}

/* Reads the image and its Joliet tree; *pvd_created gets the primary volume's creation time
 * (16 digits). Free t->img. */
static void joliet_read(const char *image, joliet_tree *t, char pvd_created[17])
{
    memset(t, 0, sizeof *t);
    t->img = test_slurp(image, &t->img_len);
    const unsigned char *root = NULL;
    for (size_t s = 16; (s + 1) * SECTOR <= t->img_len; s++) {
        const unsigned char *vd = (const unsigned char *)t->img + s * SECTOR;
        if (vd[0] == 255)
            break;
        if (vd[0] == 1)
            snprintf(pvd_created, 17, "%.16s", (const char *)vd + 813);
        if (vd[0] == 2 && memcmp(vd + 88, "%/E", 3) == 0)
            root = vd + 156;
    }
    assert_non_null(root);
    joliet_walk(t, le32(root + 2), le32(root + 10), "", 0);
}

static const joliet_entry *joliet_find(const joliet_tree *t, const char *path)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->entries[i].path + 1, path) == 0)
            return &t->entries[i];
    return NULL;
}

static void assert_joliet_file(const joliet_tree *t, const char *path, const void *content,
                               size_t n)
{
    const joliet_entry *e = joliet_find(t, path);
    if (e == NULL)
        fail_msg("Joliet: /%s is missing", path);
    assert_false(e->dir);
    if (e->len != n || memcmp(t->img + e->offset, content, n) != 0)
        fail_msg("Joliet: /%s has %zu bytes, expected %zu", path, e->len, n);
}

/* ---- the image ---------------------------------------------------------------------------- */

static void image_has_the_volume_id_joliet_and_rock_ridge(void **state)
{
    fixture *f = *state;
    require_isoinfo();
    char sha[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, sha);
    char cmd[256], *out;
    size_t len;
    snprintf(cmd, sizeof cmd, "isoinfo -d -i '%s'", f->image);
    assert_int_equal(test_capture(cmd, &out, &len), 0);
    assert_non_null(strstr(out, "Volume id: " VOLUME_ID "\n"));
    assert_non_null(strstr(out, "Joliet with UCS level 3 found"));
    assert_non_null(strstr(out, "Rock Ridge signatures version 1 found"));
    free(out);

    joliet_tree t;
    char created[17] = "";
    joliet_read(f->image, &t, created);
    assert_string_equal(created, "2026010100000000");
    free(t.img);
}

static size_t template_file_len(size_t i)
{
    const char *c = TEMPLATE_FILES[i].content;
    if (c == NULL)
        return BIG_FILE_BYTES;
    return strcmp(TEMPLATE_FILES[i].path, "vpn/vpnclient-setup.msi") == 0 ? 13 : strlen(c);
}

#define README_TEXT "難病・小慢DB 媒体\r\n"

static void rock_ridge_has_every_file_by_name_with_its_content(void **state)
{
    fixture *f = *state;
    require_isoinfo();
    char sha[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, sha);

    char cmd[256], *listing;
    size_t len;
    snprintf(cmd, sizeof cmd, "isoinfo -R -f -i '%s'", f->image);
    assert_int_equal(test_capture(cmd, &listing, &len), 0);
    strbuf wrapped = STRBUF_INIT; /* so that every path sits between two newlines */
    strbuf_printf(&wrapped, "\n%s", listing);
    free(listing);
    for (size_t i = 0; i < sizeof TEMPLATE_FILES / sizeof TEMPLATE_FILES[0]; i++) {
        const char *c = TEMPLATE_FILES[i].content;
        /* Folders below the eighth level are relocated as RRIP prescribes (CL/RE entries);
         * isoinfo does not follow those, the kernel does. The Joliet test reads them. */
        if (strncmp(TEMPLATE_FILES[i].path, "deep/", 5) == 0)
            continue;
        assert_listed(wrapped.data, TEMPLATE_FILES[i].path);
        assert_file_in_image(f, "-R", TEMPLATE_FILES[i].path, c == NULL ? f->big : c,
                             template_file_len(i));
    }
    for (size_t i = 0; i < sizeof EXTRA_FILES / sizeof EXTRA_FILES[0]; i++) {
        assert_listed(wrapped.data, EXTRA_FILES[i].path);
        assert_file_in_image(f, "-R", EXTRA_FILES[i].path, EXTRA_FILES[i].data,
                             EXTRA_FILES[i].len);
    }
    assert_listed(wrapped.data, "empty folder");
    /* Links inside the template become what they point to. */
    assert_file_in_image(f, "-R", "はじめに.txt", README_TEXT, strlen(README_TEXT));
    assert_file_in_image(f, "-R", "manual/video-link/introduction.mp4", f->big, BIG_FILE_BYTES);
    /* Links to outside, loops and FIFOs are not there. */
    assert_null(strstr(wrapped.data, "\n/passwd\n"));
    assert_null(strstr(wrapped.data, "\n/fifo\n"));
    assert_null(strstr(wrapped.data, "\n/loop"));
    strbuf_free(&wrapped);
}

static void joliet_has_every_file_by_name_with_its_content(void **state)
{
    fixture *f = *state;
    char sha[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, sha);

    joliet_tree t;
    char created[17];
    joliet_read(f->image, &t, created);
    for (size_t i = 0; i < sizeof TEMPLATE_FILES / sizeof TEMPLATE_FILES[0]; i++) {
        const char *c = TEMPLATE_FILES[i].content;
        assert_joliet_file(&t, TEMPLATE_FILES[i].path, c == NULL ? f->big : c,
                           template_file_len(i));
    }
    for (size_t i = 0; i < sizeof EXTRA_FILES / sizeof EXTRA_FILES[0]; i++)
        assert_joliet_file(&t, EXTRA_FILES[i].path, EXTRA_FILES[i].data, EXTRA_FILES[i].len);
    assert_joliet_file(&t, "はじめに.txt", README_TEXT, strlen(README_TEXT));
    assert_joliet_file(&t, "manual/video-link/introduction.mp4", f->big, BIG_FILE_BYTES);
    const joliet_entry *empty = joliet_find(&t, "empty folder");
    assert_non_null(empty);
    assert_true(empty->dir);
    assert_null(joliet_find(&t, "passwd"));
    assert_null(joliet_find(&t, "fifo"));
    assert_null(joliet_find(&t, "loop"));
    /* Folders: manual, 確認ツール, video-link, video, vpn, profile, list, deep + 9, empty. */
    int files = 0;
    for (int i = 0; i < t.count; i++)
        files += !t.entries[i].dir;
    assert_int_equal(files, 7 + 4 + 2);
    assert_int_equal(t.count - files, 18);

    /* isoinfo sees the same Joliet tree (it prints non-Latin names as '_'), and reads the
     * files with ASCII names. */
    if (system("command -v isoinfo >/dev/null 2>&1") == 0) {
        char cmd[256], *listing;
        size_t len;
        snprintf(cmd, sizeof cmd, "isoinfo -J -f -i '%s'", f->image);
        assert_int_equal(test_capture(cmd, &listing, &len), 0);
        int lines = 0;
        for (size_t i = 0; i < len; i++)
            lines += listing[i] == '\n';
        assert_int_equal(lines, t.count);
        free(listing);
        assert_file_in_image(f, "-J", "README.txt;1", README_TEXT, strlen(README_TEXT));
        assert_file_in_image(f, "-J", "video/introduction.mp4;1", f->big, BIG_FILE_BYTES);
        assert_file_in_image(f, "-J", "vpn/client.p12;1", P12_BYTES, sizeof P12_BYTES);
        assert_file_in_image(f, "-J", "deep/1/2/3/4/5/6/7/8/9/leaf.txt;1", "nine folders down\n",
                             18);
    } else {
        print_message("SKIP (part): isoinfo is not installed (apt-get install genisoimage)\n");
    }
    free(t.img);
}

static void rock_ridge_records_read_only_files_owned_by_root(void **state)
{
    fixture *f = *state;
    require_isoinfo();
    char sha[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, sha);
    char cmd[256], *out;
    size_t len;
    snprintf(cmd, sizeof cmd, "isoinfo -R -l -i '%s'", f->image);
    assert_int_equal(test_capture(cmd, &out, &len), 0);
    assert_non_null(strstr(out, "-r--r--r--   1    0    0"));
    assert_non_null(strstr(out, "dr-xr-xr-x"));
    assert_null(strstr(out, "-rw"));
    assert_null(strstr(out, "drwx"));
    assert_non_null(strstr(out, "Jan  1 2026"));
    free(out);
}

static void sha256_matches_sha256sum(void **state)
{
    fixture *f = *state;
    char sha[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, sha);
    if (system("command -v sha256sum >/dev/null 2>&1") != 0) {
        print_message("SKIP: sha256sum is not installed\n");
        skip();
    }
    char cmd[256], *out;
    size_t len;
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", f->image);
    assert_int_equal(test_capture(cmd, &out, &len), 0);
    assert_true(len > ISO_SHA256_HEX_LEN);
    out[ISO_SHA256_HEX_LEN] = '\0';
    assert_string_equal(out, sha);
    free(out);
    struct stat st;
    assert_int_equal(stat(f->image, &st), 0);
    assert_true(st.st_size > BIG_FILE_BYTES);
    assert_int_equal(st.st_size % 2048, 0);
}

static void same_inputs_and_time_give_the_same_bytes(void **state)
{
    fixture *f = *state;
    char first[ISO_SHA256_HEX_LEN + 1], second[ISO_SHA256_HEX_LEN + 1];
    char later[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, first);
    build_fixture_image(f, FIXED_TIME, second);
    assert_string_equal(first, second);
    build_fixture_image(f, FIXED_TIME + 86400, later);
    assert_string_not_equal(first, later);

    /* iso_build stamps the current time. */
    char now[ISO_SHA256_HEX_LEN + 1];
    assert_int_equal(iso_build(f->image, VOLUME_ID, f->template_dir, NULL, 0, now), NSDB_OK);
    assert_int_equal(strlen(now), ISO_SHA256_HEX_LEN);
}

/* ---- failures ----------------------------------------------------------------------------- */

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void a_failed_build_leaves_no_file_behind(void **state)
{
    fixture *f = *state;
    char out_dir[128], sha[ISO_SHA256_HEX_LEN + 1];
    snprintf(out_dir, sizeof out_dir, "%s/out", f->dir);
    /* An extra file may not replace one of the template's. */
    const iso_extra_file clash = {"vpn/vpnclient-setup.msi", "x", 1};
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, &clash, 1, FIXED_TIME,
                                  sha),
                     NSDB_ERR_EXISTS);
    assert_string_equal(sha, "");
    assert_int_equal(files_in(out_dir), 0);
    const iso_extra_file under_a_file = {"README.txt/x", "x", 1};
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, &under_a_file, 1,
                                  FIXED_TIME, sha),
                     NSDB_ERR_EXISTS);
    assert_int_equal(files_in(out_dir), 0);

    /* A previous image stays whole when a rebuild fails. */
    build_fixture_image(f, FIXED_TIME, sha);
    char kept[ISO_SHA256_HEX_LEN + 1];
    strcpy(kept, sha);
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, &clash, 1, FIXED_TIME,
                                  sha),
                     NSDB_ERR_EXISTS);
    assert_int_equal(files_in(out_dir), 1);
    build_fixture_image(f, FIXED_TIME, sha);
    assert_string_equal(sha, kept);

    /* No such output folder, no such template. */
    char bad_out[160];
    snprintf(bad_out, sizeof bad_out, "%s/missing/media.iso", f->dir);
    assert_int_equal(iso_build_at(bad_out, VOLUME_ID, f->template_dir, NULL, 0, FIXED_TIME, sha),
                     NSDB_ERR_IO);
    char bad_template[160];
    snprintf(bad_template, sizeof bad_template, "%s/missing", f->dir);
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, bad_template, NULL, 0, FIXED_TIME, sha),
                     NSDB_ERR_NOT_FOUND);
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->image, NULL, 0, FIXED_TIME, sha),
                     NSDB_ERR_NOT_FOUND);
}

static void bad_volume_ids_and_paths_are_refused(void **state)
{
    fixture *f = *state;
    char sha[ISO_SHA256_HEX_LEN + 1];
    static const char *const bad_ids[] = {"", "nsdb_1312345678", "NSDB-1312345678", "NSDB 1",
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "媒体"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        assert_int_equal(iso_build_at(f->image, bad_ids[i], f->template_dir, NULL, 0,
                                      FIXED_TIME, sha),
                         NSDB_ERR_INVALID);
    static const char *const bad_paths[] = {"",      "/etc/x", "a//b", "../x",  "a/../b",
                                            "a/./b", "dir/",   ".",    "\xff.txt", "a\nb"};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        const iso_extra_file e = {bad_paths[i], "x", 1};
        assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, &e, 1, FIXED_TIME,
                                      sha),
                         NSDB_ERR_INVALID);
    }
    assert_int_equal(iso_build_at(f->image, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", f->template_dir,
                                  NULL, 0, FIXED_TIME, sha),
                     NSDB_OK);
}

static void a_template_name_that_is_not_utf8_is_refused(void **state)
{
    fixture *f = *state;
    char path[256], sha[ISO_SHA256_HEX_LEN + 1];
    snprintf(path, sizeof path, "%s/manual/\x83\x7d\x83\x6a\x83\x85.txt", f->template_dir);
    write_file(path, "Shift_JIS name", 14);
    assert_int_equal(iso_build_at(f->image, VOLUME_ID, f->template_dir, NULL, 0, FIXED_TIME,
                                  sha),
                     NSDB_ERR_INVALID);
}

/* ---- concurrency -------------------------------------------------------------------------- */

enum { THREADS = 4 };

typedef struct {
    const fixture *f;
    char image[160];
    nsdb_err err;
    char sha[ISO_SHA256_HEX_LEN + 1];
} builder;

static void *builder_run(void *arg)
{
    builder *b = arg;
    b->err = iso_build_at(b->image, VOLUME_ID, b->f->template_dir, EXTRA_FILES,
                          sizeof EXTRA_FILES / sizeof EXTRA_FILES[0], FIXED_TIME, b->sha);
    return NULL;
}

static void concurrent_builds_all_succeed_alike(void **state)
{
    fixture *f = *state;
    builder builders[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        builders[i] = (builder){.f = f};
        snprintf(builders[i].image, sizeof builders[i].image, "%s/out/media%d.iso", f->dir, i);
        assert_int_equal(pthread_create(&threads[i], NULL, builder_run, &builders[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    char expected[ISO_SHA256_HEX_LEN + 1];
    build_fixture_image(f, FIXED_TIME, expected);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(builders[i].err, NSDB_OK);
        assert_string_equal(builders[i].sha, expected);
    }
}

int main(void)
{
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_template, teardown_template)
    const struct CMUnitTest tests[] = {
        TEST(image_has_the_volume_id_joliet_and_rock_ridge),
        TEST(rock_ridge_has_every_file_by_name_with_its_content),
        TEST(joliet_has_every_file_by_name_with_its_content),
        TEST(rock_ridge_records_read_only_files_owned_by_root),
        TEST(sha256_matches_sha256sum),
        TEST(same_inputs_and_time_give_the_same_bytes),
        TEST(a_failed_build_leaves_no_file_behind),
        TEST(bad_volume_ids_and_paths_are_refused),
        TEST(a_template_name_that_is_not_utf8_is_refused),
        TEST(concurrent_builds_all_succeed_alike),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
