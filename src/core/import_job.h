/*
 * import_job.h — 一括登録 in the background (issue 11): the upload handler checks the file, then
 * hands the parsed import to this module, which opens its batch and writes it on one of
 * IMPORT_JOB_WORKERS threads (more wait in a queue), one import at a time per municipality. The
 * handler waits a moment for a small import to end; a big one goes on while its progress page
 * reads the counters here. A keeper thread stamps this server's batches every few seconds. At
 * start a server marks its own unfinished batches (from before it stopped or crashed) and those
 * of servers that stopped stamping theirs as failed, and keeps doing the latter while it runs; it
 * removes, in short chunks, the rows failed batches wrote. At stop it stops the running imports,
 * which end as failed.
 */
#ifndef NSDB_IMPORT_JOB_H
#define NSDB_IMPORT_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actor.h"
#include "core/app.h"
#include "domain/inst_import.h"

#define IMPORT_JOB_WORKERS 2
/* Users removed per transaction when a failed batch is discarded. */
#define IMPORT_DISCARD_CHUNK 500
/* The reason kept with a batch a stopped or crashed server left unfinished. */
#define IMPORT_RESTART_REASON                                                                      \
    "サーバが停止したため中断しました。何も登録していません。もう一度アップロードしてください。"

/* The refusal of a second upload while the municipality's import runs (409). */
#define IMPORT_MSG_RUNNING                                                                         \
    "この自治体の一括登録を実行中です。終わってから、もう一度アップロードしてください。"

typedef struct import_jobs import_jobs;

/* What this server knows of a batch's import while it is queued or running. */
typedef struct import_job_view {
    bool queued; /* waiting for a worker */
    size_t rows_checked, rows_written, row_count;
    int64_t started_at; /* Unix time its worker began it; 0 while queued */
} import_job_view;

/* Marks the unfinished batches no live server runs failed (IMPORT_RESTART_REASON, audited:
   this server's own, by host name and data folder, and those of a stale stamp), starts the
   workers and the keeper and queues the removal of the rows of every failed batch. The keeper
   stamps this server's batches every NSDB_IMPORT_HEARTBEAT_MS (default 10 s) and fails those of
   other servers whose stamp is 6 beats old. */
NSDB_MUST_CHECK nsdb_err import_jobs_start(app *a, import_jobs **out);
/* Stops: running imports are told to stop and end as failed, queued ones end failed at once;
   waits for the workers and frees j. */
void import_jobs_stop(import_jobs *j);

/* Opens the batch of imp for the actor's municipality (core_import_batch_open) and queues its
   import. Takes owner, the arena imp lives in, in every case. NSDB_ERR_CONFLICT with
   *running_out set when the municipality already has an import in checking or writing (0 when
   this server is opening it right now). */
NSDB_MUST_CHECK nsdb_err import_jobs_submit(import_jobs *j, core_ctx *c, arena *owner,
                                            const inst_import *imp, const char *filenames,
                                            const char *warnings, int64_t *batch_out,
                                            int64_t *running_out, nsdb_problem *pb);
/* Waits at most ms milliseconds for the import of batch to end; true when it is not (or no
   longer) queued or running in this server. */
bool import_jobs_wait(import_jobs *j, int64_t batch, unsigned ms);
/* The counters of the import of batch: false when it is not queued or running here. */
bool import_jobs_view_get(import_jobs *j, int64_t batch, import_job_view *out);

/* Ends a batch that has not ended as failed with reason (its own transaction, audited); nothing
   when it has ended. */
NSDB_MUST_CHECK nsdb_err core_import_batch_fail(core_ctx *c, int64_t batch, const char *reason);
/* Removes the rows a failed batch wrote, IMPORT_DISCARD_CHUNK users per transaction, with one
   audit record at the end; stop (may be NULL) ends it early (the rest is removed next time). */
NSDB_MUST_CHECK nsdb_err core_import_batch_discard(core_ctx *c, int64_t batch,
                                                   const atomic_bool *stop);

#endif
