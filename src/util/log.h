/*
 * log.h — structured logs to stderr, one JSON object a line. Never pass a password, an initial
 * password or a session token to these functions.
 */
#ifndef NSDB_LOG_H
#define NSDB_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level min);
void log_set_quiet(bool quiet);
/* msg is a short English event name; kv is alternating key, value strings ending with NULL. */
void log_event(log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
