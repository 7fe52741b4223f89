/*
 * conn_guard.c — per-connection phase clocks and the watchdog thread that shuts down slow
 * clients (see conn_guard.h). The list is guarded by one mutex; libmicrohttpd reports a closed
 * connection before it closes the socket, and the entry is removed under the same mutex the
 * watchdog holds while it calls shutdown(), so the watchdog never touches a reused descriptor.
 */
#include "http/conn_guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"

struct conn_track {
    int fd;
    conn_phase phase;
    double since;
    size_t body_bytes;
    bool shut;
    conn_track *prev, *next;
};

struct conn_guard {
    unsigned header_seconds;
    size_t min_body_rate;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    conn_track *head;
    bool stopping;
    bool thread_started;
    pthread_t thread;
};

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned conn_guard_sweep(conn_guard *g, double now)
{
    unsigned shut = 0;
    if (g->header_seconds == 0)
        return 0;
    pthread_mutex_lock(&g->mu);
    for (conn_track *t = g->head; t != NULL; t = t->next) {
        if (t->shut)
            continue;
        double age = now - t->since;
        const char *why = NULL;
        if (t->phase == CONN_WAIT_HEADERS && age > g->header_seconds)
            why = "slow_headers";
        else if (t->phase == CONN_BODY && age > g->header_seconds &&
                 (double)t->body_bytes < age * (double)g->min_body_rate)
            why = "slow_body";
        if (why == NULL)
            continue;
        /* the socket is still libmicrohttpd's: only shut down, it closes the descriptor */
        shutdown(t->fd, SHUT_RDWR);
        t->shut = true;
        shut++;
        log_event(LOG_INFO, "http_slow_client_closed", "reason", why, NULL);
    }
    pthread_mutex_unlock(&g->mu);
    return shut;
}

static void *guard_main(void *arg)
{
    conn_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&g->wake, &g->mu, &until);
        if (g->stopping)
            break;
        pthread_mutex_unlock(&g->mu);
        (void)conn_guard_sweep(g, now_monotonic());
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

nsdb_err conn_guard_new(unsigned header_seconds, size_t min_body_rate, conn_guard **out)
{
    conn_guard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NSDB_ERR_NOMEM;
    g->header_seconds = header_seconds;
    g->min_body_rate = min_body_rate;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (header_seconds != 0) {
        if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
            conn_guard_free(g);
            return NSDB_ERR_NOMEM;
        }
        g->thread_started = true;
    }
    *out = g;
    return NSDB_OK;
}

void conn_guard_free(conn_guard *g)
{
    if (g == NULL)
        return;
    if (g->thread_started) {
        pthread_mutex_lock(&g->mu);
        g->stopping = true;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    for (conn_track *t = g->head, *next; t != NULL; t = next) {
        next = t->next;
        free(t);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

conn_track *conn_guard_open(conn_guard *g, int fd)
{
    conn_track *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->fd = fd;
    t->phase = CONN_WAIT_HEADERS;
    t->since = now_monotonic();
    pthread_mutex_lock(&g->mu);
    t->next = g->head;
    if (g->head != NULL)
        g->head->prev = t;
    g->head = t;
    pthread_mutex_unlock(&g->mu);
    return t;
}

void conn_guard_close(conn_guard *g, conn_track *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        g->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&g->mu);
    free(t);
}

void conn_guard_phase(conn_guard *g, conn_track *t, conn_phase phase)
{
    if (t == NULL)
        return;
    double now = now_monotonic();
    pthread_mutex_lock(&g->mu);
    t->phase = phase;
    t->since = now;
    t->body_bytes = 0;
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_body_bytes(conn_guard *g, conn_track *t, size_t n)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    t->body_bytes += n;
    pthread_mutex_unlock(&g->mu);
}
