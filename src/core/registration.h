/*
 * registration.h — registering one medical-institution user (指定医 or 責任者) into the
 * designated-doctor master (Flow II ⑥⑦): the institution is matched by code (a different name
 * or address is reported, never overwritten) or created, a duplicate person is refused, the
 * account is issued, and the registration notification with its cycle is recorded — all on the
 * caller's transaction, so a bulk file is registered whole or not at all.
 */
#ifndef NSDB_REGISTRATION_H
#define NSDB_REGISTRATION_H

#include "core/accounts.h"
#include "core/app.h"
#include "domain/cycle.h"

typedef struct registration_input {
    const char *inst_code, *inst_name, *inst_postal, *inst_address, *inst_phone;
    const char *user_type; /* doctor | inst_manager */
    const char *name, *name_kana, *category, *doctor_number, *specialty, *email;
    const char *search_key;
} registration_input;

typedef struct registration_actor {
    int64_t municipality_pk;
    int64_t user_pk;
    const char *user_id;
    const char *client_ip;
    int64_t batch_id; /* 0: individual registration */
    int64_t now;
} registration_actor;

/* Which input field a refusal concerns. */
typedef enum { REGISTRATION_FIELD_INSTITUTION_NAME, REGISTRATION_FIELD_INSTITUTION_ADDRESS,
               REGISTRATION_FIELD_NAME } registration_field;

/* NSDB_ERR_INVALID with *refusal (arena text, Japanese) and *field when the institution's stored
   name or address differs or the person is already registered. */
nsdb_err registration_register(app *a, db *conn, arena *ar, const registration_input *in,
                               const registration_actor *actor, accounts_issued *out,
                               const char **refusal, registration_field *field);

/* The cycle a registration made at now falls into, from the calendar in the database. */
nsdb_err registration_cycle(db *conn, int64_t now, cycle_window *out);

#endif
