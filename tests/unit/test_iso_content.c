/*
 * test_iso_content.c — what domain/iso.c checks about a media's content before it writes one:
 * two paths of one folder that differ only in letter case (ASCII or full-width Latin; Windows
 * reads the disc's Joliet names without case) are refused by iso_check with both named, and
 * by iso_build with no file left behind; sizes are added up from the file system without
 * reading, so a sparse 4.7 GB template is measured at once, and an image over a single-layer
 * DVD is refused before it is written.
 */
#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/iso.h"

typedef struct {
    char dir[64];
    char template_dir[96];
    char image[128];
} fixture;

static void put(fixture *f, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->template_dir, rel);
    for (char *p = path + strlen(f->template_dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    test_write_file(path, text, strlen(text));
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || test_mkdtemp(f->dir, sizeof f->dir, "nsdb-isocontent") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->template_dir, sizeof f->template_dir, "%s/template", f->dir);
    snprintf(f->image, sizeof f->image, "%s/media.iso", f->dir);
    if (mkdir(f->template_dir, 0700) != 0)
        return -1;
    put(f, "VPN/vpnclient-setup.msi", "MZ installer");
    put(f, "マニュアル/操作マニュアル.pdf", "%PDF-1.7 manual");
    put(f, "README.txt", "難病・小慢DB");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = test_remove_tree(f->dir);
    free(f);
    return rc;
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.' && strcmp(e->d_name, "template") != 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static void distinct_names_pass_and_sizes_add_up(void **state)
{
    fixture *f = *state;
    const iso_extra_file extra[] = {{"証明書/client.p12", "0123456789", 10},
                                    {"証明書/nsdb-vpn.ovpn", NULL, 0}};
    iso_content c;
    assert_int_equal(iso_check(f->template_dir, extra, 2, &c), NSDB_OK);
    assert_string_equal(c.clash_first, "");
    assert_int_equal(c.file_bytes, strlen("MZ installer") + strlen("%PDF-1.7 manual") +
                                       strlen("難病・小慢DB") + 10);
    char sha[ISO_SHA256_HEX_LEN + 1];
    assert_int_equal(iso_build(f->image, "NSDB_TEST", f->template_dir, extra, 2, sha), NSDB_OK);
}

static void a_folder_of_ours_that_differs_in_case_is_refused_naming_both(void **state)
{
    fixture *f = *state;
    const iso_extra_file extra[] = {{"vpn/client.p12", "p12", 3}};
    iso_content c;
    assert_int_equal(iso_check(f->template_dir, extra, 1, &c), NSDB_ERR_EXISTS);
    assert_string_equal(c.clash_first, "/VPN");
    assert_string_equal(c.clash_second, "/vpn");
    char sha[ISO_SHA256_HEX_LEN + 1];
    assert_int_equal(iso_build(f->image, "NSDB_TEST", f->template_dir, extra, 1, sha),
                     NSDB_ERR_EXISTS);
    assert_string_equal(sha, "");
    assert_int_equal(files_in(f->dir), 0);
}

static void template_files_that_differ_in_case_are_refused_deep_down(void **state)
{
    fixture *f = *state;
    put(f, "マニュアル/Manual.PDF", "a");
    put(f, "マニュアル/manual.pdf", "b");
    iso_content c;
    assert_int_equal(iso_check(f->template_dir, NULL, 0, &c), NSDB_ERR_EXISTS);
    assert_string_equal(c.clash_first, "/マニュアル/Manual.PDF");
    assert_string_equal(c.clash_second, "/マニュアル/manual.pdf");
}

static void full_width_letters_clash_too_but_kana_and_other_names_do_not(void **state)
{
    fixture *f = *state;
    put(f, "ひらがな.txt", "a");
    put(f, "ヒラガナ.txt", "b"); /* kana have no case */
    put(f, "A1.txt", "c");
    put(f, "B1.txt", "d");
    iso_content c;
    assert_int_equal(iso_check(f->template_dir, NULL, 0, &c), NSDB_OK);
    put(f, "ＤＶＤ説明.txt", "e");
    put(f, "ｄｖｄ説明.txt", "f");
    assert_int_equal(iso_check(f->template_dir, NULL, 0, &c), NSDB_ERR_EXISTS);
    assert_string_equal(c.clash_first, "/ＤＶＤ説明.txt");
    assert_string_equal(c.clash_second, "/ｄｖｄ説明.txt");
}

static void a_sparse_template_over_a_dvd_is_measured_and_no_image_is_written(void **state)
{
    fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/動画/操作説明.mp4", f->template_dir);
    put(f, "動画/操作説明.mp4", "");
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)ISO_DVD_CAPACITY_BYTES), 0); /* sparse: no blocks */
    close(fd);
    iso_content c;
    assert_int_equal(iso_check(f->template_dir, NULL, 0, &c), NSDB_OK);
    assert_true(c.file_bytes > ISO_DVD_CAPACITY_BYTES);
    char sha[ISO_SHA256_HEX_LEN + 1];
    assert_int_equal(iso_build(f->image, "NSDB_TEST", f->template_dir, NULL, 0, sha),
                     NSDB_ERR_TOO_LARGE);
    assert_int_equal(files_in(f->dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(distinct_names_pass_and_sizes_add_up, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_folder_of_ours_that_differs_in_case_is_refused_naming_both, setup, teardown),
        cmocka_unit_test_setup_teardown(template_files_that_differ_in_case_are_refused_deep_down,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            full_width_letters_clash_too_but_kana_and_other_names_do_not, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_sparse_template_over_a_dvd_is_measured_and_no_image_is_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
