/*
 * media_files.h — the operator's downloads of a cycle's media files (issue 13 items 1 and 3):
 * each package's label, printed list (PDF, CSV) and disc labels, each media's ISO image with its
 * SHA-256, and one archive of the cycle. Operator only (routes.c): the images hold PKCS#12 key
 * material, so mhlw, who may read the board, gets no links and a 403.
 */
#ifndef NSDB_WEB_MEDIA_FILES_H
#define NSDB_WEB_MEDIA_FILES_H

#include "web/web.h"

/* Which file of a package a route serves (the route's arg). */
typedef struct web_package_file {
    const char *kind; /* as media_package_file: "label.pdf", "list.pdf", "list.csv" */
    const char *content_type;
} web_package_file;

void web_media_package_file(web_ctx *ctx);
void web_media_disc_labels(web_ctx *ctx);
void web_media_iso(web_ctx *ctx);
void web_media_cycle_archive(web_ctx *ctx);
/* The board's downloads of the cycle (its packages' files, its media with size and SHA-256, the
   archive) for the template, or NULL when they cannot be read; an empty object for mhlw. */
json_t *web_media_board_files(web_ctx *ctx, const char *cycle);

#endif
