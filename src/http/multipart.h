/*
 * multipart.h — multipart/form-data (RFC 7578) bodies: file uploads and the fields sent with
 * them. The body is already in memory; the parser only finds the parts and copies them into the
 * request arena as the same http_param list that urlencoded forms produce.
 */
#ifndef NSDB_MULTIPART_H
#define NSDB_MULTIPART_H

#include <stddef.h>

#include "http/http.h"
#include "util/arena.h"
#include "util/err.h"

#define HTTP_MULTIPART_MAX_PARTS 1000
#define HTTP_MULTIPART_MAX_HEADER_BLOCK 8192 /* bytes of one part's headers, without the blank line */
#define HTTP_MULTIPART_MAX_BOUNDARY 70       /* RFC 2046 */

/*
 * Parses body according to content_type (the Content-Type header value: multipart/form-data
 * with a boundary parameter, quoted or not) into *out, in the order of the parts, allocated in a.
 * Every part gives name; file parts (those with filename or filename*) also give filename
 * (basename only; a UTF-8 RFC 5987 filename* is preferred to filename) and content_type
 * ("application/octet-stream" when the part has none). value is a NUL-terminated copy of the
 * part's bytes, value_len their exact count (which may include NUL bytes).
 * Returns NSDB_ERR_PARSE, with *out NULL, on a malformed body: no boundary, no final boundary, a
 * part without a form-data Content-Disposition name, a header block too long, too many parts.
 * Reads only body[0..len). Linear in len.
 */
NSDB_MUST_CHECK nsdb_err http_parse_multipart(arena *a, const char *content_type, const char *body,
                                              size_t len, http_param **out);

#endif
