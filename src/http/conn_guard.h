/*
 * conn_guard.h — deadlines libmicrohttpd's idle timeout cannot give. A client that trickles one
 * header byte every few seconds never goes idle, so it could hold a connection (and, with
 * many, every connection) for ever. The guard tracks each connection's phase and when it began;
 * a watchdog thread shuts down connections whose request headers are not complete within the
 * header deadline, and uploads that stay below a minimum average rate after the same grace.
 */
#ifndef NSDB_HTTP_CONN_GUARD_H
#define NSDB_HTTP_CONN_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct conn_guard conn_guard;
typedef struct conn_track conn_track;

typedef enum conn_phase {
    CONN_WAIT_HEADERS, /* connected, or idle between two requests of a keep-alive connection */
    CONN_BODY,         /* headers in, body arriving */
    CONN_HANDLING,     /* request complete: being handled or its answer being sent */
} conn_phase;

/* header_seconds 0 turns the guard off (conn_guard_new still succeeds). */
NSDB_MUST_CHECK nsdb_err conn_guard_new(unsigned header_seconds, size_t min_body_rate,
                                        conn_guard **out);
void conn_guard_free(conn_guard *g);

/* A connection opened (fd is its socket) / closed; track is NULL when out of memory. */
conn_track *conn_guard_open(conn_guard *g, int fd);
void conn_guard_close(conn_guard *g, conn_track *t);
/* The connection moved to another phase (its clock restarts). */
void conn_guard_phase(conn_guard *g, conn_track *t, conn_phase phase);
/* Body bytes received on the connection's current request. */
void conn_guard_body_bytes(conn_guard *g, conn_track *t, size_t n);

/* One pass of the watchdog at monotonic time now (seconds); returns how many connections it
   shut down. Exposed for tests; the guard's own thread calls it every second. */
unsigned conn_guard_sweep(conn_guard *g, double now);

#endif
