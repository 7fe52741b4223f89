/*
 * media_files.h — where a cycle's media files are in the data folder, for the operator's
 * downloads (issue 13 item 1): each package's label and printed list (written at packing by
 * media.c), each media's ISO image (written at build), and the list of them all for the cycle's
 * archive. Paths are made from database rows only, never from a request. The data folder may be
 * shared by several servers (README, "Several servers"): an image is found under this server's
 * DATA/media/CYCLE/ by the name recorded at build, wherever the folder is mounted.
 */
#ifndef NSDB_MEDIA_FILES_H
#define NSDB_MEDIA_FILES_H

#include <stdint.h>

#include "core/app.h"
#include "store/media_store.h"
#include "util/arena.h"

/* A package's file as packing writes it: kind is "label.pdf", "list.pdf" or "list.csv". */
const char *media_package_file(arena *ar, const char *data_dir, const store_package *p,
                               const char *kind);
/* A media's image in this server's data folder. */
const char *media_iso_file(arena *ar, const char *data_dir, const store_media *m);

/* One file of a cycle, as it is on disk now. */
typedef struct media_cycle_file {
    const char *name; /* in the archive: CYCLE/packages/…, CYCLE/….iso */
    const char *path;
    uint64_t size;
    int64_t mtime;
} media_cycle_file;

/* Every file of the cycle's packages and media that is on disk (a list PDF is not written for a
   package without users; a missing image is left out and logged). */
NSDB_MUST_CHECK nsdb_err media_cycle_files(app *a, db *conn, arena *ar, const char *cycle_id,
                                           media_cycle_file **out, size_t *count_out);

#endif
