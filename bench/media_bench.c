/*
 * media_bench.c — time and disk of media builds (domain/pki.c + domain/iso.c): a template folder
 * of about 5 MB (manual PDF, video, check tool, VPN client; random bytes, so nothing compresses)
 * and, per media, a fresh client key, certificate and PKCS#12, a VPN profile and a user-ID list,
 * built into an ISO image with its SHA-256. Prints
 *   isos=N seconds=S bytes_per_iso=B
 * on stdout (N from the command line, default 20) and the split between PKCS#12 and ISO time on
 * stderr. The target is 1,000 institutions: extrapolate linearly (a build is
 * independent of the ones before it). MEDIA_BENCH_DIR=folder works there instead of a fresh
 * temporary folder; MEDIA_BENCH_KEEP=1 keeps the images.
 *
 * Build (for bench/run.sh), from the repository root:
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc -o media_bench bench/media_bench.c \
 *      src/domain/pki.c src/domain/iso.c src/util/str.c \
 *      $(pkg-config --cflags --libs libcrypto libisofs-1 libsodium) -lpthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domain/iso.h"
#include "domain/pki.h"
#include "util/str.h"

typedef struct template_file {
    const char *path;
    size_t bytes;
} template_file;

/* About 5 MB, shaped like the real template (SPEC §6). */
static const template_file TEMPLATE[] = {
    {"マニュアル/難病・小慢DB 操作マニュアル.pdf", 1400 * 1024},
    {"マニュアル/チェックツール説明書.pdf", 300 * 1024},
    {"動画/操作説明.mp4", 2600 * 1024},
    {"チェックツール/checktool.exe", 450 * 1024},
    {"VPN/vpnclient-setup.msi", 380 * 1024},
    {"VPN/VPN接続手順.pdf", 120 * 1024},
    {"はじめにお読みください.txt", 4 * 1024},
};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_random_file(const char *path, size_t bytes, unsigned long *state)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = strchr(dir + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return -1;
    unsigned char buf[8192];
    for (size_t done = 0; done < bytes;) {
        for (size_t i = 0; i < sizeof buf; i++) {
            *state = *state * 6364136223846793005UL + 1442695040888963407UL;
            buf[i] = (unsigned char)(*state >> 56);
        }
        size_t n = bytes - done < sizeof buf ? bytes - done : sizeof buf;
        if (fwrite(buf, 1, n, fp) != n) {
            fclose(fp);
            return -1;
        }
        done += n;
    }
    return fclose(fp) == 0 ? 0 : -1;
}

static int make_template(const char *dir)
{
    unsigned long state = 20261125;
    char path[1024];
    for (size_t i = 0; i < sizeof TEMPLATE / sizeof TEMPLATE[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, TEMPLATE[i].path);
        if (write_random_file(path, TEMPLATE[i].bytes, &state) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 20;
    if (count <= 0 || count > 100000) {
        fprintf(stderr, "usage: media_bench [count]\n");
        return 2;
    }
    char work[512];
    const char *given = getenv("MEDIA_BENCH_DIR");
    if (given != NULL) {
        snprintf(work, sizeof work, "%s", given);
        mkdir(work, 0700);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(work, sizeof work, "%s/nsdb-media-bench-XXXXXX", tmp != NULL ? tmp : "/tmp");
        if (mkdtemp(work) == NULL) {
            perror("mkdtemp");
            return 1;
        }
    }
    char template_dir[600], ca_dir[600], out_dir[600];
    snprintf(template_dir, sizeof template_dir, "%s/template", work);
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", work);
    snprintf(out_dir, sizeof out_dir, "%s/media", work);
    mkdir(template_dir, 0755);
    mkdir(out_dir, 0755);
    if (make_template(template_dir) != 0) {
        perror("template");
        return 1;
    }
    pki_ca *ca = NULL;
    if (pki_ca_load_or_create(ca_dir, &ca) != NSDB_OK)
        return 1;

    strbuf pdf = STRBUF_INIT; /* stands in for the user-ID list PDF (~40 KB) */
    for (int i = 0; i < 40 * 1024 / 16; i++)
        strbuf_puts(&pdf, "%PDF-1.7 stream\n");

    double p12_seconds = 0, iso_seconds = 0;
    unsigned long long total_bytes = 0;
    double start = seconds_now();
    for (long i = 0; i < count; i++) {
        char code[16], volume[32], name[64], passphrase[PKI_PASSPHRASE_LEN + 1];
        char serial[PKI_SERIAL_HEX_MAX + 1], sha[ISO_SHA256_HEX_LEN + 1], path[700];
        snprintf(code, sizeof code, "13%08ld", i);
        snprintf(volume, sizeof volume, "NSDB_%s", code);
        snprintf(name, sizeof name, "医療法人社団 第%ld記念病院", i + 1);

        double t0 = seconds_now();
        pki_passphrase_generate(passphrase);
        strbuf p12 = STRBUF_INIT, profile = STRBUF_INIT, csv = STRBUF_INIT;
        if (pki_client_p12(ca, code, name, passphrase, &p12, serial) != NSDB_OK)
            return 1;
        double t1 = seconds_now();
        strbuf_printf(&profile, "client\nremote vpn.nanbyo-db.example.jp 443\npkcs12 %s.p12\n",
                      code);
        strbuf_puts(&csv, "#,公共団体ID,公共団体名,医療機関ID,医療機関名,ユーザID\r\n");
        for (int u = 0; u < 20; u++)
            strbuf_printf(&csv, "%d,131016,千代田区,%s,%s,K7M2QX9ZP4T%c\r\n", u + 1, code, name,
                          'A' + u);
        const iso_extra_file extra[] = {
            {"VPN/client.p12", p12.data, p12.len},
            {"VPN/nsdb.ovpn", profile.data, profile.len},
            {"ユーザID一覧/ユーザID一覧.csv", csv.data, csv.len},
            {"ユーザID一覧/ユーザID一覧.pdf", pdf.data, pdf.len},
        };
        snprintf(path, sizeof path, "%s/%s.iso", out_dir, code);
        if (iso_build(path, volume, template_dir, extra, sizeof extra / sizeof extra[0], sha) !=
            NSDB_OK)
            return 1;
        double t2 = seconds_now();
        p12_seconds += t1 - t0;
        iso_seconds += t2 - t1;
        struct stat st;
        if (stat(path, &st) == 0)
            total_bytes += (unsigned long long)st.st_size;
        if (getenv("MEDIA_BENCH_KEEP") == NULL)
            unlink(path);
        strbuf_free(&p12);
        strbuf_free(&profile);
        strbuf_free(&csv);
    }
    double seconds = seconds_now() - start;
    printf("isos=%ld seconds=%.3f bytes_per_iso=%llu\n", count, seconds,
           total_bytes / (unsigned long long)count);
    fprintf(stderr, "media_bench: p12 %.1f ms/media, iso %.1f ms/media, template %s\n",
            1000 * p12_seconds / (double)count, 1000 * iso_seconds / (double)count,
            template_dir);
    strbuf_free(&pdf);
    pki_ca_free(ca);
    if (given == NULL && getenv("MEDIA_BENCH_KEEP") == NULL) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
