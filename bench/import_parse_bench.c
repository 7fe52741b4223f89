/*
 * import_parse_bench.c — time and peak memory of parsing and validating a 指定医一括登録ファイル
 * (domain/inst_import.c). For one row count N (default 10000) it builds a realistic UTF-8 CSV in
 * memory (institutions of 20 users, the first a 責任者; about 150 bytes a row), parses it with
 * inst_import_parse_csv and prints
 *   rows=N bytes=B seconds=S cpu_seconds=C errors=E cp932=0|1 rss_before_mb=R0 peak_rss_mb=R1
 * where seconds (wall clock) and cpu_seconds (this process's CPU, the steadier figure on a shared
 * machine) cover the parse only, rss_before_mb is the RSS with the input built, and
 * peak_rss_mb is the process's peak (getrusage ru_maxrss). Run one process per N so that each peak
 * is its own. Targets (issue 4): 10,000 rows well under 0.5 s here (2 s end to end); 100,000 rows
 * with a peak under 200 MB. BENCH_CP932=1 feeds the same file in CP932 (converted on the way).
 *
 * Build from the repository root after `make` (it links the release objects):
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -o build/import_parse_bench bench/import_parse_bench.c \
 *      build/rel/domain/inst_import.o build/rel/domain/text.o build/rel/domain/validate.o \
 *      build/rel/domain/ids.o build/rel/domain/mail.o build/rel/domain/xlsx.o \
 *      build/rel/util/arena.o build/rel/util/str.o build/rel/util/err.o \
 *      $(pkg-config --libs libutf8proc libsodium libzip libxml-2.0 xlsxwriter) -lpthread -lm
 *   build/import_parse_bench 10000; build/import_parse_bench 100000
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "domain/ids.h"
#include "domain/inst_import.h"
#include "util/arena.h"
#include "util/str.h"

static const char *const SURNAMES[][2] = {
    {"山田", "ヤマダ"}, {"佐藤", "サトウ"},   {"鈴木", "スズキ"}, {"高橋", "タカハシ"},
    {"田中", "タナカ"}, {"伊藤", "イトウ"},   {"渡辺", "ワタナベ"}, {"中村", "ナカムラ"},
};
static const char *const GIVEN[][2] = {
    {"太郎", "タロウ"}, {"花子", "ハナコ"}, {"一郎", "イチロウ"}, {"美咲", "ミサキ"},
    {"健太", "ケンタ"}, {"陽子", "ヨウコ"}, {"翔", "ショウ"},     {"直樹", "ナオキ"},
};
static const char *const SPECIALTIES[] = {"内科", "小児科", "神経内科", "整形外科", ""};
static const char *const CATEGORIES[] = {"難病", "小慢", "両方"};

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

static double current_rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * 4096.0 / (1024.0 * 1024.0);
}

/* Row i: institution i / 20 (its first user the 責任者); names unique by a number suffix. */
static void build_csv(strbuf *sb, size_t rows)
{
    strbuf_puts(sb, "\xEF\xBB\xBF" "医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,"
                    "医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,"
                    "メールアドレス\r\n");
    static const char *const DIGITS_KANA[] = {"ゼロ", "イチ", "ニ", "サン", "ヨン",
                                              "ゴ",   "ロク", "ナナ", "ハチ", "キュウ"};
    for (size_t i = 0; i < rows; i++) {
        size_t inst = i / 20;
        char payload[10], code[11];
        snprintf(payload, sizeof payload, "13%07zu", inst % 10000000);
        memcpy(code, payload, 9);
        code[9] = ids_luhn_check_digit(payload);
        code[10] = '\0';
        /* a unique kana suffix spelled from the row number */
        char kana_suffix[128] = "", number[24];
        snprintf(number, sizeof number, "%zu", i);
        for (const char *p = number; *p; p++)
            strcat(kana_suffix, DIGITS_KANA[*p - '0']);
        const char *const *sur = SURNAMES[i % 8], *const *giv = GIVEN[(i / 8) % 8];
        strbuf_printf(sb,
                      "%s,医療法人社団 第%zu記念病院,100-%04zu,東京都千代田区千代田%zu-%zu 医療ビル%zu階,"
                      "03-%04zu-%04zu,%s,%s %s%zu,%s %s%s,%s,D-%06zu,%s,user%zu@example.jp\r\n",
                      code, inst, inst % 10000, inst % 9 + 1, inst % 30 + 1, inst % 12 + 1,
                      inst % 10000, i % 10000, i % 20 == 0 ? "責任者" : "指定医", sur[0], giv[0],
                      i, sur[1], giv[1], kana_suffix, CATEGORIES[i % 3], i,
                      SPECIALTIES[i % 5], i);
    }
}

static char *to_cp932(const char *s, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("CP932", "UTF-8");
    size_t cap = len + 16, left = cap;
    char *out = malloc(cap), *o = out, *in = (char *)s;
    size_t in_left = len;
    if (cd == (iconv_t)-1 || out == NULL || iconv(cd, &in, &in_left, &o, &left) == (size_t)-1) {
        fputs("import_parse_bench: iconv to CP932 failed\n", stderr);
        exit(1);
    }
    iconv_close(cd);
    *out_len = cap - left;
    return out;
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    strbuf sb = STRBUF_INIT;
    build_csv(&sb, rows);
    size_t len = sb.len;
    char *data = strbuf_detach(&sb, &len);
    const char *cp932 = getenv("BENCH_CP932");
    if (cp932 != NULL && strcmp(cp932, "1") == 0) {
        size_t n;
        char *converted = to_cp932(data + 3, len - 3, &n); /* CP932 has no BOM */
        free(data);
        data = converted;
        len = n;
    }
    double rss_before = current_rss_mb();

    arena *a = arena_new();
    inst_import imp;
    double t0 = clock_seconds(CLOCK_MONOTONIC), c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    nsdb_err err = inst_import_parse_csv(data, len, a, &imp);
    double seconds = clock_seconds(CLOCK_MONOTONIC) - t0;
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (imp.row_count != rows || (err != NSDB_OK && imp.error_count > 0)) {
        for (size_t i = 0; i < imp.error_count && i < 5; i++)
            fprintf(stderr, "%s\n", imp.errors[i].message);
    }
    printf("rows=%zu bytes=%zu seconds=%.3f cpu_seconds=%.3f errors=%zu cp932=%d "
           "rss_before_mb=%.1f peak_rss_mb=%.1f\n",
           imp.row_count, len, seconds, cpu, imp.error_count, imp.converted_from_cp932 ? 1 : 0,
           rss_before, peak_rss_mb());
    arena_free(a);
    free(data);
    return err == NSDB_OK ? 0 : 1;
}
