-- 030 (PostgreSQL): two foreign keys of users that always name the same row, the importer's.
-- PostgreSQL checks each foreign key of each inserted row with a query of its own, and one that
-- names a single row over and over costs as much as one that names a different row each time:
-- these two took 0.9 s of the 4.4 s that PostgreSQL spent inserting 100,000 users (issue 11: a
-- 一括登録 at most 2× the SQLite time; measured by INSERT … SELECT of the bench's rows).
--   users.municipality_id      the municipality of the user who registers (the session's), or
--                              one the command line looked up by its code;
--   users.initial_password_by  the user who issued the initial password (the session's).
-- Both are written from rows that exist when the user is written, and no statement deletes a
-- municipality or a municipal user (only the institution users of a failed import are removed).
-- test_import_result checks on both databases that every user's municipality and issuer exist.
-- users.institution_id and registrations.user_pk stay checked: institutions are removed with a
-- failed import, and a registration names its own user. SQLite keeps all of them (an index lookup
-- in the same process; dropping one would mean rebuilding the table).
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_municipality_id_fkey;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_initial_password_by_fkey;
