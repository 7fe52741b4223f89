/*
 * test_support.h — what the cmocka unit tests share, written once: reading a whole file,
 * temporary folders (made under $TMPDIR, removed with everything in them), running a command and
 * capturing its output, writing a fixture file, converting a file with LibreOffice, and reading a
 * PDF the way a person or a script sees it (poppler-utils: pdftotext, pdfinfo, pdffonts).
 * Everything is static inline, so a test includes this header and links nothing more; a failed
 * step fails the test that called it.
 */
#ifndef NSDB_TEST_SUPPORT_H
#define NSDB_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/str.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <dlfcn.h>
#include <sanitizer/lsan_interface.h>
#endif

/* ---- files and folders ------------------------------------------------------------------ */

/* The whole file, NUL-terminated (malloc'd), its length in *len; NULL when it cannot be opened. */
static inline char *test_slurp_maybe(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* As test_slurp_maybe, for a file that must exist. */
static inline char *test_slurp(const char *path, size_t *len)
{
    char *buf = test_slurp_maybe(path, len);
    assert_non_null(buf);
    return buf;
}

/* A text file that must exist, NUL-terminated (malloc'd). */
static inline char *test_slurp_text(const char *path)
{
    size_t len;
    return test_slurp(path, &len);
}

static inline void test_write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static inline int test_remove_entry(const char *path, const struct stat *sb, int flag,
                                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it (links are removed, never followed). 0 on success. */
static inline int test_remove_tree(const char *dir)
{
    return nftw(dir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a fresh folder "$TMPDIR/<name>-XXXXXX" (or under /tmp when TMPDIR is unset, long or
 * holds a quote) into dir. 0 on success, -1 otherwise. */
static inline int test_mkdtemp(char *dir, size_t size, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || strlen(tmp) >= 40 || strchr(tmp, '\'') != NULL)
        tmp = "/tmp";
    snprintf(dir, size, "%s/%s-XXXXXX", tmp, name);
    return mkdtemp(dir) == NULL ? -1 : 0;
}

/* setup_tmpdir and teardown_tmpdir, cmocka fixtures that make and remove the folder named by the
 * template array dir ("/tmp/nsdb-test-...-XXXXXX"). */
#define TEST_TMPDIR_FIXTURES(dir)                                                                  \
    static int setup_tmpdir(void **state)                                                          \
    {                                                                                              \
        (void)state;                                                                               \
        return mkdtemp(dir) == NULL ? -1 : 0;                                                      \
    }                                                                                              \
    static int teardown_tmpdir(void **state)                                                       \
    {                                                                                              \
        (void)state;                                                                               \
        return test_remove_tree(dir);                                                              \
    }

/* ---- commands --------------------------------------------------------------------------- */

/* Runs cmd with the shell; *out gets its standard output (malloc'd, binary-safe), *len its length
 * when len is not NULL. Returns the exit status (-1 when it did not exit). */
static inline int test_capture(const char *cmd, char **out, size_t *len)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        strbuf_append(&sb, buf, n);
    int status = pclose(p);
    *out = strbuf_detach(&sb, len);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline bool have_soffice(void)
{
    return system("command -v soffice >/dev/null 2>&1") == 0;
}

/* Converts in_path with LibreOffice into dir/out/<out_name> (an .xlsx) and returns that path. */
static inline const char *soffice_convert(const char *dir, const char *in_path,
                                          const char *out_name)
{
    static char out_path[600];
    char cmd[2048];
    /* A private profile, so that a running LibreOffice does not take the job over. A CSV is
     * read as comma-separated UTF-8 (76) from line 1; the filter must not be forced on .xlsx. */
    bool csv = strstr(in_path, ".csv") != NULL;
    snprintf(cmd, sizeof cmd,
             "cd %s && HOME=%s soffice -env:UserInstallation=file://%s/lo-profile --headless "
             "--norestore %s --convert-to xlsx --outdir %s/out %s >/dev/null 2>&1",
             dir, dir, dir, csv ? "'--infilter=Text - txt - csv (StarCalc):44,34,76,1'" : "", dir,
             in_path);
    assert_int_equal(system(cmd), 0);
    snprintf(out_path, sizeof out_path, "%s/out/%s", dir, out_name);
    assert_int_equal(access(out_path, R_OK), 0);
    return out_path;
}

static inline void assert_contains(const char *haystack, const char *needle)
{
    if (haystack == NULL || strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" not found in:\n%s", needle, haystack ? haystack : "(null)");
}

/* ---- PDFs ------------------------------------------------------------------------------- */

/* fontconfig leaks a few hundred bytes once per process while it parses /etc/fonts (inside the
 * library, whoever triggers it; Pango does so from a thread of its own). Under AddressSanitizer,
 * load that configuration first with LeakSanitizer paused, so that the leak check needs no
 * suppression and stays exact for everything nsdb allocates. fontconfig is looked up at run time
 * because nsdb does not link it directly (Pango does). A cmocka group setup. */
static inline int load_fontconfig_untracked(void **state)
{
    (void)state;
#ifdef TEST_ASAN
    int (*fc_init)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "FcInit");
    __lsan_disable();
    if (fc_init)
        fc_init();
    __lsan_enable();
#endif
    return 0;
}

/* True (said once) when poppler-utils are not installed: the PDF text checks are then skipped. */
static inline bool poppler_missing(void)
{
    static int missing = -1;
    if (missing < 0) {
        missing = system("command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null && "
                         "command -v pdffonts >/dev/null") != 0;
        if (missing)
            print_message("poppler-utils (pdftotext, pdfinfo, pdffonts) missing: "
                          "PDF text checks skipped\n");
    }
    return missing;
}

/* Writes pdf to a temporary file, runs "tool args FILE [-]" and returns its standard output
 * (malloc'd). The file is removed afterwards. Not inlined: inlined, GCC's -Wdangling-pointer
 * takes the text it returns for the address of its local. */
__attribute__((noinline, unused)) static char *run_tool(const strbuf *pdf, const char *tool,
                                                        const char *args, bool to_stdout)
{
    char path[] = "/tmp/nsdb-pdf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf->data, pdf->len), (ssize_t)pdf->len);
    close(fd);
    char command[512];
    snprintf(command, sizeof command, "%s %s %s %s 2>&1", tool, args, path, to_stdout ? "-" : "");
    char *out = NULL;
    assert_int_equal(test_capture(command, &out, NULL), 0);
    unlink(path);
    return out;
}

static inline char *pdf_text(const strbuf *pdf)
{
    return run_tool(pdf, "pdftotext", "-q", true);
}

static inline char *pdf_page_text(const strbuf *pdf, int page)
{
    char args[64];
    snprintf(args, sizeof args, "-q -f %d -l %d", page, page);
    return run_tool(pdf, "pdftotext", args, true);
}

/* The value of one pdfinfo field ("Pages", "Title", "Page size"), malloc'd. */
static inline char *pdf_info_field(const strbuf *pdf, const char *field)
{
    char *output = run_tool(pdf, "pdfinfo", "", false);
    strbuf info = STRBUF_INIT; /* a newline first, so that every field follows one */
    strbuf_printf(&info, "\n%s", output);
    free(output);
    char key[64];
    snprintf(key, sizeof key, "\n%s:", field);
    char *line = strstr(info.data, key);
    assert_non_null(line);
    line += strlen(key);
    line += strspn(line, " ");
    char *value = strndup(line, strcspn(line, "\n"));
    strbuf_free(&info);
    return value;
}

static inline int pdf_pages(const strbuf *pdf)
{
    char *pages = pdf_info_field(pdf, "Pages");
    int n = atoi(pages);
    free(pages);
    return n;
}

/* Counts page objects in the file itself ("/Type /Page" but not "/Type /Pages"). */
static inline int raw_page_objects(const strbuf *pdf)
{
    int count = 0;
    const char *p = pdf->data;
    while ((p = memmem(p, pdf->len - (size_t)(p - pdf->data), "/Type /Page", 11)) != NULL) {
        p += 11;
        if (*p != 's')
            count++;
    }
    return count;
}

#endif
