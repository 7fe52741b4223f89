/*
 * test_tar_stream.c — the cycle archive's tar, produced at any offset (domain/tar_stream.c): read
 * in odd chunk sizes it is the archive GNU tar lists and extracts byte for byte (empty files,
 * sizes on and off block boundaries), its size is known up front, names that do not fit are
 * refused, and a file that changed since the archive was laid out fails the read instead of
 * sending a corrupt archive.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/tar_stream.h"

static const size_t SIZES[] = {0, 511, 512, 1025, 70000};
#define FILES (sizeof SIZES / sizeof SIZES[0])

typedef struct fixture {
    char dir[256];
    char paths[FILES][320];
    char names[FILES][64];
    tar_entry entries[FILES];
} fixture;

static void fixture_make(fixture *f)
{
    assert_int_equal(test_mkdtemp(f->dir, sizeof f->dir, "tar"), 0);
    for (size_t i = 0; i < FILES; i++) {
        unsigned char *data = malloc(SIZES[i] + 1);
        for (size_t k = 0; k < SIZES[i]; k++)
            data[k] = (unsigned char)(k * 7 + i);
        snprintf(f->paths[i], sizeof f->paths[i], "%s/f%zu", f->dir, i);
        snprintf(f->names[i], sizeof f->names[i], "2026-12-04/%s%zu.bin", i == 1 ? "packages/" : "",
                 i);
        test_write_file(f->paths[i], data, SIZES[i]);
        free(data);
        f->entries[i] = (tar_entry){f->names[i], f->paths[i], SIZES[i], 1765000000};
    }
}

/* The whole archive through tar_stream_read in chunks of step bytes. */
static strbuf read_all(tar_stream *t, size_t step)
{
    strbuf out = STRBUF_INIT;
    char *buf = malloc(step);
    uint64_t pos = 0;
    for (;;) {
        long n = tar_stream_read(t, pos, buf, step);
        assert_true(n >= 0);
        if (n == 0)
            break;
        strbuf_append(&out, buf, (size_t)n);
        pos += (uint64_t)n;
    }
    free(buf);
    return out;
}

static void chunks_of_any_size_make_the_archive_tar_extracts(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    tar_stream *t = NULL;
    assert_int_equal(tar_stream_open(f.entries, FILES, &t), NSDB_OK);
    static const size_t STEPS[] = {1, 100, 512, 4096, 65536};
    for (size_t s = 0; s < sizeof STEPS / sizeof STEPS[0]; s++) {
        strbuf tar = read_all(t, STEPS[s]);
        assert_int_equal(tar.len, tar_stream_size(t));
        assert_int_equal(tar.len % 512, 0);
        char path[400], cmd[1200];
        snprintf(path, sizeof path, "%s/out.tar", f.dir);
        test_write_file(path, tar.data, tar.len);
        snprintf(cmd, sizeof cmd, "mkdir -p %s/x && tar -xf %s -C %s/x 2>&1", f.dir, path, f.dir);
        char *out = NULL;
        assert_int_equal(test_capture(cmd, &out, NULL), 0);
        free(out);
        for (size_t i = 0; i < FILES; i++) {
            char extracted[500];
            snprintf(extracted, sizeof extracted, "%s/x/%s", f.dir, f.names[i]);
            size_t a = 0, b = 0;
            char *got = test_slurp(extracted, &a), *want = test_slurp(f.paths[i], &b);
            assert_int_equal(a, b);
            assert_memory_equal(got, want, a);
            free(got);
            free(want);
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s/x", f.dir);
        assert_int_equal(system(cmd), 0);
        strbuf_free(&tar);
    }
    tar_stream_free(t);
    test_remove_tree(f.dir);
}

static void an_empty_archive_is_the_two_zero_blocks(void **state)
{
    (void)state;
    tar_stream *t = NULL;
    assert_int_equal(tar_stream_open(NULL, 0, &t), NSDB_OK);
    assert_int_equal(tar_stream_size(t), 1024);
    strbuf tar = read_all(t, 300);
    assert_int_equal(tar.len, 1024);
    for (size_t i = 0; i < tar.len; i++)
        assert_int_equal(tar.data[i], 0);
    strbuf_free(&tar);
    tar_stream_free(t);
}

static void a_name_too_long_is_refused(void **state)
{
    (void)state;
    char name[TAR_NAME_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    tar_entry e = {name, "/nonexistent", 1, 0};
    tar_stream *t = NULL;
    assert_int_equal(tar_stream_open(&e, 1, &t), NSDB_ERR_INVALID);
    assert_null(t);
}

static void a_file_changed_since_the_layout_fails_the_read(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f);
    tar_stream *t = NULL;
    assert_int_equal(tar_stream_open(f.entries, FILES, &t), NSDB_OK);
    test_write_file(f.paths[3], "short", 5); /* rewritten smaller */
    uint64_t data_at = 0;                    /* the data of member 3: after 3 members */
    for (size_t i = 0; i < 3; i++)
        data_at += 512 + (SIZES[i] + 511) / 512 * 512;
    char buf[64];
    assert_int_equal(tar_stream_read(t, data_at + 512, buf, sizeof buf), -1);
    unlink(f.paths[4]); /* gone */
    data_at += 512 + (SIZES[3] + 511) / 512 * 512;
    assert_int_equal(tar_stream_read(t, data_at + 512, buf, sizeof buf), -1);
    tar_stream_free(t);
    test_remove_tree(f.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunks_of_any_size_make_the_archive_tar_extracts),
        cmocka_unit_test(an_empty_archive_is_the_two_zero_blocks),
        cmocka_unit_test(a_name_too_long_is_refused),
        cmocka_unit_test(a_file_changed_since_the_layout_fails_the_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
