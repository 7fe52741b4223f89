/*
 * pwhash_floor.c — the floor for the login benchmark: CPU time of raw libsodium argon2id
 * verification at the server's default cost (SPEC §3: opslimit 2, 19 MiB, 1 lane), on this
 * machine, now.  bench/run.sh compiles it with
 *     cc -O2 -pthread bench/pwhash_floor.c $(pkg-config --cflags --libs libsodium)
 * Usage: pwhash_floor N [THREADS]
 *   N verifications in total, spread over THREADS threads (default 1), so that the floor can be
 *   measured at the same concurrency as the HTTP logins (two argon2 runs at once compete for
 *   memory bandwidth, which raises the CPU time of each).
 * Prints one line of key=value pairs:
 *   n=… threads=… cpu_ms_per_verify=… wall_ms_per_verify=… verifies_per_s=…
 * where cpu is the process CPU time (CLOCK_PROCESS_CPUTIME_ID, all threads).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPSLIMIT 2ULL
#define MEMLIMIT ((size_t)19 * 1024 * 1024)
#define PASSWORD "correct horse battery staple 2026"

static char hash[crypto_pwhash_STRBYTES];
static volatile int failures;

struct job {
    int n;
};

static void *worker(void *arg)
{
    const struct job *j = arg;
    for (int i = 0; i < j->n; i++)
        if (crypto_pwhash_str_verify(hash, PASSWORD, strlen(PASSWORD)) != 0)
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    return NULL;
}

static double seconds(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (n < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: pwhash_floor N [THREADS]\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "pwhash_floor: sodium_init failed\n");
        return 1;
    }
    if (crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD), OPSLIMIT, MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        fprintf(stderr, "pwhash_floor: crypto_pwhash_str_alg failed (out of memory?)\n");
        return 1;
    }
    /* One untimed verification warms the allocator and the page tables. */
    if (crypto_pwhash_str_verify(hash, PASSWORD, strlen(PASSWORD)) != 0) {
        fprintf(stderr, "pwhash_floor: verification of a fresh hash failed\n");
        return 1;
    }

    pthread_t tid[64];
    struct job jobs[64];
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);
    for (int t = 0; t < threads; t++) {
        jobs[t].n = n / threads + (t < n % threads ? 1 : 0);
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "pwhash_floor: pthread_create failed\n");
            return 1;
        }
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = seconds(CLOCK_MONOTONIC) - wall0;
    if (failures) {
        fprintf(stderr, "pwhash_floor: %d verifications failed\n", failures);
        return 1;
    }
    printf("n=%d threads=%d cpu_ms_per_verify=%.3f wall_ms_per_verify=%.3f verifies_per_s=%.2f\n", n,
           threads, cpu * 1000.0 / n, wall * 1000.0 / n, n / wall);
    return 0;
}
