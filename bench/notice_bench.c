/*
 * notice_bench.c — time and size of ID・PW発行通知書 PDFs (domain/notice_pdf.c). For each count on
 * the command line (default 1 100 1000) it renders that many realistic notices into one PDF
 * and prints "notices=N seconds=S bytes=B". The target from the issue is 1,000 notices under
 * 3 s and under 2 MB. NOTICE_BENCH_OUT=path also writes the last PDF there.
 *
 * Build (for bench/run.sh), from the repository root:
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -o notice_bench bench/notice_bench.c \
 *      src/domain/notice_pdf.c src/util/str.c src/util/log.c \
 *      $(pkg-config --cflags --libs cairo pangocairo jansson) -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/ids.h"
#include "domain/notice_pdf.h"

enum { SECRET_LEN = 12, TEXT_LEN = 96 };

typedef struct bench_row {
    char user_id[SECRET_LEN + 1];
    char password[SECRET_LEN + 1];
    char name[TEXT_LEN];
    char department[TEXT_LEN];
} bench_row;

/* Deterministic symbols (not secrets): the bench must not depend on libsodium. */
static void fill_symbols(char *out, unsigned long *state)
{
    for (int i = 0; i < SECRET_LEN; i++) {
        *state = *state * 6364136223846793005UL + 1442695040888963407UL;
        out[i] = IDS_ALPHABET[(*state >> 33) % IDS_ALPHABET_SIZE];
    }
    out[SECRET_LEN] = '\0';
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_one(size_t count, const char *out_path)
{
    static const char *const SURNAMES[] = {"山田", "佐藤", "鈴木", "髙橋", "渡邊", "齋藤"};
    static const char *const GIVEN[] = {"太郎", "花子", "一郎", "美咲", "健太", "由美子"};
    bench_row *rows = calloc(count, sizeof *rows);
    notice *notices = calloc(count, sizeof *notices);
    if (rows == NULL || notices == NULL)
        return 1;
    unsigned long state = 20261125;
    for (size_t i = 0; i < count; i++) {
        fill_symbols(rows[i].user_id, &state);
        fill_symbols(rows[i].password, &state);
        snprintf(rows[i].name, sizeof rows[i].name, "%s %s", SURNAMES[i % 6], GIVEN[(i / 6) % 6]);
        snprintf(rows[i].department, sizeof rows[i].department, "医療法人社団 第%zu記念病院",
                 i % 40 + 1);
        notices[i] = (notice){
            .municipality_name = "東京都",
            .category_label = i % 3 == 0 ? "難病・小慢" : "難病",
            .department_label = "医療機関名",
            .department = rows[i].department,
            .name = rows[i].name,
            .user_id = rows[i].user_id,
            .initial_password = rows[i].password,
            .issue_date = "2026年11月25日",
            .login_url = "https://nsdb.example.go.jp/login",
        };
    }
    strbuf pdf = STRBUF_INIT;
    double start = seconds_now();
    nsdb_err err = notice_pdf_render(notices, count, &pdf);
    double elapsed = seconds_now() - start;
    if (err != NSDB_OK) {
        fprintf(stderr, "notice_bench: render failed (%d)\n", (int)err);
        return 1;
    }
    printf("notices=%zu seconds=%.3f bytes=%zu\n", count, elapsed, pdf.len);
    if (out_path) {
        FILE *f = fopen(out_path, "wb");
        if (f == NULL || fwrite(pdf.data, 1, pdf.len, f) != pdf.len || fclose(f) != 0) {
            perror(out_path);
            return 1;
        }
    }
    strbuf_free(&pdf);
    free(notices);
    free(rows);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const DEFAULT_COUNTS[] = {"1", "100", "1000"};
    const char *const *counts = argc > 1 ? (const char *const *)argv + 1 : DEFAULT_COUNTS;
    int n = argc > 1 ? argc - 1 : 3;
    const char *out_path = getenv("NOTICE_BENCH_OUT");
    for (int i = 0; i < n; i++) {
        long count = strtol(counts[i], NULL, 10);
        if (count <= 0) {
            fprintf(stderr, "usage: notice_bench [COUNT...]\n");
            return 2;
        }
        if (bench_one((size_t)count, i == n - 1 ? out_path : NULL) != 0)
            return 1;
    }
    return 0;
}
