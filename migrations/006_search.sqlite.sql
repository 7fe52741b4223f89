-- 006 (SQLite): fast search among many institution users. An index for an institution's users
-- in name order, and a trigram full-text index over the name/kana key and the department, so a
-- substring search (医療機関ユーザ検索, 自治体ユーザ検索) does not scan the municipality's users.
CREATE INDEX users_muni_inst_name ON users(municipality_id, institution_id, name_search);
CREATE VIRTUAL TABLE users_fts USING fts5(name_search, department, content='users',
                                          content_rowid='id', tokenize='trigram');
INSERT INTO users_fts(users_fts) VALUES ('rebuild');
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts(rowid, name_search, department)
    VALUES (new.id, new.name_search, new.department);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_fts(users_fts, rowid, name_search, department)
    VALUES ('delete', old.id, old.name_search, old.department);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF name_search, department ON users BEGIN
    INSERT INTO users_fts(users_fts, rowid, name_search, department)
    VALUES ('delete', old.id, old.name_search, old.department);
    INSERT INTO users_fts(rowid, name_search, department)
    VALUES (new.id, new.name_search, new.department);
END;
