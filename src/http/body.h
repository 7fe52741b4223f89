/*
 * body.h — where a request body goes while it arrives. Small bodies stay in memory; past
 * HTTP_BODY_MEMORY bytes the body moves to an unlinked temporary file that is mapped read-only
 * when the request is complete, so a half-sent upload costs disk, not heap. Every byte a body may
 * still need is counted against one server-wide budget (the "in-flight" bytes), so many
 * concurrent uploads are answered 503 instead of exhausting memory or disk.
 */
#ifndef NSDB_HTTP_BODY_H
#define NSDB_HTTP_BODY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

#define HTTP_BODY_MEMORY (256 * 1024)

typedef struct http_body_budget {
    atomic_size_t in_flight; /* bytes reserved by bodies being received or handled */
    size_t cap;              /* 0 = no budget */
    const char *tmp_dir;     /* where large bodies are spooled */
} http_body_budget;

/* Reserves n more bytes for req; false (nothing reserved) when the budget would be exceeded. */
bool http_body_reserve(http_body_budget *b, http_request *req, size_t n);
/* Appends received bytes (reserving what the Content-Length did not). NSDB_ERR_BUSY when the
   budget is spent, NSDB_ERR_IO when the temporary file cannot be written. */
NSDB_MUST_CHECK nsdb_err http_body_append(http_body_budget *b, http_request *req,
                                          const char *data, size_t n);
/* Makes req->body_data/body_len the whole body (maps the temporary file). */
NSDB_MUST_CHECK nsdb_err http_body_finish(http_request *req);
/* Drops what was received so far (the request is answered without its body). */
void http_body_discard(http_body_budget *b, http_request *req);
/* Frees memory, the mapping and the file; gives the reservation back. */
void http_body_release(http_body_budget *b, http_request *req);

#endif
