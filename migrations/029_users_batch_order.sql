-- 029: the users of a batch in id order. A failed batch's users are removed in chunks of its
-- lowest ids (src/core/import_discard.c); with users_batch on batch_id alone, every chunk's
-- reads and deletes went through all of the batch's index entries (PostgreSQL: a bitmap of the
-- whole batch ANDed with an id range), or walked the users table by id from its first row. On
-- (batch_id, id) each is one short range of the index.
DROP INDEX users_batch;
CREATE INDEX users_batch ON users(batch_id, id) WHERE batch_id IS NOT NULL;
