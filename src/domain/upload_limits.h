/*
 * upload_limits.h — the limits of one upload request, in one place: how many files it may carry,
 * and a budget of unpacked bytes, cells and rows that all its files share. The budget is what
 * keeps a small hostile file (an xlsx whose 78 KB unpack to millions of empty shared strings, a
 * request of many such files) from costing seconds and hundreds of megabytes: the readers take
 * from it before or while they do the work (xlsx.c: zip entry sizes from the central directory
 * first, then the real inflated byte count, each shared string, row and cell; inst_import.c: the
 * bytes and lines of a CSV before it is read), and stop at the first limit passed, whose Japanese
 * message says which limit it is and what to do (split the upload). Nothing here allocates.
 */
#ifndef NSDB_UPLOAD_LIMITS_H
#define NSDB_UPLOAD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

/* The limits are written in the units their messages use, so that the text cannot disagree. */
#define UPLOAD_MAX_FILES 20             /* files in one request */
#define UPLOAD_MAX_UNPACKED_MB 64       /* XML inflated from xlsx parts, plus CSV bytes */
#define UPLOAD_MAX_CELLS_MAN 100        /* ×10,000: xlsx cells and shared strings */
#define UPLOAD_MAX_ROWS_MAN 20          /* ×10,000: xlsx rows and CSV lines */

#define UPLOAD_MAX_UNPACKED_BYTES ((size_t)UPLOAD_MAX_UNPACKED_MB * 1024u * 1024u)
#define UPLOAD_MAX_CELLS ((size_t)UPLOAD_MAX_CELLS_MAN * 10000u)
#define UPLOAD_MAX_ROWS ((size_t)UPLOAD_MAX_ROWS_MAN * 10000u)

/* What is left of one request's budget. Take from it with the functions below; once a take has
 * failed, exceeded holds that limit's message and every later take fails too. */
typedef struct upload_budget {
    size_t bytes_left;
    size_t cells_left;
    size_t rows_left;
    const char *exceeded; /* static Japanese message, NULL while within the limits */
} upload_budget;

/* Messages for the limits (also the text of upload_budget.exceeded). */
extern const char UPLOAD_MSG_TOO_MANY_FILES[];
extern const char UPLOAD_MSG_TOO_MANY_BYTES[];
extern const char UPLOAD_MSG_TOO_MANY_CELLS[];
extern const char UPLOAD_MSG_TOO_MANY_ROWS[];

/* The whole budget of one request. */
upload_budget upload_budget_for_request(void);
/* True when a request of count files is within UPLOAD_MAX_FILES. */
bool upload_files_fit(size_t count);
/* Take n units; false (exceeded set) when fewer than n are left, and then nothing is taken. */
bool upload_budget_take_bytes(upload_budget *b, size_t n);
bool upload_budget_take_cells(upload_budget *b, size_t n);
bool upload_budget_take_rows(upload_budget *b, size_t n);

#endif
