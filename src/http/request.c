/*
 * request.c — reading a request (query, headers, cookies, urlencoded form) and building the
 * response (headers, redirects, plain text, cookies).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/multipart.h"
#include "util/log.h"

const char *http_query(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header_value(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *http_cookie(http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_COOKIE_KIND, name);
}

http_param *http_parse_urlencoded(arena *a, const char *data, size_t len)
{
    http_param *head = NULL, **tail = &head;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '&')
            end++;
        if (end > i) {
            char *pair = arena_strndup(a, data + i, end - i);
            char *eq = strchr(pair, '=');
            /* "name" without "=": an empty value, inside the writable copy (decoding writes) */
            char *value = pair + strlen(pair);
            if (eq != NULL) {
                *eq = '\0';
                value = eq + 1;
            }
            str_url_decode(pair);
            size_t vlen = str_url_decode(value);
            http_param *p = arena_calloc(a, 1, sizeof *p);
            p->name = pair;
            p->value = value;
            p->value_len = vlen;
            *tail = p;
            tail = &p->next;
        }
        i = end + 1;
    }
    return head;
}

static void form_parse(http_request *req)
{
    if (req->form_parsed)
        return;
    req->form_parsed = true;
    const char *ct = http_header_value(req, "Content-Type");
    if (ct == NULL || req->body_data == NULL)
        return;
    if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        req->form = http_parse_urlencoded(req->arena, req->body_data, req->body_len);
    } else if (strncasecmp(ct, "multipart/form-data", 19) == 0) {
        /* A malformed body leaves the form empty: the handler reports the missing fields. */
        http_param *params;
        nsdb_err err = http_parse_multipart(req->arena, ct, req->body_data, req->body_len, &params);
        if (err == NSDB_OK)
            req->form = params;
        else
            log_event(LOG_WARN, "multipart_rejected", "error", nsdb_err_name(err), NULL);
    }
}

const http_param *http_form_params(http_request *req)
{
    form_parse(req);
    return req->form;
}

const char *http_form(http_request *req, const char *name)
{
    for (const http_param *p = http_form_params(req); p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p->value;
    return NULL;
}

void http_add_header(http_request *req, const char *name, const char *value)
{
    http_header *h = arena_alloc(req->arena, sizeof *h);
    h->name = arena_strdup(req->arena, name);
    h->value = arena_strdup(req->arena, value);
    h->next = req->headers;
    req->headers = h;
}

void http_redirect(http_request *req, int status, const char *location)
{
    req->status = status;
    http_add_header(req, "Location", location);
    req->content_type = "text/plain; charset=utf-8";
    strbuf_reset(&req->out);
}

void http_send_text(http_request *req, int status, const char *text)
{
    req->status = status;
    req->content_type = "text/plain; charset=utf-8";
    strbuf_reset(&req->out);
    strbuf_puts(&req->out, text);
    strbuf_putc(&req->out, '\n');
}

void http_set_cookie(http_request *req, const char *name, const char *value, long max_age,
                     bool secure)
{
    char *cookie = arena_printf(req->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
                                value, secure ? "; Secure" : "", max_age == 0 ? "; Max-Age=0" : "");
    http_add_header(req, "Set-Cookie", cookie);
}

const http_param *http_form_param(http_request *req, const char *name)
{
    for (const http_param *p = http_form_params(req); p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* RFC 6266: an ASCII fallback and the UTF-8 name percent-encoded */
static void attachment_headers(http_request *req, const char *filename)
{
    strbuf enc = STRBUF_INIT;
    strbuf_append_url(&enc, filename);
    char *value = arena_printf(req->arena, "attachment; filename=\"download\"; filename*=UTF-8''%s",
                               enc.data ? enc.data : "download");
    strbuf_free(&enc);
    http_add_header(req, "Content-Disposition", value);
    http_add_header(req, "Cache-Control", "no-store");
}

void http_send_file(http_request *req, const char *content_type, const char *filename,
                    const void *data, size_t len)
{
    req->status = 200;
    req->content_type = content_type;
    strbuf_reset(&req->out);
    strbuf_append(&req->out, data, len);
    attachment_headers(req, filename);
}

void http_send_fd(http_request *req, const char *content_type, const char *filename, int fd,
                  uint64_t size)
{
    assert(req->stream_fd < 0 && req->stream == NULL); /* one body per response */
    req->status = 200;
    req->content_type = content_type;
    strbuf_reset(&req->out);
    req->stream_fd = fd;
    req->stream_size = size;
    attachment_headers(req, filename);
}

void http_send_stream(http_request *req, const char *content_type, const char *filename,
                      uint64_t size, http_stream_read_fn read, void (*release)(void *cls),
                      void *cls)
{
    assert(req->stream_fd < 0 && req->stream == NULL);
    http_stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        release(cls);
        http_send_text(req, 503, "ただいまサーバが混み合っています。");
        return;
    }
    *s = (http_stream){read, release, cls};
    req->status = 200;
    req->content_type = content_type;
    strbuf_reset(&req->out);
    req->stream = s;
    req->stream_size = size;
    attachment_headers(req, filename);
}

/* Copies the address in [s, s+n) without surrounding spaces; false when it is not one. */
static bool forwarded_address(const char *s, size_t n, char *out, size_t size)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char buf[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof buf || n >= size)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, buf, bin) != 1 && inet_pton(AF_INET6, buf, bin) != 1)
        return false;
    memcpy(out, buf, n + 1);
    return true;
}

static bool is_proxy_hop(const char *addr, const char *peer)
{
    return strcmp(addr, peer) == 0 || strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

void http_forwarded_client(const char *peer, const char *forwarded_for, char *out, size_t size)
{
    snprintf(out, size, "%s", peer);
    if (forwarded_for == NULL)
        return;
    size_t end = strlen(forwarded_for);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && forwarded_for[start - 1] != ',')
            start--;
        char addr[INET6_ADDRSTRLEN];
        if (!forwarded_address(forwarded_for + start, end - start, addr, sizeof addr))
            return; /* garbage where a proxy should have written an address: keep the last hop */
        if (!is_proxy_hop(addr, peer)) {
            snprintf(out, size, "%s", addr);
            return;
        }
        end = start > 0 ? start - 1 : 0;
    }
}
