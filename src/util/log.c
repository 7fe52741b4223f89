/*
 * log.c — JSON-lines logger. A line is built in a local buffer and written with one write(2)
 * so that lines from concurrent threads never interleave.
 */
#include "util/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level log_min_level = LOG_INFO; /* configuration, set once at start */
static bool log_quiet = false;

void log_set_level(log_level min) { log_min_level = min; }
void log_set_quiet(bool quiet) { log_quiet = quiet; }

static const char *level_name(log_level l)
{
    static const char *const NAMES[] = {"debug", "info", "warn", "error"};
    return NAMES[l];
}

void log_event(log_level level, const char *msg, ...)
{
    if (level < log_min_level || log_quiet)
        return;
    json_t *o = json_object();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_object_set_new(o, "ts", json_string(when));
    json_object_set_new(o, "level", json_string(level_name(level)));
    json_object_set_new(o, "msg", json_string(msg));
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        json_object_set_new(o, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (line == NULL)
        return;
    size_t n = strlen(line);
    char *out = malloc(n + 2);
    if (out != NULL) {
        memcpy(out, line, n);
        out[n] = '\n';
        ssize_t w = write(STDERR_FILENO, out, n + 1);
        (void)w;
        free(out);
    }
    free(line);
}
