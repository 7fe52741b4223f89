/*
 * server.c — libmicrohttpd glue: a thread pool over epoll, per-request arenas, bodies bounded by
 * the route and by a server-wide budget (http/body.c), deadlines against slow clients
 * (http/conn_guard.c), the access log and the request metrics. The application's precheck sees
 * every request once its headers are in, before any body byte is read, so a request that cannot
 * be authorised is answered without reading its body. One http_request lives from the first
 * callback of a request to libmicrohttpd's completion notice, where it is freed in one place.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/body.h"
#include "http/conn_guard.h"
#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"

#define TOO_LARGE_TEXT "送信されたデータが大きすぎます。"
#define BUSY_TEXT "ただいまサーバが混み合っています。しばらく待ってから、もう一度送信してください。"

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    http_precheck_fn precheck;
    void *cls;
    bool trust_proxy;
    http_body_budget budget;
    conn_guard *guard;
    atomic_uint_fast64_t next_id;
};

static const char *peer_ip_of(struct MHD_Connection *c, arena *a)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL)
        return "-";
    char buf[INET6_ADDRSTRLEN] = "-";
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf, sizeof buf);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  sizeof buf);
    return arena_strdup(a, buf);
}

typedef struct header_scan {
    strbuf forwarded; /* every X-Forwarded-For header, in order, joined by commas */
    unsigned content_lengths;
} header_scan;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    header_scan *s = cls;
    if (strcasecmp(key, "Content-Length") == 0)
        s->content_lengths++;
    else if (strcasecmp(key, "X-Forwarded-For") == 0 && value != NULL) {
        if (s->forwarded.len != 0)
            strbuf_putc(&s->forwarded, ',');
        strbuf_puts(&s->forwarded, value);
    }
    return MHD_YES;
}

