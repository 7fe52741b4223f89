-- 027: users_search (municipality, name key) now holds the municipal users alone. Every search of
-- institution users names their roles and goes through the covering users_inst_name and
-- users_inst_status_name (022), which start with the same columns, so for them this index was a
-- third copy of the name order that a 一括登録 writes at random places (issue 11). The searches of
-- 自治体ユーザ name role IN ('muni_admin', 'muni_staff') and use it as before.
DROP INDEX IF EXISTS users_search;
CREATE INDEX users_search ON users(municipality_id, name_search)
    WHERE role IN ('muni_admin', 'muni_staff');
