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

typedef struct http_request {
    arena *arena;
    void *connection; /* struct MHD_Connection * */
    const char *method;
    const char *path;
    const char *client_ip;
    uint64_t id;
    struct timespec started;

    /* body as received (bounded by the route's limit), and the parsed form fields */
    strbuf body;
    size_t body_limit;
    bool body_too_large;
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
} http_request;

typedef void (*http_handler_fn)(void *cls, http_request *req);
/* Called on the first callback, before the body arrives: returns the body limit in bytes for
   this method and path (0 refuses any body). */
typedef size_t (*http_body_limit_fn)(void *cls, const char *method, const char *path);

typedef struct http_server_config {
    const char *listen_host; /* "127.0.0.1" */
    uint16_t port;           /* 0 = pick a free port */
    unsigned threads;
    unsigned connection_timeout_seconds;
    size_t header_memory_limit;
    bool trust_proxy; /* take the client address from X-Forwarded-For */
} http_server_config;

typedef struct http_server http_server;

NSDB_MUST_CHECK nsdb_err http_server_start(const http_server_config *cfg, http_handler_fn handler,
                                           http_body_limit_fn body_limit, void *cls,
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