static http_request *request_new(http_server *srv, struct MHD_Connection *c, const char *url,
                                 const char *method, header_scan *scan)
{
    arena *a = arena_new();
    http_request *req = arena_calloc(a, 1, sizeof *req);
    req->arena = a;
    req->connection = c;
    req->method = arena_strdup(a, method);
    req->path = arena_strdup(a, url);
    req->peer_ip = peer_ip_of(c, a);
    req->client_ip = req->peer_ip;
    if (srv->trust_proxy && scan->forwarded.len != 0) {
        char client[INET6_ADDRSTRLEN];
        http_forwarded_client(req->peer_ip, scan->forwarded.data, client, sizeof client);
        req->client_ip = arena_strdup(a, client);
    }
    req->body_fd = -1;
    req->stream_fd = -1;
    req->id = atomic_fetch_add(&srv->next_id, 1) + 1;
    req->status = 200;
    req->content_type = "text/html; charset=utf-8";
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    return req;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *s = cls;
    long n = s->read(s->cls, pos, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : (ssize_t)n;
}

static void stream_release(void *cls)
{
    http_stream *s = cls;
    s->release(s->cls);
    free(s);
}

/* The response's body: a file (libmicrohttpd closes it), a reader, or the buffer. Whatever is
   handed over is no longer the request's. */
static struct MHD_Response *response_body(http_request *req)
{
    struct MHD_Response *resp = NULL;
    if (req->stream_fd >= 0) {
        resp = MHD_create_response_from_fd64(req->stream_size, req->stream_fd);
        if (resp != NULL)
            req->stream_fd = -1;
        return resp;
    }
    if (req->stream != NULL) {
        resp = MHD_create_response_from_callback(req->stream_size, 64 * 1024, stream_read,
                                                 req->stream, stream_release);
        if (resp != NULL)
            req->stream = NULL;
        return resp;
    }
    size_t len = 0;
    char *body = strbuf_detach(&req->out, &len);
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        free(body);
    return resp;
}

/* A body that was set but never handed over (the response failed or was replaced). */
static void response_body_release(http_request *req)
{
    if (req->stream_fd >= 0)
        close(req->stream_fd);
    req->stream_fd = -1;
    if (req->stream != NULL)
        stream_release(req->stream);
    req->stream = NULL;
}

static enum MHD_Result queue_response(struct MHD_Connection *c, http_request *req)
{
    struct MHD_Response *resp = response_body(req);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", req->content_type);
    for (http_header *h = req->headers; h != NULL; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    enum MHD_Result r = MHD_queue_response(c, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Answers now, before (the rest of) the body: libmicrohttpd then closes the connection. */
static enum MHD_Result answer_early(http_server *srv, struct MHD_Connection *c, http_request *req,
                                    int status, const char *text)
{
    http_body_discard(&srv->budget, req);
    req->answered = true;
    if (text != NULL)
        http_send_text(req, status, text);
    if (status == 503)
        http_add_header(req, "Retry-After", "30");
    return queue_response(c, req);
}

static conn_track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* The headers are in: checks them, asks the application, reserves the body's bytes. */
static enum MHD_Result on_headers(http_server *srv, struct MHD_Connection *c, http_request *req,
                                  header_scan *scan)
{
    if (scan->content_lengths > 1) {
        http_metrics_count("http_refused", "duplicate_content_length");
        return answer_early(srv, c, req, 400, "リクエストの形式が正しくありません。");
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    unsigned long long length = cl != NULL ? strtoull(cl, NULL, 10) : 0;
    bool has_body = length > 0 || te != NULL;
    conn_guard_phase(srv->guard, track_of(c), has_body ? CONN_BODY : CONN_HANDLING);

    req->body_limit = srv->precheck(srv->cls, req);
    if (req->answered)
        return answer_early(srv, c, req, req->status, NULL);
    if (!has_body)
        return MHD_YES;
    if (length > req->body_limit) {
        req->body_too_large = true;
        return answer_early(srv, c, req, 413, TOO_LARGE_TEXT);
    }
    if (!http_body_reserve(&srv->budget, req, (size_t)length)) {
        http_metrics_count("http_refused", "upload_budget");
        log_event(LOG_WARN, "http_upload_budget_spent", "path", req->path, NULL);
        return answer_early(srv, c, req, 503, BUSY_TEXT);
    }
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    http_request *req = *con_cls;
    if (req == NULL) {
        header_scan scan = {.forwarded = STRBUF_INIT};
        MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &scan);
        req = request_new(srv, c, url, method, &scan);
        *con_cls = req;
        enum MHD_Result r = on_headers(srv, c, req, &scan);
        strbuf_free(&scan.forwarded);
        return r;
    }
    if (req->answered) {
        *upload_data_size = 0; /* answered before the body came: drop what still arrives */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        conn_guard_body_bytes(srv->guard, track_of(c), n);
        if (req->body_failed)
            return MHD_YES;
        if (req->body_too_large || req->body_received + n > req->body_limit) {
            /* past the limit (a body without Content-Length): drop the rest, answer 413 */
            req->body_too_large = true;
            http_body_discard(&srv->budget, req);
            return MHD_YES;
        }
        nsdb_err e = http_body_append(&srv->budget, req, upload_data, n);
        if (e != NSDB_OK) {
            /* a response cannot be queued mid-body: drop the rest, answer 503 at its end */
            log_event(LOG_WARN, "http_body_refused", "path", req->path, "error", nsdb_err_name(e),
                      NULL);
            req->body_failed = true;
            http_body_discard(&srv->budget, req);
        }
        return MHD_YES;
    }
    conn_guard_phase(srv->guard, track_of(c), CONN_HANDLING);
    if (req->body_too_large || req->body_failed) {
        http_send_text(req, req->body_failed ? 503 : 413, req->body_failed ? BUSY_TEXT : TOO_LARGE_TEXT);
        if (req->body_failed)
            http_add_header(req, "Retry-After", "30");
        return queue_response(c, req);
    }
    if (http_body_finish(req) != NSDB_OK) {
        log_event(LOG_ERROR, "http_body_unreadable", "path", req->path, NULL);
        http_send_text(req, 503, BUSY_TEXT);
        return queue_response(c, req);
    }
    srv->handler(srv->cls, req);
    return queue_response(c, req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    http_request *req = *con_cls;
    if (req == NULL)
        return;
    conn_guard_phase(srv->guard, track_of(c), CONN_WAIT_HEADERS);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double seconds = (double)(now.tv_sec - req->started.tv_sec) +
                     (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
    metrics_observe_request(req->status, seconds);
    char status[8], ms[32], id[24];
    snprintf(status, sizeof status, "%d", req->status);
    snprintf(ms, sizeof ms, "%.3f", seconds * 1000.0);
    snprintf(id, sizeof id, "%llu", (unsigned long long)req->id);
    log_event(LOG_INFO, "http", "id", id, "ip", req->client_ip, "method", req->method, "path",
              req->path, "status", status, "ms", ms, "user", req->log_user,
              "completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted", NULL);
    http_body_release(&srv->budget, req);
    response_body_release(req);
    strbuf_free(&req->out);
    arena_free(req->arena);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info != NULL ? conn_guard_open(srv->guard, info->connect_fd) : NULL;
    } else {
        conn_guard_close(srv->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_event(LOG_WARN, "microhttpd", "detail", buf, NULL);
}

nsdb_err http_server_start(const http_server_config *cfg, http_handler_fn handler,
                           http_precheck_fn precheck, void *cls, http_server **out)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->listen_host, &addr.sin_addr) != 1)
        return NSDB_ERR_INVALID;
    http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NSDB_ERR_NOMEM;
    srv->handler = handler;
    srv->precheck = precheck;
    srv->cls = cls;
    srv->trust_proxy = cfg->trust_proxy;
    srv->budget.cap = cfg->body_bytes_in_flight_cap;
    srv->budget.tmp_dir = cfg->upload_tmp_dir;
    nsdb_err e = conn_guard_new(cfg->header_timeout_seconds, cfg->min_body_rate, &srv->guard);
    if (e != NSDB_OK) {
        free(srv);
        return e;
    }
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: with it libmicrohttpd sets SO_REUSEPORT, and any
       process of the same user could bind the port too and take a share of the connections. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_memory_limit,
        MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->per_client_connection_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        conn_guard_free(srv->guard);
        free(srv);
        return NSDB_ERR_IO;
    }
    *out = srv;
    return NSDB_OK;
}

uint16_t http_server_port(const http_server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void http_server_stop(http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->daemon);
    conn_guard_free(srv->guard);
    free(srv);
}
