-- 006 (PostgreSQL): an institution's users in name order. Substring search uses LIKE; with the
-- pg_trgm extension installed by the database owner, a GIN trigram index on users.name_search
-- makes it fast (CREATE EXTENSION needs rights nsdb does not assume).
CREATE INDEX users_muni_inst_name ON users(municipality_id, institution_id, name_search);
