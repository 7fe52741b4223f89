-- 026: which server runs an import, and when it last said so (issue 11). A server that starts
-- fails the unfinished batches it ran itself before it stopped (owner: its host name and data
-- folder), but leaves alone those another live server on the same PostgreSQL is writing: each
-- server stamps heartbeat_at of its queued and running batches every few seconds, and any
-- server fails a running batch whose stamp is older than a minute (its server died).
ALTER TABLE import_batches ADD COLUMN owner TEXT;
ALTER TABLE import_batches ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
