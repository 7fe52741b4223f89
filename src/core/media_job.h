/*
 * media_job.h — building a cycle's media from the operator's screen in the background: one
 * build at a time per server, its progress and its result readable by the screen, stopped
 * between two media when the server stops (what is built stays; building again goes on).
 */
#ifndef NSDB_MEDIA_JOB_H
#define NSDB_MEDIA_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actor.h"
#include "core/app.h"

typedef struct media_job media_job;

typedef struct media_job_status {
    bool running;
    bool ended;  /* a build has ended since the server started: the fields below are its */
    bool failed; /* it ended with an error (message) or was stopped */
    char cycle[32];
    size_t done, total; /* media built so far / to build */
    int64_t started_at, ended_at;
    char message[512];
} media_job_status;

NSDB_MUST_CHECK nsdb_err media_job_create(app *a, media_job **out);
/* Stops a running build after its current media and waits for it; frees the job. */
void media_job_destroy(media_job *j);
/* NSDB_ERR_BUSY while a build runs. The strings are copied. */
NSDB_MUST_CHECK nsdb_err media_job_start(media_job *j, const char *cycle_id,
                                         const core_actor *who);
void media_job_status_get(media_job *j, media_job_status *out);

#endif
