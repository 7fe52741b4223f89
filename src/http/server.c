/*
 * server.c — libmicrohttpd glue: a thread pool over epoll, per-request arenas, bounded bodies,
 * timeouts, the access log and the request metrics. One http_request lives from the first
 * callback of a request to libmicrohttpd's completion notice, where it is freed in one place.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    http_body_limit_fn body_limit;
    void *cls;
    bool trust_proxy;
    atomic_uint_fast64_t next_id;
};

static const char *client_ip_of(http_server *srv, struct MHD_Connection *c, arena *a)
{
    if (srv->trust_proxy) {
        const char *fwd = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
        if (fwd != NULL && *fwd) {
            size_t n = strcspn(fwd, ",");
            return arena_strndup(a, fwd, n > 64 ? 64 : n);
        }
    }
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

static http_request *request_new(http_server *srv, struct MHD_Connection *c, const char *url,
                                 const char *method)
{
    arena *a = arena_new();
    http_request *req = arena_calloc(a, 1, sizeof *req);
    req->arena = a;
    req->connection = c;
    req->method = arena_strdup(a, method);
    req->path = arena_strdup(a, url);
    req->client_ip = client_ip_of(srv, c, a);
    req->id = atomic_fetch_add(&srv->next_id, 1) + 1;
    req->status = 200;
    req->content_type = "text/html; charset=utf-8";
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    return req;
}

static enum MHD_Result queue_response(struct MHD_Connection *c, http_request *req)
{
    size_t len = 0;
    char *body = strbuf_detach(&req->out, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", req->content_type);
    for (http_header *h = req->headers; h != NULL; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    enum MHD_Result r = MHD_queue_response(c, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Answers 413 before reading a body whose Content-Length is over the limit. */
static enum MHD_Result refuse_body(struct MHD_Connection *c, http_request *req)
{
    req->body_too_large = true;
    strbuf_free(&req->body);
    http_send_text(req, 413, "送信されたデータが大きすぎます。");
    return queue_response(c, req);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    http_request *req = *con_cls;
    if (req == NULL) {
        req = request_new(srv, c, url, method);
        *con_cls = req;
        req->body_limit = srv->body_limit(srv->cls, method, url);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > req->body_limit)
            return refuse_body(c, req);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* past the limit (a body without Content-Length): drop the rest, answer 413 at the end */
        if (!req->body_too_large && req->body.len + *upload_data_size > req->body_limit) {
            req->body_too_large = true;
            strbuf_free(&req->body);
        }
        if (!req->body_too_large)
            strbuf_append(&req->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->body_too_large) {
        if (req->status == 413)
            return MHD_YES; /* answered before the body came */
        http_send_text(req, 413, "送信されたデータが大きすぎます。");
        return queue_response(c, req);
    }
    srv->handler(srv->cls, req);
    return queue_response(c, req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    http_request *req = *con_cls;
    if (req == NULL)
        return;
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
    strbuf_free(&req->body);
    strbuf_free(&req->out);
    arena_free(req->arena);
    *con_cls = NULL;
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
                           http_body_limit_fn body_limit, void *cls, http_server **out)
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
    srv->body_limit = body_limit;
    srv->cls = cls;
    srv->trust_proxy = cfg->trust_proxy;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->connection_timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        cfg->header_memory_limit, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
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
    free(srv);
}
