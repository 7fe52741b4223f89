-- 003: Flow II — registration notifications (指定医マスタの登録通知) with their cycle, import
-- batches, and API tokens for the operator's registrations API.

CREATE TABLE import_batches (
    id @ID@,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    filenames TEXT NOT NULL,
    row_count INTEGER NOT NULL
);

CREATE TABLE registrations (
    id @ID@,
    user_pk BIGINT NOT NULL UNIQUE REFERENCES users(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    cycle_id TEXT NOT NULL,               -- the media cycle the registration falls into
    batch_id BIGINT REFERENCES import_batches(id),
    registered_at BIGINT NOT NULL
);
CREATE INDEX registrations_cycle ON registrations(cycle_id, municipality_id, institution_id);
CREATE INDEX registrations_batch ON registrations(batch_id);

CREATE TABLE api_tokens (
    id @ID@,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,      -- BLAKE2b of the token; the token is shown once
    role TEXT NOT NULL DEFAULT 'operator',
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX users_search ON users(municipality_id, name_search);
CREATE INDEX users_created ON users(municipality_id, created_at);
