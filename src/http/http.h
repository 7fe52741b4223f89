/*
 * http.h — the HTTP layer over libmicrohttpd: a request with its arena, parsed form and cookies,
 * and the response being built. Knows nothing of nsdb's screens; the web layer supplies one
 * handler that is called once per complete request.
 */
#ifndef NSDB_HTTP_H
#define NSDB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/str.h"

#define HTTP_MAX_PATH_PARAMS 4

typedef struct http_param {
    const char *name;
    const char *value;
    size_t value_len;         /* bytes (file parts may hold NUL bytes) */
    const char *filename;     /* multipart file parts only */
    const char *content_type; /* multipart file parts only */
    struct http_param *next;
} http_param;

typedef struct http_header {
    const char *name;
    const char *value;
    struct http_header *next;
} http_header;

/* A streamed body (http_send_stream): read returns the bytes at pos (at most max), -1 on error. */
typedef long (*http_stream_read_fn)(void *cls, uint64_t pos, char *buf, size_t max);
typedef struct http_stream {
    http_stream_read_fn read;
    void (*release)(void *cls);
    void *cls;
} http_stream;

typedef struct http_request {
    arena *arena;
    void *connection; /* struct MHD_Connection * */
    const char *method;
    const char *path;
    const char *client_ip; /* the client: the peer, or the forwarded address behind a trusted proxy */
    const char *peer_ip;   /* the address of the TCP peer itself */
    uint64_t id;
    struct timespec started;

    /* the body as received (bounded by the route's limit): in memory while small, then in an
       unlinked temporary file (http/body.c); body_data/body_len is the whole body once complete */
    strbuf body;
    int body_fd;
    void *body_map;
    size_t body_map_len;
    size_t body_received;
    size_t body_reserved;
    const char *body_data;
    size_t body_len;
    size_t body_limit;
    bool body_too_large;
    bool body_failed; /* the budget was spent or the temporary file failed mid-body: 503 */
    bool answered; /* answered before the body was read (see http_precheck_fn) */
    http_param *form;
    bool form_parsed;

    /* filled by the router */
    const char *path_params[HTTP_MAX_PATH_PARAMS];
    int path_param_count;
    void *context;       /* the web layer's per-request state */
    const char *log_user; /* user ID for the access log, never a secret */

    /* response */
    int status;
    const char *content_type;
    strbuf out;
    http_header *headers;
    bool no_store;
    /* a body sent from a file or a reader instead of out (http_send_fd, http_send_stream);
       handed to libmicrohttpd when the response is queued, released at completion if not */
    int stream_fd;
    uint64_t stream_size;
    http_stream *stream;
} http_request;

typedef void (*http_handler_fn)(void *cls, http_request *req);
/* Called once the request's headers are in, before any body byte is read: returns the body
   limit in bytes for the request (0 refuses any body). When the request cannot be authorised
   it answers it itself (http_redirect, http_send_text…) and sets req->answered: the body is then
   never read. Whatever it leaves in req->context is there for the handler. */
typedef size_t (*http_precheck_fn)(void *cls, http_request *req);

typedef struct http_server_config {
    const char *listen_host; /* "127.0.0.1" */
    uint16_t port;           /* 0 = pick a free port */
    unsigned threads;
    unsigned connection_timeout_seconds;
    size_t header_memory_limit;
    bool trust_proxy; /* take the client address from X-Forwarded-For */
    unsigned per_client_connection_limit; /* connections at once from one peer address; 0 = none */
    unsigned header_timeout_seconds;      /* request headers must be complete within; 0 = none */
    size_t min_body_rate;                 /* bytes/s an upload must average after that grace */
    size_t body_bytes_in_flight_cap;      /* all bodies being received at once; 0 = no cap */
    const char *upload_tmp_dir;           /* large bodies are spooled here (NULL: $TMPDIR) */
} http_server_config;

typedef struct http_server http_server;

NSDB_MUST_CHECK nsdb_err http_server_start(const http_server_config *cfg, http_handler_fn handler,
                                           http_precheck_fn precheck, void *cls,
                                           http_server **out);
uint16_t http_server_port(const http_server *srv);
/* Stops accepting, finishes requests in flight, frees the server. */
void http_server_stop(http_server *srv);

/* Request accessors. Values live in the request arena or in libmicrohttpd's connection. */
const char *http_query(http_request *req, const char *name);
const char *http_header_value(http_request *req, const char *name);
const char *http_cookie(http_request *req, const char *name);
/* Form field of a urlencoded or multipart body (first occurrence); NULL when absent. */
const char *http_form(http_request *req, const char *name);
/* Every form parameter, in order (repeated fields appear repeatedly). */
const http_param *http_form_params(http_request *req);
/* The first form parameter of that name (file parts carry filename and value_len). */
const http_param *http_form_param(http_request *req, const char *name);
/* Parses "a=1&b=2" into a list allocated in the arena. */
http_param *http_parse_urlencoded(arena *a, const char *data, size_t len);

/* Response helpers. */
void http_add_header(http_request *req, const char *name, const char *value);
void http_redirect(http_request *req, int status, const char *location);
void http_send_text(http_request *req, int status, const char *text);
/* A download: body, type and Content-Disposition with the UTF-8 file name. */
void http_send_file(http_request *req, const char *content_type, const char *filename,
                    const void *data, size_t len);
void http_set_cookie(http_request *req, const char *name, const char *value, long max_age,
                     bool secure);
/* A download read from fd (size bytes from its start) by libmicrohttpd in chunks, never held in
   memory; the request owns fd from here on and closes it. */
void http_send_fd(http_request *req, const char *content_type, const char *filename, int fd,
                  uint64_t size);
/* A download of size bytes produced by read (-1 on error: the connection is then cut, so the
   client sees a short body), called in chunks from offset pos; release frees cls once the
   response is done (or never sent). */
void http_send_stream(http_request *req, const char *content_type, const char *filename,
                      uint64_t size, http_stream_read_fn read, void (*release)(void *cls),
                      void *cls);

/* The client address behind trusted proxies: walking X-Forwarded-For (all its headers joined
   by commas, in order) from the right, the first address that is not the peer itself or a
   loopback address (a proxy hop) and is a valid IPv4/IPv6 address. Anything the client wrote
   further left is ignored. Falls back to the peer when no such address is there. */
void http_forwarded_client(const char *peer, const char *forwarded_for, char *out, size_t size);

/* peer.c: whether the connected socket's address (never a forwarded header) is loopback,
   127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z). */
struct sockaddr;
bool http_address_is_loopback(const struct sockaddr *sa);
bool http_peer_is_loopback(http_request *req);

/* Prometheus text of the server's counters. */
void http_metrics_write(strbuf *out);
/* Counts a named event in the metrics (login results…): name must be a static string. */
void http_metrics_count(const char *name, const char *label);

#endif
