/*
 * metrics.c — request counts by status class, a latency histogram, and named event counters.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "http/metrics.h"

static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define BUCKET_COUNT (sizeof BUCKETS / sizeof BUCKETS[0])
#define EVENT_SLOTS 64

static atomic_uint_fast64_t requests_by_class[6];
static atomic_uint_fast64_t latency_buckets[BUCKET_COUNT + 1];
static atomic_uint_fast64_t latency_sum_micros;

static struct {
    const char *name;
    const char *label;
    uint64_t count;
} events[EVENT_SLOTS];
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

void metrics_observe_request(int status, double seconds)
{
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 0;
    atomic_fetch_add(&requests_by_class[cls], 1);
    size_t b = 0;
    while (b < BUCKET_COUNT && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add(&latency_buckets[b], 1);
    atomic_fetch_add(&latency_sum_micros, (uint_fast64_t)(seconds * 1e6));
}

void http_metrics_count(const char *name, const char *label)
{
    pthread_mutex_lock(&events_lock);
    for (size_t i = 0; i < EVENT_SLOTS; i++) {
        if (events[i].name == NULL) {
            events[i].name = name;
            events[i].label = label;
        }
        if (strcmp(events[i].name, name) == 0 && strcmp(events[i].label, label) == 0) {
            events[i].count++;
            break;
        }
    }
    pthread_mutex_unlock(&events_lock);
}

void http_metrics_write(strbuf *out)
{
    static const char *const CLASS[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    strbuf_puts(out, "# HELP nsdb_http_requests_total HTTP requests by status class.\n"
                     "# TYPE nsdb_http_requests_total counter\n");
    for (int i = 0; i < 6; i++)
        strbuf_printf(out, "nsdb_http_requests_total{code=\"%s\"} %llu\n", CLASS[i],
                      (unsigned long long)atomic_load(&requests_by_class[i]));
    strbuf_puts(out, "# HELP nsdb_http_request_duration_seconds Time to answer a request.\n"
                     "# TYPE nsdb_http_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= BUCKET_COUNT; b++) {
        cumulative += atomic_load(&latency_buckets[b]);
        if (b < BUCKET_COUNT)
            strbuf_printf(out, "nsdb_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                          BUCKETS[b], (unsigned long long)cumulative);
        else
            strbuf_printf(out, "nsdb_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                          (unsigned long long)cumulative);
    }
    strbuf_printf(out, "nsdb_http_request_duration_seconds_sum %.6f\n",
                  (double)atomic_load(&latency_sum_micros) / 1e6);
    strbuf_printf(out, "nsdb_http_request_duration_seconds_count %llu\n",
                  (unsigned long long)cumulative);
    strbuf_puts(out, "# HELP nsdb_events_total Security and business events.\n"
                     "# TYPE nsdb_events_total counter\n");
    pthread_mutex_lock(&events_lock);
    for (size_t i = 0; i < EVENT_SLOTS && events[i].name != NULL; i++)
        strbuf_printf(out, "nsdb_events_total{event=\"%s\",result=\"%s\"} %llu\n", events[i].name,
                      events[i].label, (unsigned long long)events[i].count);
    pthread_mutex_unlock(&events_lock);
}
