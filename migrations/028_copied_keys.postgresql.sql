-- 028 (PostgreSQL): three foreign keys that only copied what another one checks. PostgreSQL checks
-- each foreign key of each inserted row with a query of its own (about 3 µs), and a 一括登録 of
-- 100,000 rows spent about a second of its PostgreSQL time in these three (issue 11: at most 2×
-- the SQLite time). They are written from the same values as the user's own columns, and the rows
-- they refer to are never deleted (no statement deletes an import batch or a municipality):
--   registrations.municipality_id  the user's municipality (registrations.user_pk stays checked);
--   registrations.batch_id         the user's import batch;
--   users.batch_id                 the import batch that wrote the user, made by that import.
-- SQLite keeps them: there a check is an index lookup in the same process, and dropping one would
-- mean rebuilding the table.
ALTER TABLE registrations DROP CONSTRAINT IF EXISTS registrations_municipality_id_fkey;
ALTER TABLE registrations DROP CONSTRAINT IF EXISTS registrations_batch_id_fkey;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_batch_id_fkey;
