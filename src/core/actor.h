/*
 * actor.h — who does an operation, from where and when, and what every operation in core/ is
 * called with. Each state change of nsdb is one core/ function that validates its input, owns its
 * transaction and writes its audit record through core_audit, so that "who did it" has one shape
 * whether the change came from a screen, the command line or a file. Web handlers and CLI verbs
 * build a core_ctx, call the operation and render its result or its problem.
 */
#ifndef NSDB_CORE_ACTOR_H
#define NSDB_CORE_ACTOR_H

#include <stdint.h>

#include "core/app.h"
#include "domain/fields.h"
#include "util/arena.h"
#include "util/err.h"

typedef struct core_actor {
    int64_t user_pk;         /* 0: the command line, or nobody yet (a login attempt) */
    const char *user_id;     /* "cli" for the command line; NULL for an anonymous request */
    int64_t municipality_pk; /* the actor's own municipality (scope); 0 when none */
    int64_t institution_pk;  /* the actor's own institution (a 責任者); 0 when none */
    const char *client_ip;   /* "local" for the command line */
    int64_t now;             /* Unix time of the request */
} core_actor;

typedef struct core_ctx {
    app *app;
    db *conn;     /* not in a transaction: each operation opens and ends its own */
    arena *arena; /* results and messages of the operation live here */
    core_actor who;
} core_ctx;

/* The actor of a CLI verb: "cli" from "local", now. */
core_actor core_actor_cli(void);

/* The one audit record builder: inside the change's transaction on c->conn. */
NSDB_MUST_CHECK nsdb_err core_audit(core_ctx *c, const char *action, const char *target,
                                    const char *result, const char *detail);
/* An audit record of an event that changes nothing else (a refused request, a failed login
   attempt already written): its own short transaction. The result is returned so that a caller
   that must fail closed can. */
NSDB_MUST_CHECK nsdb_err core_audit_event(core_ctx *c, const char *action, const char *target,
                                          const char *result, const char *detail);

/* Opens the operation's write transaction: scoped to the actor's municipality when it has one
   (municipal staff, institution users), so that municipalities do not wait for each other on
   PostgreSQL; otherwise (operator, mhlw, the command line, an anonymous request) the exclusive
   transaction of db_begin. An operation of a municipal actor keeps every rule that spans rows
   within its municipality, or locks the rows it shares with others (store_institution_lock). */
NSDB_MUST_CHECK nsdb_err core_begin(core_ctx *c);
/* Opens a write transaction of the given scope (db_begin_scoped) whoever the actor is: a login,
   a session and a password are one user's (DB_SCOPE_USER, the user's pk), so that they never
   wait for a municipality's work; DB_SCOPE_NONE when every write is one atomic statement. */
NSDB_MUST_CHECK nsdb_err core_begin_scoped(core_ctx *c, db_scope kind, int64_t key);
/* Ends it: commits when e is NSDB_OK, otherwise (or when the commit fails) rolls back. Returns the
   final result, so that an operation ends with `return core_end(c, e);`. */
NSDB_MUST_CHECK nsdb_err core_end(core_ctx *c, nsdb_err e);

/* Checks one input field by the field table's rule (domain/fields.h): true with *out set, or
   false with *pb = NSDB_ERR_INVALID naming the field (its form/option name) and the reason. */
bool core_field(arena *a, field_id id, const char *raw, unsigned flags, const char **out,
                nsdb_problem *pb);

/* "admin_list:12" style audit targets, in the context's arena. */
const char *core_target_id(core_ctx *c, const char *kind, int64_t id);

#endif
