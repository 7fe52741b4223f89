-- 021: imports that stop no one (issue 11). A big 一括登録 is checked, then written in short
-- chunks into a batch that stays invisible until one short final step makes it visible.
--   state: checking (rows being checked against the database, nothing written yet)
--          writing  (chunks being written; the batch's users are invisible)
--          visible  (done: the batch's users are searchable, printable and counted for media)
--          refused  (rows clash with what is registered: nothing registered; refusal = the rows)
--          failed   (an error, a stop or a restart interrupted it: failure = the reason; its
--                    written rows stay invisible until removed)
-- Batches made before this migration are visible.
ALTER TABLE import_batches ADD COLUMN state TEXT NOT NULL DEFAULT 'visible'
    CHECK (state IN ('checking', 'writing', 'visible', 'refused', 'failed'));
ALTER TABLE import_batches ADD COLUMN rows_written BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN failure TEXT;
ALTER TABLE import_batches ADD COLUMN refusal TEXT;      -- JSON array of the clashing rows
ALTER TABLE import_batches ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- The batch that created a user (NULL: registered one by one, or before this migration). A user
-- whose batch is not visible does not exist for any screen, list, search, login or media.
ALTER TABLE users ADD COLUMN batch_id BIGINT REFERENCES import_batches(id);
CREATE INDEX users_batch ON users(batch_id) WHERE batch_id IS NOT NULL;
-- The batches that are not (yet, or ever) visible: small, so "not in a hidden batch" is cheap.
CREATE TABLE hidden_batches (
    batch_id BIGINT PRIMARY KEY REFERENCES import_batches(id)
);
CREATE INDEX import_batches_state ON import_batches(state) WHERE state <> 'visible';
